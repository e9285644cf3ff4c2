"""The dispatcher reads what is due, not what is scheduled.

Two tables on moto, one with 1,000 scheduled reminders and one with 100,000, 10 per person
(plans' and items' reminders alternately), of which the same 100 (one each for 100 people,
same keys in both tables) are due at the run's time and the rest at some later minute of the
next 24 hours. Then one `shared.logic.dispatcher.dispatch(now)`, with every DynamoDB request it
makes recorded. The table shows what DynamoDB would bill for the due index's Queries: the items
read (ScannedCount) and read units by DynamoDB's sizing rules (an eventually consistent index
Query: its items' projected sizes summed, rounded up to 4 KB, halved; at least half a unit per
Query), next to what reading exactly the due items would cost in the same Queries.

Seeding: the reminder items are written with BatchWriteItem, each a copy of a plan's and an
item's reminder that `shared.logic.reminders.set_reminder` wrote first (then deleted), with
its keys, ids, rule, `nextFireAt` and due-index keys replaced, so their shape follows the app's.
Rules are daily at a local minute, in the text `recurrence.parse_rule` makes. Only reminders are
seeded (no plans: the due index holds reminders alone). The 100,000 take 95 to 110 s on this
machine (~1 ms an item: moto builds each item and its stream record in Python).

moto's own time is not the measure: it answers an index Query by walking the whole table in
Python (2 to 3 s per Query at 100,000 items), and before every TransactWriteItems it deep-copies
the whole table, stream included, once per item of the transaction, to restore it on
cancellation. With 1,000 reminders that copy alone makes the run's 100 firings take ~100 s
instead of ~2 s; at 100,000 it would take hours. So moto runs with `infra.local.moto_dynamodb`
installed, as the local emulator does: a transaction backs up the items it names, not the
tables; the dispatcher's requests are unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3

from bench.lambda_env import REGION, lambda_environment
from bench.scenarios import Context, Report, Skip, Table, scenario
from bench.scenarios.journey_reads import item_size
from bench.scenarios.profile_requests import _environment, _quiet_stdout
from bench.table import create_app_table
from infra.local.moto_dynamodb import install as install_dynamodb_corrections
from infra.local.template import load

MODULE = "functions.dispatcher.app"
SIZES = {"1,000": 1_000, "100,000": 100_000}
DUE = 100
PER_PERSON = 10
ZONE = "Europe/Lisbon"  # on UTC+0 until 29 March 2026
SET_AT = datetime(2026, 3, 21, 8, 59, tzinfo=UTC)  # when the reminders were set
NOW = datetime(2026, 3, 21, 9, 0, 30, tzinfo=UTC)  # the run: the 09:00 reminders are due
FIRST_MINUTE = 9 * 60  # the due reminders' local minute of the day; the others are later ones
BUDGET_FACTOR = 1.1
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


# ---------------------------------------------------------------- DynamoDB's read units


def read_units(sizes: list[int]) -> float:
    """What one eventually consistent Query of items of these sizes costs: 4 KB units, halved,
    at least half a unit."""
    return max(1, -(-sum(sizes) // 4096)) * 0.5


def index_projection(index_name: str) -> set[str]:
    """The attributes an index of the template's table holds: table keys, its keys, projected."""
    properties = load().table_properties
    index = next(i for i in properties.get("GlobalSecondaryIndexes", []) if i["IndexName"] == index_name)
    attributes = {k["AttributeName"] for k in [*properties["KeySchema"], *index["KeySchema"]]}
    projection = index.get("Projection", {})
    if projection.get("ProjectionType") == "ALL":
        return set()  # everything: callers treat an empty set as "all"
    return attributes | set(projection.get("NonKeyAttributes", []))


def projected(item: dict[str, Any], attributes: set[str]) -> dict[str, Any]:
    """An item (in DynamoDB's JSON) as the index holds it."""
    return item if not attributes else {k: v for k, v in item.items() if k in attributes}


# ---------------------------------------------------------------- recording requests


@dataclass
class Call:
    """One DynamoDB request: its operation, index, items read and returned, their size, time."""

    operation: str
    index: str | None
    scanned: int
    count: int
    sizes: list[int]
    seconds: float


@dataclass
class RequestMeter:
    """botocore hooks recording every DynamoDB request while `on` (register before the client
    is made: a client copies its session's hooks)."""

    on: bool = False
    calls: list[Call] = field(default_factory=list)

    def register(self, session: boto3.Session) -> None:
        session.events.register("before-parameter-build.dynamodb", self._before)
        session.events.register("after-call.dynamodb", self._after)

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if self.on:
            context["bench_meter"] = (params.get("IndexName"), time.perf_counter())

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.on or "bench_meter" not in context:
            return
        index, started = context["bench_meter"]
        items = parsed.get("Items", [])
        self.calls.append(
            Call(
                operation=model.name,
                index=index,
                scanned=int(parsed.get("ScannedCount", 0)),
                count=int(parsed.get("Count", len(items))),
                sizes=[item_size(i) for i in items],
                seconds=time.perf_counter() - started,
            )
        )


# ---------------------------------------------------------------- moto's transactions


# ---------------------------------------------------------------- seeding


def _sub(person: int) -> str:
    """A Cognito-like sub (a UUID's length), the same for a person in both tables."""
    return f"00000000-0000-4000-8000-{person:012d}"


def _ulid(*parts: object) -> str:
    """A ULID-shaped id made from `parts`, so both tables hold the same due reminders."""
    value = int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:17], "big")
    return "01JQ" + "".join(_CROCKFORD[(value >> (5 * n)) & 31] for n in range(22))


def _any_version(if_match: str | None, current: int | None, found: object = None) -> None:
    """`set_reminder`'s If-Match check, accepting anything (the bench writes each once)."""


def _templates() -> tuple[dict[str, Any], dict[str, Any]]:
    """A plan's and an item's reminder item (DynamoDB JSON) as `set_reminder` writes them; both
    are deleted again so that the table holds only the seeded reminders."""
    from shared.logic.plans import make_plan
    from shared.logic.reminders import set_reminder
    from shared.store import keys
    from shared.store.table import dynamodb, key, table_name

    user = _sub(999_999_999_999)
    plan = make_plan(
        user, {"title": "Listening", "items": [{"kind": "skill", "title": "Ask one open question"}]}, SET_AT
    ).data
    request = {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "mode": "pinned", "timeZone": ZONE}
    out = []
    for item_id in (None, str(plan["items"][0]["itemId"])):
        set_reminder(
            user, plan["planId"], item_id, request, SET_AT, if_match=None, check_version=_any_version
        )
        sk = keys.plan_reminder_sk(plan["planId"], item_id)
        address = key(keys.user_pk(user), sk)
        out.append(dynamodb().get_item(TableName=table_name(), Key=address, ConsistentRead=True)["Item"])
        dynamodb().delete_item(TableName=table_name(), Key=address)
    for part in ("PK", "SK", "planId", "rrule", "nextFireAt", "dueShard", "dueAt"):
        if part not in out[0] or part not in out[1]:
            raise Skip(f"a reminder item has no {part!r} any more: the seeding needs a look")
    if "itemId" not in out[1]:
        raise Skip("an item's reminder has no 'itemId' any more: the seeding needs a look")
    return out[0], out[1]


@dataclass
class _Rules:
    """Daily rules at each local minute, as the app writes them, with their next firing."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(ZONE))
    cache: dict[int, tuple[str, str]] = field(default_factory=dict)

    def at(self, minute: int) -> tuple[str, str]:
        """(rrule text, nextFireAt) of the rule firing daily at local minute `minute` of the day."""
        if minute not in self.cache:
            from shared.domain import recurrence
            from shared.domain.timeutil import to_rfc3339

            local = SET_AT.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0)
            text = f"FREQ=DAILY;BYHOUR={minute // 60};BYMINUTE={minute % 60}"
            rule = recurrence.parse_rule(text, start=local, zone=self.zone)
            following = recurrence.next_occurrence(rule, self.zone, SET_AT)
            assert following is not None
            self.cache[minute] = (rule.text, to_rfc3339(following))
        return self.cache[minute]


def _seed(count: int) -> tuple[list[dict[str, Any]], float]:
    """Write `count` reminders; answers the due ones (DynamoDB JSON) and the seconds it took."""
    from shared.store import keys
    from shared.store.table import dynamodb, table_name

    started = time.perf_counter()
    plan_template, item_template = _templates()
    rules = _Rules()
    if rules.at(FIRST_MINUTE)[0] != plan_template["rrule"]["S"]:
        raise Skip("the rule text made here is not the one set_reminder stores: the seeding needs a look")
    due: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        request: dict[str, Any] = {table_name(): batch[:]}
        batch.clear()
        while request:
            request = dynamodb().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    for n in range(count):
        person, slot = divmod(n, PER_PERSON)
        is_due = person < DUE and slot == person % 2  # one each, plans' and items' alternately
        pk = keys.user_pk(_sub(person))
        plan_id = _ulid("plan", person, slot)
        item = copy.deepcopy(item_template if slot % 2 else plan_template)
        item_id = _ulid("item", person, slot) if slot % 2 else None
        sk = keys.plan_reminder_sk(plan_id, item_id)
        # Not due: some later minute of the next 24 hours, whole minutes after the due one.
        minute = FIRST_MINUTE if is_due else FIRST_MINUTE + 1 + (n * 7919) % (24 * 60 - 1)
        rrule, next_fire_at = rules.at(minute % (24 * 60))
        item.update(
            {
                "PK": {"S": pk},
                "SK": {"S": sk},
                "planId": {"S": plan_id},
                "rrule": {"S": rrule},
                "nextFireAt": {"S": next_fire_at},
                "dueShard": {"S": keys.due_shard(pk, sk)},
                "dueAt": {"S": f"{next_fire_at}#{pk}#{sk}"},
            }
        )
        if item_id:
            item["itemId"] = {"S": item_id}
        if is_due:
            due.append(item)
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25:
            flush()
    if batch:
        flush()
    return due, time.perf_counter() - started


# ---------------------------------------------------------------- one table


def _measure(count: int) -> dict[str, Any]:
    """Seed a fresh table with `count` reminders, run the dispatcher once, and summarise."""
    from moto import mock_aws

    from shared.store import keys
    from shared.store.table import reset_clients

    install_dynamodb_corrections()
    meter = RequestMeter()
    with mock_aws():
        boto3.setup_default_session(region_name=REGION)
        session = boto3.DEFAULT_SESSION
        assert session is not None
        meter.register(session)
        reset_clients()
        try:
            create_app_table()
            due, seed_seconds = _seed(count)
            dispatcher = importlib.import_module("shared.logic.dispatcher")
            meter.on = True
            started = time.perf_counter()
            run = dispatcher.dispatch(NOW)
            run_seconds = time.perf_counter() - started
            meter.on = False
        finally:
            reset_clients()  # the client belongs to this table's mocked session

    queries = [c for c in meter.calls if c.operation == "Query" and c.index == keys.DUE_INDEX]
    others = Counter(c.operation for c in meter.calls if c not in queries)
    # What reading exactly the due items costs in the same Queries (one per shard).
    attributes = index_projection(keys.DUE_INDEX)
    per_shard: dict[str, list[int]] = {f"DUE#{s:02d}": [] for s in range(keys.DUE_SHARDS)}
    for item in due:
        per_shard[item["dueShard"]["S"]].append(item_size(projected(item, attributes)))
    items_read = sum(c.scanned for c in queries)
    units = sum(read_units(c.sizes) for c in queries)
    due_units = sum(read_units(sizes) for sizes in per_shard.values())
    return {
        "scheduled": count,
        "due": len(due),
        "queries": len(queries),
        "items_read": items_read,
        "items_returned": sum(c.count for c in queries),
        "bytes_read": sum(sum(c.sizes) for c in queries),
        "read_units": units,
        "due_read_units": due_units,
        "items_read_per_due": round(items_read / len(due), 3),
        "read_units_per_due_units": round(units / due_units, 3),
        "other_requests": dict(sorted(others.items())),
        "transactions": others.get("TransactWriteItems", 0),
        "fired": run.fired,
        "held": getattr(run, "held", 0),
        "skipped": run.skipped,
        "failed": run.failed,
        "moto_query_seconds": round(sum(c.seconds for c in queries), 2),
        "moto_run_seconds": round(run_seconds, 2),
        "seed_seconds": round(seed_seconds, 1),
    }


@scenario("dispatcher-reads")
def dispatcher_reads(ctx: Context) -> Report:
    """One dispatcher run with 100 reminders due among 1,000 and among 100,000: reads and read units."""
    function = next((f for f in load().functions() if f.module == MODULE), None)
    if function is None:
        raise Skip(f"template.yaml has no function whose module is {MODULE}")
    results: dict[str, Any] = {}
    with _environment(lambda_environment(function)), _quiet_stdout(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        for label, count in SIZES.items():
            results[label] = _measure(count)

    table = Table(
        f"One dispatcher run at {NOW:%H:%M:%S} ({DUE} due), on moto in-process",
        [
            "scheduled",
            "due",
            "Queries",
            "items read",
            "read/due",
            "bytes read",
            "RCU",
            "RCU due only",
            "RCU ratio",
            "transactions",
            "other requests",
            "fired",
            "held/skipped/failed",
            "moto Query s",
            "moto run s",
            "seed s",
        ],
    )
    for r in results.values():
        table.rows.append(
            [
                r["scheduled"],
                r["due"],
                r["queries"],
                r["items_read"],
                r["items_read_per_due"],
                r["bytes_read"],
                r["read_units"],
                r["due_read_units"],
                r["read_units_per_due_units"],
                r["transactions"],
                " ".join(f"{op}:{n}" for op, n in r["other_requests"].items() if op != "TransactWriteItems")
                or "-",
                r["fired"],
                f"{r['held']}/{r['skipped']}/{r['failed']}",
                r["moto_query_seconds"],
                r["moto_run_seconds"],
                r["seed_seconds"],
            ]
        )
    rows = list(results.values())
    within = (
        all(r["items_read"] <= BUDGET_FACTOR * r["due"] for r in rows)
        and all(r["read_units"] <= BUDGET_FACTOR * r["due_read_units"] for r in rows)
        and len({r["items_read"] for r in rows}) == 1
        and len({r["read_units"] for r in rows}) == 1
    )
    notes = [
        "items read: ScannedCount of the due index's Queries; RCU: their items' projected sizes by "
        "DynamoDB's rules, per Query rounded up to 4 KB, halved (eventually consistent), >= 0.5",
        "RCU due only: the same Queries reading exactly the due items; 16 shards make 8 RCU the "
        "least a run costs",
        "moto Query s / run s: moto's time (it walks the whole table per index Query), not DynamoDB's",
    ]
    for r in rows:
        if r["items_returned"] != r["items_read"]:
            notes.append(f"{r['scheduled']}: a Query returned fewer items than it read (a filter?)")
        if r["fired"] + r["held"] != r["due"] or r["skipped"] or r["failed"]:
            notes.append(f"{r['scheduled']}: not every due reminder fired: {r}")
    return Report([table], results, within_budget=within, notes=notes)
