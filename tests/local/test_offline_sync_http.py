"""An offline client against the local stack (issue 12), black box: it syncs, goes offline and
queues writes with its own ids, another device of the same person changes the same data
meanwhile, and the other side of a promise moves it. Back online the client replays its queue
(some writes twice, as after an answer lost on the way back), merges the 412s from what the
problem carries, pulls the changes, and ends with exactly the server's state."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.support.stack import ApiSession, Person, sign_in

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SYNC_TIMEOUT_SECONDS = 60


def ulid() -> str:
    """A ULID as an app makes it: 48 bits of milliseconds, 80 random bits, Crockford base32."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


@dataclass
class Write:
    """One queued offline write."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    if_match: tuple[str, str] | None = None  # (type, id) whose ETag it was made against
    merge: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # on 412: the body again


@dataclass
class OfflineClient:
    """What the app keeps: things by (type, id), their versions, a cursor, a queue of writes."""

    api: ApiSession
    things: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)
    cursor: str | None = None
    queue: list[Write] = field(default_factory=list)
    answers: list[requests.Response] = field(default_factory=list)

    def pull(self) -> int:
        """Pull until caught up; answers the entries applied."""
        applied = 0
        while True:
            params = {"limit": "50", **({"cursor": self.cursor} if self.cursor else {})}
            reply = self.api.get("/v1/me/changes", params=params)
            assert reply.status_code == 200, reply.text
            page = reply.json()
            for entry in page["items"]:
                name = (entry["type"], entry["id"])
                if entry["op"] == "upsert":
                    self.things[name] = entry["data"]
                    self.versions[name] = entry["version"]
                else:
                    self.things.pop(name, None)
                    self.versions.pop(name, None)
                applied += 1
            self.cursor = page["nextCursor"]
            if not page["hasMore"]:
                return applied

    def pull_until(self, holds: Callable[[OfflineClient], bool]) -> None:
        """Changes reach the log from the stream a moment after the write: pull until they show."""
        deadline = time.monotonic() + SYNC_TIMEOUT_SECONDS
        while True:
            self.pull()
            if holds(self):
                return
            assert time.monotonic() < deadline, "the change log did not catch up"
            time.sleep(0.3)

    def etag(self, name: tuple[str, str]) -> str:
        return f'"v{self.versions[name]}"'

    def send(self, write: Write) -> requests.Response:
        headers = {"If-Match": self.etag(write.if_match)} if write.if_match else {}
        reply = self.api.request(write.method, write.path, json=write.body, headers=headers)
        if reply.status_code == 412 and write.merge is not None:
            problem = reply.json()
            # The problem carries what is there now and its ETag: merge, send again, no GET.
            assert problem["etag"] == reply.headers["ETag"]
            body = write.merge(problem["current"])
            reply = self.api.request(
                write.method, write.path, json=body, headers={"If-Match": problem["etag"]}
            )
        self.answers.append(reply)
        return reply


def _profile(person: Person, name: str) -> str:
    handle = f"{name}{uuid.uuid4().hex[:10]}"
    body = {
        "displayName": name.title(),
        "handle": handle,
        "currentLevel": "expert",
        "timeZone": "Europe/Lisbon",
    }
    assert person.api.put("/v1/me", json=body).status_code == 201
    return handle


def _ok(reply: requests.Response, status: int = 200) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_an_offline_client_replays_merges_and_ends_with_the_servers_state(
    make_person: Callable[[], Person], local_stack: dict[str, Any], cognito: Any
) -> None:
    me, coach = make_person(), make_person()
    _profile(me, "me")
    coach_handle = _profile(coach, "coach")
    # The same person on a second device.
    tokens = sign_in(cognito, local_stack["userPoolClientId"], me.email, me.password)
    other_device = ApiSession(local_stack["apiUrl"], tokens["AccessToken"])

    care = _ok(me.api.post("/v1/me/cares", json={"statement": "Growing people", "domain": "others"}), 201)
    plan = _ok(
        me.api.post(
            "/v1/me/plans", json={"title": "Lead a team", "items": [{"kind": "course", "title": "Feedback"}]}
        ),
        201,
    )
    opened = {
        "opening": "request",
        "counterpart": {"handle": coach_handle},
        "what": "Review my plan",
        "dueAt": "2027-03-01T17:00:00Z",
    }
    promise = _ok(me.api.post("/v1/me/promises", json=opened), 201)
    _ok(coach.api.post(f"/v1/me/promises/{promise['promiseId']}/moves", json={"act": "promise"}))
    _ok(coach.api.post(f"/v1/me/promises/{promise['promiseId']}/moves", json={"act": "report_completion"}))

    app = OfflineClient(me.api)
    care_key = ("care", care["careId"])
    promise_key = ("promise", promise["promiseId"])
    app.pull_until(
        lambda c: care_key in c.things and c.things.get(promise_key, {}).get("state") == "reported"
    )
    assert ("planItem", plan["items"][0]["itemId"]) in app.things

    # Offline: the app queues writes with ids of its own.
    new_care, new_item, new_promise, new_move = ulid(), ulid(), ulid(), ulid()
    app.queue = [
        Write("POST", "/v1/me/cares", {"careId": new_care, "statement": "Writing", "domain": "self"}),
        Write(
            "PATCH",
            f"/v1/me/cares/{care['careId']}",
            {"valueForOthers": "They lead on their own"},
            if_match=care_key,
            merge=lambda current: {"valueForOthers": "They lead on their own"},
        ),
        Write(
            "POST",
            f"/v1/me/plans/{plan['planId']}/items",
            {"itemId": new_item, "kind": "practice", "title": "Weekly one-to-ones"},
        ),
        Write("POST", "/v1/me/promises", {**opened, "promiseId": new_promise, "what": "Mock interview"}),
        Write(
            "POST",
            f"/v1/me/promises/{promise['promiseId']}/moves",
            {"moveId": new_move, "act": "declare_satisfied", "note": "Thank you"},
        ),
    ]
    # Meanwhile my other device edits the same care and adds a care of its own.
    _ok(other_device.patch(f"/v1/me/cares/{care['careId']}", json={"statement": "Growing leaders"}))
    _ok(other_device.post("/v1/me/cares", json={"statement": "Family", "domain": "self"}), 201)

    # Back online: replay. Each create is sent twice, as if the first answer had been lost.
    for write in app.queue:
        first = app.send(write)
        assert first.status_code in (200, 201), (write.path, first.text)
        if write.method == "POST":
            again = app.send(write)
            assert again.status_code == first.status_code, (write.path, again.text)
            assert again.json() == first.json() or write.path.endswith("/moves"), write.path
    # The edit made against an old ETag was merged from the 412's body and applied once.
    merged = _ok(me.api.get(f"/v1/me/cares/{care['careId']}"))
    assert merged["statement"] == "Growing leaders"
    assert merged["valueForOthers"] == "They lead on their own"

    # Pull, then compare with what the server shows, thing by thing.
    def server_state() -> dict[tuple[str, str], dict[str, Any]]:
        shown: dict[tuple[str, str], dict[str, Any]] = {}
        for c in _ok(me.api.get("/v1/me/cares", params={"limit": "100"}))["items"]:
            shown[("care", c["careId"])] = strip_nulls(c)
        for p in _ok(me.api.get("/v1/me/promises"))["items"]:
            full = _ok(me.api.get(f"/v1/me/promises/{p['promiseId']}"))
            shown[("promise", p["promiseId"])] = strip_nulls(full)
            for m in _ok(me.api.get(f"/v1/me/promises/{p['promiseId']}/moves"))["items"]:
                shown[("move", f"{p['promiseId']}.{m['seq']}")] = {
                    **strip_nulls(m),
                    "promiseId": p["promiseId"],
                }
        whole = _ok(me.api.get(f"/v1/me/plans/{plan['planId']}"))
        for item in whole["items"]:
            shown[("planItem", item["itemId"])] = {**strip_nulls(item), "planId": plan["planId"]}
        return shown

    wanted = server_state()
    assert ("care", new_care) in wanted
    assert ("planItem", new_item) in wanted
    assert ("promise", new_promise) in wanted
    assert wanted[promise_key]["state"] == "fulfilled"

    def matches(client: OfflineClient) -> bool:
        return all(client.things.get(name) == shown for name, shown in wanted.items())

    app.pull_until(matches)
    kinds = {"care", "promise", "move", "planItem"}
    held = {name: data for name, data in app.things.items() if name[0] in kinds}
    assert held == wanted, "exactly the server's state: nothing missing, nothing extra"
    # Each offline create made one thing, whatever the replays.
    assert sum(1 for name in held if name == ("care", new_care)) == 1
    moves = [m for name, m in held.items() if name[0] == "move" and m["promiseId"] == promise["promiseId"]]
    assert [m["act"] for m in sorted(moves, key=lambda m: m["seq"])] == [
        "request",
        "promise",
        "report_completion",
        "declare_satisfied",
    ]
    other_device.close()
