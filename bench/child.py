"""Run a measurement in a fresh interpreter: what every cold-start scenario does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from infra.local.template import ROOT

MARK = "BENCH-RESULT "


class ChildFailed(Exception):
    """The child exited with an error or printed no result; the message is its last stderr line."""


def child_env(lambda_env: dict[str, str]) -> dict[str, str]:
    """A Lambda environment plus what the interpreter needs to start: no host AWS config."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "SYSTEMROOT") if k in os.environ}
    return {**keep, **lambda_env}


def ms(seconds: float) -> float:
    """Seconds as milliseconds, to a tenth."""
    return round(seconds * 1000, 1)


def run_python(
    code: str,
    args: Sequence[str],
    env: dict[str, str],
    stdin: str | None = None,
    interpreter: Sequence[str] = (sys.executable,),
) -> subprocess.CompletedProcess[str]:
    """Run `code` with `args` in a new interpreter (`interpreter`: the executable and its flags)
    at the repo root, with exactly `env`; its output captured, whatever its exit status."""
    return subprocess.run(
        [*interpreter, "-c", code, *args],
        input=stdin,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def run_child(
    code: str, args: Sequence[str], env: dict[str, str], stdin: str | None = None
) -> dict[str, Any]:
    """Run `code` with `args` in a new interpreter at the repo root, with exactly `env`.

    The child prints its result as one line, `BENCH-RESULT <json>`; this returns that JSON.
    """
    done = run_python(code, args, env, stdin)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not lines:
        errors = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise ChildFailed(errors[-1])
    return dict(json.loads(lines[-1].removeprefix(MARK)))


# The start of a child script that calls a handler: the request it was sent on stdin, and a
# Lambda context. Only the standard library: nothing warms up what the handler loads itself.
HANDLER_CHILD_PREAMBLE = """
import json, sys, time
request = json.loads(sys.stdin.read())

class Context:
    function_name = request["function_name"]
    memory_limit_in_mb = 1024
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 10_000
"""
