"""Reminders of plans and items (issue 10): an RFC 5545 rule in the person's own time, with the
next occurrences to show, in the due index while it will fire; floating ones follow the
profile's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.handle_follower.app import lambda_handler as follower_handler
from shared.logic.reminders import follow_time_zone
from tests.handler.test_plans import make, plan_call
from tests.handler.test_promises import Person, new_person
from tests.support.aws import REGION, TABLE_NAME, Aws, LambdaContext

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # a week before Lisbon's spring change


@pytest.fixture
def ana(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Person:
    monkeypatch.setattr("functions.plan.app.utc_now", lambda: NOW)
    return new_person(aws, "ana")  # her profile is in Europe/Lisbon


def _due_index(aws: Aws) -> list[dict[str, Any]]:
    ddb = boto3.client("dynamodb", region_name=REGION)
    items: list[dict[str, Any]] = []
    for shard in range(16):
        found = ddb.query(
            TableName=TABLE_NAME,
            IndexName="RemindersDue",
            KeyConditionExpression="dueShard = :s",
            ExpressionAttributeValues={":s": {"S": f"DUE#{shard:02d}"}},
        )
        items += found["Items"]
    return items


def test_a_floating_daily_reminder_fires_at_nine_lisbon_time_across_the_change(aws: Aws, ana: Person) -> None:
    pid = make(ana, {"templateId": "expert-to-team-lead"})["planId"]
    reply = plan_call(
        ana, "PUT", f"/v1/me/plans/{pid}/reminder", body={"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"}
    )
    assert reply.status == 201, reply.body
    body = reply.body
    assert (body["mode"], body["timeZone"], body["paused"], body["onlyIfNotDone"]) == (
        "floating",
        "Europe/Lisbon",
        False,
        False,
    )
    assert body["rrule"] == "DTSTART:20260320T120000\nRRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0"
    assert body["nextFireAt"] == "2026-03-21T09:00:00Z"
    assert reply.headers["ETag"] == '"v1"'
    assert body["upcoming"] == [
        "2026-03-21T09:00:00+00:00",
        "2026-03-22T09:00:00+00:00",
        "2026-03-23T09:00:00+00:00",
        "2026-03-24T09:00:00+00:00",
        "2026-03-25T09:00:00+00:00",
    ]
    (due,) = _due_index(aws)
    assert due["nextFireAt"]["S"] == "2026-03-21T09:00:00Z"
    assert due["dueAt"]["S"].startswith("2026-03-21T09:00:00Z#")


def test_a_pinned_reminder_keeps_its_zone_and_needs_one(aws: Aws, ana: Person) -> None:
    plan = make(ana, {"title": "T", "items": [{"kind": "practice", "title": "Each day, listen"}]})
    item = plan["items"][0]["itemId"]
    path = f"/v1/me/plans/{plan['planId']}/items/{item}/reminder"
    missing = plan_call(ana, "PUT", path, body={"rrule": "FREQ=DAILY;BYHOUR=9", "mode": "pinned"})
    assert missing.status == 422
    assert [e["field"] for e in missing.problem["errors"]] == ["timeZone"]
    pinned = plan_call(
        ana,
        "PUT",
        path,
        body={"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "mode": "pinned", "timeZone": "Asia/Tokyo"},
    )
    assert pinned.status == 201, pinned.body
    assert pinned.body["nextFireAt"] == "2026-03-21T00:00:00Z", "09:00 in Tokyo"
    # The profile moves to New York: a pinned reminder does not.
    assert ana.profile("PATCH", "/v1/me", body={"timeZone": "America/New_York"}).status == 200
    assert follow_time_zone(ana.sub, NOW) == 0


@pytest.mark.parametrize(
    ("rrule", "code"),
    [
        ("FREQ=MINUTELY", "rrule_frequency_unsupported"),
        (
            "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,30",
            "rrule_too_frequent",
        ),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "rrule_never_fires"),
        ("FREQ=DAILY;BYSETPOS=1", "rrule_bysetpos_unsupported"),
        ("nonsense", "rrule_malformed"),
    ],
)
def test_rules_the_product_does_not_take_are_422_naming_rrule(
    aws: Aws, ana: Person, rrule: str, code: str
) -> None:
    pid = make(ana, {"title": "T"})["planId"]
    reply = plan_call(ana, "PUT", f"/v1/me/plans/{pid}/reminder", body={"rrule": rrule})
    assert reply.status == 422, reply.body
    assert [(e["field"], e["code"]) for e in reply.problem["errors"]] == [("rrule", code)]
    assert _due_index(aws) == []


def test_replace_honours_if_match_pause_leaves_the_due_index_and_delete_removes(
    aws: Aws, ana: Person
) -> None:
    pid = make(ana, {"title": "T"})["planId"]
    path = f"/v1/me/plans/{pid}/reminder"
    assert (
        plan_call(ana, "PUT", path, body={"rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"}).status == 201
    )
    stale = plan_call(
        ana, "PUT", path, body={"rrule": "FREQ=DAILY", "paused": True}, headers={"If-Match": '"v9"'}
    )
    assert stale.status == 412
    paused = plan_call(
        ana,
        "PUT",
        path,
        body={"rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0", "paused": True},
        headers={"If-Match": '"v1"'},
    )
    assert paused.status == 200, paused.body
    assert (paused.body.get("nextFireAt"), paused.body["upcoming"], paused.headers["ETag"]) == (
        None,
        [],
        '"v2"',
    )
    assert _due_index(aws) == [], "a paused reminder is out of the due index"
    assert plan_call(ana, "DELETE", path).status == 204
    assert plan_call(ana, "DELETE", path).status == 404


def test_no_reminder_for_a_plan_or_item_that_is_not_mine(aws: Aws, ana: Person) -> None:
    bea = new_person(aws, "bea")
    plan = make(ana, {"title": "T", "items": [{"kind": "skill", "title": "S"}]})
    body = {"rrule": "FREQ=DAILY;BYHOUR=9"}
    assert plan_call(bea, "PUT", f"/v1/me/plans/{plan['planId']}/reminder", body=body).status == 404
    path = f"/v1/me/plans/{plan['planId']}/items/01JAAAAAAAAAAAAAAAAAAAAAAA/reminder"
    assert plan_call(ana, "PUT", path, body=body).status == 404
    assert _due_index(aws) == []


def test_removing_an_item_removes_its_reminder(aws: Aws, ana: Person) -> None:
    plan = make(ana, {"title": "T", "items": [{"kind": "practice", "title": "Each day, ask"}]})
    item = plan["items"][0]["itemId"]
    reminder = f"/v1/me/plans/{plan['planId']}/items/{item}/reminder"
    assert plan_call(ana, "PUT", reminder, body={"rrule": "FREQ=DAILY;BYHOUR=20;BYMINUTE=0"}).status == 201
    assert plan_call(ana, "DELETE", f"/v1/me/plans/{plan['planId']}/items/{item}").status == 204
    assert _due_index(aws) == []
    assert not [i for i in aws.all_items() if str(i["SK"]).endswith("#REMINDER")]


def test_a_floating_reminder_follows_a_person_who_moves_from_lisbon_to_tokyo(
    aws: Aws, ana: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # moto's streams in-process
    pid = make(ana, {"title": "T"})["planId"]
    set_ = plan_call(
        ana, "PUT", f"/v1/me/plans/{pid}/reminder", body={"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"}
    )
    assert set_.body["nextFireAt"] == "2026-03-21T09:00:00Z"
    before = aws.all_items()
    assert ana.profile("PATCH", "/v1/me", body={"timeZone": "Asia/Tokyo"}).status == 200
    (profile,) = [i for i in aws.all_items() if i["SK"] == "PROFILE" and i["PK"] == f"USER#{ana.sub}"]
    (old,) = [i for i in before if i["SK"] == "PROFILE" and i["PK"] == f"USER#{ana.sub}"]
    record = _modify_record(aws, f"USER#{ana.sub}", "PROFILE")
    result = follower_handler({"Records": [record]}, LambdaContext())
    assert result == {"batchItemFailures": []}
    assert (old["timeZone"], profile["timeZone"]) == ("Europe/Lisbon", "Asia/Tokyo")
    (due,) = _due_index(aws)
    assert due["timeZone"]["S"] == "Asia/Tokyo"
    # The follower ran at the real now; from there, the next 09:00 is Tokyo's (00:00Z).
    assert due["nextFireAt"]["S"].endswith("T00:00:00Z")


def _modify_record(aws: Aws, pk: str, sk: str) -> dict[str, Any]:
    """The stream's last MODIFY record of one item, as moto's stream holds it (in-process)."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    arn = ddb.describe_table(TableName=TABLE_NAME)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )
    records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    keys = {"PK": {"S": pk}, "SK": {"S": sk}}
    mine = [r for r in records if r["eventName"] == "MODIFY" and r["dynamodb"]["Keys"] == keys]
    record: dict[str, Any] = mine[-1]
    return record
