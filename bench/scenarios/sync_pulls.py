"""Delta sync: what a pull reads, whatever the size of the history; a first sync of 10,000 things.

Part one, on moto in-process: one person's change log seeded with a history of 1,000 and of
100,000 logged changes (each entry a copy of a real care's entry, as the change log function
wrote it, under its own id and sequence; seeded with BatchWriteItem). Then, each request
recorded by botocore hooks: a pull from a caught-up cursor with nothing new, and pulls after k
new changes (k = 1, 10, 100, written by `shared.logic.sync.log_changes` as the stream consumer
does). A pull reads the log's counter (a strongly consistent GetItem of a small item: one read
unit), and when it is past the cursor, one strongly consistent Query no further than it: the
returned items' sizes summed, rounded up to 4 KB, one unit each (at least one). The
erasure-marker GetItem that every signed-in request makes (0.5 units) is not counted here, as in
the route budgets (tests/handler/test_request_counts.py).

moto's own time is not the measure (it walks the partition for a Query), and its
TransactWriteItems deep-copies the whole table once per item: the log's writes run with
`infra.local.moto_dynamodb` installed (a backup of the items they touch), as the local stack runs.

Part two, on the local stack (`python -m infra.local.stack`, as `make run` starts it): a person
signed in through its Cognito, a log of 10,000 things seeded in the emulator's table (the same
entries), then a first sync through the local gateway, `GET /v1/me/changes` without a cursor and
page after page, at 200 and at 1,000 a page: pages, seconds in all and per page.
"""

from __future__ import annotations

import copy
import json
import os
import time
import warnings
from datetime import UTC, datetime
from typing import Any

import boto3

from bench.lambda_env import REGION, lambda_environment
from bench.scenarios import Context, Report, Skip, Table, scenario
from bench.scenarios.dispatcher_reads import RequestMeter
from bench.scenarios.profile_requests import _environment, _quiet_stdout
from bench.table import create_app_table
from infra.local.moto_dynamodb import install as install_dynamodb_corrections
from infra.local.template import load

MODULE = "functions.sync.app"
HISTORIES = {"1,000": 1_000, "100,000": 100_000}
KS = (1, 10, 100)
FIRST_SYNC = 10_000
USER = "00000000-0000-4000-8000-000000000001"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def consistent_read_units(sizes: list[int]) -> float:
    """A strongly consistent Query: its items' sizes summed, in 4 KB units, at least one."""
    return float(max(1, -(-sum(sizes) // 4096)))


def _template_entry() -> dict[str, Any]:
    """One real entry: a care made through the change log's own code, as DynamoDB holds it."""
    from shared.domain.sync import Change
    from shared.logic.sync import _VIEWS

    care = {
        "PK": f"USER#{USER}",
        "SK": "CARE#01JBENCH000000000000000000",
        "entity": "care",
        "careId": "01JBENCH000000000000000000",
        "statement": "Growing the people I work with into leaders",
        "domain": "others",
        "valueForOthers": "They find their own way to lead",
        "meaningForMe": "The work outlives me",
        "rank": 1,
        "status": "active",
        "revision": 3,
        "createdAt": "2026-11-01T09:00:00Z",
        "updatedAt": "2026-11-20T09:00:00Z",
    }
    ident, view = _VIEWS["care"]
    change = Change(
        USER, str(care["SK"]), "care", ident(care), "upsert", 3, "2026-11-20T09:00:00Z", view(care, USER), 1
    )
    from shared.store.table import serialize

    return serialize(
        {
            "PK": f"USER#{USER}",
            "seq": 0,
            "type": change.type,
            "id": change.id,
            "op": change.op,
            "version": change.version,
            "at": change.at,
            "data": change.data,
            "ref": change.ref,
        }
    )


def seed_log(client: Any, table: str, count: int, user: str = USER) -> None:
    """`count` logged things for `user`, by BatchWriteItem: the entries and the counter (their
    pointers only matter to a later change of the same things, which the runs do not make)."""
    from shared.store import sync as store

    template = _template_entry()
    template["PK"] = {"S": f"USER#{user}"}
    puts: list[dict[str, Any]] = []
    for seq in range(1, count + 1):
        ref = f"CARE#01JBENCH{seq:018d}"
        entry = copy.deepcopy(template)
        entry["SK"] = {"S": store.change_sk(seq)}
        entry["seq"] = {"N": str(seq)}
        entry["ref"] = {"S": ref}
        entry["id"] = {"S": ref.removeprefix("CARE#")}
        puts.append(entry)
    puts.append({"PK": {"S": f"USER#{user}"}, "SK": {"S": store.COUNTER_SK}, "seq": {"N": str(count)}})
    for start in range(0, len(puts), 25):
        batch = [{"PutRequest": {"Item": item}} for item in puts[start : start + 25]]
        while batch:
            answer = client.batch_write_item(RequestItems={table: batch})
            batch = answer.get("UnprocessedItems", {}).get(table, [])


def _new_changes(k: int, first_src: int) -> list[Any]:
    from shared.domain.sync import Change

    return [
        Change(
            USER,
            f"CARE#01JNEW{n:020d}",
            "care",
            f"01JNEW{n:020d}",
            "upsert",
            1,
            "2026-12-01T09:00:00Z",
            {"careId": f"01JNEW{n:020d}", "statement": "New", "domain": "self", "status": "active"},
            first_src + n,
        )
        for n in range(k)
    ]


def _measure_history(count: int) -> dict[str, Any]:
    from moto import mock_aws

    from shared import secrets
    from shared.domain.sync import SyncCursor
    from shared.logic import sync as logic
    from shared.store.table import reset_clients, table_name

    install_dynamodb_corrections()
    meter = RequestMeter()
    rows: list[dict[str, Any]] = []
    with mock_aws():
        boto3.setup_default_session(region_name=REGION)
        session = boto3.DEFAULT_SESSION
        assert session is not None
        meter.register(session)
        reset_clients()
        # The cursor keys the sync cursors are signed with, as the template's secret holds them.
        create_cursor_key_secret()
        try:
            create_app_table()
            started = time.perf_counter()
            seed_log(boto3.client("dynamodb", region_name=REGION), table_name(), count)
            seeded = time.perf_counter() - started
            cursor = logic.encode_cursor(SyncCursor(count, int(NOW.timestamp())), USER)
            src = 10_000_000
            for k in (0, *KS):
                if k:
                    logic.log_changes(USER, _new_changes(k, src), NOW)
                    src += k
                meter.calls.clear()
                meter.on = True
                page = logic.pull(USER, cursor, 1000, NOW)
                meter.on = False
                queries = [c for c in meter.calls if c.operation == "Query"]
                counter_reads = sum(1 for c in meter.calls if c.operation == "GetItem")
                rows.append(
                    {
                        "history": count,
                        "k": k,
                        "requests": len(meter.calls),
                        "queries": len(queries),
                        "items_read": sum(c.scanned for c in queries),
                        "items_returned": len(page.items),
                        "bytes_read": sum(sum(c.sizes) for c in queries),
                        "counter_reads": counter_reads,
                        "read_units": counter_reads + sum(consistent_read_units(c.sizes) for c in queries),
                        "moto_seconds": round(sum(c.seconds for c in queries), 3),
                    }
                )
                cursor = page.next_cursor
        finally:
            reset_clients()
            secrets.reset_clients()
    return {"seed_seconds": round(seeded, 1), "pulls": rows}


def create_cursor_key_secret() -> None:
    """The cursor key secret in the emulator, under the name the function's environment gives."""
    from shared import secrets

    name = os.environ.setdefault(secrets.CURSOR_KEY_ENV, "career-journey-bench-CursorSigningKey")
    value = {secrets.CURRENT: "bench-cursor-key-".ljust(64, "0")}
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=name, SecretString=json.dumps(value)
    )
    secrets.reset_clients()


def _first_sync_on_the_local_stack() -> list[dict[str, Any]]:
    from bench.scenarios.reminders_throughput import local_stack
    from tests.support.stack import new_person

    out = []
    with local_stack() as info:
        emulator = {
            "endpoint_url": info["awsEndpointUrl"],
            "region_name": info["region"],
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        person = new_person(info, boto3.client("cognito-idp", **emulator), prefix="bench-sync")
        seed_log(boto3.client("dynamodb", **emulator), info["tableName"], FIRST_SYNC, user=person.sub)
        for limit in (200, 1000):
            cursor = None
            pages = things = 0
            times = []
            started = time.perf_counter()
            while True:
                params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
                t0 = time.perf_counter()
                answer = person.api.get("/v1/me/changes", params=params)
                times.append(time.perf_counter() - t0)
                answer.raise_for_status()
                body = answer.json()
                pages += 1
                things += len(body["items"])
                cursor = body["nextCursor"]
                if not body["hasMore"]:
                    break
            total = time.perf_counter() - started
            times.sort()
            out.append(
                {
                    "limit": limit,
                    "things": things,
                    "pages": pages,
                    "seconds": round(total, 2),
                    "page_p50_ms": round(1000 * times[len(times) // 2], 1),
                    "page_max_ms": round(1000 * times[-1], 1),
                }
            )
        person.api.close()
    return out


@scenario("sync-pulls")
def sync_pulls(ctx: Context) -> Report:
    """Delta sync: a pull's reads after k changes (history 1,000 / 100,000), a first sync of 10,000.

    On moto in-process, then on the local stack (see the module docstring).
    """
    function = next((f for f in load().functions() if f.module == MODULE), None)
    if function is None:
        raise Skip(f"template.yaml has no function whose module is {MODULE}")
    histories: dict[str, Any] = {}
    with _environment(lambda_environment(function)), _quiet_stdout(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        for label, count in HISTORIES.items():
            histories[label] = _measure_history(count)
    first_sync = _first_sync_on_the_local_stack()

    pulls = Table(
        "A pull from a caught-up cursor, after k new changes (moto in-process; strongly consistent reads)",
        [
            "history",
            "k",
            "requests",
            "counter",
            "Queries",
            "items read",
            "returned",
            "bytes",
            "RCU",
            "moto s",
        ],
    )
    for result in histories.values():
        for r in result["pulls"]:
            pulls.rows.append(
                [
                    r["history"],
                    r["k"],
                    r["requests"],
                    r["counter_reads"],
                    r["queries"],
                    r["items_read"],
                    r["items_returned"],
                    r["bytes_read"],
                    r["read_units"],
                    r["moto_seconds"],
                ]
            )
    snapshot = Table(
        f"A first sync of {FIRST_SYNC:,} things through the local stack (GET /v1/me/changes, no cursor)",
        ["per page", "things", "pages", "seconds", "page p50 ms", "page max ms"],
    )
    for r in first_sync:
        snapshot.rows.append(
            [r["limit"], r["things"], r["pages"], r["seconds"], r["page_p50_ms"], r["page_max_ms"]]
        )
    every = [r for result in histories.values() for r in result["pulls"]]
    within = (
        all(r["counter_reads"] == 1 and r["queries"] == (1 if r["k"] else 0) for r in every)
        and all(r["requests"] == r["counter_reads"] + r["queries"] for r in every)
        and all(r["read_units"] <= 1 for r in every if r["k"] == 0)
        and all(r["items_read"] <= r["k"] for r in every)
        and all(r["things"] == FIRST_SYNC for r in first_sync)
    )
    return Report(
        tables=[pulls, snapshot],
        data={"histories": histories, "first_sync": first_sync},
        within_budget=within,
        notes=[
            "Budget: a pull with nothing new is one read of the log's counter, 1 read unit; after k"
            " changes, the counter and one Query that reads at most k items, whatever the history.",
            "The local stack's times are moto's and the gateway's on this machine, not AWS's.",
        ],
    )
