"""Run the benchmarks: `python -m bench [--only NAME] [--runs N] [--calls N] [--strict]`.

Prints one table per scenario and writes every figure to bench/results/latest.json. Budgets
are reported, not enforced, unless `--strict` (then a missed budget exits 1).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.scenarios import Cell, Context, Report, Skip, Table, discover

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def _cell(value: Cell) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


def render(table: Table) -> str:
    """A plain-text table: numbers right-aligned, text left-aligned."""
    cells = [[_cell(v) for v in row] for row in table.rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(table.columns)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in table.rows)
        for i in range(len(widths))
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([table.title, line(table.columns), rule, *(line(row) for row in cells)])


def _verdict(report: Report) -> str:
    if report.within_budget is None:
        return "no budget"
    return "within budget" if report.within_budget else "BUDGET MISSED"


def main(argv: list[str] | None = None) -> int:
    scenarios = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted(scenarios), help="run just this scenario")
    parser.add_argument("--runs", type=int, default=Context.runs, help="fresh processes per cold import")
    parser.add_argument("--calls", type=int, default=Context.calls, help="handler calls per request scenario")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args(argv)
    ctx = Context(runs=args.runs, calls=args.calls)

    results: dict[str, Any] = {}
    missed = False
    for name in args.only or sorted(scenarios):
        entry = scenarios[name]
        print(f"== {name}: {entry.description}", flush=True)
        started = time.perf_counter()
        try:
            report = entry.run(ctx)
        except Skip as skip:
            print(f"   skipped: {skip}\n", flush=True)
            results[name] = {"status": "skipped", "reason": str(skip)}
            continue
        except Exception as exc:  # a broken scenario must not hide the others' figures
            traceback.print_exc()
            print(f"   error: {exc!r}\n", flush=True)
            results[name] = {"status": "error", "error": repr(exc)}
            missed = True
            continue
        seconds = time.perf_counter() - started
        for table in report.tables:
            print(render(table))
        for note in report.notes:
            print(f"   note: {note}")
        print(f"   {_verdict(report)} ({seconds:.1f} s)\n", flush=True)
        missed = missed or report.within_budget is False
        results[name] = {
            "status": "ok",
            "within_budget": report.within_budget,
            "seconds": round(seconds, 2),
            "data": report.data,
            "notes": report.notes,
        }

    if args.only and args.output.exists():
        # A partial run keeps the figures of the scenarios it did not run.
        kept = json.loads(args.output.read_text(encoding="utf-8")).get("scenarios", {})
        results = {**kept, **results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "python": sys.version.split()[0],
                "machine": platform.machine(),
                "context": {"runs": ctx.runs, "calls": ctx.calls},
                "scenarios": results,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"results: {args.output}")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
