"""Fairness under abuse, over HTTP against the local stack (issue 13): one client hammering a
costly or public route is refused with 429 and `Retry-After` while everyone else is served.

The local gateway does not emulate the HTTP API's route throttles, so every 429 here is the
per-person or per-link limit's (`shared.api.ratelimit`), with its problem document.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from shared.api import ratelimit
from shared.api.ratelimit import COUNTERPART_LINK, EXPORT
from shared.store import keys
from tests.support.stack import Person


def _assert_limited(reply: requests.Response, window_seconds: int, what: str) -> None:
    assert reply.status_code == 429, reply.text
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    retry_after = int(reply.headers["Retry-After"])
    assert 1 <= retry_after <= window_seconds, retry_after
    problem = reply.json()
    assert problem["type"].endswith("/too-many-requests")
    assert problem["status"] == 429
    assert what in problem["detail"], problem["detail"]


def test_one_person_hammering_the_export_is_refused_and_another_is_served(
    make_person: Callable[[], Person],
) -> None:
    ana, bea = make_person(), make_person()
    attempts = 3 * EXPORT.requests
    started = time.time()
    # One client, many requests at once: the conditional counter lets exactly the limit through.
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: ana.api.get("/v1/me/export"), range(attempts)))
    finished = time.time()
    statuses = Counter(r.status_code for r in replies)
    assert set(statuses) == {200, 429}, statuses
    subject = keys.user_pk(ana.sub)
    same_window = ratelimit.window_of(EXPORT, subject, started) == ratelimit.window_of(
        EXPORT, subject, finished
    )
    if same_window:
        assert statuses[200] == EXPORT.requests, statuses
    else:  # the hammer straddled the edge of ana's window: at most one more window's worth
        assert EXPORT.requests <= statuses[200] <= 2 * EXPORT.requests, statuses
    refused = next(r for r in replies if r.status_code == 429)
    _assert_limited(refused, EXPORT.window_seconds, "exports of an account")

    served = bea.api.get("/v1/me/export")
    assert served.status_code == 200, served.text
    assert served.json()["profile"] is None
    assert ana.api.get("/v1/me/export").status_code == 429, "still refused: the window has not ended"


def _offer_with_link(person: Person) -> str:
    """An offer to someone outside the app and its counterpart link's URL."""
    offer = person.api.post(
        "/v1/me/promises",
        json={
            "opening": "offer",
            "counterpart": {"name": "Olga Outside", "email": "olga.outside@example.org"},
            "what": "Coach your new team lead",
            "dueAt": "2027-02-15T17:00:00Z",
        },
    )
    assert offer.status_code == 201, offer.text
    link = person.api.post(f"/v1/me/promises/{offer.json()['promiseId']}/counterpart-link")
    assert link.status_code == 201, link.text
    url: str = link.json()["url"]
    return url


def test_one_client_hammering_a_counterpart_link_is_refused_and_another_link_is_served(
    person: Person,
) -> None:
    handle = f"r{uuid.uuid4().hex[:12]}"
    profile: dict[str, Any] = {
        "displayName": "Rate Limited",
        "handle": handle,
        "currentLevel": "expert",
        "timeZone": "Europe/Lisbon",
    }
    assert person.api.put("/v1/me", json=profile).status_code == 201
    hammered, other = _offer_with_link(person), _offer_with_link(person)
    with requests.Session() as outsider:
        # Two windows' worth and one: a 429 must come even if the hammer straddles a window's edge.
        replies = []
        for _ in range(2 * COUNTERPART_LINK.requests + 1):
            reply = outsider.get(hammered, timeout=30)
            replies.append(reply)
            if reply.status_code != 200:
                break
        assert replies[-1].status_code == 429, (len(replies), replies[-1].text)
        assert len(replies) > COUNTERPART_LINK.requests, "the link's holder got the whole limit first"
        _assert_limited(replies[-1], COUNTERPART_LINK.window_seconds, "requests through one link")

        served = outsider.get(other, timeout=30)
        assert served.status_code == 200, served.text
        assert served.json()["counterpart"]["handle"] == handle
        moved = outsider.post(other + "/moves", json={"act": "accept"}, timeout=30)
        assert moved.status_code == 200, moved.text
