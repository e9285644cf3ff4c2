"""A plan's items count on the care map for the cares the plan serves (issue 10: "links to the
person's cares"), and a plan stays small enough to delete whole in one transaction, its reminders
included."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.handler.test_plans import make, plan_call
from tests.handler.test_promises import Person, new_person
from tests.support.aws import Aws


def care(person: Person, statement: str) -> str:
    reply = person.care("POST", "/v1/me/cares", body={"statement": statement, "domain": "others"})
    assert reply.status == 201, reply.body
    return str(reply.body["careId"])


def plan_items_on_map(person: Person) -> dict[str, tuple[int, int]]:
    reply = person.care("GET", "/v1/me/care-map")
    assert reply.status == 200, reply.body
    return {c["careId"]: (c["planItems"]["open"], c["planItems"]["done"]) for c in reply.body["items"]}


def ok(reply: Any, status: int = 200) -> dict[str, Any]:
    assert reply.status == status, reply.body
    body: dict[str, Any] = reply.body or {}
    return body


def test_a_plans_items_count_for_its_cares_through_every_change(aws: Aws) -> None:
    ana = new_person(aws, "ana")
    first, second = care(ana, "Growing people"), care(ana, "A team that keeps its word")
    made = make(
        ana,
        {
            "title": "Leading",
            "careIds": [first],
            "items": [{"kind": "skill", "title": t} for t in ("Listening", "Offering", "Declining")],
        },
    )
    plan = f"/v1/me/plans/{made['planId']}"
    one, two, three = (f"{plan}/items/{i['itemId']}" for i in made["items"])
    assert plan_items_on_map(ana) == {first: (3, 0), second: (0, 0)}
    ok(plan_call(ana, "PATCH", one, body={"status": "done"}))
    ok(plan_call(ana, "PATCH", one, body={"progress": 100}))  # no status change: no count change
    assert plan_items_on_map(ana) == {first: (2, 1), second: (0, 0)}
    ok(plan_call(ana, "POST", f"{plan}/items", body={"kind": "reading", "title": "Flores"}), 201)
    ok(plan_call(ana, "PATCH", two, body={"status": "skipped"}))
    assert plan_items_on_map(ana) == {first: (2, 1), second: (0, 0)}
    ok(plan_call(ana, "DELETE", three), 204)
    assert plan_items_on_map(ana) == {first: (1, 1), second: (0, 0)}
    ok(plan_call(ana, "PATCH", plan, body={"careIds": [second]}))
    assert plan_items_on_map(ana) == {first: (0, 0), second: (1, 1)}
    ok(plan_call(ana, "PATCH", plan, body={"careIds": [second, first]}))
    assert plan_items_on_map(ana) == {first: (1, 1), second: (1, 1)}
    ok(plan_call(ana, "DELETE", plan), 204)
    assert plan_items_on_map(ana) == {first: (0, 0), second: (0, 0)}


def test_an_item_moving_keeps_its_care_from_being_neglected(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("functions.plan.app.utc_now", lambda: datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    ana = new_person(aws, "ana")
    serving = care(ana, "Growing people")
    made = make(
        ana, {"title": "Leading", "careIds": [serving], "items": [{"kind": "skill", "title": "Listening"}]}
    )
    before = ok(ana.care("GET", "/v1/me/care-map"))["items"][0]["lastActivityAt"]
    path = f"/v1/me/plans/{made['planId']}/items/{made['items'][0]['itemId']}"
    monkeypatch.setattr("functions.plan.app.utc_now", lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    ok(plan_call(ana, "PATCH", path, body={"progress": 10}))  # still open: no count moves
    after = ok(ana.care("GET", "/v1/me/care-map"))["items"][0]["lastActivityAt"]
    assert (before, after) == ("2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z")


def test_only_a_care_added_to_a_plan_must_be_active(aws: Aws) -> None:
    ana = new_person(aws, "ana")
    kept, archived_later, archived = care(ana, "Kept"), care(ana, "Archived later"), care(ana, "Archived")
    made = make(ana, {"title": "Leading", "careIds": [kept, archived_later], "items": []})
    ok(ana.care("DELETE", f"/v1/me/cares/{archived_later}"), 204)
    ok(ana.care("DELETE", f"/v1/me/cares/{archived}"), 204)
    plan = f"/v1/me/plans/{made['planId']}"
    refused = plan_call(ana, "PATCH", plan, body={"careIds": [kept, archived_later, archived]})
    assert refused.status == 422, refused.body
    assert [(e["field"], e["code"]) for e in refused.problem["errors"]] == [("careIds.2", "not_found")]
    # A care archived after the plan named it may stay.
    ok(plan_call(ana, "PATCH", plan, body={"title": "Leading, still", "careIds": [archived_later, kept]}))


def test_reminders_count_among_a_plans_children_so_it_deletes_whole_in_one_transaction(aws: Aws) -> None:
    ana = new_person(aws, "ana")
    made = make(ana, {"title": "Big", "items": [{"kind": "skill", "title": f"Skill {n}"} for n in range(45)]})
    plan = f"/v1/me/plans/{made['planId']}"
    daily = {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"}
    for item in made["items"][:44]:
        ok(plan_call(ana, "PUT", f"{plan}/items/{item['itemId']}/reminder", body=daily), 201)
    ok(plan_call(ana, "PUT", f"{plan}/reminder", body=daily), 201)  # 45 + 45 = 90
    full = plan_call(ana, "PUT", f"{plan}/items/{made['items'][44]['itemId']}/reminder", body=daily)
    assert full.status == 409, full.body
    assert "90" in full.problem["detail"]
    assert plan_call(ana, "POST", f"{plan}/items", body={"kind": "skill", "title": "One more"}).status == 409
    # A reminder replaced does not count twice; one removed frees its place.
    ok(plan_call(ana, "PUT", f"{plan}/reminder", body={**daily, "paused": True}))
    ok(plan_call(ana, "DELETE", f"{plan}/reminder"), 204)
    ok(plan_call(ana, "PUT", f"{plan}/items/{made['items'][44]['itemId']}/reminder", body=daily), 201)

    aws.requests.clear()
    ok(plan_call(ana, "DELETE", plan), 204)
    assert aws.requests.counts["TransactWriteItems"] == 1
    left = [i for i in aws.data_items() if str(i["SK"]).startswith(f"PLAN#{made['planId']}")]
    assert left == []


def test_removing_an_item_with_its_reminder_frees_both_places(aws: Aws) -> None:
    ana = new_person(aws, "ana")
    made = make(ana, {"title": "Small", "items": [{"kind": "skill", "title": "Listening"}]})
    item = f"/v1/me/plans/{made['planId']}/items/{made['items'][0]['itemId']}"
    ok(plan_call(ana, "PUT", f"{item}/reminder", body={"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"}), 201)
    ok(plan_call(ana, "DELETE", item), 204)
    (header,) = [i for i in aws.data_items() if i["SK"] == f"PLAN#{made['planId']}"]
    assert header["childCount"] == 0
    assert Counter(str(i.get("entity")) for i in aws.data_items() if "PLAN#" in str(i["SK"])) == Counter(
        {"plan": 1}
    )
