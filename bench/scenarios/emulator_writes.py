"""Write throughput of the emulator as the table grows: moto as shipped, and as the stack runs it.

moto applies a TransactWriteItems by first deep-copying every table the transaction names, so
its cost grows with the table, not with the items written (issue 13: a load test measured
moto's copying, not our code). `infra.local.moto_dynamodb` backs up only the items the
transaction names. Here, on moto in-process, the care function's real handler makes cares
(`POST /v1/me/cares`: one transaction of four items, the care, its revision, the ranking and the
account check) in a table holding 1,000 and then 100,000 other items (seeded by
BatchWriteItem), with moto as shipped and with the correction. Writes per second are the
handler's end to end, in-process (our code and moto's), one at a time. As shipped at 100,000,
only a few writes are timed: each takes seconds.
"""

from __future__ import annotations

import importlib
import time
import uuid
import warnings
from typing import Any

import boto3

from bench.lambda_env import REGION, lambda_environment
from bench.scenarios import Context, Report, Skip, Table, scenario
from bench.scenarios.profile_requests import _environment, _quiet_stdout
from bench.table import create_app_table
from infra.local.template import load

MODULE = "functions.care.app"
SIZES = {"1,000": 1_000, "100,000": 100_000}
WRITES = {"corrected": 100, "as shipped": 20}
WRITES_AS_SHIPPED_LARGE = 3


def _seed(client: Any, table: str, count: int) -> None:
    """`count` items of other people (a care each), by BatchWriteItem."""
    for start in range(0, count, 25):
        batch = [
            {
                "PutRequest": {
                    "Item": {
                        "PK": {"S": f"USER#filler-{n:07d}"},
                        "SK": {"S": "CARE#01JFILLER0000000000000000"},
                        "entity": {"S": "care"},
                        "statement": {"S": "Something that matters to someone"},
                        "domain": {"S": "others"},
                        "status": {"S": "active"},
                        "rank": {"N": "1"},
                        "revision": {"N": "1"},
                    }
                }
            }
            for n in range(start, min(start + 25, count))
        ]
        while batch:
            answer = client.batch_write_item(RequestItems={table: batch})
            batch = answer.get("UnprocessedItems", {}).get(table, [])


def _writes_per_second(handler: Any, writes: int) -> tuple[float, float]:
    from tests.support.aws import LambdaContext, http_event

    body = {"statement": "Growing people", "domain": "others"}
    started = time.perf_counter()
    for _ in range(writes):
        event = http_event("POST", "/v1/me/cares", user=str(uuid.uuid4()), body=body)
        result = handler(event, LambdaContext())
        assert result["statusCode"] == 201, result
    seconds = time.perf_counter() - started
    return writes / seconds, 1000 * seconds / writes


def _measure(size: int, corrected: bool) -> dict[str, Any]:
    from moto import mock_aws

    from infra.local import moto_dynamodb
    from shared.store.table import reset_clients, table_name

    if corrected:
        moto_dynamodb.install()
    else:
        moto_dynamodb.uninstall()
    writes = WRITES["corrected" if corrected else "as shipped"]
    if not corrected and size > 10_000:
        writes = WRITES_AS_SHIPPED_LARGE
    with mock_aws():
        boto3.setup_default_session(region_name=REGION)
        reset_clients()
        try:
            create_app_table()
            started = time.perf_counter()
            _seed(boto3.client("dynamodb", region_name=REGION), table_name(), size)
            seeded = time.perf_counter() - started
            handler = importlib.import_module(MODULE).lambda_handler
            rate, ms = _writes_per_second(handler, writes)
        finally:
            reset_clients()
            moto_dynamodb.install()
    return {
        "table_items": size,
        "moto": "corrected" if corrected else "as shipped",
        "writes": writes,
        "writes_per_second": round(rate, 1),
        "ms_per_write": round(ms, 1),
        "seed_seconds": round(seeded, 1),
    }


@scenario("emulator-writes")
def emulator_writes(ctx: Context) -> Report:
    """Writes per second in a table of 1,000 and of 100,000 items: moto as shipped vs corrected."""
    function = next((f for f in load().functions() if f.module == MODULE), None)
    if function is None:
        raise Skip(f"template.yaml has no function whose module is {MODULE}")
    rows: list[dict[str, Any]] = []
    with _environment(lambda_environment(function)), _quiet_stdout(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        for size in SIZES.values():
            for corrected in (False, True):
                rows.append(_measure(size, corrected))
    table = Table(
        "POST /v1/me/cares, one at a time, in-process on moto (4-item transactions)",
        ["table items", "moto", "writes", "writes/s", "ms/write", "seed s"],
        [
            [
                r["table_items"],
                r["moto"],
                r["writes"],
                r["writes_per_second"],
                r["ms_per_write"],
                r["seed_seconds"],
            ]
            for r in rows
        ],
    )
    fixed = [r for r in rows if r["moto"] == "corrected"]
    small, large = sorted(fixed, key=lambda r: int(r["table_items"]))
    return Report(
        tables=[table],
        data={"rows": rows},
        # Flat: the large table's rate within 25 % of the small one's.
        within_budget=large["writes_per_second"] >= 0.75 * small["writes_per_second"],
        notes=[
            "Budget: with the correction, write throughput stays flat (within 25 %) from 1,000 to 100,000."
        ],
    )
