"""The dispatcher (issue 10): due reminders fire once each, on time, in the person's own time,
into their inbox; overlapping runs, an outage, a failure and an erasure."""

from __future__ import annotations

import json
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
    """What a run did, its lag aside (`run_with_lag` and the lag tests look at that)."""
    result = run_with_lag(time)
    del result["lagSeconds"]
    return result


def run_with_lag(time: str) -> dict[str, Any]:
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
    assert run("2026-03-21T09:00:30Z") == {"fired": 1, "held": 0, "skipped": 0, "failed": 0}
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


def test_a_run_reports_how_late_its_latest_occurrence_fired(
    aws: Aws, clock: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lag alarm's metric, sent by every run (0 when nothing was due)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    ana = new_person(aws, "ana")
    remind(ana)
    capsys.readouterr()
    assert run_with_lag("2026-03-21T08:59:00Z")["lagSeconds"] == 0.0
    assert run_with_lag("2026-03-21T09:00:30Z")["lagSeconds"] == 30.0
    # Down from the 22nd's occurrence to the 25th at 10:00: the lag says so.
    assert run_with_lag("2026-03-25T10:00:00Z")["lagSeconds"] == (3 * 24 + 1) * 3600.0
    lags = [
        record["ReminderLagSeconds"]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "ReminderLagSeconds" in (record := json.loads(line))
    ]
    # Powertools writes each metric's values as a list (EMF): one value a run.
    assert lags == [[0.0], [30.0], [(3 * 24 + 1) * 3600.0]]


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
    assert run("2026-03-21T09:00:10Z") == {"fired": 1, "held": 0, "skipped": 0, "failed": 1}
    assert run("2026-03-21T09:01:10Z") == {"fired": 1, "held": 0, "skipped": 0, "failed": 0}
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


# --- onlyIfNotDone, and what the push says ----------------------------------------------------


class Clock:
    """The plan function's clock, set by each step of a test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = SET_AT
        monkeypatch.setattr("functions.plan.app.utc_now", lambda: self.now)

    def at(self, text: str) -> None:
        self.now = datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def moving_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def plan_with(person: Person, *items: tuple[str, str]) -> tuple[str, list[str]]:
    plan = make(person, {"title": "Listening", "items": [{"kind": k, "title": t} for k, t in items]})
    return str(plan["planId"]), [str(i["itemId"]) for i in plan["items"]]


def set_reminder(person: Person, path: str, **fields: Any) -> None:
    body = {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", **fields}
    reply = plan_call(person, "PUT", f"{path}/reminder", body=body)
    assert reply.status == 201, reply.body


def patch_item(person: Person, plan_id: str, item_id: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = plan_call(person, "PATCH", f"/v1/me/plans/{plan_id}/items/{item_id}", body=body)
    assert reply.status == 200, reply.body
    patched: dict[str, Any] = reply.body
    return patched


def test_a_done_item_holds_its_only_if_not_done_reminder_but_not_a_plain_one(
    aws: Aws, moving_clock: Clock
) -> None:
    ana = new_person(aws, "ana")
    plan_id, (reading, course) = plan_with(ana, ("reading", "The Fifth Discipline"), ("course", "Coaching"))
    set_reminder(ana, f"/v1/me/plans/{plan_id}/items/{reading}", onlyIfNotDone=True)
    set_reminder(ana, f"/v1/me/plans/{plan_id}/items/{course}")
    assert run("2026-03-21T09:00:10Z")["fired"] == 2
    moving_clock.at("2026-03-21T12:00:00Z")
    patch_item(ana, plan_id, reading, {"status": "done"})
    patch_item(ana, plan_id, course, {"status": "done"})
    assert run("2026-03-22T09:00:10Z") == {"fired": 1, "held": 1, "skipped": 0, "failed": 0}
    assert [r["data"].get("itemId") for r in reminders_in_inbox(ana)].count(reading) == 1
    item = next(i for i in aws.all_items() if i["SK"] == f"PLAN#{plan_id}#ITEM#{reading}#REMINDER")
    assert item["nextFireAt"] == "2026-03-23T09:00:00Z", "a held occurrence passes, it is not retried"
    moving_clock.at("2026-03-22T12:00:00Z")
    patch_item(ana, plan_id, reading, {"status": "doing"})
    assert run("2026-03-23T09:00:10Z") == {"fired": 2, "held": 0, "skipped": 0, "failed": 0}


def test_a_practice_done_that_local_day_holds_the_reminder_that_day_only(
    aws: Aws, moving_clock: Clock
) -> None:
    ana = new_person(aws, "ana")  # Lisbon: UTC+0 until 29 March, then UTC+1
    plan_id, (daily,) = plan_with(ana, ("practice", "Ask what matters to them"))
    set_reminder(ana, f"/v1/me/plans/{plan_id}/items/{daily}", onlyIfNotDone=True)
    moving_clock.at("2026-03-21T07:30:00Z")  # practised before the 09:00 reminder
    patch_item(ana, plan_id, daily, {"status": "done"})
    assert run("2026-03-21T09:00:10Z")["held"] == 1
    moving_clock.at("2026-03-21T23:30:00Z")  # 23:30 in Lisbon: still the 21st there
    patch_item(ana, plan_id, daily, {"status": "done"})
    assert run("2026-03-22T09:00:10Z")["fired"] == 1, "a new day: done yesterday does not count"
    # Summer time: 00:30 on the 30th in Lisbon is 23:30 UTC on the 29th, and counts for the 30th.
    for day in range(23, 30):
        assert run(f"2026-03-{day}T09:00:10Z")["fired"] == 1
    moving_clock.at("2026-03-29T23:30:00Z")
    patch_item(ana, plan_id, daily, {"status": "done"})
    assert run("2026-03-30T08:00:10Z") == {"fired": 0, "held": 1, "skipped": 0, "failed": 0}


def test_a_plan_reminder_is_held_when_any_item_was_done_that_day(aws: Aws, moving_clock: Clock) -> None:
    ana = new_person(aws, "ana")
    plan_id, (practice, reading) = plan_with(ana, ("practice", "Listen first"), ("reading", "Flores"))
    set_reminder(ana, f"/v1/me/plans/{plan_id}", onlyIfNotDone=True)
    moving_clock.at("2026-03-21T08:00:00Z")
    patch_item(ana, plan_id, reading, {"status": "done"})
    assert run("2026-03-21T09:00:10Z")["held"] == 1
    assert run("2026-03-22T09:00:10Z")["fired"] == 1
    moving_clock.at("2026-03-23T08:00:00Z")
    patch_item(ana, plan_id, practice, {"status": "done"})
    assert run("2026-03-23T09:00:10Z")["held"] == 1


def test_a_reminder_set_after_the_item_was_done_knows_it(aws: Aws, moving_clock: Clock) -> None:
    ana = new_person(aws, "ana")
    plan_id, (reading, practice) = plan_with(ana, ("reading", "Flores"), ("practice", "Listen"))
    moving_clock.at("2026-03-21T08:00:00Z")
    patch_item(ana, plan_id, reading, {"status": "skipped"})
    patch_item(ana, plan_id, practice, {"status": "done"})
    set_reminder(ana, f"/v1/me/plans/{plan_id}/items/{reading}", onlyIfNotDone=True)
    set_reminder(ana, f"/v1/me/plans/{plan_id}/items/{practice}", onlyIfNotDone=True)
    set_reminder(ana, f"/v1/me/plans/{plan_id}", onlyIfNotDone=True)
    assert run("2026-03-21T09:00:10Z") == {"fired": 0, "held": 3, "skipped": 0, "failed": 0}
    assert run("2026-03-22T09:00:10Z") == {"fired": 2, "held": 1, "skipped": 0, "failed": 0}


def test_the_push_says_the_title_the_plan_or_item_has_now(aws: Aws, moving_clock: Clock) -> None:
    ana = new_person(aws, "ana")
    plan_id, (reading,) = plan_with(ana, ("reading", "Old title"))
    set_reminder(ana, f"/v1/me/plans/{plan_id}")
    set_reminder(ana, f"/v1/me/plans/{plan_id}/items/{reading}")
    patch_item(ana, plan_id, reading, {"title": "Understanding Computers and Cognition"})
    renamed = plan_call(ana, "PATCH", f"/v1/me/plans/{plan_id}", body={"title": "Listening, for real"})
    assert renamed.status == 200, renamed.body
    assert run("2026-03-21T09:00:10Z")["fired"] == 2
    assert sorted(r["body"] for r in reminders_in_inbox(ana)) == [
        "Listening, for real",
        "Understanding Computers and Cognition",
    ]
    again = plan_call(
        ana, "PUT", f"/v1/me/plans/{plan_id}/reminder", body={"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"}
    )
    assert again.status == 200, again.body
    assert not {"title", "settled", "lastDoneAt", "planId"} & set(again.body), "copies are not shown"


def test_a_person_erased_between_the_read_and_the_write_gets_nothing(aws: Aws, clock: None) -> None:
    from shared.store.accounts import mark_erased

    ana = new_person(aws, "ana")
    remind(ana)

    def erase_first(**_: Any) -> None:
        mark_erased(ana.sub, SET_AT)

    table.dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", erase_first)
    try:
        outcome = run("2026-03-21T09:00:10Z")
    finally:
        table.dynamodb().meta.events.unregister("before-call.dynamodb.TransactWriteItems", erase_first)
    assert outcome == {"fired": 0, "held": 0, "skipped": 1, "failed": 0}
    assert reminders_in_inbox(ana) == []
