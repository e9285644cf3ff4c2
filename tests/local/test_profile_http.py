"""The profile API over HTTP against the local stack, as the app uses it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from tests.support.stack import Person


def _profile(handle: str) -> dict[str, str]:
    return {"displayName": "Racer", "handle": handle, "currentLevel": "manager", "timeZone": "Asia/Tokyo"}


def test_profile_lifecycle_over_http(person: Person) -> None:
    assert person.api.get("/v1/me").status_code == 404
    created = person.api.put("/v1/me", json=_profile(f"h{person.sub[:8].replace('-', '')}"))
    assert created.status_code == 201
    etag = created.headers["ETag"]
    patched = person.api.patch(
        "/v1/me",
        json={"timeZone": "Europe/Lisbon"},
        headers={"If-Match": etag, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200
    assert patched.json()["timeZone"] == "Europe/Lisbon"
    device = person.api.post("/v1/me/devices", json={"platform": "android", "pushToken": "fcm-token-123"})
    assert device.status_code == 201
    export = person.api.get("/v1/me/export").json()
    assert export["profile"]["timeZone"] == "Europe/Lisbon"
    assert [d["pushToken"] for d in export["devices"]] == ["fcm-token-123"]
    assert person.api.delete("/v1/me").status_code == 204
    assert person.api.get("/v1/me").status_code == 401, "the token outlives the account, not its access"


def test_two_people_racing_for_one_handle_one_wins(make_person: Callable[..., Person]) -> None:
    """Both PUT the same handle at the same moment: exactly one 201, the other 409, nothing lost."""
    for _ in range(5):
        people = [make_person() for _ in range(2)]
        handle = f"race{uuid.uuid4().hex[:10]}"
        barrier = threading.Barrier(len(people))

        def claim(person: Person, barrier: threading.Barrier = barrier, handle: str = handle) -> int:
            barrier.wait()
            return person.api.put("/v1/me", json=_profile(handle)).status_code

        with ThreadPoolExecutor(max_workers=len(people)) as pool:
            statuses = list(pool.map(claim, people))
        assert sorted(statuses) == [201, 409], statuses
        winner, loser = (people[0], people[1]) if statuses[0] == 201 else (people[1], people[0])
        assert winner.api.get("/v1/me").json()["handle"] == handle
        assert loser.api.get("/v1/me").status_code == 404
