"""Practice days and the journey's plan figures (issue 10, "Practice" and the journey).

A practice counts for the day it was done in the person's own time zone (23:30 in Lisbon counts
for that Lisbon day); items done and practice days are counted in the person's own months; the
streaks read one item whatever the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from shared.store import table
from tests.handler.test_plans import make, plan_call
from tests.handler.test_promises import Person, new_person
from tests.support.aws import Aws


class Clock:
    """The time the plan and promise functions see as now."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime.fromisoformat("2026-03-01T12:00:00+00:00")
        monkeypatch.setattr("functions.plan.app.utc_now", lambda: self.now)
        monkeypatch.setattr("functions.promise.app.utc_now", lambda: self.now)

    def at(self, text: str) -> None:
        self.now = datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def plan_with(person: Person, *items: tuple[str, str]) -> tuple[str, list[str]]:
    plan = make(person, {"title": "Leading", "items": [{"kind": k, "title": t} for k, t in items]})
    return str(plan["planId"]), [str(i["itemId"]) for i in plan["items"]]


def done(person: Person, plan_id: str, item_id: str, clock: Clock, at: str) -> dict[str, Any]:
    clock.at(at)
    reply = plan_call(person, "PATCH", f"/v1/me/plans/{plan_id}/items/{item_id}", body={"status": "done"})
    assert reply.status == 200, reply.body
    patched: dict[str, Any] = reply.body
    return patched


def journey(person: Person, clock: Clock, at: str, **query: str) -> dict[str, Any]:
    clock.at(at)
    reply = person("GET", "/v1/me/journey", query=query)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def plan_months(body: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {m["month"]: m["plan"] for m in body["months"] if m["plan"] != {"itemsDone": 0, "practiceDays": 0}}


def test_a_practice_counts_for_the_local_day_and_month_not_the_utc_one(aws: Aws, clock: Clock) -> None:
    ana = new_person(aws, "ana")  # Europe/Lisbon: UTC+1 from 29 March
    plan_id, (practice, reading) = plan_with(
        ana, ("practice", "Ask what they care about"), ("reading", "Flores")
    )
    # 23:30 on 31 March in Lisbon (22:30 UTC): March. 00:30 on 1 April in Lisbon is 23:30 UTC on
    # 31 March: April, and the next day of the streak.
    first = done(ana, plan_id, practice, clock, "2026-03-31T22:30:00Z")
    assert first["lastDoneAt"] == "2026-03-31T22:30:00Z"
    done(ana, plan_id, practice, clock, "2026-03-31T23:30:00Z")
    done(ana, plan_id, practice, clock, "2026-04-01T10:00:00Z")  # again that day: counts once
    done(ana, plan_id, reading, clock, "2026-04-01T11:00:00Z")
    body = journey(ana, clock, "2026-04-02T20:00:00Z", **{"from": "2026-03", "to": "2026-04"})
    assert plan_months(body) == {
        "2026-03": {"itemsDone": 0, "practiceDays": 1},
        "2026-04": {"itemsDone": 1, "practiceDays": 1},
    }
    assert body["practice"] == {
        "currentStreak": 2,
        "longestStreak": 2,
        "lastPracticeDay": "2026-04-01",
        "timeZone": "Europe/Lisbon",
    }
    # The 2nd passes without practice: the run holds through it, and is gone on the 3rd.
    later = journey(ana, clock, "2026-04-02T22:59:00Z")["practice"]  # 23:59 on the 2nd in Lisbon
    assert (later["currentStreak"], later["longestStreak"]) == (2, 2)
    gone = journey(ana, clock, "2026-04-02T23:00:00Z")["practice"]  # 00:00 on the 3rd in Lisbon
    assert (gone["currentStreak"], gone["longestStreak"]) == (0, 2)


def test_an_item_counts_as_done_once_not_at_every_change(aws: Aws, clock: Clock) -> None:
    ana = new_person(aws, "ana")
    plan_id, (reading,) = plan_with(ana, ("reading", "Flores"))
    done(ana, plan_id, reading, clock, "2026-03-10T10:00:00Z")
    clock.at("2026-03-10T11:00:00Z")
    retitled = plan_call(
        ana, "PATCH", f"/v1/me/plans/{plan_id}/items/{reading}", body={"status": "done", "progress": 100}
    )
    assert retitled.status == 200, retitled.body
    assert retitled.body["lastDoneAt"] == "2026-03-10T10:00:00Z", "already done: not done again"
    body = journey(ana, clock, "2026-03-11T10:00:00Z", **{"from": "2026-03", "to": "2026-03"})
    assert plan_months(body) == {"2026-03": {"itemsDone": 1, "practiceDays": 0}}
    assert body["practice"]["longestStreak"] == 0, "only practices make streaks"


def test_a_practice_on_a_day_before_the_last_joins_the_runs(aws: Aws, clock: Clock) -> None:
    ana = new_person(aws, "ana")
    reply = ana.profile("PATCH", "/v1/me", body={"timeZone": "Asia/Tokyo"})
    assert reply.status == 200, reply.body
    plan_id, (practice,) = plan_with(ana, ("practice", "Listen first"))
    done(ana, plan_id, practice, clock, "2026-05-10T01:00:00Z")  # 10 May in Tokyo
    done(ana, plan_id, practice, clock, "2026-05-11T16:00:00Z")  # 12 May in Tokyo
    assert journey(ana, clock, "2026-05-12T03:00:00Z")["practice"]["longestStreak"] == 1
    # She flies to Honolulu (UTC-10): 02:00 UTC on the 12th is still the 11th there.
    reply = ana.profile("PATCH", "/v1/me", body={"timeZone": "Pacific/Honolulu"})
    assert reply.status == 200, reply.body
    done(ana, plan_id, practice, clock, "2026-05-12T02:00:00Z")
    practice_now = journey(ana, clock, "2026-05-12T03:00:00Z")["practice"]
    assert practice_now == {
        "currentStreak": 3,  # 10, 11, 12 May; the 12th is tomorrow in Honolulu, still the run's end
        "longestStreak": 3,
        "lastPracticeDay": "2026-05-12",
        "timeZone": "Pacific/Honolulu",
    }


def test_two_practices_at_once_both_count(aws: Aws, clock: Clock) -> None:
    ana = new_person(aws, "ana")
    plan_id, (one, two) = plan_with(ana, ("practice", "Listen"), ("practice", "Offer"))
    done(ana, plan_id, one, clock, "2026-03-09T10:00:00Z")
    racing: list[int] = []

    def another_practice_first(**_: Any) -> None:
        if not racing:
            racing.append(0)
            clock.at("2026-03-10T10:00:00Z")
            reply = plan_call(ana, "PATCH", f"/v1/me/plans/{plan_id}/items/{two}", body={"status": "done"})
            racing[0] = reply.status

    table.dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", another_practice_first)
    try:
        done(ana, plan_id, one, clock, "2026-03-10T10:00:00Z")
    finally:
        table.dynamodb().meta.events.unregister(
            "before-call.dynamodb.TransactWriteItems", another_practice_first
        )
    assert racing == [200]
    body = journey(ana, clock, "2026-03-10T12:00:00Z", **{"from": "2026-03", "to": "2026-03"})
    assert body["practice"]["currentStreak"] == 2
    assert plan_months(body) == {"2026-03": {"itemsDone": 0, "practiceDays": 2}}


def test_without_a_practice_the_journey_shows_zeros_in_my_zone(aws: Aws, clock: Clock) -> None:
    ana = new_person(aws, "ana")
    body = journey(ana, clock, "2026-03-10T12:00:00Z", **{"from": "2026-03", "to": "2026-03"})
    assert body["practice"] == {
        "currentStreak": 0,
        "longestStreak": 0,
        "lastPracticeDay": None,
        "timeZone": "Europe/Lisbon",
    }
    assert body["months"][0]["plan"] == {"itemsDone": 0, "practiceDays": 0}
