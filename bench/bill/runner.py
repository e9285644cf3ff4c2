"""Runs the mobile day on moto in-process (`tests.support.aws.mocked_aws`, the table, user pool,
SNS platform applications and secrets of the handler tests) and measures each route.

Per route: one unmeasured warm-up (a first call builds schemas and clients), then the measured
calls, each with the stream consumers it triggers (see `measure`). Reads run first, on the
seeded state; each write route then runs on fresh targets. Also measured: one dispatcher run
(the every-minute schedule, nothing due) and, in fresh interpreters, each function's import
(Lambda's INIT: `init_ms`).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from bench.bill import day, measure, sizing
from bench.child import ChildFailed, child_env, run_child
from bench.lambda_env import lambda_environment, references
from infra.local.streams import StreamSource, lambda_record, stream_sources
from infra.local.template import Function, Template, evaluate_conditions, load, resolve

MAX_CONSUMER_ROUNDS = 10


@dataclass
class RouteRun:
    route: day.Route
    function: str
    samples: list[measure.Sample] = field(default_factory=list)


@dataclass
class DayRun:
    """Everything measured."""

    routes: list[RouteRun]
    dispatcher: list[measure.Sample]
    memory: dict[str, int]
    init_ms: dict[str, float]
    restore_ms: dict[str, float]
    sources: list[StreamSource]
    unmatched: int
    seed_seconds: float


def memory_of(template: Template, logical_id: str) -> int:
    return int(template.function_properties(logical_id).get("MemorySize", 128))


class Runner:
    """Invokes the template's functions in this process, through the meter."""

    def __init__(
        self, template: Template, meter: measure.Meter, capture: measure.LogCapture, arn: str
    ) -> None:
        from tests.support.aws import LambdaContext

        self.context = LambdaContext()
        self.meter = meter
        self.capture = capture
        self.arn = arn
        self.functions = {f.logical_id: f for f in template.functions()}
        self.routes = {r.route_key: r.function for r in template.routes()}
        self.sources = stream_sources(template)
        self.memory = {name: memory_of(template, name) for name in self.functions}
        self._handlers: dict[str, Any] = {}
        self.last_body: Any = None

    def handler(self, logical_id: str) -> Any:
        if logical_id not in self._handlers:
            function = self.functions[logical_id]
            module = importlib.import_module(function.module)
            self._handlers[logical_id] = getattr(module, function.handler)
        return self._handlers[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> tuple[measure.Invocation, Any]:
        handler = self.handler(logical_id)
        invocation = measure.Invocation(logical_id, self.memory[logical_id])
        mark = self.capture.mark()
        self.meter.current = invocation
        started = time.perf_counter()
        try:
            result = handler(event, self.context)
        finally:
            invocation.wall_seconds = time.perf_counter() - started
            self.meter.current = None
        invocation.log_bytes, invocation.log_events = self.capture.since(mark)
        return invocation, result

    def call(self, route_key: str, request: day.Request) -> measure.Sample:
        """One API call and the consumers it leads to."""
        from tests.support.aws import http_event

        method = route_key.split(" ", 1)[0]
        event = http_event(
            method,
            request.path,
            user=request.person.sub,
            username=request.person.username,
            body=request.body,
            query=request.query,
            route_key=route_key,
        )
        before = self.meter.unmatched
        api, result = self.invoke(self.routes[route_key], event)
        api.status = int(result["statusCode"])
        body = result.get("body") or ""
        headers = {**(result.get("headers") or {}), **(result.get("multiValueHeaders") or {})}
        api.response_bytes = (
            len(body.encode())
            + sum(len(k) + len(str(v)) + 4 for k, v in headers.items())
            + measure.GATEWAY_RESPONSE_OVERHEAD
        )
        if api.status >= 400:
            raise RuntimeError(f"{route_key} {request.path}: {api.status} {body[:300]}")
        self.last_body = json.loads(body) if body else None
        sample = measure.Sample(api, self.drain())
        sample.unattributed_records = self.meter.unmatched - before
        return sample

    def drain(self) -> list[measure.Invocation]:
        """Give what was written to the stream consumers, until nothing new is written."""
        out: list[measure.Invocation] = []
        for _ in range(MAX_CONSUMER_ROUNDS):
            records = [lambda_record(r, self.arn) for r in self.meter.take_records()]
            if not records:
                return out
            for source in self.sources:
                wanted = [r for r in records if source.wants(r)]
                for start in range(0, len(wanted), source.batch_size):
                    batch = wanted[start : start + source.batch_size]
                    invocation, result = self.invoke(source.function, {"Records": batch})
                    failures = (result or {}).get("batchItemFailures") if isinstance(result, dict) else None
                    if failures:
                        raise RuntimeError(f"{source.function} failed records: {failures}")
                    out.append(invocation)
        raise RuntimeError("the stream consumers kept writing for more rounds than expected")

    def api(
        self, route_key: str, person: day.Person, path: str, body: Any, query: dict[str, str] | None
    ) -> Any:
        """An unmeasured call (seeding, targets): the answer's body."""
        self.call(route_key, day.Request(person, path, body, query))
        return self.last_body


@contextmanager
def _mocked() -> Iterator[tuple[Any, pytest.MonkeyPatch]]:
    from shared.observability import metrics
    from tests.support.aws import mocked_aws

    globals_env = (
        load().raw.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    monkeypatch = pytest.MonkeyPatch()
    try:
        with mocked_aws(monkeypatch) as aws:
            monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # streams in-process
            monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # EMF lines are log bytes
            # The process's Metrics was made before this environment: as the template sets it.
            monkeypatch.setattr(metrics, "namespace", globals_env.get("POWERTOOLS_METRICS_NAMESPACE"))
            monkeypatch.setattr(metrics, "service", globals_env.get("POWERTOOLS_SERVICE_NAME"))
            yield aws, monkeypatch
    finally:
        monkeypatch.undo()


def _calls(route: day.Route, wanted: int) -> tuple[int, int]:
    """(warm-up calls, measured calls): whole targets' worth of each."""
    per = route.calls_per_target
    return per, per * math.ceil(wanted / per)


def run_day(reads: int, writes: int) -> DayRun:
    """Seed, then measure every route of the day, then one dispatcher run."""
    from shared.store.table import dynamodb, table_name

    template = load()
    with _mocked() as (aws, _), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        capture = measure.LogCapture()
        client = dynamodb()
        arn = client.describe_table(TableName=table_name())["Table"]["LatestStreamArn"]
        region = client.meta.region_name
        tail = measure.StreamTail(boto3.client("dynamodbstreams", region_name=region), arn)
        tail.read()  # from here on
        oracle = boto3.client("dynamodb", region_name=region)
        properties = template.table_properties
        meter = measure.Meter(
            oracle,
            tail,
            [k["AttributeName"] for k in properties["KeySchema"]],
            sizing.indexes_of(properties),
        )
        session = boto3.DEFAULT_SESSION
        assert session is not None
        detach = meter.attach(client, session)
        try:
            with capture.active():
                runner = Runner(template, meter, capture, arn)
                started = time.perf_counter()
                world = day.seed(runner.api, aws.create_user, uuid.uuid4().hex[:8])
                seeded = time.perf_counter() - started
                runs = [RouteRun(route, runner.routes[route.key]) for route in day.ROUTES]
                for run in sorted(runs, key=lambda r: r.route.is_write):
                    warm, measured = _calls(run.route, writes if run.route.is_write else reads)
                    if run.route.is_write:
                        day.prepare(
                            run.route, (warm + measured) // run.route.calls_per_target, world, runner.api
                        )
                    for i in range(warm + measured):
                        sample = runner.call(run.route.key, run.route.make(world, i))
                        if i >= warm:
                            run.samples.append(sample)
                dispatcher = _dispatcher_runs(runner, reads)
        finally:
            detach()
        memory = dict(runner.memory)
        sources = runner.sources
        unmatched = meter.unmatched
    functions = sorted(
        {r.function for r in runs}
        | {i.function for r in runs for s in r.samples for i in s.consumers}
        | {"DispatcherFunction"}
    )
    init_ms, restore_ms = cold_starts(template, functions)
    return DayRun(runs, dispatcher, memory, init_ms, restore_ms, sources, unmatched, seeded)


def _dispatcher_runs(runner: Runner, count: int) -> list[measure.Sample]:
    """The every-minute run with nothing due (the seeded reminders fire later in the day)."""
    samples = []
    for n in range(count + 1):
        now = datetime.now(UTC).replace(second=30, microsecond=0)
        event = {"time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail-type": "Scheduled Event"}
        invocation, _ = runner.invoke("DispatcherFunction", event)
        sample = measure.Sample(invocation, runner.drain())
        if n:
            samples.append(sample)
    return samples


# ---------------------------------------------------------------- INIT, in fresh interpreters

COLD_RUNS = 3
# Lambda's INIT also starts the Python runtime itself before importing the handler's module
# (an estimate: a hello-world python3.12 function reports an Init Duration of this order).
RUNTIME_INIT_MS = 80.0

_CHILD = """
import json, sys, time
started = time.perf_counter()
__import__(sys.argv[1])
imported = time.perf_counter()
from shared import lifecycle
lifecycle.after_restore()
restored = time.perf_counter()
print("BENCH-RESULT " + json.dumps({"import": imported - started, "restore": restored - imported}))
"""


def _lambda_environment(template: Template, function: Function) -> dict[str, str]:
    """`bench.lambda_env.lambda_environment`, with the template's conditions evaluated first
    (that helper resolves no `Fn::If`, which some functions' variables use)."""
    refs = references(template)
    evaluate_conditions(template, refs)
    env = lambda_environment(dataclasses.replace(function, environment={}))
    for key, value in function.environment.items():
        resolved = resolve(value, refs)
        env[key] = resolved if isinstance(resolved, str) else str(resolved)
    return env


def cold_starts(template: Template, functions: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Per function, the median import time in a fresh interpreter with its Lambda environment
    (what INIT runs, clients included: `shared.lifecycle.init`) plus the runtime's own start,
    and the time of `lifecycle.after_restore` (what a SnapStart restore runs)."""
    by_id = {f.logical_id: f for f in template.functions()}
    init: dict[str, float] = {}
    restore: dict[str, float] = {}
    for logical_id in functions:
        function = by_id[logical_id]
        env = child_env(_lambda_environment(template, function))
        imports, restores = [], []
        for _ in range(COLD_RUNS):
            try:
                result = run_child(_CHILD, [function.module], env)
            except ChildFailed:
                continue
            imports.append(float(result["import"]) * 1000)
            restores.append(float(result["restore"]) * 1000)
        init[logical_id] = measure.median(imports) + RUNTIME_INIT_MS if imports else math.nan
        restore[logical_id] = measure.median(restores) if restores else math.nan
    return init, restore
