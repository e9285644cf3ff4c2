"""The notifier: new inbox items, from the table's stream, pushed to their person's devices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider import cold_start
from botocore.exceptions import ClientError

from functions.notifier.app import lambda_handler as notifier_handler
from infra.local.template import load
from shared.store import devices
from shared.store.table import dynamodb, table_name
from tests.handler import test_promises
from tests.handler.test_promises import Person, move, open_promise
from tests.support.aws import Aws, LambdaContext

# The people of test_promises, by reference.
make_person, ana, bea = test_promises.make_person, test_promises.ana, test_promises.bea

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-11-27T00:00:00.000"


def _register(person: Person, token: str) -> None:
    reply = person.profile("POST", "/v1/me/devices", body={"platform": "ios", "pushToken": token})
    assert reply.status == 201, reply.body


def _new_items(aws: Aws, entity: str) -> list[dict[str, Any]]:
    """Raw (typed) items of one entity, as a stream's NewImage carries them."""
    items = dynamodb().scan(TableName=table_name())["Items"]  # tests only: the whole small table
    return [i for i in items if i.get("entity", {}).get("S") == entity]


def _record(image: dict[str, Any], name: str = "INSERT", seq: int = 1) -> dict[str, Any]:
    return {
        "eventID": f"e{seq}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image,
            "SequenceNumber": str(seq),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }


def _invoke(records: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = notifier_handler({"Records": records}, LambdaContext())
    return result


def test_a_request_reaches_the_performers_devices(
    aws: Aws, ana: Person, bea: Person, pushes: list[dict[str, Any]]
) -> None:
    _register(bea, "bea-ios-token-000000000001")
    _register(bea, "bea-ios-token-000000000002")
    _register(ana, "ana-ios-token-000000000001")
    pid = open_promise(ana, bea)["promiseId"]
    (item,) = _new_items(aws, "notification")
    assert _invoke([_record(item)]) == {"batchItemFailures": []}
    assert len(pushes) == 2, "both of Bea's devices, none of Ana's"
    for sent in pushes:
        assert sent["message"]["aps"]["alert"]["title"] == "You have a request"
        assert sent["message"]["data"] == {"promiseId": pid, "state": "requested", "act": "request"}


def test_only_new_notifications_are_pushed(
    aws: Aws, ana: Person, bea: Person, pushes: list[dict[str, Any]]
) -> None:
    _register(bea, "bea-ios-token-000000000001")
    pid = open_promise(ana, bea)["promiseId"]
    assert move(bea, pid, "promise").status == 200
    (notification,) = _new_items(aws, "notification")
    (membership, *_) = _new_items(aws, "promise-membership")
    records = [
        _record(membership, seq=1),  # not a notification: the source's filter would drop it
        _record(notification, name="MODIFY", seq=2),  # a change, not a new item
        _record(notification, name="REMOVE", seq=3),  # TTL expiry
    ]
    assert _invoke(records) == {"batchItemFailures": []}
    assert pushes == []


def test_a_record_whose_devices_cannot_be_read_is_retried_alone(
    aws: Aws,
    ana: Person,
    bea: Person,
    pushes: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _register(ana, "ana-ios-token-000000000001")
    _register(bea, "bea-ios-token-000000000001")
    open_promise(ana, bea)  # Bea is told
    open_promise(bea, ana)  # Ana is told
    items = {i["PK"]["S"].removeprefix("USER#"): i for i in _new_items(aws, "notification")}
    real = devices.push_targets

    def flaky(user_id: str) -> list[dict[str, Any]]:
        if user_id == bea.sub:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "Query")
        return real(user_id)

    monkeypatch.setattr(devices, "push_targets", flaky)
    response = _invoke([_record(items[bea.sub], seq=1), _record(items[ana.sub], seq=2)])
    assert response == {"batchItemFailures": [{"itemIdentifier": "1"}]}, "only Bea's record is retried"
    assert [p["message"]["data"]["promiseId"] for p in pushes] == [
        items[ana.sub]["data"]["M"]["promiseId"]["S"]
    ]


def test_the_template_feeds_the_notifier_new_notifications_only() -> None:
    """The event source filter is what keeps every other table write away from this function."""
    template = load()
    (props,) = [
        m["Properties"]
        for m in template.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": "NotifierFunction"}
    ]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["AppTable", "StreamArn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["NotifierFailures", "Arn"]
    }
    (pattern,) = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["notification"]}}}}


def test_preferences_hold_back_pushes_but_never_the_inbox(
    aws: Aws, ana: Person, bea: Person, pushes: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(bea, "bea-ios-token-000000000001")
    off = bea.profile(
        "PATCH",
        "/v1/me",
        body={"notificationPrefs": {"promiseUpdates": False}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert off.status == 200, off.body
    open_promise(ana, bea)
    (item,) = _new_items(aws, "notification")
    assert _invoke([_record(item)]) == {"batchItemFailures": []}
    assert pushes == [], "promise updates are off"

    back_on = {"promiseUpdates": True, "quietHoursStart": "22:00", "quietHoursEnd": "07:00"}
    reply = bea.profile(
        "PATCH",
        "/v1/me",
        body={"notificationPrefs": back_on},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert reply.status == 200, reply.body
    # Bea's profile is in Europe/Lisbon (UTC+0 in November).
    monkeypatch.setattr("functions.notifier.app.utc_now", lambda: datetime(2026, 11, 27, 23, 30, tzinfo=UTC))
    assert _invoke([_record(item)]) == {"batchItemFailures": []}
    assert pushes == [], "quiet hours"
    monkeypatch.setattr("functions.notifier.app.utc_now", lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    assert _invoke([_record(item)]) == {"batchItemFailures": []}
    assert len(pushes) == 1


def test_the_notifier_counts_one_cold_start_per_process(
    aws: Aws, ana: Person, bea: Person, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    open_promise(ana, bea)
    (item,) = _new_items(aws, "notification")
    capsys.readouterr()
    monkeypatch.setattr(cold_start, "is_cold_start", True)

    assert _invoke([_record(item, seq=1)]) == {"batchItemFailures": []}
    assert _invoke([_record(item, seq=2)]) == {"batchItemFailures": []}

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert len([b for b in blobs if "_aws" in b and "ColdStart" in b]) == 1


def test_a_reminder_is_held_by_quiet_hours_and_by_reminders_off_but_reaches_the_inbox(
    aws: Aws, ana: Person, pushes: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.handler.test_dispatcher import SET_AT, remind, reminders_in_inbox, run

    monkeypatch.setattr("functions.plan.app.utc_now", lambda: SET_AT)
    _register(ana, "ana-ios-token-000000000001")
    quiet = {"quietHoursStart": "08:30", "quietHoursEnd": "09:30"}
    reply = ana.profile(
        "PATCH",
        "/v1/me",
        body={"notificationPrefs": quiet},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert reply.status == 200, reply.body
    remind(ana)  # every day at 09:00 in Lisbon, inside her quiet hours
    assert run("2026-03-21T09:00:10Z")["fired"] == 1
    (item,) = _new_items(aws, "notification")
    monkeypatch.setattr("functions.notifier.app.utc_now", lambda: datetime(2026, 3, 21, 9, 0, 10, tzinfo=UTC))
    assert _invoke([_record(item)]) == {"batchItemFailures": []}
    assert pushes == [], "quiet hours"

    reply = ana.profile(
        "PATCH",
        "/v1/me",
        body={"notificationPrefs": {"quietHoursStart": None, "quietHoursEnd": None, "reminders": False}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert reply.status == 200, reply.body
    assert _invoke([_record(item, seq=2)]) == {"batchItemFailures": []}
    assert pushes == [], "reminders are off"
    assert len(reminders_in_inbox(ana)) == 1, "the inbox has it all the same"

    reply = ana.profile(
        "PATCH",
        "/v1/me",
        body={"notificationPrefs": {"reminders": True}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert reply.status == 200, reply.body
    assert _invoke([_record(item, seq=3)]) == {"batchItemFailures": []}
    (sent,) = pushes
    assert sent["message"]["aps"]["alert"] == {"title": "Time for your learning plan", "body": "Listening"}
