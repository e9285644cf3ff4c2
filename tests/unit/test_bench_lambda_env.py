"""The benchmarks run each function with the environment Lambda would give it
(bench/lambda_env.py): every variable of every function resolves to text."""

from __future__ import annotations

import pytest

from bench.lambda_env import lambda_environment
from infra.local.template import Function, load

FUNCTIONS = load().functions()


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.logical_id for f in FUNCTIONS])
def test_every_variable_resolves(function: Function) -> None:
    env = lambda_environment(function)
    unresolved = {k: v for k, v in env.items() if not isinstance(v, str) or v.startswith("{")}
    assert unresolved == {}
    assert env["TABLE_NAME"]
