"""Cold import: what each function's module costs a fresh interpreter, against its libraries.

A Lambda cold start pays for `import app` before the first request. The libraries every
function needs (boto3, the Powertools HTTP resolver, pydantic) set the floor; our own code on
top of them should stay within 15 %. Each figure is the wall time of the imports inside a fresh
process (not `-X importtime`, whose own overhead distorts it), the median over many processes,
with the baseline and the functions interleaved so that machine noise hits them alike.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from bench.child import ChildFailed, child_env, ms, run_child
from bench.lambda_env import lambda_environment
from bench.scenarios import Context, Report, Table, scenario
from infra.local.template import load

BUDGET = 1.15
WARMUP_ROUNDS = 2  # unmeasured: writes the .pyc files and warms the page cache
# `import pydantic` alone is lazy: it defers BaseModel's machinery (pydantic.main and the schema
# builder) until first use, and no code can use pydantic without it. The baseline therefore
# imports the libraries as every function uses them: boto3, the HTTP resolver, and BaseModel.
# The lazy `import pydantic` variant is measured too, and reported, so the choice stays visible.
BASELINE = ("boto3", "aws_lambda_powertools.event_handler.api_gateway", "pydantic.main")
LAZY_BASELINE = ("boto3", "aws_lambda_powertools.event_handler.api_gateway", "pydantic")
# Reported, not the budget's baseline: the libraries as a function uses them (bench/libraries_in_use.py).
IN_USE = ("bench.libraries_in_use",)
# Modules a cold start must never load: X-Ray's SDK (tracing is the runtime's job here) and
# Powertools' Swagger UI (only for serving docs, which no function does).
FORBIDDEN = {
    "aws_xray_sdk": "aws_xray_sdk",
    "swagger_ui": "aws_lambda_powertools.event_handler.openapi.swagger_ui",
}

# Runs in the child: time the imports and nothing else, then say what got loaded.
_CHILD = """
import sys, time
_start = time.perf_counter()
for _name in sys.argv[2:]:
    __import__(_name)
_elapsed = time.perf_counter() - _start
import json
_prefixes = json.loads(sys.argv[1])
print("BENCH-RESULT " + json.dumps({
    "seconds": _elapsed,
    "modules": len(sys.modules),
    "packages": sorted({m.split(".")[0] for m in sys.modules}),
    "loaded": sorted(
        key for key, prefix in _prefixes.items()
        if any(m == prefix or m.startswith(prefix + ".") for m in sys.modules)
    ),
}))
"""


@dataclass
class Subject:
    """One thing to import: the libraries' baseline or a function's module."""

    label: str
    modules: tuple[str, ...]
    env: dict[str, str]
    seconds: list[float] = field(default_factory=list)
    module_count: int = 0
    packages: set[str] = field(default_factory=set)
    loaded: set[str] = field(default_factory=set)
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _import_once(subject: Subject) -> None:
    try:
        result = run_child(_CHILD, [json.dumps(FORBIDDEN), *subject.modules], subject.env)
    except ChildFailed as failed:
        subject.error = str(failed)
        return
    subject.seconds.append(result["seconds"])
    subject.module_count = result["modules"]
    subject.packages = set(result["packages"])
    subject.loaded.update(result["loaded"])


def measure(subjects: list[Subject], runs: int) -> None:
    """Import each subject `runs` times in fresh processes, interleaved, after unmeasured warm-ups."""
    for round_no in range(WARMUP_ROUNDS + runs):
        # Rotate the order each round so no subject always runs right after another.
        shift = round_no % len(subjects)
        for subject in subjects[shift:] + subjects[:shift]:
            if subject.error is not None:
                continue
            before = len(subject.seconds)
            _import_once(subject)
            if round_no < WARMUP_ROUNDS and len(subject.seconds) > before:
                subject.seconds.pop()


@scenario("cold-import")
def cold_import(ctx: Context) -> Report:
    """Fresh-process import time of each function's module vs. its libraries (budget x1.15)."""
    functions = load().functions()
    baseline = Subject("libraries (baseline)", BASELINE, child_env(lambda_environment(functions[0])))
    lazy = Subject("libraries, lazy `import pydantic` (reference)", LAZY_BASELINE, baseline.env)
    in_use = Subject("libraries in use: + one model, validating resolver (reference)", IN_USE, baseline.env)
    subjects = [baseline, lazy, in_use] + [
        Subject(f.module, (f.module,), child_env(lambda_environment(f))) for f in functions
    ]
    measure(subjects, ctx.runs)
    if baseline.error is not None:
        raise RuntimeError(f"the libraries themselves do not import: {baseline.error}")

    table = Table(
        f"Cold import, median of {ctx.runs} fresh processes each (interleaved)",
        ["import", "median ms", "min ms", "max ms", "x baseline", "modules", "forbidden loaded", "verdict"],
    )
    data: dict[str, Any] = {"budget_ratio": BUDGET, "runs": ctx.runs, "baseline_modules": list(BASELINE)}
    verdicts: list[bool] = []
    notes = [
        f"budget: each function <= {BUDGET} x the baseline, and neither aws_xray_sdk "
        "nor Powertools' swagger_ui loaded",
    ]
    for subject in subjects:
        if subject.error is not None:
            table.rows.append([subject.label, None, None, None, None, None, None, f"FAIL: {subject.error}"])
            data[subject.label] = {"error": subject.error}
            verdicts.append(False)
            continue
        ratio = subject.median / baseline.median
        forbidden = sorted(subject.loaded)
        is_baseline = subject in (baseline, lazy, in_use)
        ok = (is_baseline or ratio <= BUDGET) and not forbidden
        if not is_baseline:
            verdicts.append(ok)
        table.rows.append(
            [
                subject.label,
                ms(subject.median),
                ms(min(subject.seconds)),
                ms(max(subject.seconds)),
                round(ratio, 3),
                subject.module_count,
                ", ".join(forbidden) or "none",
                ("ok" if ok else "OVER BUDGET") if not is_baseline else ("-" if ok else "FORBIDDEN"),
            ]
        )
        data[subject.label] = {
            "median_ms": ms(subject.median),
            "min_ms": ms(min(subject.seconds)),
            "max_ms": ms(max(subject.seconds)),
            "samples_ms": [ms(s) for s in subject.seconds],
            "ratio": round(ratio, 4),
            "within_budget": ok,
            "modules_loaded": subject.module_count,
            "forbidden_loaded": forbidden,
            "packages_beyond_baseline": sorted(subject.packages - baseline.packages),
        }
        if not is_baseline and not ok:
            extra = ", ".join(sorted(subject.packages - baseline.packages)) or "none"
            notes.append(f"{subject.label} loads these top-level packages the baseline does not: {extra}")
        if not is_baseline and in_use.seconds:
            ratio_in_use = subject.median / in_use.median
            notes.append(f"{subject.label}: x{ratio_in_use:.3f} the libraries in use (own code)")
    return Report(
        [table],
        data,
        within_budget=all(verdicts) if verdicts else None,
        notes=notes,
    )
