"""The promise function on moto: opening, the conversation for action, the log, assessments, lists,
notifications, the care map and the journey (issue 4, CONTRACT.md's promise routes).

People are real: a Cognito user with a profile (and its handle) made through the profile
function, and cares made through the care function.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from functions.care.app import lambda_handler as care_handler
from functions.plan.app import lambda_handler as plan_handler
from functions.promise.app import lambda_handler as promise_handler
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.store.notifications import list_notifications
from tests.handler.conftest import profile_or_account
from tests.support.aws import Aws, Reply, http_event, invoke

# --- people ------------------------------------------------------------------------------------


@dataclass
class Person:
    """A signed-in person with a profile (and so a handle), calling the promise function."""

    aws: Aws
    sub: str
    username: str
    handle: str

    def __call__(self, method: str, path: str, **kwargs: Any) -> Reply:
        return invoke(
            promise_handler, http_event(method, path, user=self.sub, username=self.username, **kwargs)
        )

    def care(self, method: str, path: str, **kwargs: Any) -> Reply:
        return invoke(care_handler, http_event(method, path, user=self.sub, username=self.username, **kwargs))

    def profile(self, method: str, path: str, **kwargs: Any) -> Reply:
        return invoke(
            profile_or_account(path),
            http_event(method, path, user=self.sub, username=self.username, **kwargs),
        )

    def plan(self, method: str, path: str, **kwargs: Any) -> Reply:
        return invoke(plan_handler, http_event(method, path, user=self.sub, username=self.username, **kwargs))


def new_person(aws: Aws, name: str = "p") -> Person:
    """A Cognito user with a profile whose handle is unique (lowercase)."""
    sub, username = aws.create_user()
    handle = f"{name}_{uuid.uuid4().hex[:8]}"
    person = Person(aws, sub, username, handle)
    reply = person.profile(
        "PUT",
        "/v1/me",
        body={
            "displayName": name.title(),
            "handle": handle,
            "currentLevel": "expert",
            "timeZone": "Europe/Lisbon",
        },
    )
    assert reply.status == 201, reply.body
    return person


@pytest.fixture
def make_person(aws: Aws) -> Callable[[str], Person]:
    def make(name: str = "p") -> Person:
        return new_person(aws, name)

    return make


@pytest.fixture
def ana(make_person: Callable[[str], Person]) -> Person:
    return make_person("ana")


@pytest.fixture
def bea(make_person: Callable[[str], Person]) -> Person:
    return make_person("bea")


@pytest.fixture
def cai(make_person: Callable[[str], Person]) -> Person:
    return make_person("cai")


# --- a clock the promise function reads ---------------------------------------------------------


@dataclass
class Clock:
    """The time `functions.promise.app` sees as now; moves happen when the test says."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text.replace("Z", "+00:00"))

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock(datetime(2026, 3, 10, 9, 0, 0, tzinfo=UTC))
    monkeypatch.setattr("functions.promise.app.utc_now", fixed)
    return fixed


# --- helpers -----------------------------------------------------------------------------------


def due(days: float) -> str:
    """A due time `days` from now (real time), to the second."""
    return to_rfc3339(utc_now() + timedelta(days=days))


def opening_body(
    counterpart: Person | dict[str, Any] | str, opening: str = "request", **fields: Any
) -> dict[str, Any]:
    """A valid POST /v1/me/promises body; a Person is named by their handle."""
    if isinstance(counterpart, Person):
        party: dict[str, Any] = {"handle": counterpart.handle}
    elif isinstance(counterpart, str):
        party = {"handle": counterpart}
    else:
        party = counterpart
    body: dict[str, Any] = {
        "opening": opening,
        "counterpart": party,
        "what": "Review the onboarding guide",
        "conditions": ["Comments on every section"],
        "dueAt": due(7),
        "size": {"people": 2, "horizonDays": 7, "scope": "team"},
    }
    body.update(fields)
    return body


def open_promise(
    opener: Person, counterpart: Person | dict[str, Any] | str, opening: str = "request", **fields: Any
) -> dict[str, Any]:
    reply = opener("POST", "/v1/me/promises", body=opening_body(counterpart, opening, **fields))
    assert reply.status == 201, reply.body
    body: dict[str, Any] = reply.body
    return body


def move(person: Person, promise_id: str, act: str, **fields: Any) -> Reply:
    headers = fields.pop("headers", None)
    return person("POST", f"/v1/me/promises/{promise_id}/moves", body={"act": act, **fields}, headers=headers)


def moved(person: Person, promise_id: str, act: str, **fields: Any) -> dict[str, Any]:
    reply = move(person, promise_id, act, **fields)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def get(person: Person, promise_id: str) -> dict[str, Any]:
    reply = person("GET", f"/v1/me/promises/{promise_id}")
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def log_of(person: Person, promise_id: str) -> list[dict[str, Any]]:
    reply = person("GET", f"/v1/me/promises/{promise_id}/moves", query={"limit": "100"})
    assert reply.status == 200, reply.body
    assert reply.body["nextCursor"] is None
    items: list[dict[str, Any]] = reply.body["items"]
    return items


def listed(person: Person, **query: str) -> list[str]:
    """Every promise id of a list (all pages), in the order the API gives them."""
    ids: list[str] = []
    params = dict(query)
    while True:
        reply = person("GET", "/v1/me/promises", query=params)
        assert reply.status == 200, reply.body
        ids += [p["promiseId"] for p in reply.body["items"]]
        if reply.body["nextCursor"] is None:
            return ids
        params = {**query, "cursor": reply.body["nextCursor"]}


def create_care(person: Person, statement: str) -> str:
    reply = person.care("POST", "/v1/me/cares", body={"statement": statement, "domain": "others"})
    assert reply.status == 201, reply.body
    return str(reply.body["careId"])


def care_map(person: Person) -> dict[str, dict[str, int]]:
    reply = person.care("GET", "/v1/me/care-map")
    assert reply.status == 200, reply.body
    return {e["careId"]: e["promises"] for e in reply.body["items"]}


def present(party: dict[str, Any]) -> dict[str, Any]:
    """A party without its absent (null) fields."""
    return {k: v for k, v in party.items() if v is not None}


def error_fields(reply: Reply) -> list[str]:
    return [e["field"] for e in reply.problem["errors"]]


def promise_items(aws: Aws) -> list[dict[str, Any]]:
    """Every item the promise log writes (promises, moves, memberships, assessments, journey, links)."""
    return [
        i
        for i in aws.all_items()
        if str(i.get("entity", "")).startswith(("promise", "journey")) or i.get("kind") == "promise"
    ]


def inbox(person: Person) -> list[dict[str, Any]]:
    items, _ = list_notifications(person.sub, 50, None)
    return items


ASSESSMENT = {
    "value": 4,
    "enabled": "I could hand the guide to new hires",
    "evidence": "three hires onboarded",
}

# --- opening -----------------------------------------------------------------------------------


def test_a_request_waits_on_the_performer(ana: Person, bea: Person) -> None:
    reply = ana("POST", "/v1/me/promises", body=opening_body(bea, "request", careIds=[]))
    assert reply.status == 201, reply.body
    opened = reply.body
    assert reply.headers["Location"] == f"/v1/me/promises/{opened['promiseId']}"
    assert reply.headers["ETag"] == '"v1"'
    assert opened["opening"] == "request"
    assert opened["state"] == "requested"
    assert opened["myRole"] == "customer"
    assert opened["waitingOn"] == "performer"
    assert opened["allowedActs"] == ["withdraw"]
    assert present(opened["customer"]) == {"kind": "user", "handle": ana.handle, "isMe": True}
    assert present(opened["performer"]) == {"kind": "user", "handle": bea.handle, "isMe": False}
    assert opened["what"] == "Review the onboarding guide"
    assert opened["conditions"] == ["Comments on every section"]
    assert opened["size"] == {"people": 2, "horizonDays": 7, "scope": "team"}
    assert opened["assessment"] is None
    for secret in ("userId", ana.sub, bea.sub):
        assert secret not in str(opened)

    seen = get(bea, opened["promiseId"])
    assert seen["state"] == "requested"
    assert seen["myRole"] == "performer"
    assert seen["allowedActs"] == ["counter", "decline", "promise"]
    assert seen["waitingOn"] == "performer"
    assert seen["customer"]["isMe"] is False
    assert seen["performer"]["isMe"] is True


def test_an_offer_waits_on_the_customer(ana: Person, bea: Person) -> None:
    opened = open_promise(ana, bea, "offer")
    assert opened["state"] == "offered"
    assert opened["myRole"] == "performer"
    assert opened["waitingOn"] == "customer"
    assert opened["allowedActs"] == ["withdraw"]
    assert opened["performer"]["handle"] == ana.handle
    assert opened["customer"]["handle"] == bea.handle
    seen = get(bea, opened["promiseId"])
    assert (seen["myRole"], seen["allowedActs"]) == ("customer", ["accept", "counter", "decline"])


def test_a_self_logged_promise_opens_promised(ana: Person, bea: Person) -> None:
    opened = open_promise(ana, bea, "promise")
    assert opened["opening"] == "promise"
    assert opened["state"] == "promised"
    assert opened["myRole"] == "performer"
    assert opened["waitingOn"] == "performer"
    assert opened["allowedActs"] == ["report_completion", "revoke"]
    seen = get(bea, opened["promiseId"])
    assert (seen["myRole"], seen["allowedActs"]) == ("customer", ["cancel"])
    assert [(m["act"], m["role"], m["state"]) for m in log_of(ana, opened["promiseId"])] == [
        ("self_log", "performer", "promised")
    ]


@pytest.mark.parametrize(
    ("opening", "my_role", "state"),
    [
        ("request", "customer", "requested"),
        ("offer", "performer", "offered"),
        ("promise", "performer", "promised"),
    ],
)
def test_opening_with_an_outside_person(ana: Person, opening: str, my_role: str, state: str) -> None:
    outside = {"name": "Carla Dias", "email": "carla@example.com"}
    opened = open_promise(ana, outside, opening)
    assert opened["state"] == state
    assert opened["myRole"] == my_role
    other = "performer" if my_role == "customer" else "customer"
    assert present(opened[other]) == {
        "kind": "outside",
        "name": "Carla Dias",
        "email": "carla@example.com",
        "isMe": False,
    }
    assert present(opened[my_role]) == {"kind": "user", "handle": ana.handle, "isMe": True}
    (summary,) = ana("GET", "/v1/me/promises").body["items"]
    assert present(summary["counterpart"]) == present(opened[other])


def test_an_outside_person_without_email(ana: Person) -> None:
    opened = open_promise(ana, {"name": "Dan"}, "request")
    assert present(opened["performer"]) == {"kind": "outside", "name": "Dan", "isMe": False}


def test_the_counterpart_handle_is_case_insensitive(ana: Person, bea: Person) -> None:
    opened = open_promise(ana, bea.handle.upper(), "request")
    assert opened["performer"]["handle"] == bea.handle
    assert get(bea, opened["promiseId"])["myRole"] == "performer"


def test_an_unknown_handle_is_422_on_counterpart_handle(ana: Person) -> None:
    reply = ana("POST", "/v1/me/promises", body=opening_body("nobody_by_that_name"))
    assert reply.status == 422
    assert error_fields(reply) == ["counterpart.handle"]
    assert "nobody_by_that_name" not in str(reply.body)
    assert promise_items(ana.aws) == []


def test_my_own_handle_is_422_on_counterpart_handle(ana: Person) -> None:
    reply = ana("POST", "/v1/me/promises", body=opening_body(ana.handle.upper()))
    assert reply.status == 422
    assert error_fields(reply) == ["counterpart.handle"]
    assert promise_items(ana.aws) == []


def test_another_persons_care_is_422_and_nothing_is_written(ana: Person, bea: Person) -> None:
    theirs = create_care(bea, "Bea's care")
    reply = ana("POST", "/v1/me/promises", body=opening_body(bea, careIds=[theirs]))
    assert reply.status == 422, reply.body
    assert error_fields(reply) == ["careIds.0"]
    assert promise_items(ana.aws) == []
    assert listed(ana) == []
    assert listed(bea) == []
    assert inbox(bea) == []


def test_an_unknown_care_is_422_naming_its_index(ana: Person, bea: Person) -> None:
    mine = create_care(ana, "Mine")
    reply = ana("POST", "/v1/me/promises", body=opening_body(bea, careIds=[mine, "01UNKNOWNCARE"]))
    assert reply.status == 422, reply.body
    assert error_fields(reply) == ["careIds.1"]
    assert promise_items(ana.aws) == []
    assert care_map(ana)[mine] == {"open": 0, "fulfilled": 0}


def test_a_care_named_twice_is_422(ana: Person, bea: Person) -> None:
    mine = create_care(ana, "Mine")
    reply = ana("POST", "/v1/me/promises", body=opening_body(bea, careIds=[mine, mine]))
    assert reply.status == 422
    assert error_fields(reply) == ["careIds"]
    assert promise_items(ana.aws) == []


def test_a_third_person_sees_nothing(ana: Person, bea: Person, cai: Person) -> None:
    opened = open_promise(ana, bea)
    pid = opened["promiseId"]
    moved(bea, pid, "promise")
    moved(bea, pid, "report_completion")
    before = log_of(ana, pid)

    assert cai("GET", f"/v1/me/promises/{pid}").status == 404
    assert cai("GET", f"/v1/me/promises/{pid}/moves").status == 404
    for act in ("cancel", "declare_satisfied", "report_completion", "withdraw"):
        assert move(cai, pid, act).status == 404
    assert cai("POST", f"/v1/me/promises/{pid}/assessment", body=ASSESSMENT).status == 404
    assert cai("POST", f"/v1/me/promises/{pid}/self-assessment", body={"value": 3}).status == 404
    assert listed(cai) == []
    assert log_of(ana, pid) == before
    assert get(ana, pid)["assessment"] is None


def test_an_unknown_promise_is_404(ana: Person) -> None:
    assert ana("GET", "/v1/me/promises/01NOSUCHPROMISE").status == 404
    assert ana("GET", "/v1/me/promises/01NOSUCHPROMISE/moves").status == 404
    assert move(ana, "01NOSUCHPROMISE", "cancel").status == 404


# --- the conversation --------------------------------------------------------------------------


def _expect(person: Person, pid: str, state: str, allowed: list[str], waiting: str | None) -> dict[str, Any]:
    seen = get(person, pid)
    assert (seen["state"], seen["allowedActs"], seen["waitingOn"]) == (state, allowed, waiting), seen
    return seen


def test_a_full_conversation_and_its_log(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea, conditions=["Draft"], dueAt="2030-01-10T12:00:00Z", note="Please")[
        "promiseId"
    ]
    logs = [log_of(ana, pid)]
    etags = [ana("GET", f"/v1/me/promises/{pid}").headers["ETag"]]

    def step(person: Person, act: str, **fields: Any) -> dict[str, Any]:
        reply = move(person, pid, act, **fields)
        assert reply.status == 200, reply.body
        assert reply.body["myRole"] == ("customer" if person is ana else "performer")
        etags.append(reply.headers["ETag"])
        assert person("GET", f"/v1/me/promises/{pid}").headers["ETag"] == reply.headers["ETag"]
        log = log_of(ana, pid)
        assert log[:-1] == logs[-1], "the log is append-only"
        assert len(log) == len(logs[-1]) + 1
        logs.append(log)
        body: dict[str, Any] = reply.body
        return body

    after = step(bea, "counter", conditions=["Draft", "Two reviewers"], dueAt="2030-01-12T12:00:00+02:00")
    assert after["state"] == "countered"
    assert after["conditions"] == ["Draft", "Two reviewers"]
    assert after["dueAt"] == "2030-01-12T10:00:00Z"
    _expect(ana, pid, "countered", ["accept", "counter", "decline"], "customer")
    _expect(bea, pid, "countered", ["withdraw"], "customer")

    step(ana, "counter", conditions=["Draft", "One reviewer"], note="One is enough")
    seen = _expect(bea, pid, "requested", ["counter", "decline", "promise"], "performer")
    assert seen["conditions"] == ["Draft", "One reviewer"]
    assert seen["dueAt"] == "2030-01-12T10:00:00Z", "a counter without dueAt keeps it"

    step(bea, "counter", dueAt="2030-01-15T12:00:00Z")
    _expect(ana, pid, "countered", ["accept", "counter", "decline"], "customer")

    step(ana, "accept", note="Deal")
    _expect(ana, pid, "promised", ["cancel"], "performer")
    _expect(bea, pid, "promised", ["report_completion", "revoke"], "performer")

    step(bea, "report_completion", note="Done, see the doc")
    _expect(ana, pid, "reported", ["cancel", "declare_not_satisfied", "declare_satisfied"], "customer")
    _expect(bea, pid, "reported", [], "customer")

    step(ana, "declare_not_satisfied", conditions=["Section 3 still open"], dueAt="2030-01-20T12:00:00Z")
    seen = _expect(bea, pid, "promised", ["report_completion", "revoke"], "performer")
    assert seen["conditions"] == ["Section 3 still open"]
    assert seen["dueAt"] == "2030-01-20T12:00:00Z"

    step(bea, "report_completion")
    _expect(ana, pid, "reported", ["cancel", "declare_not_satisfied", "declare_satisfied"], "customer")

    final = step(ana, "declare_satisfied")
    assert final["state"] == "fulfilled"
    _expect(ana, pid, "fulfilled", [], None)
    _expect(bea, pid, "fulfilled", [], None)

    assert etags == [f'"v{n}"' for n in range(1, 10)], "every move is a new version"

    log = logs[-1]
    assert [m["seq"] for m in log] == list(range(1, 10))
    assert [(m["by"]["handle"], m["role"], m["act"], m["state"]) for m in log] == [
        (ana.handle, "customer", "request", "requested"),
        (bea.handle, "performer", "counter", "countered"),
        (ana.handle, "customer", "counter", "requested"),
        (bea.handle, "performer", "counter", "countered"),
        (ana.handle, "customer", "accept", "promised"),
        (bea.handle, "performer", "report_completion", "reported"),
        (ana.handle, "customer", "declare_not_satisfied", "promised"),
        (bea.handle, "performer", "report_completion", "reported"),
        (ana.handle, "customer", "declare_satisfied", "fulfilled"),
    ]
    assert [m["by"]["isMe"] for m in log] == [m["role"] == "customer" for m in log]
    assert [m["by"]["isMe"] for m in log_of(bea, pid)] == [m["role"] == "performer" for m in log]
    assert [m["conditions"] for m in log] == [
        ["Draft"],
        ["Draft", "Two reviewers"],
        ["Draft", "One reviewer"],
        None,
        None,
        None,
        ["Section 3 still open"],
        None,
        None,
    ]
    assert [m["dueAt"] for m in log] == [
        "2030-01-10T12:00:00Z",
        "2030-01-12T10:00:00Z",
        None,
        "2030-01-15T12:00:00Z",
        None,
        None,
        "2030-01-20T12:00:00Z",
        None,
        None,
    ]
    assert [m["note"] for m in log][:6] == [
        "Please",
        None,
        "One is enough",
        None,
        "Deal",
        "Done, see the doc",
    ]
    assert all(m["at"].endswith("Z") for m in log)
    for secret in ("actorId", ana.sub, bea.sub):
        assert secret not in str(log)
    both = [{**m, "by": {**m["by"], "isMe": None}} for m in log]
    assert both == [{**m, "by": {**m["by"], "isMe": None}} for m in log_of(bea, pid)], "one log, two views"


def test_the_log_pages_oldest_first(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    moved(bea, pid, "counter")
    moved(ana, pid, "counter")
    moved(bea, pid, "promise")
    first = ana("GET", f"/v1/me/promises/{pid}/moves", query={"limit": "3"})
    assert [m["seq"] for m in first.body["items"]] == [1, 2, 3]
    assert first.body["nextCursor"]
    rest = ana(
        "GET", f"/v1/me/promises/{pid}/moves", query={"limit": "3", "cursor": first.body["nextCursor"]}
    )
    assert [m["seq"] for m in rest.body["items"]] == [4]
    # The cursor is bound to the person: bea cannot use ana's.
    foreign = bea("GET", f"/v1/me/promises/{pid}/moves", query={"cursor": first.body["nextCursor"]})
    assert foreign.status == 422


def test_an_illegal_act_is_409_listing_what_get_shows(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    for person, act in ((ana, "promise"), (ana, "declare_satisfied"), (bea, "accept"), (bea, "withdraw")):
        reply = move(person, pid, act)
        assert reply.status == 409, (act, reply.body)
        assert reply.problem["allowedActs"] == get(person, pid)["allowedActs"]
        assert reply.problem["allowedActs"]
    assert len(log_of(ana, pid)) == 1
    assert get(ana, pid)["state"] == "requested"


def test_no_move_while_the_other_side_is_to_answer(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea, "promise")["promiseId"]
    moved(ana, pid, "report_completion")
    assert get(ana, pid)["allowedActs"] == []
    reply = move(ana, pid, "revoke")
    assert reply.status == 409
    assert reply.problem["allowedActs"] == []
    assert get(bea, pid)["allowedActs"] == ["cancel", "declare_not_satisfied", "declare_satisfied"]


def test_an_illegal_act_with_revised_conditions_is_still_409(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    reply = move(ana, pid, "accept", conditions=["Mine"])
    assert reply.status == 409
    assert reply.problem["allowedActs"] == ["withdraw"]


def _to_final(ana: Person, bea: Person, final: str) -> str:
    """A promise of ana (customer) and bea (performer) driven to `final`."""
    pid = str(open_promise(ana, bea)["promiseId"])
    if final == "declined":
        moved(bea, pid, "decline")
    elif final == "withdrawn":
        moved(ana, pid, "withdraw")
    else:
        moved(bea, pid, "promise")
        if final == "revoked":
            moved(bea, pid, "revoke")
        elif final == "cancelled":
            moved(ana, pid, "cancel")
        else:
            moved(bea, pid, "report_completion")
            moved(ana, pid, "declare_satisfied")
    return pid


@pytest.mark.parametrize("final", ["fulfilled", "revoked", "declined", "withdrawn", "cancelled"])
def test_a_final_promise_takes_no_move(ana: Person, bea: Person, final: str) -> None:
    pid = _to_final(ana, bea, final)
    length = len(log_of(ana, pid))
    for person in (ana, bea):
        seen = get(person, pid)
        assert (seen["state"], seen["allowedActs"], seen["waitingOn"]) == (final, [], None)
        for act in ("promise", "accept", "cancel", "report_completion", "declare_satisfied", "withdraw"):
            reply = move(person, pid, act)
            assert reply.status == 409, (final, act, reply.body)
            assert reply.problem["allowedActs"] == []
    assert len(log_of(ana, pid)) == length


def test_conditions_on_an_act_that_cannot_revise_them_is_422(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    moved(bea, pid, "counter", conditions=["Counter terms"])
    reply = move(ana, pid, "accept", conditions=["Other terms"])
    assert reply.status == 422
    assert error_fields(reply) == ["conditions"]
    reply = move(ana, pid, "decline", conditions=["x"], dueAt="2030-01-01T00:00:00Z")
    assert reply.status == 422
    assert sorted(error_fields(reply)) == ["conditions", "dueAt"]
    moved(ana, pid, "accept")
    reply = move(bea, pid, "report_completion", dueAt="2030-01-01T00:00:00Z")
    assert reply.status == 422
    assert error_fields(reply) == ["dueAt"]
    seen = get(ana, pid)
    assert (seen["state"], seen["conditions"]) == ("promised", ["Counter terms"])
    assert len(log_of(ana, pid)) == 3


def test_a_stale_if_match_is_412_and_writes_nothing(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    stale = ana("GET", f"/v1/me/promises/{pid}").headers["ETag"]
    counter = move(bea, pid, "counter", headers={"If-Match": stale})
    assert counter.status == 200
    assert counter.headers["ETag"] == '"v2"'
    before = log_of(ana, pid)

    reply = move(ana, pid, "accept", headers={"If-Match": stale})
    assert reply.status == 412
    assert log_of(ana, pid) == before
    assert get(ana, pid)["state"] == "countered"
    assert ana("GET", f"/v1/me/promises/{pid}").headers["ETag"] == '"v2"'

    fresh = move(ana, pid, "accept", headers={"If-Match": '"v2"'})
    assert fresh.status == 200
    assert fresh.headers["ETag"] == '"v3"'


def test_idempotent_opening_creates_one_promise(ana: Person, bea: Person) -> None:
    body = opening_body(bea)
    first = ana("POST", "/v1/me/promises", body=body, headers={"Idempotency-Key": "open-1"})
    again = ana("POST", "/v1/me/promises", body=body, headers={"Idempotency-Key": "open-1"})
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Location"] == first.headers["Location"]
    assert listed(ana) == [first.body["promiseId"]]
    assert listed(bea) == [first.body["promiseId"]]
    assert len(inbox(bea)) == 1
    other = ana(
        "POST", "/v1/me/promises", body={**body, "what": "Else"}, headers={"Idempotency-Key": "open-1"}
    )
    assert other.status == 422
    assert error_fields(other) == ["Idempotency-Key"]


def test_idempotent_move_is_applied_once(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    first = move(bea, pid, "counter", conditions=["Later"], headers={"Idempotency-Key": "mv-1"})
    again = move(bea, pid, "counter", conditions=["Later"], headers={"Idempotency-Key": "mv-1"})
    assert first.status == again.status == 200
    assert again.body == first.body
    assert [m["act"] for m in log_of(ana, pid)] == ["request", "counter"]
    assert get(ana, pid)["state"] == "countered"
    assert ana("GET", f"/v1/me/promises/{pid}").headers["ETag"] == '"v2"'


# --- assessments -------------------------------------------------------------------------------


def test_the_customer_assesses_once_after_the_report(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    moved(bea, pid, "promise")
    early = ana("POST", f"/v1/me/promises/{pid}/assessment", body=ASSESSMENT)
    assert early.status == 409, "nothing was reported yet"

    moved(bea, pid, "report_completion")
    by_performer = bea("POST", f"/v1/me/promises/{pid}/assessment", body=ASSESSMENT)
    assert by_performer.status == 409, "only the customer assesses"

    kept = ana("POST", f"/v1/me/promises/{pid}/assessment", body=ASSESSMENT)
    assert kept.status == 201, kept.body
    assert kept.body["value"] == 4
    assert kept.body["enabled"] == ASSESSMENT["enabled"]
    assert kept.body["evidence"] == ASSESSMENT["evidence"]
    assert kept.body["assessedAt"].endswith("Z")
    for person in (ana, bea):
        assert get(person, pid)["assessment"] == kept.body

    second = ana("POST", f"/v1/me/promises/{pid}/assessment", body={**ASSESSMENT, "value": 1})
    assert second.status == 409
    assert get(ana, pid)["assessment"]["value"] == 4


@pytest.mark.parametrize("value", [0, 6, -1, 4.5, None])
def test_an_assessment_value_outside_1_to_5_is_422(ana: Person, bea: Person, value: Any) -> None:
    pid = open_promise(ana, bea, "promise")["promiseId"]
    moved(ana, pid, "report_completion")
    reply = bea("POST", f"/v1/me/promises/{pid}/assessment", body={**ASSESSMENT, "value": value})
    assert reply.status == 422
    assert error_fields(reply) == ["value"]
    assert get(bea, pid)["assessment"] is None


def test_an_assessment_needs_what_it_enabled(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea, "promise")["promiseId"]
    moved(ana, pid, "report_completion")
    reply = bea("POST", f"/v1/me/promises/{pid}/assessment", body={"value": 3})
    assert reply.status == 422
    assert error_fields(reply) == ["enabled"]


def test_the_self_assessment_is_the_performers_alone(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    moved(bea, pid, "promise")
    assert bea("POST", f"/v1/me/promises/{pid}/self-assessment", body={"value": 5}).status == 409
    moved(bea, pid, "report_completion")
    assert ana("POST", f"/v1/me/promises/{pid}/self-assessment", body={"value": 5}).status == 409
    kept = bea("POST", f"/v1/me/promises/{pid}/self-assessment", body={"value": 5, "note": "Proud of it"})
    assert kept.status == 201, kept.body
    assert get(bea, pid)["selfAssessment"] == kept.body
    assert get(bea, pid)["assessment"] is None, "kept apart from the customer's"
    assert get(ana, pid)["selfAssessment"] is None
    assert "Proud of it" not in str(ana("GET", f"/v1/me/promises/{pid}").body)
    assert "Proud of it" not in str(ana("GET", f"/v1/me/promises/{pid}/moves").body)
    assert bea("POST", f"/v1/me/promises/{pid}/self-assessment", body={"value": 1}).status == 409
    # The customer's assessment is still open to them.
    assert ana("POST", f"/v1/me/promises/{pid}/assessment", body=ASSESSMENT).status == 201


# --- lists -------------------------------------------------------------------------------------


@dataclass
class Lists:
    """Ana's promises for the list tests, by name (L1 due first ... L6 due last)."""

    ids: dict[str, str]
    base: datetime
    care1: str
    care2: str

    def __call__(self, *names: str) -> list[str]:
        return [self.ids[n] for n in names]


@pytest.fixture
def lists(ana: Person, bea: Person) -> Lists:
    base = utc_now().replace(microsecond=0) + timedelta(days=10)
    care1, care2 = create_care(ana, "Care one"), create_care(ana, "Care two")

    def at(n: int) -> str:
        return to_rfc3339(base + timedelta(days=n))

    ids = {
        "L1": open_promise(ana, bea, "request", dueAt=at(1))["promiseId"],
        "L2": open_promise(bea, ana, "request", dueAt=at(2))["promiseId"],
        "L3": open_promise(ana, bea, "request", dueAt=at(3))["promiseId"],
        "L4": open_promise(ana, {"name": "Carla"}, "promise", dueAt=at(4), careIds=[care1])["promiseId"],
        "L5": open_promise(ana, bea, "offer", dueAt=at(5), careIds=[care1, care2])["promiseId"],
        "L6": open_promise(ana, {"name": "Dan"}, "request", dueAt=at(6), careIds=[care2])["promiseId"],
    }
    moved(bea, ids["L3"], "promise")
    return Lists(ids, base, care1, care2)


def test_the_list_is_newest_due_first(ana: Person, lists: Lists) -> None:
    assert listed(ana) == lists("L6", "L5", "L4", "L3", "L2", "L1")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"role": "customer"}, ["L6", "L3", "L1"]),
        ({"role": "performer"}, ["L5", "L4", "L2"]),
        ({"state": "requested"}, ["L6", "L2", "L1"]),
        ({"state": "promised"}, ["L4", "L3"]),
        ({"state": "offered"}, ["L5"]),
        ({"state": "fulfilled"}, []),
        ({"role": "customer", "state": "requested"}, ["L6", "L1"]),
        ({"role": "performer", "state": "promised"}, ["L4"]),
        ({"role": "customer", "state": "offered"}, []),
    ],
)
def test_role_and_state_filters(
    ana: Person, lists: Lists, query: dict[str, str], expected: list[str]
) -> None:
    assert listed(ana, **query) == lists(*expected)


def test_care_filter_with_role_and_state(ana: Person, lists: Lists) -> None:
    assert listed(ana, careId=lists.care1) == lists("L5", "L4")
    assert listed(ana, careId=lists.care2) == lists("L6", "L5")
    assert listed(ana, careId=lists.care1, state="offered") == lists("L5")
    assert listed(ana, careId=lists.care2, role="customer") == lists("L6")
    assert listed(ana, careId=lists.care2, role="customer", state="requested") == lists("L6")
    assert listed(ana, careId=lists.care1, role="customer") == []
    assert listed(ana, careId="01NOTACARE") == []


def test_due_before_bounds_each_list(ana: Person, lists: Lists) -> None:
    cut = to_rfc3339(lists.base + timedelta(days=3, hours=12))
    assert listed(ana, dueBefore=cut) == lists("L3", "L2", "L1")
    assert listed(ana, dueBefore=cut, role="customer") == lists("L3", "L1")
    assert listed(ana, dueBefore=cut, state="requested") == lists("L2", "L1")
    assert listed(ana, dueBefore=cut, role="performer", state="requested") == lists("L2")
    late = to_rfc3339(lists.base + timedelta(days=5, hours=12))
    assert listed(ana, dueBefore=late, careId=lists.care2) == lists("L5")
    # Exactly the due time of L3 is not before it.
    assert listed(ana, dueBefore=to_rfc3339(lists.base + timedelta(days=3))) == lists("L2", "L1")
    # A time with another offset is the same instant.
    plus_two = timezone(timedelta(hours=2))
    offset = (lists.base + timedelta(days=3, hours=12)).astimezone(plus_two).isoformat()
    assert offset.endswith("+02:00")
    assert listed(ana, dueBefore=offset) == lists("L3", "L2", "L1")


def test_due_before_with_a_fraction_of_a_second(ana: Person, lists: Lists) -> None:
    just_after_l3 = (lists.base + timedelta(days=3, milliseconds=500)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert listed(ana, dueBefore=just_after_l3) == lists("L3", "L2", "L1")


def test_a_bad_due_before_is_422(ana: Person) -> None:
    reply = ana("GET", "/v1/me/promises", query={"dueBefore": "tomorrow"})
    assert reply.status == 422
    assert error_fields(reply) == ["dueBefore"]


def test_lists_page_with_a_cursor(ana: Person, lists: Lists) -> None:
    first = ana("GET", "/v1/me/promises", query={"limit": "4"})
    assert [p["promiseId"] for p in first.body["items"]] == lists("L6", "L5", "L4", "L3")
    cursor = first.body["nextCursor"]
    assert cursor
    second = ana("GET", "/v1/me/promises", query={"limit": "4", "cursor": cursor})
    assert [p["promiseId"] for p in second.body["items"]] == lists("L2", "L1")
    assert second.body["nextCursor"] is None
    # Paging a filter in pages of one gives the whole filtered list.
    assert listed(ana, role="performer", limit="1") == lists("L5", "L4", "L2")
    assert listed(ana, careId=lists.care2, limit="1") == lists("L6", "L5")
    # A cursor of one list is refused by another.
    other = ana("GET", "/v1/me/promises", query={"limit": "4", "cursor": cursor, "role": "customer"})
    assert other.status == 422


def test_the_summary_each_side_lists(ana: Person, bea: Person, lists: Lists) -> None:
    items = {p["promiseId"]: p for p in ana("GET", "/v1/me/promises").body["items"]}
    l5 = items[lists.ids["L5"]]
    assert l5["myRole"] == "performer"
    assert l5["state"] == "offered"
    assert present(l5["counterpart"]) == {"kind": "user", "handle": bea.handle, "isMe": False}
    assert l5["careIds"] == [lists.care1, lists.care2]
    assert l5["dueAt"] == to_rfc3339(lists.base + timedelta(days=5))
    theirs = {p["promiseId"]: p for p in bea("GET", "/v1/me/promises").body["items"]}
    assert set(theirs) == set(lists("L1", "L2", "L3", "L5"))
    assert theirs[lists.ids["L5"]]["myRole"] == "customer"
    assert theirs[lists.ids["L5"]]["careIds"] == [], "my cares are mine"
    assert theirs[lists.ids["L5"]]["counterpart"]["handle"] == ana.handle
    assert listed(bea, role="performer") == lists("L3", "L1")


def test_a_move_moves_the_promise_between_lists(ana: Person, bea: Person, lists: Lists) -> None:
    moved(ana, lists.ids["L2"], "promise")
    assert listed(ana, state="requested") == lists("L6", "L1")
    assert listed(ana, state="promised") == lists("L4", "L3", "L2")
    assert listed(ana, role="performer", state="promised") == lists("L4", "L2")
    assert listed(bea, role="customer", state="promised") == lists("L2")
    moved(bea, lists.ids["L5"], "accept")
    assert listed(ana, careId=lists.care1, state="promised") == lists("L5", "L4")
    assert listed(ana, state="offered") == []
    # A revised due time re-sorts the lists.
    moved(ana, lists.ids["L4"], "report_completion")
    moved(bea, lists.ids["L3"], "report_completion")
    moved(ana, lists.ids["L3"], "declare_not_satisfied", dueAt=to_rfc3339(lists.base + timedelta(days=30)))
    assert listed(ana) == lists("L3", "L6", "L5", "L4", "L2", "L1")
    assert listed(bea, role="performer") == lists("L3", "L1")
    # ... and the care lists, which the care links serve.
    moved(ana, lists.ids["L5"], "report_completion")
    moved(bea, lists.ids["L5"], "declare_not_satisfied", dueAt=to_rfc3339(lists.base + timedelta(hours=12)))
    assert listed(ana, careId=lists.care1) == lists("L4", "L5")
    assert listed(ana, careId=lists.care2) == lists("L6", "L5")
    assert listed(ana, careId=lists.care2, state="promised") == lists("L5")
    early = to_rfc3339(lists.base + timedelta(hours=13))
    assert listed(ana, careId=lists.care1, dueBefore=early) == lists("L5")
    assert listed(ana, dueBefore=early) == lists("L5")


def test_a_bad_filter_is_422(ana: Person) -> None:
    for query in ({"role": "boss"}, {"state": "opening"}, {"careId": "not-an-id!"}, {"limit": "0"}):
        reply = ana("GET", "/v1/me/promises", query=query)
        assert reply.status == 422, query


# --- notifications -----------------------------------------------------------------------------


def test_the_side_the_promise_waits_on_is_notified(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    (item,) = inbox(bea)
    assert item["kind"] == "promise"
    assert item["data"] == {"promiseId": pid, "state": "requested", "act": "request"}
    assert item["body"] == "Review the onboarding guide"
    assert inbox(ana) == [], "nobody is told of their own move"

    moved(bea, pid, "promise")
    moved(bea, pid, "report_completion")
    (told,) = inbox(ana)
    assert told["data"] == {"promiseId": pid, "state": "reported", "act": "report_completion"}
    assert told["kind"] == "promise"
    assert len(inbox(bea)) == 1, "bea's own moves tell bea nothing"


def test_offers_self_logged_promises_endings_and_assessments_are_notified(ana: Person, bea: Person) -> None:
    def told(person: Person) -> list[dict[str, Any]]:
        return [i["data"] for i in inbox(person)]

    offer = open_promise(ana, bea, "offer")["promiseId"]
    assert told(bea) == [{"promiseId": offer, "state": "offered", "act": "offer"}]
    logged = open_promise(ana, bea, "promise")["promiseId"]
    assert {"promiseId": logged, "state": "promised", "act": "self_log"} in told(bea)
    asked = open_promise(ana, bea)["promiseId"]
    moved(bea, asked, "decline")
    assert told(ana) == [{"promiseId": asked, "state": "declined", "act": "decline"}]
    moved(ana, logged, "report_completion")
    assert {"promiseId": logged, "state": "reported", "act": "report_completion"} in told(bea)
    assert len(told(bea)) == 4
    assert bea("POST", f"/v1/me/promises/{logged}/assessment", body=ASSESSMENT).status == 201
    assert {"promiseId": logged, "value": 4} in told(ana)
    assert len(told(ana)) == 2


def test_the_request_path_never_pushes(ana: Person, bea: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    """Moves only write inbox items; the notifier pushes them from the stream. A broken push
    service cannot fail a move, and a move never waits on SNS."""

    def broken(user_id: str, **_: Any) -> None:
        raise AssertionError("a route called the push service")

    monkeypatch.setattr("shared.push.push_to_person", broken)
    pid = open_promise(ana, bea)["promiseId"]
    assert move(bea, pid, "promise").status == 200
    assert move(bea, pid, "report_completion").status == 200
    assert move(ana, pid, "declare_satisfied").status == 200
    assert ana("POST", f"/v1/me/promises/{pid}/assessment", body=ASSESSMENT).status == 201
    assert len(inbox(bea)) == 3  # the request, the fulfilment, the assessment
    assert len(inbox(ana)) == 1  # the completion report


# --- the care map ------------------------------------------------------------------------------


def test_a_linked_care_counts_the_promise_open_then_fulfilled(ana: Person, bea: Person) -> None:
    care = create_care(ana, "Onboarding")
    other = create_care(ana, "Unrelated")
    pid = open_promise(ana, bea, careIds=[care])["promiseId"]
    assert get(ana, pid)["careIds"] == [care]
    assert get(bea, pid)["careIds"] == []
    assert care_map(ana) == {care: {"open": 1, "fulfilled": 0}, other: {"open": 0, "fulfilled": 0}}
    moved(bea, pid, "promise")
    moved(bea, pid, "report_completion")
    assert care_map(ana)[care] == {"open": 1, "fulfilled": 0}
    moved(ana, pid, "declare_satisfied")
    assert care_map(ana) == {care: {"open": 0, "fulfilled": 1}, other: {"open": 0, "fulfilled": 0}}


def test_a_cancelled_promise_leaves_the_care_map(ana: Person, bea: Person) -> None:
    care = create_care(ana, "Onboarding")
    pid = open_promise(ana, bea, "offer", careIds=[care])["promiseId"]
    assert care_map(ana)[care] == {"open": 1, "fulfilled": 0}
    moved(bea, pid, "accept")
    moved(bea, pid, "cancel")
    assert care_map(ana)[care] == {"open": 0, "fulfilled": 0}


# --- the journey -------------------------------------------------------------------------------


SMALL = {"people": 1, "horizonDays": 3, "scope": "self"}


def journey(person: Person, **query: str) -> Reply:
    return person("GET", "/v1/me/journey", query=query)


def month_of(person: Person, month: str) -> dict[str, Any]:
    reply = journey(person, **{"from": month, "to": month})
    assert reply.status == 200, reply.body
    (entry,) = reply.body["months"]
    result: dict[str, Any] = entry
    return result


ZERO_MONTH = {
    "promisesMade": 0,
    "fulfilled": 0,
    "fulfilledOnTime": 0,
    "onTimeRate": None,
    "firstTimeSatisfied": 0,
    "firstTimeSatisfactionRate": None,
    "revoked": 0,
    "declined": 0,
    "assessments": 0,
    "meanAssessment": None,
    "size": {
        "medianPeople": None,
        "largestPeople": None,
        "medianHorizonDays": None,
        "largestHorizonDays": None,
        "largestScope": None,
    },
    "plan": {"itemsDone": 0, "practiceDays": 0},
}


def test_a_performers_month(ana: Person, bea: Person, clock: Clock) -> None:
    clock.set("2026-03-10T09:00:00Z")
    in_a_week = "2026-03-17T09:00:00Z"
    in_an_hour = "2026-03-20T10:00:00Z"  # when P2 is opened, below

    # P1: promised, reported on time, satisfied the first time, assessed 5.
    p1 = open_promise(ana, bea, dueAt=in_a_week, size={"people": 3, "horizonDays": 10, "scope": "team"})
    moved(bea, p1["promiseId"], "promise")
    moved(bea, p1["promiseId"], "report_completion")
    clock.set("2026-03-20T09:00:00Z")  # satisfied after the due time: on time is the report's
    moved(ana, p1["promiseId"], "declare_satisfied")
    assert (
        ana("POST", f"/v1/me/promises/{p1['promiseId']}/assessment", body={**ASSESSMENT, "value": 5}).status
        == 201
    )

    # P2: promised, reported late, not satisfied, reported again, satisfied; assessed 2.
    p2 = open_promise(ana, bea, dueAt=in_an_hour, size={"people": 8, "horizonDays": 30, "scope": "team"})
    moved(bea, p2["promiseId"], "promise")
    clock.set("2026-03-21T09:00:00Z")  # a day after it was due
    moved(bea, p2["promiseId"], "report_completion")
    moved(ana, p2["promiseId"], "declare_not_satisfied")
    moved(bea, p2["promiseId"], "report_completion")
    moved(ana, p2["promiseId"], "declare_satisfied")
    assert (
        ana("POST", f"/v1/me/promises/{p2['promiseId']}/assessment", body={**ASSESSMENT, "value": 2}).status
        == 201
    )

    # P3: bea declines a request (a healthy decline).
    p3 = open_promise(ana, bea, size=SMALL)
    moved(bea, p3["promiseId"], "decline")
    # P4: ana declines bea's offer (not bea's decline), P5: ana withdraws her request.
    p4 = open_promise(bea, ana, "offer", size=SMALL)
    moved(ana, p4["promiseId"], "decline")
    p5 = open_promise(ana, bea, size=SMALL)
    moved(ana, p5["promiseId"], "withdraw")
    # P6: bea self-logs a promise to someone outside, then revokes it.
    p6 = open_promise(
        bea, {"name": "Outside"}, "promise", size={"people": 2, "horizonDays": 400, "scope": "organisation"}
    )
    moved(bea, p6["promiseId"], "revoke")
    # P7: bea offers, ana accepts, then ana cancels.
    p7 = open_promise(bea, ana, "offer", size={"people": 50, "horizonDays": 5, "scope": "team"})
    moved(ana, p7["promiseId"], "accept")
    moved(ana, p7["promiseId"], "cancel")

    month = month_of(bea, "2026-03")
    assert {k: v for k, v in month.items() if k not in ("size", "plan")} == {
        "month": "2026-03",
        "promisesMade": 4,
        "fulfilled": 2,
        "fulfilledOnTime": 1,
        "onTimeRate": 0.5,
        "firstTimeSatisfied": 1,
        "firstTimeSatisfactionRate": 0.5,
        "revoked": 1,
        "declined": 1,
        "assessments": 2,
        "meanAssessment": 3.5,
    }
    # Only the four promises made count in the size (P3 and P4 never were promises).
    assert month["size"]["largestScope"] == "organisation"
    # Ana was only ever the customer: her record as a performer is empty.
    assert month_of(ana, "2026-03") == {"month": "2026-03", **ZERO_MONTH}


def test_the_size_of_the_promises_a_performer_made(ana: Person, bea: Person, clock: Clock) -> None:
    clock.set("2026-03-10T09:00:00Z")
    for people, days, scope in ((3, 10, "team"), (8, 30, "team"), (2, 400, "organisation"), (50, 5, "team")):
        open_promise(
            bea, {"name": "Outside"}, "promise", size={"people": people, "horizonDays": days, "scope": scope}
        )
    open_promise(ana, bea, size={"people": 5000, "horizonDays": 3000, "scope": "community"})  # not made yet
    # Buckets: people 2, 3, 8, 50 -> lower middle 3-5, largest 26-100; days 5, 10, 30, 400 ->
    # lower middle 8-30, largest 366+; scopes team x3 and organisation.
    assert month_of(bea, "2026-03")["size"] == {
        "medianPeople": "3-5",
        "largestPeople": "26-100",
        "medianHorizonDays": "8-30",
        "largestHorizonDays": "366+",
        "largestScope": "organisation",
    }


def test_moves_count_in_the_month_they_happen(ana: Person, bea: Person, clock: Clock) -> None:
    clock.set("2025-12-20T09:00:00Z")
    pid = open_promise(ana, bea, dueAt="2026-03-31T00:00:00Z", size=SMALL)["promiseId"]
    clock.set("2026-01-05T09:00:00Z")
    moved(bea, pid, "promise")
    clock.set("2026-02-27T23:59:59Z")
    moved(bea, pid, "report_completion")
    clock.set("2026-03-01T00:00:00Z")
    moved(ana, pid, "declare_satisfied")
    clock.set("2026-04-02T10:00:00Z")
    ana("POST", f"/v1/me/promises/{pid}/assessment", body={**ASSESSMENT, "value": 3})

    reply = journey(bea, **{"from": "2025-11", "to": "2026-05"})
    assert reply.status == 200, reply.body
    assert (reply.body["from"], reply.body["to"]) == ("2025-11", "2026-05")
    months = {m["month"]: m for m in reply.body["months"]}
    assert list(months) == ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    for quiet in ("2025-11", "2025-12", "2026-02", "2026-05"):
        assert months[quiet] == {"month": quiet, **ZERO_MONTH}, quiet
    assert months["2026-01"]["promisesMade"] == 1
    assert months["2026-01"]["size"]["largestScope"] == "self"
    assert months["2026-01"]["fulfilled"] == 0
    assert (months["2026-03"]["fulfilled"], months["2026-03"]["fulfilledOnTime"]) == (1, 1)
    assert months["2026-03"]["firstTimeSatisfied"] == 1
    assert months["2026-03"]["promisesMade"] == 0
    assert (months["2026-04"]["assessments"], months["2026-04"]["meanAssessment"]) == (1, 3.0)


def test_the_journey_defaults_to_the_last_twelve_months(bea: Person, clock: Clock) -> None:
    clock.set("2026-03-10T09:00:00Z")
    reply = journey(bea)
    assert reply.status == 200, reply.body
    assert (reply.body["from"], reply.body["to"]) == ("2025-04", "2026-03")
    assert len(reply.body["months"]) == 12
    only_to = journey(bea, to="2026-12")
    assert (only_to.body["from"], only_to.body["to"]) == ("2026-01", "2026-12")
    only_from = journey(bea, **{"from": "2025-06"})
    assert (only_from.body["from"], only_from.body["to"]) == ("2025-06", "2026-03")


def test_the_journey_range_is_checked(bea: Person, clock: Clock) -> None:
    clock.set("2026-03-10T09:00:00Z")
    after = journey(bea, **{"from": "2026-04", "to": "2026-03"})
    assert after.status == 422
    assert error_fields(after) == ["from"]
    assert journey(bea, **{"from": "2026-04"}).status == 422, "from after this month"
    for bad in ("2026-13", "2026-00", "2026-3", "26-03", "2026/03", "2026-03-01"):
        reply = journey(bea, **{"from": bad, "to": "2026-03"})
        assert reply.status == 422, bad
        assert error_fields(reply) == ["from"], bad
        assert journey(bea, to=bad).status == 422, bad
    too_long = journey(bea, **{"from": "2016-03", "to": "2026-03"})
    assert too_long.status == 422
    longest = journey(bea, **{"from": "2016-04", "to": "2026-03"})
    assert longest.status == 200
    assert len(longest.body["months"]) == 120
    assert all(m == {"month": m["month"], **ZERO_MONTH} for m in longest.body["months"])
