"""An outside counterpart over HTTP against the local stack: the link is their only credential.

A signed-in person offers to someone outside the app, makes a link, and that someone (a plain
HTTP client with no token) accepts, then declares satisfaction and assesses.
"""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.support.stack import Person

OUTSIDE = {"name": "Olga Outside", "email": "olga.outside@example.org"}
ASSESSMENT = {"value": 5, "enabled": "My team shipped on time", "evidence": "release 2.1"}


def _with_profile(person: Person) -> str:
    handle = f"p{uuid.uuid4().hex[:12]}"
    reply = person.api.put(
        "/v1/me",
        json={
            "displayName": "Offering Person",
            "handle": handle,
            "currentLevel": "expert",
            "timeZone": "Europe/Lisbon",
        },
    )
    assert reply.status_code == 201, reply.text
    return handle


def _offer_to_outside(person: Person) -> dict[str, Any]:
    reply = person.api.post(
        "/v1/me/promises",
        json={
            "opening": "offer",
            "counterpart": OUTSIDE,
            "what": "Coach your new team lead",
            "conditions": ["Four sessions", "Notes after each"],
            "dueAt": "2027-02-15T17:00:00Z",
            "size": {"people": 2, "horizonDays": 60, "scope": "team"},
        },
    )
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _is_problem(reply: requests.Response, status: int) -> bool:
    content_type = reply.headers.get("Content-Type", "")
    return reply.status_code == status and content_type.startswith("application/problem+json")


def test_an_outside_customer_accepts_and_assesses_through_the_link(
    person: Person, local_stack: dict[str, Any]
) -> None:
    handle = _with_profile(person)
    promise = _offer_to_outside(person)
    pid = promise["promiseId"]

    made = person.api.post(f"/v1/me/promises/{pid}/counterpart-link")
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert url.startswith(local_stack["apiUrl"].rstrip("/") + "/v1/counterpart/"), url
    token = url.rsplit("/", 1)[-1]
    assert token.startswith(f"{pid}.")

    with requests.Session() as outsider:
        assert "Authorization" not in outsider.headers
        opened = outsider.get(url, timeout=30)
        assert opened.status_code == 200, opened.text
        view = opened.json()
        assert view["what"] == "Coach your new team lead"
        assert view["conditions"] == ["Four sessions", "Notes after each"]
        assert (view["state"], view["myRole"], view["waitingOn"]) == ("offered", "customer", "customer")
        assert sorted(view["allowedActs"]) == ["accept", "counter", "decline"]
        assert view["counterpart"]["handle"] == handle
        assert person.sub not in opened.text
        assert person.email not in opened.text

        accepted = outsider.post(f"{url}/moves", json={"act": "accept"}, timeout=30)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["state"] == "promised"

        reported = person.api.post(f"/v1/me/promises/{pid}/moves", json={"act": "report_completion"})
        assert reported.status_code == 200, reported.text

        again = outsider.get(url, timeout=30).json()
        assert (again["state"], again["canAssess"]) == ("reported", True)
        satisfied = outsider.post(
            f"{url}/moves", json={"act": "declare_satisfied"}, headers={"If-Match": '"v3"'}, timeout=30
        )
        assert satisfied.status_code == 200, satisfied.text
        assert satisfied.json()["state"] == "fulfilled"

        assessed = outsider.post(f"{url}/assessment", json=ASSESSMENT, timeout=30)
        assert assessed.status_code == 201, assessed.text
        assert {k: assessed.json()[k] for k in ASSESSMENT} == ASSESSMENT
        twice = outsider.post(f"{url}/assessment", json=ASSESSMENT, timeout=30)
        assert _is_problem(twice, 409), twice.text

    mine = person.api.get(f"/v1/me/promises/{pid}")
    assert mine.status_code == 200, mine.text
    seen = mine.json()
    assert seen["state"] == "fulfilled"
    assert seen["assessment"] is not None
    assert {k: seen["assessment"][k] for k in ASSESSMENT} == ASSESSMENT

    log = person.api.get(f"/v1/me/promises/{pid}/moves").json()["items"]
    assert [m["act"] for m in log] == ["offer", "accept", "report_completion", "declare_satisfied"]
    assert [m["by"]["kind"] for m in log] == ["user", "outside", "user", "outside"]


def test_a_wrong_token_is_404_problem_json(person: Person, local_stack: dict[str, Any]) -> None:
    _with_profile(person)
    pid = _offer_to_outside(person)["promiseId"]
    made = person.api.post(f"/v1/me/promises/{pid}/counterpart-link")
    assert made.status_code == 201, made.text
    token = made.json()["url"].rsplit("/", 1)[-1]
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    base = local_stack["apiUrl"].rstrip("/") + "/v1/counterpart/"

    with requests.Session() as outsider:
        for candidate in (wrong, f"{pid}.{'x' * 43}", "nonsense"):
            for reply in (
                outsider.get(base + candidate, timeout=30),
                outsider.post(f"{base}{candidate}/moves", json={"act": "accept"}, timeout=30),
                outsider.post(f"{base}{candidate}/assessment", json=ASSESSMENT, timeout=30),
            ):
                assert _is_problem(reply, 404), (candidate, reply.status_code, reply.text)
                assert reply.json()["status"] == 404
        still = outsider.get(base + token, timeout=30)
        assert still.status_code == 200, still.text
        assert still.json()["state"] == "offered"
