"""The dispatcher (issue 10): due reminders fire once each, on time, in the person's own time,
into their inbox; overlapping runs, an outage, a failure and an erasure."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.dispatcher.app import lambda_handler as dispatcher_handler
from shared.store import table
from shared.store.notifications import list_notifications
from tests.handler.test_plans import make, plan_call
from tests.handler.test_promises import Person, new_person
from tests.support.aws import Aws, LambdaContext, fail_next

SET_AT = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # Lisbon is on UTC+0 until 29 March


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("functions.plan.app.utc_now", lambda: SET_AT)


def run(time: str) -> dict[str, Any]:
    result: dict[str, Any] = dispatcher_handler(
        {"time": time, "detail-type": "Scheduled Event"}, LambdaContext()
    )
    return result


def remind(person: Person, rrule: str = "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", **fields: Any) -> str:
    plan_id = str(make(person, {"title": "Listening"})["planId"])
    reply = plan_call(person, "PUT", f"/v1/me/plans/{plan_id}/reminder", body={"rrule": rrule, **fields})
    assert reply.status == 201, reply.body
    return plan_id


def reminders_in_inbox(person: Person) -> list[dict[str, Any]]:
    items, _ = list_notifications(person.sub, 50, None)
    return [i for i in items if i["kind"] == "reminder"]


def next_fire(person: Person, plan_id: str, aws: Aws) -> str | None:
    (item,) = [
        i
        for i in aws.all_items()
        if i["PK"] == f"USER#{person.sub}" and i["SK"] == f"PLAN#{plan_id}#REMINDER"
    ]
    value = item.get("nextFireAt")
    return str(value) if value else None


def test_a_reminder_fires_once_at_its_time_and_moves_to_the_next(aws: Aws, clock: None) -> None:
    ana = new_person(aws, "ana")
    plan_id = remind(ana)
    assert run("2026-03-21T08:59:00Z")["fired"] == 0
    assert reminders_in_inbox(ana) == []
    assert run("2026-03-21T09:00:30Z") == {"fired": 1, "skipped": 0, "failed": 0}
    (fired,) = reminders_in_inbox(ana)
    assert fired["data"] == {"planId": plan_id, "occurrence": "2026-03-21T09:00:00+00:00"}
    assert (fired["title"], fired["body"]) == ("Time for your learning plan", "Listening"), "the plan's title"
    assert next_fire(ana, plan_id, aws) == "2026-03-22T09:00:00Z"
    assert run("2026-03-21T09:01:30Z")["fired"] == 0, "once per occurrence"
    assert len(reminders_in_inbox(ana)) == 1


def test_nine_stays_nine_in_lisbon_across_the_spring_change(aws: Aws, clock: None) -> None:
    ana = new_person(aws, "ana")
    plan_id = remind(ana)
    for day in ("21", "22", "23", "24", "25", "26", "27", "28"):
        assert run(f"2026-03-{day}T09:00:10Z")["fired"] == 1
    assert next_fire(ana, plan_id, aws) == "2026-03-29T08:00:00Z", "09:00 Lisbon summer time"
    assert run("2026-03-29T08:00:10Z")["fired"] == 1
    assert next_fire(ana, plan_id, aws) == "2026-03-30T08:00:00Z"


def test_after_an_outage_a_reminder_fires_once_for_the_latest_missed_occurrence(
    aws: Aws, clock: None
) -> None:
    ana = new_person(aws, "ana")
    plan_id = remind(ana)
    assert run("2026-03-25T10:00:00Z")["fired"] == 1
    assert len(reminders_in_inbox(ana)) == 1
    assert next_fire(ana, plan_id, aws) == "2026-03-26T09:00:00Z"


def test_overlapping_runs_fire_each_occurrence_once(aws: Aws, clock: None) -> None:
    ana = new_person(aws, "ana")
    remind(ana)
    nested: list[dict[str, Any]] = []

    def another_run_first(**_: Any) -> None:
        if not nested:
            nested.append({})
            nested[0] = run("2026-03-21T09:00:20Z")

    table.dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", another_run_first)
    try:
        outer = run("2026-03-21T09:00:10Z")
    finally:
        table.dynamodb().meta.events.unregister("before-call.dynamodb.TransactWriteItems", another_run_first)
    assert (nested[0]["fired"], outer["fired"], outer["skipped"]) == (1, 0, 1)
    assert len(reminders_in_inbox(ana)) == 1


def test_one_failing_reminder_does_not_stop_the_others_and_is_retried(aws: Aws, clock: None) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    remind(ana)
    remind(bea)
    fail_next(table.dynamodb(), "TransactWriteItems", "InternalServerError")
    assert run("2026-03-21T09:00:10Z") == {"fired": 1, "skipped": 0, "failed": 1}
    assert run("2026-03-21T09:01:10Z") == {"fired": 1, "skipped": 0, "failed": 0}
    assert (len(reminders_in_inbox(ana)), len(reminders_in_inbox(bea))) == (1, 1)


def test_paused_reminders_and_erased_accounts_fire_nothing(aws: Aws, clock: None) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    remind(ana, paused=True)
    remind(bea)
    assert bea.profile("DELETE", "/v1/me").status == 204
    assert run("2026-03-21T09:00:10Z")["fired"] == 0
    assert reminders_in_inbox(ana) == []
    assert not [i for i in aws.data_items() if bea.sub in str(i)]


def test_a_run_reads_only_what_is_due(aws: Aws, clock: None) -> None:
    people = [new_person(aws, f"p{n}") for n in range(5)]
    for n, person in enumerate(people):
        # Two due on Saturday the 21st at 09:00; three on the Sunday after.
        remind(person, f"FREQ=WEEKLY;BYDAY={'SA' if n < 2 else 'SU'};BYHOUR=9;BYMINUTE=0")
    aws.requests.clear()
    assert run("2026-03-21T09:00:10Z")["fired"] == 2
    assert aws.requests.counts == Counter({"Query": 16, "TransactWriteItems": 2}), "one Query per shard"
