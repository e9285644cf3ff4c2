"""Promise nudges through the dispatcher (issue 10): 24 hours before `dueAt` and once when
overdue, for promises still `promised`, to the performer; their preferences apply (kind
`promise`); each fires once, whatever runs overlap."""

from __future__ import annotations

from typing import Any

import pytest

from shared.store.notifications import list_notifications
from tests.handler.test_dispatcher import run
from tests.handler.test_promises import Clock, Person, clock, moved, new_person, open_promise
from tests.support.aws import Aws

__all__ = ["clock"]  # the promise function's clock, set to 2026-03-10T09:00:00Z

DUE = "2026-03-20T17:00:00Z"


def nudges(person: Person) -> list[dict[str, Any]]:
    items, _ = list_notifications(person.sub, 50, None)
    return [i for i in items if i["kind"] == "promise" and "nudge" in i["data"]]


def stages(person: Person) -> list[str]:
    return sorted(str(i["data"]["nudge"]) for i in nudges(person))


@pytest.fixture
def pair(aws: Aws) -> tuple[Person, Person]:
    return new_person(aws, "ana"), new_person(aws, "bea")


def test_a_promise_is_nudged_a_day_before_and_when_overdue_to_its_performer_only(
    aws: Aws, pair: tuple[Person, Person], clock: Clock
) -> None:
    ana, bea = pair
    pid = open_promise(ana, bea, dueAt=DUE)["promiseId"]  # ana asks bea
    assert run("2026-03-19T16:59:00Z")["fired"] == 0, "a request is no promise yet"
    moved(bea, pid, "promise")
    assert run("2026-03-19T16:59:00Z")["fired"] == 0
    assert run("2026-03-19T17:00:20Z")["fired"] == 1
    (soon,) = nudges(bea)
    assert (soon["title"], soon["body"]) == ("Due within a day", "Review the onboarding guide")
    assert soon["data"] == {"promiseId": pid, "nudge": "due_soon", "dueAt": DUE}
    assert run("2026-03-19T17:01:20Z")["fired"] == 0, "once"
    assert run("2026-03-20T17:00:20Z")["fired"] == 1
    assert stages(bea) == ["due_soon", "overdue"]
    assert run("2026-03-27T17:00:20Z")["fired"] == 0, "overdue once, not every day"
    assert nudges(ana) == [], "the customer is not nudged"
    assert not [i for i in aws.data_items() if str(i["SK"]).startswith("NUDGE#")]


def test_a_reported_or_revoked_promise_is_not_nudged(
    aws: Aws, pair: tuple[Person, Person], clock: Clock
) -> None:
    ana, bea = pair
    reported = open_promise(ana, bea, dueAt=DUE)["promiseId"]
    revoked = open_promise(ana, bea, dueAt=DUE)["promiseId"]
    for pid in (reported, revoked):
        moved(bea, pid, "promise")
    moved(bea, reported, "report_completion")
    moved(bea, revoked, "revoke")
    assert run("2026-03-21T09:00:00Z")["fired"] == 0
    assert nudges(bea) == []


def test_not_satisfied_puts_the_new_due_time_on_the_nudge(
    aws: Aws, pair: tuple[Person, Person], clock: Clock
) -> None:
    ana, bea = pair
    pid = open_promise(ana, bea, dueAt=DUE)["promiseId"]
    moved(bea, pid, "promise")
    moved(bea, pid, "report_completion")
    later = "2026-03-25T12:00:00Z"
    moved(ana, pid, "declare_not_satisfied", dueAt=later)
    assert run("2026-03-20T17:00:20Z")["fired"] == 0, "not at the old due time"
    assert run("2026-03-24T12:00:20Z")["fired"] == 1
    (nudge,) = nudges(bea)
    assert nudge["data"]["dueAt"] == later


def test_a_self_logged_promise_made_within_a_day_is_nudged_only_when_overdue(
    aws: Aws, pair: tuple[Person, Person], clock: Clock
) -> None:
    ana, _ = pair
    clock.set("2026-03-20T08:00:00Z")
    open_promise(ana, {"name": "Olga"}, "promise", dueAt=DUE)
    assert run("2026-03-20T08:01:00Z")["fired"] == 0
    # After an outage that spans both stages: one nudge, the latest.
    assert run("2026-03-21T09:00:00Z")["fired"] == 1
    assert stages(ana) == ["overdue"]


def test_an_outside_performer_is_not_nudged(aws: Aws, pair: tuple[Person, Person], clock: Clock) -> None:
    ana, _ = pair
    open_promise(ana, {"name": "Olga"}, "request", dueAt=DUE)
    assert not [i for i in aws.data_items() if str(i["SK"]).startswith("NUDGE#")]
