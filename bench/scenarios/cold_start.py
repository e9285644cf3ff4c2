"""Cold start: import, then the first request, then the same request warm, in fresh processes.

`cold-import` measures what the budget names; a Lambda cold start also pays for what the
first request does once per process: create the DynamoDB client (botocore loads the service
model and endpoint rules), build the pydantic schemas the route uses (our models are
`defer_build`) and let Powertools compile the route's validation. This scenario shows those
costs apart. Each process imports a function's module with the environment the template gives
it, then calls its `lambda_handler` twice with the same API Gateway event. DynamoDB is moto's
server on loopback (the local stack's emulator), so a request's figure includes moto's own
work; the difference between the first and the warm call is the once-per-process cost.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import statistics
from typing import Any
from unittest import mock

from bench.child import HANDLER_CHILD_PREAMBLE, ChildFailed, child_env, ms, run_child
from bench.lambda_env import REGION, lambda_environment
from bench.scenarios import Context, Report, Table, scenario
from bench.scenarios.profile_requests import SEED_PROFILE, http_event
from bench.table import create_app_table, reset_emulator
from infra.local.emulator import Emulator
from infra.local.template import load

MAX_RUNS = 11
# (function module, method, path, body): one route per API function, read routes plus one write.
ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("functions.edge.app", "GET", "/v1/health", None),
    ("functions.profile.app", "GET", "/v1/me", None),
    ("functions.profile.app", "PATCH", "/v1/me", {"displayName": "Bench Person, again"}),
    ("functions.care.app", "GET", "/v1/me/cares", None),
    ("functions.promise.app", "GET", "/v1/me/promises", None),
    ("functions.promise.app", "GET", "/v1/me/journey", None),
]

# Runs in the child. Only the standard library before the function's import: nothing warms up
# what the function will load itself.
_CHILD = (
    HANDLER_CHILD_PREAMBLE
    + """
started = time.perf_counter()
module = __import__(request["module"], fromlist=["lambda_handler"])
imported = time.perf_counter()
first = module.lambda_handler(dict(request["event"]), Context())
answered = time.perf_counter()
second = module.lambda_handler(dict(request["event"]), Context())
warm = time.perf_counter()
print("BENCH-RESULT " + json.dumps({
    "import": imported - started,
    "first": answered - imported,
    "warm": warm - answered,
    "statuses": [first["statusCode"], second["statusCode"]],
}))
"""
)


# Also in a child: how much of a first request is creating the DynamoDB client.
_CLIENT_CHILD = """
import json, sys, time
__import__(sys.argv[1])
from shared.store.table import dynamodb
started = time.perf_counter()
dynamodb()
print("BENCH-RESULT " + json.dumps({"client": time.perf_counter() - started}))
"""
CLIENT_MODULE = "functions.profile.app"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_child(module: str, env: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
    request = {"module": module, "event": event, "function_name": env["AWS_LAMBDA_FUNCTION_NAME"]}
    try:
        return run_child(_CHILD, [], env, stdin=json.dumps(request))
    except ChildFailed as failed:
        raise RuntimeError(f"{module}: {failed}") from None


def _median_ms(values: list[float]) -> float:
    return ms(float(statistics.median(values)))


@scenario("cold-start")
def cold_start(ctx: Context) -> Report:
    """Import + first request + the same request warm, per API function, on moto's server."""
    runs = max(3, min(ctx.runs, MAX_RUNS))
    functions = {f.module: f for f in load().functions()}
    emulator = Emulator("127.0.0.1", _free_port())
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per emulator request
    emulator.start()
    reset_emulator(emulator.url)
    fake_aws = {
        "AWS_ENDPOINT_URL": emulator.url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    try:
        with mock.patch.dict(os.environ, fake_aws):
            create_app_table()

        def env_of(module: str) -> dict[str, str]:
            return {**child_env(lambda_environment(functions[module])), "AWS_ENDPOINT_URL": emulator.url}

        # The person the requests are made for, with a profile (their first request would be PUT).
        _run_child(
            "functions.profile.app",
            env_of("functions.profile.app"),
            http_event("PUT", "/v1/me", SEED_PROFILE),
        )

        samples: dict[tuple[str, str, str], list[dict[str, Any]]] = {r[:3]: [] for r in ROUTES}
        client: list[float] = []
        for _ in range(runs):
            for module, method, path, body in ROUTES:
                samples[(module, method, path)].append(
                    _run_child(module, env_of(module), http_event(method, path, body))
                )
            client.append(run_child(_CLIENT_CHILD, [CLIENT_MODULE], env_of(CLIENT_MODULE))["client"])
    finally:
        emulator.stop()

    table = Table(
        f"Cold start on moto's server, median of {runs} fresh processes each",
        ["function", "route", "status", "import ms", "first request ms", "warm request ms", "cold start ms"],
    )
    data: dict[str, Any] = {"runs": runs, "dynamodb_client_ms": _median_ms(client)}
    for (module, method, path), results in samples.items():
        statuses = sorted({status for r in results for status in r["statuses"]})
        if any(status >= 500 for status in statuses):
            raise RuntimeError(f"{method} {path} answered {statuses}")
        imported = _median_ms([r["import"] for r in results])
        first = _median_ms([r["first"] for r in results])
        warm = _median_ms([r["warm"] for r in results])
        cold = _median_ms([r["import"] + r["first"] for r in results])
        route = f"{method} {path}"
        table.rows.append([module, route, "/".join(map(str, statuses)), imported, first, warm, cold])
        data[f"{module} {route}"] = {
            "import_ms": imported,
            "first_request_ms": first,
            "warm_request_ms": warm,
            "cold_start_ms": cold,
            "statuses": statuses,
        }
    return Report(
        [table],
        data,
        notes=[
            "first request - warm request = once per process: DynamoDB client, schemas, route validation",
            f"creating the DynamoDB client alone, after the import: {_median_ms(client)} ms (median)",
            "moto's server answers on loopback: DynamoDB's own latency is not in these figures",
        ],
    )
