"""A client's learning record as xAPI 1.0.3 statements (issue 11): every statement is checked
with a published xAPI implementation's models (ralph's), not with our own rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from tests.handler.test_partners import as_partner, grant, register
from tests.handler.test_plans import make, plan_call
from tests.handler.test_promises import new_person, open_promise
from tests.support.aws import Aws


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
        for module in ("plan", "promise", "partner", "consent"):
            monkeypatch.setattr(f"functions.{module}.app.utc_now", lambda: self.now)

    def at(self, text: str) -> None:
        self.now = datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def statements(partner: dict[str, Any], client_id: str, **query: str) -> dict[str, Any]:
    reply = as_partner(partner, "GET", f"/partner/v1/clients/{client_id}/statements", query=query)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def test_plan_progress_and_fulfilled_promises_as_valid_xapi_statements(aws: Aws, clock: Clock) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    acme, beta = register("Acme Coaching"), register("Beta Coaching")
    plan = make(
        ana,
        {
            "title": "Leading",
            "items": [{"kind": "reading", "title": "Flores"}, {"kind": "practice", "title": "Listen"}],
        },
    )
    reading, practice = (i["itemId"] for i in plan["items"])
    base = f"/v1/me/plans/{plan['planId']}/items"
    clock.at("2026-03-10T10:00:00Z")
    assert plan_call(ana, "PATCH", f"{base}/{reading}", body={"status": "done"}).status == 200
    clock.at("2026-03-11T08:00:00Z")
    assert plan_call(ana, "PATCH", f"{base}/{practice}", body={"status": "done"}).status == 200
    # Bea asks, Ana promises and delivers on time, Bea is satisfied and assesses.
    clock.at("2026-03-12T09:00:00Z")
    pid = open_promise(bea, ana, dueAt="2026-03-20T17:00:00Z")["promiseId"]
    for who, act in ((ana, "promise"), (ana, "report_completion"), (bea, "declare_satisfied")):
        assert who("POST", f"/v1/me/promises/{pid}/moves", body={"act": act}).status == 200
    clock.at("2026-03-12T09:05:00Z")
    assessed = bea("POST", f"/v1/me/promises/{pid}/assessment", body={"value": 4, "enabled": "A calmer team"})
    assert assessed.status == 201

    a = grant(ana, acme, ["plans.read", "promises.read"])["clientId"]
    b = grant(ana, beta, ["plans.read"])["clientId"]
    seen = statements(acme, a)
    assert seen["more"] == ""
    parsed = [BaseXapiStatement.model_validate(s) for s in seen["statements"]]
    assert [(str(s.verb.id).rsplit("/", 1)[-1], s.timestamp.isoformat()) for s in parsed] == [
        ("completed", "2026-03-10T10:00:00+00:00"),
        ("progressed", "2026-03-11T08:00:00+00:00"),
        ("completed", "2026-03-12T09:00:00+00:00"),
        ("scored", "2026-03-12T09:05:00+00:00"),
    ]
    first = seen["statements"][0]
    assert first["actor"]["account"]["name"] == a
    assert first["object"]["definition"]["name"] == {"en-US": "Flores"}
    assert seen["statements"][2]["result"] == {"completion": True, "success": True}
    assert seen["statements"][3]["result"]["score"] == {"raw": 4, "min": 1, "max": 5, "scaled": 0.8}
    text = str(seen)
    for own_id in (reading, practice, pid, plan["planId"], ana.sub):
        assert own_id not in text, "only partner-specific ids"
    # Stable ids on a second read; another partner's statements cannot be joined with these.
    assert [s["id"] for s in statements(acme, a)["statements"]] == [s["id"] for s in seen["statements"]]
    other = statements(beta, b)["statements"]
    assert len(other) == 2, "only what the grant shows: plans, not promises"
    assert {s["id"] for s in other}.isdisjoint(s["id"] for s in seen["statements"])
    assert {s["object"]["id"] for s in other}.isdisjoint(s["object"]["id"] for s in seen["statements"])

    # `since` and pages.
    later = statements(acme, a, since="2026-03-11T00:00:00Z")["statements"]
    assert [s["timestamp"] for s in later][:1] == ["2026-03-11T08:00:00Z"]
    page = statements(acme, a, limit="3")
    assert len(page["statements"]) == 3
    assert page["more"].startswith(f"/partner/v1/clients/{a}/statements?")
    rest_query = dict(part.split("=", 1) for part in page["more"].split("?", 1)[1].split("&"))
    from urllib.parse import unquote

    rest = statements(acme, a, **{k: unquote(v) for k, v in rest_query.items()})
    assert [s["id"] for s in page["statements"] + rest["statements"]] == [s["id"] for s in seen["statements"]]


def test_statements_need_a_reading_scope_in_the_token_and_the_grant(aws: Aws) -> None:
    ana = new_person(aws, "ana")
    acme = register("Acme Coaching")
    client_id = grant(ana, acme, ["profile.read"])["clientId"]
    assert as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/statements").status == 403
    client_id = grant(ana, acme, ["plans.read"], status=200)["clientId"]
    narrow = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/statements", scopes=("promises.read",))
    assert narrow.status == 403


@pytest.mark.parametrize("since", ["0.5", "1796000000", "2026-03-11", "2026-03-11T00:00:00"])
def test_since_is_an_rfc_3339_time_with_its_offset(aws: Aws, since: str) -> None:
    """Found by the fuzzer: pydantic alone took `0.5` as a Unix time."""
    ana = new_person(aws, "ana")
    acme = register("Acme Coaching")
    client_id = grant(ana, acme, ["plans.read"])["clientId"]
    reply = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/statements", query={"since": since})
    assert reply.status == 422, reply.body
    assert reply.problem["errors"][0]["field"] == "since"
    good = {"since": "2026-03-11T00:00:00+01:00"}
    assert as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/statements", query=good).status == 200
