"""Bytecode: a cold start with the `.pyc` files `make build` ships, and without them.

Lambda's code directories are read-only, so a function whose artifact has no bytecode (what
`sam build` alone produces) compiles every module it imports from source on every cold start.
This scenario measures each function's import both ways, in fresh processes:

- with bytecode: as `make build` ships it (infra/bytecode.py), the same as `cold-import`;
- without: `PYTHONPYCACHEPREFIX` points at an empty directory and `PYTHONDONTWRITEBYTECODE`
  is set, so every import compiles its source and nothing is cached, as on Lambda.
"""

from __future__ import annotations

import tempfile
from typing import Any

from bench.child import child_env, ms
from bench.lambda_env import lambda_environment
from bench.scenarios import Context, Report, Table, scenario
from bench.scenarios.cold_import import BASELINE, Subject, measure
from infra.local.template import load

# Each run without bytecode takes about a second: fewer runs than `cold-import`.
MAX_RUNS = 7


@scenario("bytecode")
def bytecode(ctx: Context) -> Report:
    """Cold import with the bytecode `make build` ships vs. compiling from source (no budget)."""
    runs = max(3, min(ctx.runs, MAX_RUNS))
    functions = load().functions()
    targets: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
        ("libraries (baseline)", BASELINE, lambda_environment(functions[0]))
    ]
    targets += [(f.module, (f.module,), lambda_environment(f)) for f in functions]
    with tempfile.TemporaryDirectory(prefix="no-bytecode-") as empty:
        without_pyc = {"PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}
        pairs = [
            (
                Subject(label, modules, child_env(env)),
                Subject(f"{label} (from source)", modules, {**child_env(env), **without_pyc}),
            )
            for label, modules, env in targets
        ]
        measure([s for pair in pairs for s in pair], runs)

    table = Table(
        f"Cold import with and without bytecode, median of {runs} fresh processes each",
        ["import", "with .pyc ms", "from source ms", "saved ms", "x faster"],
    )
    data: dict[str, Any] = {"runs": runs}
    for shipped, source in pairs:
        if shipped.error or source.error:
            raise RuntimeError(f"{shipped.label} does not import: {shipped.error or source.error}")
        saved = source.median - shipped.median
        table.rows.append(
            [
                shipped.label,
                ms(shipped.median),
                ms(source.median),
                ms(saved),
                round(source.median / shipped.median, 2),
            ]
        )
        data[shipped.label] = {
            "with_bytecode_ms": ms(shipped.median),
            "from_source_ms": ms(source.median),
            "saved_ms": ms(saved),
        }
    return Report(
        [table],
        data,
        notes=["`make build` ships the bytecode (infra/bytecode.py); `make build` fails if any is missing"],
    )
