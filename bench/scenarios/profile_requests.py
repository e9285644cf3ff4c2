"""DynamoDB cost and in-process latency of the profile API, on moto.

Runs `functions.profile.app` in this process under `moto.mock_aws`, with the table built from
template.yaml, and counts every DynamoDB request the handler makes through a botocore event
hook on the session its clients come from. Capacity units are moto's figures (asked for with
`ReturnConsumedCapacity=TOTAL`, which the hook adds): a guide to what a request reads and
writes, not a bill. Latency here is Python time only, without network.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import statistics
import sys
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

from bench.lambda_env import ACCOUNT, REGION, lambda_environment
from bench.scenarios import Context, Report, Skip, Table, scenario
from bench.table import create_app_table
from infra.local.template import Function, load

MODULE = "functions.profile.app"
SUB = "0b7c1a52-bench-4c55-9d1e-000000000001"
SEED_PROFILE = {
    "displayName": "Bench Person",
    "handle": "bench_person",
    "currentLevel": "manager",
    "timeZone": "Europe/Lisbon",
}


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/bench"
    log_stream_name: str = "bench"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_event(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as the JWT authorizer passes it on."""
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "content-type": "application/json",
            "host": "bench.execute-api.us-east-1.amazonaws.com",
            "user-agent": "bench",
        },
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "bench",
            "authorizer": {
                "jwt": {
                    "claims": {
                        "sub": SUB,
                        "username": SUB,
                        "token_use": "access",
                        "client_id": "bench-client",
                        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_Bench0001",
                    },
                    "scopes": None,
                }
            },
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "bench",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


@dataclass
class RequestLog:
    """DynamoDB requests seen during one route's calls, grouped per handler invocation."""

    calls: list[list[tuple[str, float]]] = field(default_factory=list)


class Recorder:
    """botocore event handlers that log DynamoDB requests into whichever log is current.

    Registered once on the session before the app makes its client: a client copies the
    session's handlers when it is created, so later (un)registering would not reach it.
    """

    def __init__(self) -> None:
        self.current: RequestLog | None = None

    def ask_for_capacity(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.current is not None and model.name in _CAPACITY_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if self.current is None or not self.current.calls:
            return
        consumed = parsed.get("ConsumedCapacity") or []
        if isinstance(consumed, dict):
            consumed = [consumed]
        units = sum(float(c.get("CapacityUnits", 0)) for c in consumed)
        self.current.calls[-1].append((model.name, units))


# Operations that accept ReturnConsumedCapacity.
_CAPACITY_OPERATIONS = (
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
    "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
)  # fmt: skip


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The function's environment while inside. The process's Powertools Metrics, if an earlier
    scenario already imported it, was made under that scenario's environment: it takes this
    one's namespace and service too (a metric without a namespace fails the flush)."""
    saved = dict(os.environ)
    os.environ.update(values)
    metrics = getattr(sys.modules.get("shared.observability"), "metrics", None)
    before = (metrics.namespace, metrics.service) if metrics is not None else None
    if metrics is not None:
        metrics.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
        metrics.service = os.environ.get("POWERTOOLS_SERVICE_NAME")
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if metrics is not None and before is not None:
            metrics.namespace, metrics.service = before


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send fd 1 to /dev/null: the handler's JSON logs and metrics still get written, unseen."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _profile_function() -> Function:
    for function in load().functions():
        if function.module == MODULE:
            return function
    raise Skip(f"template.yaml has no function whose module is {MODULE}")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summarise(label: str, statuses: Counter[int], seconds: list[float], log: RequestLog) -> dict[str, Any]:
    per_operation: Counter[str] = Counter()
    for call in log.calls:
        per_operation.update(name for name, _ in call)
    requests = [len(call) for call in log.calls]
    capacity = [sum(units for _, units in call) for call in log.calls]
    return {
        "route": label,
        "calls": len(seconds),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "dynamodb_requests_per_call": {
            "mean": statistics.fmean(requests),
            "max": max(requests),
            "by_operation": {op: n / len(log.calls) for op, n in sorted(per_operation.items())},
        },
        "capacity_units_per_call": {"mean": statistics.fmean(capacity), "max": max(capacity)},
        "latency_ms": {
            "p50": round(_percentile(seconds, 0.50) * 1000, 2),
            "p95": round(_percentile(seconds, 0.95) * 1000, 2),
            "max": round(max(seconds) * 1000, 2),
        },
    }


def _run_route(handler: Any, recorder: Recorder, events: list[dict[str, Any]], label: str) -> dict[str, Any]:
    log = RequestLog()
    recorder.current = log
    statuses: Counter[int] = Counter()
    seconds = []
    try:
        for event in events:
            context = LambdaContext(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "profile"))
            log.calls.append([])
            start = time.perf_counter()
            response = handler(event, context)
            seconds.append(time.perf_counter() - start)
            statuses[int(response["statusCode"])] += 1
    finally:
        recorder.current = None
    return _summarise(label, statuses, seconds, log)


@scenario("profile-dynamodb")
def profile_dynamodb(ctx: Context) -> Report:
    """DynamoDB requests, capacity and p50/p95 latency per call of the profile API on moto."""
    from moto import mock_aws

    function = _profile_function()
    with _environment(lambda_environment(function)):
        try:
            app = importlib.import_module(MODULE)
        except ImportError as exc:
            raise Skip(f"{MODULE} cannot be imported yet: {exc}") from exc
        handler = getattr(app, function.handler)
        recorder = Recorder()
        with mock_aws(), _quiet_stdout(), warnings.catch_warnings():
            # mock_aws swaps in an empty default session; hook the one the app's lazy client will
            # be made from, before it is made.
            boto3.setup_default_session(region_name=REGION)
            # Another scenario may have left a client made from another session in this process.
            from shared.store.table import reset_clients

            reset_clients()
            session = boto3.DEFAULT_SESSION
            assert session is not None
            session.events.register("before-parameter-build.dynamodb", recorder.ask_for_capacity)
            session.events.register("after-call.dynamodb", recorder.record)
            # Powertools warns on every call that emits no business metric; noise here.
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            create_app_table()
            seed = _run_route(handler, recorder, [http_event("PUT", "/v1/me", SEED_PROFILE)], "PUT /v1/me")
            reads = _run_route(
                handler, recorder, [http_event("GET", "/v1/me") for _ in range(ctx.calls)], "GET /v1/me"
            )

    table = Table(
        f"Profile API on moto, in-process ({ctx.calls} GET calls after one PUT)",
        ["route", "calls", "statuses", "DDB req/call", "by operation", "capacity/call", "p50 ms", "p95 ms"],
    )
    for result in (seed, reads):
        per_call = result["dynamodb_requests_per_call"]
        table.rows.append(
            [
                result["route"],
                result["calls"],
                " ".join(f"{k}x{v}" for k, v in result["statuses"].items()),
                round(per_call["mean"], 2),
                " ".join(f"{op}:{n:g}" for op, n in per_call["by_operation"].items()) or "-",
                round(result["capacity_units_per_call"]["mean"], 2),
                result["latency_ms"]["p50"],
                result["latency_ms"]["p95"],
            ]
        )
    notes = ["capacity units are moto's figures; the first PUT includes creating the boto3 client"]
    if reads["dynamodb_requests_per_call"]["max"] == 0:
        notes.append(
            "no DynamoDB request was seen: did the app make its client outside boto3's default session?"
        )
    if set(reads["statuses"]) != {"200"}:
        notes.append(f"GET /v1/me did not always answer 200: {reads['statuses']}")
    return Report([table], {"put_me": seed, "get_me": reads}, notes=notes)
