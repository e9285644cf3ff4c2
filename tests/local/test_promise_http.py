"""The promise log over HTTP against the local stack: two people, one promise, racing moves."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.support.stack import Person

ROUNDS = 4


def _with_profile(person: Person) -> str:
    handle = f"p{uuid.uuid4().hex[:12]}"
    reply = person.api.put(
        "/v1/me",
        json={
            "displayName": "Racer",
            "handle": handle,
            "currentLevel": "expert",
            "timeZone": "Europe/Lisbon",
        },
    )
    assert reply.status_code == 201, reply.text
    return handle


def _open(customer: Person, performer_handle: str) -> dict[str, Any]:
    reply = customer.api.post(
        "/v1/me/promises",
        json={
            "opening": "request",
            "counterpart": {"handle": performer_handle},
            "what": "Review the plan",
            "dueAt": "2027-01-15T17:00:00Z",
        },
    )
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _race(moves: list[tuple[Person, str, dict[str, Any]]]) -> list[requests.Response]:
    barrier = threading.Barrier(len(moves))

    def send(move: tuple[Person, str, dict[str, Any]]) -> requests.Response:
        person, path, body = move
        barrier.wait()
        return person.api.post(path, json=body)

    with ThreadPoolExecutor(max_workers=len(moves)) as pool:
        return list(pool.map(send, moves))


def test_both_sides_moving_at_once_one_wins_and_no_move_is_lost(make_person: Callable[[], Person]) -> None:
    """Customer withdraws while the performer promises: one 200, the other 409/412, one move logged."""
    customer, performer = make_person(), make_person()
    _with_profile(customer)
    performer_handle = _with_profile(performer)
    for _ in range(ROUNDS):
        promise = _open(customer, performer_handle)
        path = f"/v1/me/promises/{promise['promiseId']}/moves"
        withdraw, promise_move = _race(
            [(customer, path, {"act": "withdraw"}), (performer, path, {"act": "promise"})]
        )
        statuses = sorted([withdraw.status_code, promise_move.status_code])
        assert statuses[0] == 200, (withdraw.text, promise_move.text)
        assert statuses[1] in (409, 412), (withdraw.text, promise_move.text)
        winner = withdraw if withdraw.status_code == 200 else promise_move
        loser = promise_move if winner is withdraw else withdraw
        assert loser.headers["Content-Type"].startswith("application/problem+json")
        log = customer.api.get(path).json()["items"]
        assert [m["seq"] for m in log] == [1, 2], "exactly the opening and the winning move"
        assert log[1]["state"] == winner.json()["state"]
        for side in (customer, performer):
            seen = side.api.get(f"/v1/me/promises/{promise['promiseId']}").json()
            assert seen["state"] == winner.json()["state"]


def test_the_same_move_sent_twice_at_once_is_applied_once(make_person: Callable[[], Person]) -> None:
    """A double tap: the performer's `promise` arrives twice at the same moment."""
    customer, performer = make_person(), make_person()
    _with_profile(customer)
    performer_handle = _with_profile(performer)
    for _ in range(ROUNDS):
        promise = _open(customer, performer_handle)
        path = f"/v1/me/promises/{promise['promiseId']}/moves"
        replies = _race([(performer, path, {"act": "promise"}), (performer, path, {"act": "promise"})])
        assert sorted(r.status_code for r in replies)[0] == 200
        assert sorted(r.status_code for r in replies)[1] in (409, 412)
        log = performer.api.get(path).json()["items"]
        assert [m["act"] for m in log] == ["request", "promise"]


def test_the_person_asked_gets_an_inbox_item_and_a_push(
    make_person: Callable[[], Person], local_stack: dict[str, Any]
) -> None:
    """The move writes the inbox item; the notifier, fed by the table's stream, pushes it."""
    customer, performer = make_person(), make_person()
    _with_profile(customer)
    performer_handle = _with_profile(performer)
    token = uuid.uuid4().hex * 2
    device = performer.api.post("/v1/me/devices", json={"platform": "ios", "pushToken": token})
    assert device.status_code == 201, device.text
    promise = _open(customer, performer_handle)

    inbox = performer.api.get("/v1/me/notifications").json()["items"]
    assert [n["data"]["promiseId"] for n in inbox] == [promise["promiseId"]]

    deadline = time.monotonic() + 15
    pushed: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not pushed:
        items = requests.get(local_stack["apiUrl"] + "/_local/push", timeout=5).json()["items"]
        pushed = [p for p in items if p["message"].get("data", {}).get("promiseId") == promise["promiseId"]]
        time.sleep(0.2)
    assert len(pushed) == 1, "one push, to the performer's one device"
    assert pushed[0]["message"]["aps"]["alert"]["title"] == "You have a request"
