"""Partners (issue 11): the directory, grants, partner-specific client ids, the partner API's
reads as the grant and the token both allow, and the access log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions.consent.app import lambda_handler as consent_handler
from functions.partner.app import lambda_handler as partner_handler
from shared.domain.ids import new_id
from shared.domain.partners import SCOPES, token_scope
from shared.store import partners
from tests.handler.test_plans import make
from tests.handler.test_promises import Person, new_person, open_promise
from tests.support.aws import Aws, Reply, http_event, invoke


def consent(person: Person, method: str, path: str, **kwargs: Any) -> Reply:
    return invoke(
        consent_handler, http_event(method, path, user=person.sub, username=person.username, **kwargs)
    )


def register(name: str, scopes: tuple[str, ...] = SCOPES) -> dict[str, Any]:
    partner = {
        "partnerId": new_id(),
        "name": name,
        "scopes": list(scopes),
        "appClientId": f"app{new_id().lower()[:20]}",
        "createdAt": "2026-11-01T00:00:00Z",
    }
    partners.register(partner)
    return partner


def as_partner(
    partner: dict[str, Any], method: str, path: str, scopes: tuple[str, ...] = SCOPES, **kwargs: Any
) -> Reply:
    event = http_event(method, path, **kwargs)
    claims = {
        "sub": partner["appClientId"],
        "client_id": partner["appClientId"],
        "token_use": "access",
        "scope": " ".join(token_scope(s) for s in scopes),
    }
    event["requestContext"]["authorizer"] = {
        "jwt": {"claims": claims, "scopes": [token_scope(s) for s in scopes]}
    }
    return invoke(partner_handler, event)


def grant(
    person: Person, partner: dict[str, Any], scopes: list[str], status: int = 201, **extra: Any
) -> dict[str, Any]:
    reply = consent(
        person, "POST", "/v1/me/grants", body={"partnerId": partner["partnerId"], "scopes": scopes, **extra}
    )
    assert reply.status == status, reply.body
    body: dict[str, Any] = reply.body
    return body


@pytest.fixture
def ana(aws: Aws) -> Person:
    return new_person(aws, "ana")


@pytest.fixture
def acme(aws: Aws) -> dict[str, Any]:
    return register("Acme Coaching")


def test_the_directory_lists_partners_by_name_with_their_scopes(aws: Aws, ana: Person) -> None:
    register("Zeta Leadership", ("clients.read", "profile.read"))
    register("acme coaching")
    reply = consent(ana, "GET", "/v1/partners", query={"limit": "1"})
    assert reply.status == 200, reply.body
    (first,) = reply.body["items"]
    assert first["name"] == "acme coaching"
    second = consent(ana, "GET", "/v1/partners", query={"cursor": reply.body["nextCursor"]})
    assert [(p["name"], p["scopes"]) for p in second.body["items"]] == [
        ("Zeta Leadership", ["clients.read", "profile.read"])
    ]
    assert "appClientId" not in str(reply.body) + str(second.body)


def test_a_grant_is_a_subset_of_what_the_partner_may_ask_and_replaces_an_earlier_one(
    aws: Aws, ana: Person
) -> None:
    zeta = register("Zeta", ("clients.read", "profile.read"))
    refused = consent(
        ana,
        "POST",
        "/v1/me/grants",
        body={"partnerId": zeta["partnerId"], "scopes": ["profile.read", "cares.read"]},
    )
    assert refused.status == 422
    assert [(e["field"], e["code"]) for e in refused.problem["errors"]] == [("scopes.1", "not_offered")]
    unknown = consent(
        ana, "POST", "/v1/me/grants", body={"partnerId": "NOSUCHPARTNER", "scopes": ["profile.read"]}
    )
    assert [(e["field"], e["code"]) for e in unknown.problem["errors"]] == [("partnerId", "not_found")]
    past = consent(
        ana,
        "POST",
        "/v1/me/grants",
        body={
            "partnerId": zeta["partnerId"],
            "scopes": ["profile.read"],
            "expiresAt": "2020-01-01T00:00:00Z",
        },
    )
    assert [(e["field"], e["code"]) for e in past.problem["errors"]] == [("expiresAt", "in_past")]
    first = grant(ana, zeta, ["profile.read"])
    again = grant(ana, zeta, ["clients.read", "profile.read"], status=200)
    assert first["clientId"] == again["clientId"]
    assert first["clientId"].startswith("c")
    assert len(first["clientId"]) == 25
    assert (again["scopes"], again["status"], again["partnerName"]) == (
        ["clients.read", "profile.read"],
        "active",
        "Zeta",
    )
    listed = consent(ana, "GET", "/v1/me/grants").body["items"]
    assert [g["scopes"] for g in listed] == [["clients.read", "profile.read"]]


def test_a_partner_reads_what_the_grant_and_the_token_both_allow_and_every_read_is_logged(
    aws: Aws, ana: Person, acme: dict[str, Any]
) -> None:
    client_id = grant(ana, acme, ["clients.read", "profile.read", "cares.read"])["clientId"]
    clients = as_partner(acme, "GET", "/partner/v1/clients")
    assert clients.status == 200, clients.body
    assert [c["clientId"] for c in clients.body["items"]] == [client_id]
    profile = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/profile")
    assert profile.status == 200, profile.body
    assert profile.body == {
        "displayName": "Ana",
        "currentLevel": "expert",
        "targetLevel": None,
        "timeZone": "Europe/Lisbon",
    }
    assert ana.handle not in str(profile.body)
    # The token lacks the scope: 403, whatever the grant says.
    no_scope = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/profile", scopes=("clients.read",))
    assert no_scope.status == 403
    # The grant lacks the scope: 403.
    not_granted = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/plans")
    assert not_granted.status == 403
    log = consent(ana, "GET", "/v1/me/access-log").body["items"]
    assert [(e["partnerName"], e["action"], e["resource"]) for e in log] == [
        ("Acme Coaching", "profile.read", "profile")
    ]


def test_revoking_or_expiry_takes_effect_on_the_very_next_request(
    aws: Aws, ana: Person, acme: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client_id = grant(ana, acme, ["profile.read"])["clientId"]
    assert as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/profile").status == 200
    assert consent(ana, "DELETE", f"/v1/me/grants/{acme['partnerId']}").status == 204
    gone = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/profile")
    assert gone.status == 404, gone.body
    assert as_partner(acme, "GET", "/partner/v1/clients").body["items"] == []
    assert consent(ana, "DELETE", f"/v1/me/grants/{acme['partnerId']}").status == 404

    grant(ana, acme, ["profile.read"], expiresAt="2027-01-01T00:00:00Z")
    assert as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/profile").status == 200
    later = datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)
    monkeypatch.setattr("functions.partner.app.utc_now", lambda: later)
    assert as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/profile").status == 404
    assert as_partner(acme, "GET", "/partner/v1/clients").body["items"] == []
    monkeypatch.setattr("functions.consent.app.utc_now", lambda: later)
    (shown,) = consent(ana, "GET", "/v1/me/grants").body["items"]
    assert shown["status"] == "expired"


def test_partners_are_kept_apart_and_cannot_link_their_clients(
    aws: Aws, ana: Person, acme: dict[str, Any]
) -> None:
    beta = register("Beta Coaching")
    care = ana.care("POST", "/v1/me/cares", body={"statement": "Growing people", "domain": "others"}).body
    a = grant(ana, acme, ["clients.read", "cares.read"])["clientId"]
    b = grant(ana, beta, ["clients.read", "cares.read"])["clientId"]
    assert a != b
    assert as_partner(beta, "GET", f"/partner/v1/clients/{a}/cares").status == 404, "A's client is not B's"
    seen_a = as_partner(acme, "GET", f"/partner/v1/clients/{a}/cares").body["items"]
    seen_b = as_partner(beta, "GET", f"/partner/v1/clients/{b}/cares").body["items"]
    assert [c["statement"] for c in seen_a] == [c["statement"] for c in seen_b] == ["Growing people"]
    ids = {seen_a[0]["careId"], seen_b[0]["careId"], care["careId"]}
    assert len(ids) == 3, "each partner has its own id for the care, and neither is the app's"
    assert [c["clientId"] for c in as_partner(beta, "GET", "/partner/v1/clients").body["items"]] == [b]


def test_promises_and_plans_as_a_partner_sees_them(aws: Aws, ana: Person, acme: dict[str, Any]) -> None:
    bea = new_person(aws, "bea")
    open_promise(ana, bea, what="Coach Bea's first retro")
    open_promise(ana, {"name": "Olga", "email": "olga@example.org"}, "promise", what="Read Flores")
    plan = make(ana, {"title": "Leading", "items": [{"kind": "practice", "title": "Listen first"}]})
    plan_call_obstacle = ana.plan(
        "POST",
        f"/v1/me/plans/{plan['planId']}/obstacles",
        body={"kind": "dragon", "description": "Fear of conflict"},
    )
    assert plan_call_obstacle.status == 201
    client_id = grant(ana, acme, ["promises.read", "plans.read"])["clientId"]
    promises = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/promises")
    assert promises.status == 200, promises.body
    text = str(promises.body)
    for other in (bea.handle, bea.sub, "Olga", "olga@"):
        assert other not in text, "nobody else is named"
    assert sorted((p["what"], p["role"], p["counterpartKind"]) for p in promises.body["items"]) == [
        ("Coach Bea's first retro", "customer", "user"),
        ("Read Flores", "performer", "outside"),
    ]
    plans = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/plans")
    assert plans.status == 200, plans.body
    (seen,) = plans.body["items"]
    assert (seen["title"], [i["title"] for i in seen["items"]]) == ("Leading", ["Listen first"])
    assert seen["planId"] != plan["planId"]
    assert "Fear of conflict" not in str(plans.body), "obstacles stay private"
    log = consent(ana, "GET", "/v1/me/access-log").body["items"]
    assert [e["resource"] for e in log] == ["plans", "promises"], "newest first"


def test_a_token_of_an_unregistered_client_is_refused(aws: Aws) -> None:
    stranger = {"appClientId": "not-a-partner"}
    assert as_partner(stranger, "GET", "/partner/v1/clients").status == 403


def test_erasure_takes_the_partners_side_of_a_grant_with_it(
    aws: Aws, ana: Person, acme: dict[str, Any]
) -> None:
    client_id = grant(ana, acme, ["clients.read", "profile.read"])["clientId"]
    assert ana.profile("DELETE", "/v1/me").status == 204
    assert as_partner(acme, "GET", "/partner/v1/clients").body["items"] == []
    assert as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/profile").status == 404
    assert not [i for i in aws.data_items() if ana.sub in str(i)]


# --- requests: a coach asks for a promise ---------------------------------------------------------


def test_a_coach_asks_the_person_answers_in_the_app_and_the_coach_assesses(
    aws: Aws, ana: Person, acme: dict[str, Any]
) -> None:
    client_id = grant(ana, acme, ["requests.write"])["clientId"]
    body = {"what": "Hold a retro with your team", "dueAt": "2030-03-01T17:00:00Z", "coachName": "Maria"}
    made = as_partner(acme, "POST", f"/partner/v1/clients/{client_id}/requests", body=body)
    assert made.status == 201, made.body
    request_id = made.body["requestId"]
    assert made.headers["Location"].endswith(f"/requests/{request_id}")
    assert (made.body["state"], made.body["allowedActs"]) == ("requested", ["withdraw"])

    # Ana sees it in her inbox and her list, from "Maria" of Acme, and promises.
    inbox = ana.profile("GET", "/v1/me/notifications").body["items"]
    assert [(n["title"], n["body"]) for n in inbox] == [("You have a request", "Hold a retro with your team")]
    (mine,) = ana("GET", "/v1/me/promises").body["items"]
    assert {k: v for k, v in mine["counterpart"].items() if v is not None} == {
        "kind": "outside",
        "name": "Maria",
        "partnerName": "Acme Coaching",
        "isMe": False,
    }
    promise_id = mine["promiseId"]
    assert ana("POST", f"/v1/me/promises/{promise_id}/moves", body={"act": "promise"}).status == 200
    assert ana("POST", f"/v1/me/promises/{promise_id}/moves", body={"act": "report_completion"}).status == 200

    seen = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/requests/{request_id}")
    assert seen.status == 200, seen.body
    assert [(m["act"], m["role"]) for m in seen.body["moves"]] == [
        ("request", "customer"),
        ("promise", "performer"),
        ("report_completion", "performer"),
    ]
    assert seen.body["canAssess"] is True
    assert promise_id not in str(seen.body), "the partner has its own id for it"
    assert ana.sub not in str(seen.body)
    satisfied = as_partner(
        acme,
        "POST",
        f"/partner/v1/clients/{client_id}/requests/{request_id}/moves",
        body={"act": "declare_satisfied"},
        headers={"If-Match": seen.headers["ETag"]},
    )
    assert satisfied.status == 200, satisfied.body
    assert satisfied.body["state"] == "fulfilled"
    assessed = as_partner(
        acme,
        "POST",
        f"/partner/v1/clients/{client_id}/requests/{request_id}/assessment",
        body={"value": 5, "enabled": "The team now runs its own retros"},
    )
    assert assessed.status == 201, assessed.body
    assert ana("GET", f"/v1/me/promises/{promise_id}").body["assessment"]["value"] == 5
    journey = ana("GET", "/v1/me/journey").body["months"][-1]
    assert (journey["fulfilled"], journey["assessments"]) == (1, 1)
    actions = {e["action"] for e in consent(ana, "GET", "/v1/me/access-log").body["items"]}
    assert actions == {"requests.write"}


def test_a_request_needs_the_scope_and_stays_with_its_partner(
    aws: Aws, ana: Person, acme: dict[str, Any]
) -> None:
    beta = register("Beta Coaching")
    only_reads = grant(ana, acme, ["profile.read"])["clientId"]
    body = {"what": "Ask for feedback", "dueAt": "2030-03-01T17:00:00Z", "coachName": "Maria"}
    assert as_partner(acme, "POST", f"/partner/v1/clients/{only_reads}/requests", body=body).status == 403
    client_id = grant(ana, acme, ["requests.write"], status=200)["clientId"]
    assert client_id == only_reads, "granting again keeps the client id"
    request_id = as_partner(acme, "POST", f"/partner/v1/clients/{client_id}/requests", body=body).body[
        "requestId"
    ]
    other = grant(ana, beta, ["requests.write"])["clientId"]
    assert as_partner(beta, "GET", f"/partner/v1/clients/{other}/requests/{request_id}").status == 404
    past = {**body, "dueAt": "2020-01-01T00:00:00Z"}
    refused = as_partner(acme, "POST", f"/partner/v1/clients/{client_id}/requests", body=past)
    assert refused.status == 422
    assert [e["code"] for e in refused.problem["errors"]] == ["due_in_past"]
    # A move the customer may not make now is a 409 listing what it may.
    wrong = as_partner(
        acme,
        "POST",
        f"/partner/v1/clients/{client_id}/requests/{request_id}/moves",
        body={"act": "declare_satisfied"},
    )
    assert wrong.status == 409


# --- suggestions ------------------------------------------------------------------------------------


def test_a_suggestion_waits_in_the_plan_until_the_person_accepts_or_dismisses_it(
    aws: Aws, ana: Person, acme: dict[str, Any]
) -> None:
    care = ana.care("POST", "/v1/me/cares", body={"statement": "Growing people", "domain": "others"}).body
    plan = make(ana, {"title": "Leading", "careIds": [care["careId"]]})
    client_id = grant(ana, acme, ["plans.read", "plans.suggest"])["clientId"]
    (seen,) = as_partner(acme, "GET", f"/partner/v1/clients/{client_id}/plans").body["items"]
    path = f"/partner/v1/clients/{client_id}/plans/{seen['planId']}/suggestions"
    suggestions = [
        {"kind": "reading", "title": "The Fifth Discipline", "coachName": "Maria"},
        {"kind": "practice", "title": "Ask one question a day"},
    ]
    made = [as_partner(acme, "POST", path, body=body) for body in suggestions]
    assert [m.status for m in made] == [201, 201], [m.body for m in made]
    assert made[0].body["status"] == "pending"
    unknown = as_partner(
        acme,
        "POST",
        f"/partner/v1/clients/{client_id}/plans/{plan['planId']}/suggestions",
        body=suggestions[0],
    )
    assert unknown.status == 404, "the app's own plan id means nothing to a partner"

    mine = ana.plan("GET", f"/v1/me/plans/{plan['planId']}").body
    assert mine["items"] == []
    assert [(s["title"], s["partnerName"], s.get("coachName")) for s in mine["suggestions"]] == [
        ("The Fifth Discipline", "Acme Coaching", "Maria"),
        ("Ask one question a day", "Acme Coaching", None),
    ]
    inbox = [n["title"] for n in ana.profile("GET", "/v1/me/notifications").body["items"]]
    assert sorted(inbox) == [
        "Acme Coaching suggests an item for your plan",
        "Maria suggests an item for your plan",
    ]
    first, second = (s["suggestionId"] for s in mine["suggestions"])
    accepted = ana.plan("POST", f"/v1/me/plans/{plan['planId']}/suggestions/{first}/accept")
    assert accepted.status == 201, accepted.body
    assert (accepted.body["kind"], accepted.body["title"], accepted.body["status"]) == (
        "reading",
        "The Fifth Discipline",
        "todo",
    )
    assert ana.plan("DELETE", f"/v1/me/plans/{plan['planId']}/suggestions/{second}").status == 204
    assert ana.plan("DELETE", f"/v1/me/plans/{plan['planId']}/suggestions/{second}").status == 404
    after = ana.plan("GET", f"/v1/me/plans/{plan['planId']}").body
    assert ([i["title"] for i in after["items"]], after["suggestions"]) == (["The Fifth Discipline"], [])
    care_map = ana.care("GET", "/v1/me/care-map").body["items"][0]
    assert care_map["planItems"] == {"open": 1, "done": 0}, "the accepted item counts for the plan's care"
    (header,) = [i for i in aws.data_items() if i["SK"] == f"PLAN#{plan['planId']}"]
    assert header["childCount"] == 1
    no_scope = grant(ana, acme, ["plans.read"], status=200)["clientId"]
    assert as_partner(acme, "POST", path.replace(client_id, no_scope), body=suggestions[0]).status == 403
