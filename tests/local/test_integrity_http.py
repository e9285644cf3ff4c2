"""Issue 9's findings replayed over HTTP against the local stack, as they were first seen."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

from tests.support.stack import Person, sign_in


def _profile(person: Person, handle: str | None = None) -> str:
    handle = handle or f"h{uuid.uuid4().hex[:12]}"
    reply = person.api.put(
        "/v1/me",
        json={"displayName": "Someone", "handle": handle, "currentLevel": "expert", "timeZone": "UTC"},
    )
    assert reply.status_code == 201, reply.text
    return handle


def _due(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _items(stack: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of the emulator's table (a Scan: tests only)."""
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=stack["awsEndpointUrl"],
        region_name=stack["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": stack["tableName"]}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_an_erased_accounts_token_brings_nothing_back(
    local_stack: dict[str, Any], cognito: Any, make_person: Callable[[], Person]
) -> None:
    ana, bea = make_person(), make_person()
    handle = _profile(ana)
    bea_handle = _profile(bea)
    inbox_before = bea.api.get("/v1/me/notifications").json()["items"]

    assert ana.api.delete("/v1/me").status_code == 204
    replies = [
        ana.api.put(
            "/v1/me",
            json={"displayName": "Back", "handle": handle, "currentLevel": "expert", "timeZone": "UTC"},
        ),
        ana.api.post("/v1/me/cares", json={"statement": "Still here", "domain": "self"}),
        ana.api.post(
            "/v1/me/reflections",
            json={"questionSetVersion": 1, "answers": [{"questionId": "destination", "text": "x"}]},
        ),
        ana.api.post(
            "/v1/me/promises",
            json={
                "opening": "request",
                "counterpart": {"handle": bea_handle},
                "what": "Hi",
                "dueAt": _due(3),
            },
        ),
        ana.api.post("/v1/me/devices", json={"platform": "ios", "pushToken": "ana-phone-token-1"}),
        ana.api.get("/v1/me"),
    ]
    assert [r.status_code for r in replies] == [401] * 6, [r.text for r in replies]
    assert all(r.headers["Content-Type"].startswith("application/problem+json") for r in replies)

    naming = [
        i for i in _items(local_stack) if ana.sub in json.dumps(i) or f"HANDLE#{handle}" in json.dumps(i)
    ]
    assert [i["PK"]["S"] for i in naming] == [f"ERASED#{ana.sub}"], "only the marker that refuses the token"
    assert bea.api.get("/v1/me/notifications").json()["items"] == inbox_before, "nobody was pushed a request"
    # (Refreshing a deleted user's token crashes moto's Cognito (500), so the sign-out before the
    # deletion is checked in tests/handler/test_erased_account.py instead.)
    # AWS answers NotAuthorized (the client prevents user-existence errors); moto, UserNotFound.
    gone = (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException)
    with pytest.raises(gone):
        sign_in(cognito, local_stack["userPoolClientId"], ana.email, ana.password)


def _register(person: Person, token: str) -> requests.Response:
    return person.api.post("/v1/me/devices", json={"platform": "android", "pushToken": token})


def _parallel(calls: list[Callable[[], requests.Response]]) -> list[int]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> int:
        barrier.wait()
        return call().status_code

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _devices(person: Person) -> list[dict[str, Any]]:
    reply = person.api.get("/v1/me/devices", params={"limit": "100"})
    assert reply.status_code == 200, reply.text
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


def test_ten_parallel_registrations_of_one_token_are_one_device(make_person: Callable[[], Person]) -> None:
    person = make_person()
    statuses = _parallel([lambda: _register(person, "fcm-one-phone-token")] * 10)
    stored = _devices(person)
    assert [d["pushToken"] for d in stored] == ["fcm-one-phone-token"], statuses
    assert statuses.count(201) <= 1, statuses
    assert _register(person, "fcm-another-phone").status_code == 201, "the eleventh is not over the limit"


def test_the_limit_of_ten_holds_under_twenty_parallel_registrations(
    make_person: Callable[[], Person],
) -> None:
    person = make_person()
    tokens = [f"fcm-token-{n:04d}-{uuid.uuid4().hex[:6]}" for n in range(20)]
    statuses = _parallel([lambda token=token: _register(person, token) for token in tokens])  # type: ignore[misc]
    stored = _devices(person)
    assert len(stored) == 10, statuses
    assert statuses.count(201) == 10, statuses
    assert {d["pushToken"] for d in stored} <= set(tokens)


def test_a_renamed_counterpart_shows_by_the_new_handle_and_the_old_one_is_held(
    make_person: Callable[[], Person],
) -> None:
    carol, renamer, mallory = make_person(), make_person(), make_person()
    _profile(carol)
    old = _profile(renamer)
    asked = carol.api.post(
        "/v1/me/promises",
        json={"opening": "request", "counterpart": {"handle": old}, "what": "Review", "dueAt": _due(5)},
    )
    assert asked.status_code == 201, asked.text
    new = f"n{uuid.uuid4().hex[:12]}"
    assert renamer.api.patch("/v1/me", json={"handle": new}).status_code == 200
    taken = mallory.api.put(
        "/v1/me", json={"displayName": "M", "handle": old, "currentLevel": "expert", "timeZone": "UTC"}
    )
    assert taken.status_code == 409, taken.text
    # The stream brings the rename to the follower, which rewrites Carol's views.
    deadline = time.monotonic() + 20
    shown = None
    while time.monotonic() < deadline:
        shown = carol.api.get("/v1/me/promises").json()["items"][0]["counterpart"]["handle"]
        if shown == new:
            break
        time.sleep(0.2)
    assert shown == new
    promise = carol.api.get(f"/v1/me/promises/{asked.json()['promiseId']}").json()
    assert promise["performer"]["handle"] == new


def test_a_performer_cannot_change_the_terms_with_a_promise(make_person: Callable[[], Person]) -> None:
    customer, performer = make_person(), make_person()
    _profile(customer)
    performer_handle = _profile(performer)
    asked = customer.api.post(
        "/v1/me/promises",
        json={
            "opening": "request",
            "counterpart": {"handle": performer_handle},
            "what": "Review the plan",
            "conditions": ["reviewed by two peers"],
            "dueAt": _due(3),
        },
    ).json()
    path = f"/v1/me/promises/{asked['promiseId']}/moves"
    reply = performer.api.post(
        path,
        json={"act": "promise", "dueAt": "2199-12-31T00:00:00Z", "conditions": ["nothing in particular"]},
    )
    assert reply.status_code == 422, reply.text
    assert sorted(e["field"] for e in reply.json()["errors"]) == ["conditions", "dueAt"]
    assert performer.api.post(path, json={"act": "promise"}).status_code == 200


def test_an_outside_customers_retried_assessment_answers_the_same(make_person: Callable[[], Person]) -> None:
    performer = make_person()
    _profile(performer)
    offered = performer.api.post(
        "/v1/me/promises",
        json={"opening": "offer", "counterpart": {"name": "Olga"}, "what": "A workshop", "dueAt": _due(3)},
    ).json()
    pid = offered["promiseId"]
    token = performer.api.post(f"/v1/me/promises/{pid}/counterpart-link").json()["url"].rsplit("/", 1)[-1]
    public = requests.Session()
    base = performer.api.base_url
    assert public.post(f"{base}/v1/counterpart/{token}/moves", json={"act": "accept"}, timeout=30).ok
    assert performer.api.post(f"/v1/me/promises/{pid}/moves", json={"act": "report_completion"}).ok
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    body = {"value": 5, "enabled": "We ran it"}
    first = public.post(f"{base}/v1/counterpart/{token}/assessment", json=body, headers=key, timeout=30)
    again = public.post(f"{base}/v1/counterpart/{token}/assessment", json=body, headers=key, timeout=30)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()


def test_a_reminder_fires_through_the_schedule_into_the_inbox_and_a_push(
    make_person: Callable[[], Person], local_stack: dict[str, Any]
) -> None:
    """Issue 10's whole path: set a reminder, fire the dispatcher's schedule for its time, see
    the inbox item and the push."""
    person = make_person()
    _profile(person)  # in UTC
    token = uuid.uuid4().hex * 2
    assert person.api.post("/v1/me/devices", json={"platform": "ios", "pushToken": token}).status_code == 201
    plan = person.api.post("/v1/me/plans", json={"templateId": "expert-to-team-lead"}).json()
    reminder = person.api.put(
        f"/v1/me/plans/{plan['planId']}/reminder", json={"rrule": "FREQ=DAILY;BYHOUR=7;BYMINUTE=30"}
    )
    assert reminder.status_code == 201, reminder.text
    fire_at = reminder.json()["nextFireAt"]
    assert fire_at.endswith("T07:30:00Z")

    at = fire_at.replace("00Z", "20Z")
    ran = requests.post(
        f"{local_stack['apiUrl']}/_local/schedules/DispatcherFunction/run", json={"time": at}, timeout=60
    )
    assert ran.status_code == 200, ran.text
    assert ran.json()["result"]["fired"] >= 1
    inbox = [n for n in person.api.get("/v1/me/notifications").json()["items"] if n["kind"] == "reminder"]
    assert [n["data"]["planId"] for n in inbox] == [plan["planId"]]

    deadline = time.monotonic() + 15
    pushed: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not pushed:
        items = requests.get(local_stack["apiUrl"] + "/_local/push", timeout=5).json()["items"]
        pushed = [p for p in items if p["message"].get("data", {}).get("planId") == plan["planId"]]
        time.sleep(0.2)
    assert len(pushed) == 1, "one push, to the person's one device"
    again = requests.post(
        f"{local_stack['apiUrl']}/_local/schedules/DispatcherFunction/run", json={"time": at}, timeout=60
    )
    assert again.json()["result"]["fired"] == 0, "the same occurrence fires once"
