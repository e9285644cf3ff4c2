"""Handles cannot be recycled under someone's promises (issue 9, part 4).

Carol has a promise with @renamer; renamer changes handle; Mallory tries to take the old one at
once. The old handle is held for its owner for 30 days (tests/handler/test_profile.py), and
every view of the promise shows who the counterpart is now: the follower, fed by the table's
stream, rewrites the copies of the handle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from functions.handle_follower.app import lambda_handler as follower_handler
from infra.local.streams import stream_sources
from infra.local.template import load
from shared.logic.promises import follow_handle
from shared.store import table
from shared.store.table import dynamodb, table_name
from tests.handler.test_counterpart_links import OUTSIDE, make_link, public
from tests.handler.test_promises import (
    Person,
    get,
    log_of,
    move,
    moved,
    new_person,
    open_promise,
    opening_body,
    present,
)
from tests.support.aws import REGION, Aws, LambdaContext

(FOLLOWER,) = [s for s in stream_sources(load()) if s.function == "HandleFollowerFunction"]


@pytest.fixture
def stream(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """The table's stream records since the last call (moto's streams, in-process)."""
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    arn = dynamodb().describe_table(TableName=table_name())["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    seen = [0]

    def read() -> list[dict[str, Any]]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        fresh, seen[0] = records[seen[0] :], len(records)
        return fresh

    return read


def _follow(stream: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Deliver what the follower's filter lets through, as Lambda would; answers those records."""
    wanted = [r for r in stream() if FOLLOWER.wants(r)]
    assert {r["dynamodb"]["NewImage"]["entity"]["S"] for r in wanted} <= {"profile"}, "profiles only"
    if wanted:
        result = follower_handler({"Records": wanted}, LambdaContext())
        assert result == {"batchItemFailures": []}
    return wanted


@pytest.fixture
def people(aws: Aws) -> dict[str, Person]:
    return {name: new_person(aws, name) for name in ("carol", "renamer", "mallory")}


def _rename(person: Person, handle: str) -> None:
    reply = person.profile("PATCH", "/v1/me", body={"handle": handle})
    assert reply.status == 200, reply.body
    person.handle = handle


def test_every_view_shows_who_the_counterpart_is_now(
    people: dict[str, Person], stream: Callable[[], list[dict[str, Any]]]
) -> None:
    carol, renamer, mallory = people["carol"], people["renamer"], people["mallory"]
    care = carol.care("POST", "/v1/me/cares", body={"statement": "Team", "domain": "others"}).body["careId"]
    asked = open_promise(carol, renamer, careIds=[care])["promiseId"]
    moved(renamer, asked, "promise", note="On it")
    offered = open_promise(renamer, carol, "offer")["promiseId"]
    outside = open_promise(renamer, OUTSIDE)["promiseId"]
    token = make_link(renamer, outside)
    old = renamer.handle
    _follow(stream)  # the profiles made above: nothing of theirs shows another handle yet

    _rename(renamer, "renamed_now")
    assert len(_follow(stream)) == 1, "the rename reaches the follower through its filter"

    assert carol.profile("PUT", "/v1/me", body=_profile(old)).status == 409, "nobody else may take it"
    assert mallory.profile("PATCH", "/v1/me", body={"handle": old}).status == 409
    listed = carol("GET", "/v1/me/promises").body["items"]
    assert {p["promiseId"]: p["counterpart"]["handle"] for p in listed} == {
        asked: "renamed_now",
        offered: "renamed_now",
    }
    by_care = carol("GET", "/v1/me/promises", query={"careId": care}).body["items"]
    assert [p["counterpart"]["handle"] for p in by_care] == ["renamed_now"]
    assert get(carol, asked)["performer"]["handle"] == "renamed_now"
    assert present(get(renamer, asked)["performer"]) == {
        "kind": "user",
        "handle": "renamed_now",
        "isMe": True,
    }
    assert get(carol, offered)["performer"]["handle"] == "renamed_now"
    assert [m["by"].get("handle") for m in log_of(carol, asked)] == [carol.handle, "renamed_now"]
    assert public("GET", f"/v1/counterpart/{token}").body["counterpart"]["handle"] == "renamed_now"
    # A request to the old handle reaches no one (it is held, not forwarded).
    reply = carol("POST", "/v1/me/promises", body=opening_body(old))
    assert reply.status == 422
    assert reply.problem["errors"][0]["field"] == "counterpart.handle"


def _profile(handle: str) -> dict[str, str]:
    return {"displayName": "X", "handle": handle, "currentLevel": "expert", "timeZone": "UTC"}


def test_following_twice_changes_nothing_and_other_profile_changes_are_ignored(
    people: dict[str, Person], aws: Aws, stream: Callable[[], list[dict[str, Any]]]
) -> None:
    carol, renamer = people["carol"], people["renamer"]
    asked = open_promise(carol, renamer)["promiseId"]
    _follow(stream)
    _rename(renamer, "second_name")
    _follow(stream)
    assert follow_handle(renamer.sub) == 0, "a replay finds every copy current"
    version = get(carol, asked)
    assert renamer.profile("PATCH", "/v1/me", body={"displayName": "Still me"}).status == 200
    aws.requests.clear()
    assert len(_follow(stream)) == 1
    assert "UpdateItem" not in aws.requests.operations, "no handle changed, nothing rewritten"
    assert get(carol, asked) == version


def test_a_move_in_flight_on_the_old_handle_is_refused_then_logged_on_the_new(
    people: dict[str, Person], stream: Callable[[], list[dict[str, Any]]]
) -> None:
    carol, renamer = people["carol"], people["renamer"]
    asked = open_promise(carol, renamer)["promiseId"]
    _follow(stream)
    _rename(renamer, "mid_move")
    fired: list[int] = []

    def follower_runs_first(**_: Any) -> None:
        if not fired:
            fired.append(follow_handle(renamer.sub))

    table.dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", follower_runs_first)
    try:
        refused = move(renamer, asked, "promise")
    finally:
        table.dynamodb().meta.events.unregister(
            "before-call.dynamodb.TransactWriteItems", follower_runs_first
        )
    assert fired[0] > 0, "the follower rewrote the promise first"
    assert refused.status == 409, "it read the promise before the follower changed it"
    moved(renamer, asked, "promise")
    assert log_of(carol, asked)[-1]["by"]["handle"] == "mid_move"


def test_a_promise_opened_while_its_opener_renames_is_refused(
    people: dict[str, Person], stream: Callable[[], list[dict[str, Any]]]
) -> None:
    carol, renamer = people["carol"], people["renamer"]
    fired: list[bool] = []

    def rename_first(**_: Any) -> None:
        if not fired:
            fired.append(True)
            _rename(renamer, "renamed_meanwhile")

    table.dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", rename_first)
    try:
        reply = renamer("POST", "/v1/me/promises", body=opening_body(carol))
    finally:
        table.dynamodb().meta.events.unregister("before-call.dynamodb.TransactWriteItems", rename_first)
    assert reply.status == 409, "it would have shown the handle renamer just gave up"
    assert carol("GET", "/v1/me/promises").body["items"] == []
    opened = open_promise(renamer, carol)
    assert opened["customer"]["handle"] == "renamed_meanwhile"
