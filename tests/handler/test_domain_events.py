"""Every move and assessment reaches the table's stream as a new item: the domain events that
partner webhooks (promise.moved, promise.assessed) will be built on, without changing the log."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from infra.local.streams import matches
from shared.store.table import deserialize, dynamodb, table_name
from tests.handler.test_promises import ASSESSMENT, move, new_person, open_promise
from tests.support.aws import REGION, Aws

EVENTS = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {"entity": {"S": ["promise-move", "promise-assessment"]}}},
}


@pytest.fixture
def stream(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # moto's streams in-process
    arn = dynamodb().describe_table(TableName=table_name())["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]

    def read() -> list[dict[str, Any]]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        return records

    return read


def test_each_move_and_assessment_is_one_new_item_on_the_stream(aws: Aws, stream: Any) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    pid = open_promise(ana, bea)["promiseId"]
    for person, act in ((bea, "promise"), (bea, "report_completion"), (ana, "declare_satisfied")):
        assert move(person, pid, act).status == 200
    assert ana("POST", f"/v1/me/promises/{pid}/assessment", body=ASSESSMENT).status == 201

    events = [deserialize(r["dynamodb"]["NewImage"]) for r in stream() if matches(EVENTS, r)]
    moves = [e for e in events if e["entity"] == "promise-move"]
    assert [(m["seq"], m["act"], m["role"], m["state"]) for m in moves] == [
        (1, "request", "customer", "requested"),
        (2, "promise", "performer", "promised"),
        (3, "report_completion", "performer", "reported"),
        (4, "declare_satisfied", "customer", "fulfilled"),
    ]
    assert all(m["promiseId"] == pid and m["at"].endswith("Z") for m in moves)
    (assessed,) = [e for e in events if e["entity"] == "promise-assessment"]
    assert (assessed["promiseId"], assessed["role"], assessed["value"]) == (
        pid,
        "customer",
        ASSESSMENT["value"],
    )


def test_a_refused_move_leaves_no_event(aws: Aws, stream: Any) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    pid = open_promise(ana, bea)["promiseId"]
    assert move(ana, pid, "report_completion").status == 409
    assert move(bea, pid, "promise", headers={"If-Match": '"v9"'}).status == 412
    moves = [r for r in stream() if matches(EVENTS, r)]
    assert len(moves) == 1, "only the opening"
