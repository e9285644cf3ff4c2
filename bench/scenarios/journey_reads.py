"""The journey costs the same to read whatever the number of promises.

Two people on moto: one with 10 promises, one with 10,000, made through the promise log's own
use case (`shared.logic.promises.open_promise`), spread over the last twelve months. Then
`GET /v1/me/journey` for each, with moto's consumed capacity and the request count. The journey
keeps one item of bucketed counters per month, updated in each move's transaction, so both
reads are one Query over twelve small items.

Seeding speed: moto deep-copies the whole table on every TransactWriteItems, which makes 10,000
transactions quadratic. While seeding (not while measuring) each transaction's items are written
without the transaction: Puts of new ids through BatchWriteItem, Updates one by one. The reads
are measured unchanged. Besides moto's capacity figure, the table shows what DynamoDB would
bill: the items the Query read (ScannedCount) and their size, in read units of 4 KB.

moto answers a Query by walking the whole partition in Python, so its latency grows with the
person's item count; DynamoDB reads only the key range. The latency column is moto's, not AWS's.
"""

from __future__ import annotations

import importlib
import statistics
import time
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench.lambda_env import REGION, lambda_environment
from bench.scenarios import Context, Report, Skip, Table, scenario
from bench.scenarios.profile_requests import (
    LambdaContext,
    Recorder,
    RequestLog,
    _environment,
    _quiet_stdout,
    http_event,
)
from bench.table import create_app_table
from infra.local.template import load

MODULE = "functions.promise.app"
PEOPLE = {"ten": 10, "ten-thousand": 10_000}
READS = 20


_PENDING_PUTS: list[Any] = []


def _write_without_transaction(self: Any) -> None:
    from shared.store.table import dynamodb

    for item in self.items:
        ((kind, params),) = item.items()
        if kind == "Put":
            _PENDING_PUTS.append({"PutRequest": {"Item": params["Item"]}})
        elif kind == "Update":
            dynamodb().update_item(**params)
        elif kind == "ConditionCheck":
            continue  # the account checks: a seeded person's account exists, and a check writes nothing
        else:
            raise AssertionError(f"seeding does not expect {kind}")
    while len(_PENDING_PUTS) >= 25:
        _flush(25)


def _flush(size: int) -> None:
    from shared.store.table import dynamodb, table_name

    batch = _PENDING_PUTS[:size]
    del _PENDING_PUTS[:size]
    if batch:
        dynamodb().batch_write_item(RequestItems={table_name(): batch})


def _seed(user_id: str, count: int, now: datetime) -> None:
    from shared.logic import promises as log
    from shared.store import transaction

    original = transaction.Transaction.commit
    transaction.Transaction.commit = _write_without_transaction  # type: ignore[method-assign]
    try:
        for n in range(count):
            made = now - timedelta(days=(n * 365) // count)
            request = {
                "opening": "promise",
                "counterpart": {"name": f"Colleague {n % 50}"},
                "what": f"Promise {n}",
                "conditions": [],
                "dueAt": (made + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "careIds": [],
                "size": {"people": 1 + n % 40, "horizonDays": 1 + n % 200, "scope": "team"},
            }
            log.open_promise(user_id, request, made)
        _flush(len(_PENDING_PUTS))
    finally:
        transaction.Transaction.commit = original  # type: ignore[method-assign]


def _event_for(user_id: str) -> dict[str, Any]:
    event = http_event("GET", "/v1/me/journey")
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    claims["sub"] = claims["username"] = user_id
    return event


class QueryMeter:
    """What each journey Query read: items (ScannedCount) and their size in bytes."""

    def __init__(self) -> None:
        self.reads: list[tuple[int, int]] = []
        self.on = False

    def record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if self.on and model.name == "Query":
            size = sum(item_size(item) for item in parsed.get("Items", []))
            self.reads.append((int(parsed.get("ScannedCount", 0)), size))


def _value_size(value: Any) -> int:
    # DynamoDB's sizing rules: strings and binary by length, numbers ~1 byte per 2 digits + 1,
    # maps and lists 3 bytes plus their elements (names included for maps).
    if isinstance(value, dict) and len(value) == 1:
        ((kind, inner),) = value.items()
        if kind == "S":
            return len(str(inner).encode())
        if kind == "N":
            digits = len(str(inner).lstrip("-").replace(".", "").lstrip("0")) or 1
            return (digits + 1) // 2 + 1
        if kind == "BOOL" or kind == "NULL":
            return 1
        if kind == "L":
            return 3 + sum(1 + _value_size(v) for v in inner)
        if kind == "M":
            return 3 + sum(len(k.encode()) + 1 + _value_size(v) for k, v in inner.items())
        if kind == "B":
            return len(inner)
    return len(str(value).encode())


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it for read units (attribute names plus values)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _measure_people(handler: Any, recorder: Recorder, meter: QueryMeter, now: datetime) -> dict[str, Any]:
    """Seed each person, then read their journey READS times, measuring every read."""
    results: dict[str, Any] = {}
    for label, count in PEOPLE.items():
        user_id = f"bench-{label}"
        started = time.perf_counter()
        _seed(user_id, count, now)
        seeded = time.perf_counter() - started
        log = RequestLog()
        recorder.current = log
        meter.reads.clear()
        meter.on = True
        seconds = []
        statuses = set()
        for _ in range(READS):
            log.calls.append([])
            start = time.perf_counter()
            response = handler(_event_for(user_id), LambdaContext("promise"))
            seconds.append(time.perf_counter() - start)
            statuses.add(int(response["statusCode"]))
        recorder.current = None
        meter.on = False
        scanned = max(n for n, _ in meter.reads)
        size = max(b for _, b in meter.reads)
        requests = [len(call) for call in log.calls]
        units = [sum(u for _, u in call) for call in log.calls]
        results[label] = {
            "promises": count,
            "statuses": sorted(statuses),
            "requests_per_read": statistics.fmean(requests),
            "operations": sorted({name for call in log.calls for name, _ in call}),
            "read_units_per_read": statistics.fmean(units),
            "items_read": scanned,
            "bytes_read": size,
            "dynamodb_read_units": max(1, -(-size // 4096)) * 0.5,
            "p50_ms": round(statistics.median(seconds) * 1000, 2),
            "seed_seconds": round(seeded, 1),
        }
    return results


@scenario("journey-reads")
def journey_reads(ctx: Context) -> Report:
    """GET /v1/me/journey for a person with 10 and with 10,000 promises: requests and read units."""
    from moto import mock_aws

    function = next((f for f in load().functions() if f.module == MODULE), None)
    if function is None:
        raise Skip(f"template.yaml has no function whose module is {MODULE}")
    now = datetime.now(UTC).replace(microsecond=0)
    with _environment(lambda_environment(function)):
        app = importlib.import_module(MODULE)
        handler = getattr(app, function.handler)
        recorder = Recorder()
        with mock_aws(), _quiet_stdout(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            boto3.setup_default_session(region_name=REGION)
            session = boto3.DEFAULT_SESSION
            assert session is not None
            session.events.register("before-parameter-build.dynamodb", recorder.ask_for_capacity)
            session.events.register("after-call.dynamodb", recorder.record)
            meter = QueryMeter()
            session.events.register("after-call.dynamodb", meter.record)
            from shared.store.table import reset_clients

            reset_clients()
            create_app_table()
            try:
                results = _measure_people(handler, recorder, meter, now)
            finally:
                reset_clients()  # the client belongs to this scenario's mocked session

    table = Table(
        f"GET /v1/me/journey (12 months), {READS} reads each, on moto in-process",
        [
            "person",
            "promises",
            "status",
            "DDB req/read",
            "operations",
            "items read",
            "bytes (DynamoDB size)",
            "RCU (4 KB, eventual)",
            "moto units",
            "moto p50 ms",
            "seed s",
        ],
    )
    for label, r in results.items():
        table.rows.append(
            [
                label,
                r["promises"],
                " ".join(map(str, r["statuses"])),
                r["requests_per_read"],
                " ".join(r["operations"]),
                r["items_read"],
                r["bytes_read"],
                r["dynamodb_read_units"],
                r["read_units_per_read"],
                r["p50_ms"],
                r["seed_seconds"],
            ]
        )
    # The budget: the same requests and read units whatever the number of promises: one Query
    # (the months with activity, at most twelve items), one BatchGetItem (the profile's time zone
    # and the practice streak; tests/handler/test_promise_request_counts.py) and the erasure
    # marker's GetItem every signed-in request makes.
    same = (
        len({r["dynamodb_read_units"] for r in results.values()}) == 1
        and all(r["items_read"] <= 12 for r in results.values())
        and all(sorted(r["operations"]) == ["BatchGetItem", "GetItem", "Query"] for r in results.values())
        and all(r["requests_per_read"] == 3 for r in results.values())
    )
    notes = [
        "RCU: the Query's items by DynamoDB's sizing rules, rounded up to 4 KB, eventually consistent",
        "moto units: moto's own ConsumedCapacity figure; moto p50 grows with the partition (moto walks it)",
    ]
    return Report([table], results, within_budget=same, notes=notes)
