"""Offline writes (issue 12): ids the app makes for what it creates, so that replaying a queue of
writes is safe, and 412s that carry the resource as it is now, so the app merges without
another round trip.

A replay (same id, body and person) answers as the first time and changes nothing; the same id
with another body, or someone else's, is a 409 `id-conflict` that tells nothing of theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from shared.domain.ids import new_id
from shared.domain.timeutil import utc_now
from shared.store import table
from tests.handler.test_counterpart_links import OUTSIDE, make_link, public
from tests.handler.test_partners import as_partner, grant, register
from tests.handler.test_plans import plan_call
from tests.handler.test_promises import Person, get, move, new_person, open_promise, opening_body
from tests.support.aws import Aws, Reply

ID_CONFLICT = "https://career-journey.app/problems/id-conflict"


@pytest.fixture
def ana(aws: Aws) -> Person:
    return new_person(aws, "ana")


@pytest.fixture
def bea(aws: Aws) -> Person:
    return new_person(aws, "bea")


def partition(aws: Aws, pk: str) -> list[dict[str, Any]]:
    """A partition's items, without rate counters (every request through a link counts, a
    replay too: that is the limiter's business, not a change the write made)."""
    items = (i for i in aws.all_items() if i["PK"] == pk and not str(i["SK"]).startswith("RATE#"))
    return sorted(items, key=lambda i: str(i["SK"]))


def mine(aws: Aws, person: Person) -> list[dict[str, Any]]:
    """My partition, without the idempotency and push records nothing here writes."""
    return partition(aws, f"USER#{person.sub}")


@contextmanager
def before_write(action: Callable[[], object], operation: str = "TransactWriteItems") -> Iterator[None]:
    """Run `action` (another request) once, just before the request under test writes (with
    `operation`: its transaction, or its one conditional write)."""
    fired: list[bool] = []

    def hook(**_: Any) -> None:
        if not fired:
            fired.append(True)
            action()

    event = f"before-call.dynamodb.{operation}"
    table.dynamodb().meta.events.register(event, hook)
    try:
        yield
    finally:
        table.dynamodb().meta.events.unregister(event, hook)
    assert fired, "the request under test wrote nothing"


def assert_id_conflict(reply: Reply) -> None:
    assert reply.status == 409, reply.body
    assert reply.problem["type"] == ID_CONFLICT
    assert reply.problem["detail"] == "This id was used for another write; make a new one."


def assert_shows_current(stale: Reply, read: Reply) -> None:
    """A 412 whose body carries exactly what GET answers now, and its ETag."""
    assert stale.status == 412, stale.body
    assert read.status == 200, read.body
    assert stale.problem["current"] == read.body
    assert stale.problem["etag"] == read.headers["ETag"] == stale.headers["ETag"]


# --- cares -------------------------------------------------------------------------------------


def care_body(care_id: str, statement: str = "Growing people", **fields: Any) -> dict[str, Any]:
    return {"careId": care_id, "statement": statement, "domain": "others", **fields}


def test_a_care_with_an_app_made_id_is_made_once_and_a_replay_answers_as_the_first_time(
    aws: Aws, ana: Person
) -> None:
    care_id = new_id()
    first = ana.care("POST", "/v1/me/cares", body=care_body(care_id))
    assert first.status == 201, first.body
    assert first.body["careId"] == care_id
    assert first.headers["Location"] == f"/v1/me/cares/{care_id}"
    before = mine(aws, ana)

    again = ana.care("POST", "/v1/me/cares", body=care_body(care_id))
    assert (again.status, again.body, again.headers["ETag"]) == (201, first.body, first.headers["ETag"])
    assert again.headers["Location"] == first.headers["Location"]
    assert mine(aws, ana) == before, "a replay stores nothing"
    assert "requestHash" not in str(ana.care("GET", f"/v1/me/cares/{care_id}").body)

    # Changed since: the replay shows the care as it is now.
    assert ana.care("PATCH", f"/v1/me/cares/{care_id}", body={"meaningForMe": "Why"}).status == 200
    later = ana.care("POST", "/v1/me/cares", body=care_body(care_id))
    assert later.status == 201
    assert (later.body["meaningForMe"], later.headers["ETag"]) == ("Why", '"v2"')
    assert later.body == ana.care("GET", f"/v1/me/cares/{care_id}").body


def test_a_care_id_with_another_body_is_409_and_changes_nothing(aws: Aws, ana: Person) -> None:
    care_id = new_id()
    assert ana.care("POST", "/v1/me/cares", body=care_body(care_id)).status == 201
    before = mine(aws, ana)
    assert_id_conflict(ana.care("POST", "/v1/me/cares", body=care_body(care_id, "Something else")))
    assert_id_conflict(ana.care("POST", "/v1/me/cares", body=care_body(care_id, rank=1)))
    assert mine(aws, ana) == before
    # A care made with a server id is never anyone's replay.
    made = ana.care("POST", "/v1/me/cares", body={"statement": "Plain", "domain": "self"}).body
    assert_id_conflict(
        ana.care(
            "POST", "/v1/me/cares", body={"careId": made["careId"], "statement": "Plain", "domain": "self"}
        )
    )


def test_cares_ids_are_each_persons_own(aws: Aws, ana: Person, bea: Person) -> None:
    care_id = new_id()
    assert ana.care("POST", "/v1/me/cares", body=care_body(care_id)).status == 201
    theirs = bea.care("POST", "/v1/me/cares", body=care_body(care_id, "Bea's own"))
    assert theirs.status == 201, "cares live in each person's partition"
    assert ana.care("GET", f"/v1/me/cares/{care_id}").body["statement"] == "Growing people"


@pytest.mark.parametrize(
    "bad",
    ["01arz3ndektsv4rrffq69g5fav", "01ARZ3NDEKTSV4RRFFQ69G5FA", "01ARZ3NDEKTSV4RRFFQ69G5FAU!", "I" * 26],
)
def test_an_app_made_id_that_is_not_a_ulid_is_422(aws: Aws, ana: Person, bea: Person, bad: str) -> None:
    for reply in (
        ana.care("POST", "/v1/me/cares", body=care_body(bad)),
        ana("POST", "/v1/me/promises", body=opening_body(bea, promiseId=bad)),
    ):
        assert reply.status == 422, reply.body
        assert [e["field"] for e in reply.problem["errors"]] in (["careId"], ["promiseId"])
    assert [i for i in mine(aws, ana) if i.get("entity") in ("care", "promise-membership")] == []


def test_a_care_replay_at_the_care_limit_is_still_a_replay(aws: Aws, ana: Person) -> None:
    care_id = new_id()
    first = ana.care("POST", "/v1/me/cares", body=care_body(care_id))
    for n in range(24):
        assert (
            ana.care("POST", "/v1/me/cares", body={"statement": f"Care {n}", "domain": "self"}).status == 201
        )
    assert ana.care("POST", "/v1/me/cares", body={"statement": "One more", "domain": "self"}).status == 409
    again = ana.care("POST", "/v1/me/cares", body=care_body(care_id))
    assert (again.status, again.body) == (201, first.body)


def test_a_care_replay_racing_its_first_write_is_told_apart_after_the_write_fails(
    aws: Aws, ana: Person
) -> None:
    care_id = new_id()
    body = care_body(care_id)
    answers: list[Reply] = []
    with before_write(lambda: answers.append(ana.care("POST", "/v1/me/cares", body=body))):
        replay = ana.care("POST", "/v1/me/cares", body=body)
    assert answers[0].status == 201
    assert (replay.status, replay.body) == (201, answers[0].body)
    assert [i["careId"] for i in mine(aws, ana) if i.get("entity") == "care"] == [care_id]


# --- reflections -------------------------------------------------------------------------------


def reflection_body(reflection_id: str, text: str = "Lead a team") -> dict[str, Any]:
    return {
        "reflectionId": reflection_id,
        "questionSetVersion": 1,
        "answers": [{"questionId": "destination", "text": text}],
    }


def test_a_reflection_with_an_app_made_id_is_kept_once(aws: Aws, ana: Person, bea: Person) -> None:
    reflection_id = new_id()
    first = ana.care("POST", "/v1/me/reflections", body=reflection_body(reflection_id))
    assert first.status == 201, first.body
    assert first.body["reflectionId"] == reflection_id
    assert first.headers["Location"] == f"/v1/me/reflections/{reflection_id}"
    before = mine(aws, ana)

    again = ana.care("POST", "/v1/me/reflections", body=reflection_body(reflection_id))
    assert (again.status, again.body, again.headers["Location"]) == (
        201,
        first.body,
        first.headers["Location"],
    )
    assert mine(aws, ana) == before, "a replay stores nothing"
    read = ana.care("GET", f"/v1/me/reflections/{reflection_id}")
    assert read.body == first.body
    assert "requestHash" not in str(read.body)
    assert "requestHash" not in str(ana.care("GET", "/v1/me/reflections").body)

    # A reflection is kept as written: after other writes, a replay still answers the same.
    assert ana.care("POST", "/v1/me/reflections", body=reflection_body(new_id(), "Later")).status == 201
    later = ana.care("POST", "/v1/me/reflections", body=reflection_body(reflection_id))
    assert (later.status, later.body) == (201, first.body)

    # Another body under the id is a 409; someone else's reflections are their own.
    before = mine(aws, ana)
    assert_id_conflict(ana.care("POST", "/v1/me/reflections", body=reflection_body(reflection_id, "Other")))
    assert mine(aws, ana) == before
    theirs = bea.care("POST", "/v1/me/reflections", body=reflection_body(reflection_id, "Bea's own"))
    assert theirs.status == 201, "reflections live in each person's partition"


def test_a_reflection_made_with_a_server_id_is_never_a_replay(ana: Person) -> None:
    body = reflection_body(new_id())
    del body["reflectionId"]
    made = ana.care("POST", "/v1/me/reflections", body=body)
    assert made.status == 201, made.body
    reply = ana.care("POST", "/v1/me/reflections", body={**body, "reflectionId": made.body["reflectionId"]})
    assert_id_conflict(reply)


@pytest.mark.parametrize("bad", ["01arz3ndektsv4rrffq69g5fav", "01ARZ3NDEKTSV4RRFFQ69G5FA", "I" * 26])
def test_an_app_made_reflection_plan_or_obstacle_id_that_is_not_a_ulid_is_422(
    aws: Aws, ana: Person, bad: str
) -> None:
    plan_id = new_plan(ana)
    before = mine(aws, ana)
    for reply, field in (
        (ana.care("POST", "/v1/me/reflections", body=reflection_body(bad)), "reflectionId"),
        (plan_call(ana, "POST", "/v1/me/plans", body={"planId": bad, "title": "Lead"}), "planId"),
        (
            plan_call(ana, "POST", f"/v1/me/plans/{plan_id}/obstacles", body=obstacle_body(bad)),
            "obstacleId",
        ),
    ):
        assert reply.status == 422, reply.body
        assert [e["field"] for e in reply.problem["errors"]] == [field]
    assert mine(aws, ana) == before


def test_a_reflection_replay_racing_its_first_write_is_told_apart(aws: Aws, ana: Person) -> None:
    body = reflection_body(new_id())
    answers: list[Reply] = []
    with before_write(lambda: answers.append(ana.care("POST", "/v1/me/reflections", body=body))):
        replay = ana.care("POST", "/v1/me/reflections", body=body)
    assert answers[0].status == 201
    assert (replay.status, replay.body) == (201, answers[0].body)
    assert [i["reflectionId"] for i in mine(aws, ana) if i.get("entity") == "reflection"] == [
        body["reflectionId"]
    ]


# --- promises ----------------------------------------------------------------------------------


def test_a_promise_with_an_app_made_id_is_opened_once(aws: Aws, ana: Person, bea: Person) -> None:
    promise_id = new_id()
    body = opening_body(bea, promiseId=promise_id)
    first = ana("POST", "/v1/me/promises", body=body)
    assert first.status == 201, first.body
    assert first.body["promiseId"] == promise_id
    assert first.headers["Location"] == f"/v1/me/promises/{promise_id}"
    before = (partition(aws, f"PROMISE#{promise_id}"), mine(aws, ana), mine(aws, bea))

    again = ana("POST", "/v1/me/promises", body=body)
    assert (again.status, again.body) == (201, first.body)
    assert (again.headers["ETag"], again.headers["Location"]) == (
        first.headers["ETag"],
        first.headers["Location"],
    )
    assert (partition(aws, f"PROMISE#{promise_id}"), mine(aws, ana), mine(aws, bea)) == before
    assert "requestHash" not in str(get(ana, promise_id))

    # After bea answered, the replay shows the promise as it is now.
    assert move(bea, promise_id, "promise").status == 200
    later = ana("POST", "/v1/me/promises", body=body)
    assert later.status == 201
    assert later.body == get(ana, promise_id)
    assert (later.body["state"], later.headers["ETag"]) == ("promised", '"v2"')


def test_a_promise_id_with_another_body_or_someone_elses_is_409_telling_nothing(
    aws: Aws, ana: Person, bea: Person
) -> None:
    promise_id = new_id()
    body = opening_body(bea, promiseId=promise_id)
    assert ana("POST", "/v1/me/promises", body=body).status == 201
    before = partition(aws, f"PROMISE#{promise_id}")
    assert_id_conflict(ana("POST", "/v1/me/promises", body={**body, "what": "Something else"}))

    cai = new_person(aws, "cai")
    for who in (bea, cai):  # bea is its other side; cai has nothing to do with it
        reply = who("POST", "/v1/me/promises", body=opening_body(ana, promiseId=promise_id))
        assert_id_conflict(reply)
        assert "Review the onboarding guide" not in str(reply.body)
        assert ana.handle not in str(reply.body)
        assert ana.sub not in str(reply.body)
    # Even the very same body is someone else's write when another person sends it.
    same = {**body, "counterpart": {"handle": ana.handle}}
    assert_id_conflict(cai("POST", "/v1/me/promises", body=same))
    assert partition(aws, f"PROMISE#{promise_id}") == before
    assert [i for i in mine(aws, cai) if i.get("entity") == "promise-membership"] == []


def test_a_promise_replay_after_its_due_time_passed_is_still_a_replay(
    aws: Aws, ana: Person, bea: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    promise_id = new_id()
    body = opening_body(bea, promiseId=promise_id)
    first = ana("POST", "/v1/me/promises", body=body)
    assert first.status == 201
    later = utc_now() + timedelta(days=30)
    monkeypatch.setattr("functions.promise.app.utc_now", lambda: later)
    again = ana("POST", "/v1/me/promises", body=body)
    assert (again.status, again.body) == (201, first.body), "a rule of now does not refuse a replay"
    new = ana("POST", "/v1/me/promises", body=opening_body(bea, promiseId=new_id(), dueAt=body["dueAt"]))
    assert new.status == 422, "while a new write with that due time is refused"


# --- moves -------------------------------------------------------------------------------------


def move_with_id(person: Person, promise_id: str, act: str, move_id: str, **fields: Any) -> Reply:
    return move(person, promise_id, act, moveId=move_id, **fields)


def test_a_move_with_an_app_made_id_is_made_once(aws: Aws, ana: Person, bea: Person) -> None:
    promise_id = open_promise(ana, bea)["promiseId"]
    move_id = new_id()
    first = move_with_id(bea, promise_id, "promise", move_id, note="On it")
    assert first.status == 200, first.body
    lookup = [i for i in partition(aws, f"PROMISE#{promise_id}") if i["SK"] == f"MOVEID#{move_id}"]
    assert [(i["seq"], "entity" in i, len(i)) for i in lookup] == [(2, False, 4)], "seq and hash only"
    before = partition(aws, f"PROMISE#{promise_id}")

    again = move_with_id(bea, promise_id, "promise", move_id, note="On it")
    assert (again.status, again.body, again.headers["ETag"]) == (200, first.body, first.headers["ETag"])
    assert partition(aws, f"PROMISE#{promise_id}") == before
    assert len(bea("GET", f"/v1/me/promises/{promise_id}/moves").body["items"]) == 2


def test_a_move_replayed_after_the_promise_moved_on_is_a_replay(aws: Aws, ana: Person, bea: Person) -> None:
    promise_id = open_promise(ana, bea)["promiseId"]
    move_id = new_id()
    first = move_with_id(bea, promise_id, "promise", move_id, headers={"If-Match": '"v1"'})
    assert first.status == 200
    assert move(bea, promise_id, "report_completion").status == 200
    before = partition(aws, f"PROMISE#{promise_id}")

    # `promise` is no longer allowed (409) and its If-Match is stale (412): still a replay.
    again = move_with_id(bea, promise_id, "promise", move_id, headers={"If-Match": '"v1"'})
    assert again.status == 200, again.body
    assert again.body == get(bea, promise_id)
    assert (again.body["state"], again.headers["ETag"]) == ("reported", '"v3"')
    assert partition(aws, f"PROMISE#{promise_id}") == before


def test_a_move_replayed_when_its_act_is_allowed_again_is_not_made_twice(
    aws: Aws, ana: Person, bea: Person
) -> None:
    promise_id = open_promise(ana, bea)["promiseId"]
    move_id = new_id()
    assert move_with_id(bea, promise_id, "counter", move_id, conditions=["Mine"]).status == 200
    assert move(ana, promise_id, "counter", conditions=["Back to mine"]).status == 200
    assert "counter" in get(bea, promise_id)["allowedActs"]
    before = partition(aws, f"PROMISE#{promise_id}")
    again = move_with_id(bea, promise_id, "counter", move_id, conditions=["Mine"])
    assert again.status == 200, again.body
    assert again.body["conditions"] == ["Back to mine"], "the promise as it is now"
    assert partition(aws, f"PROMISE#{promise_id}") == before


def test_a_move_id_with_another_body_or_by_the_other_side_is_409(aws: Aws, ana: Person, bea: Person) -> None:
    promise_id = open_promise(ana, bea)["promiseId"]
    move_id = new_id()
    assert move_with_id(bea, promise_id, "counter", move_id, conditions=["Mine"]).status == 200
    before = partition(aws, f"PROMISE#{promise_id}")
    assert_id_conflict(move_with_id(bea, promise_id, "counter", move_id, conditions=["Other"]))
    assert_id_conflict(move_with_id(ana, promise_id, "counter", move_id, conditions=["Mine"]))
    assert partition(aws, f"PROMISE#{promise_id}") == before
    bad = move_with_id(bea, promise_id, "decline", move_id.lower())
    assert bad.status == 422
    assert [e["field"] for e in bad.problem["errors"]] == ["moveId"]


def test_a_counterpart_move_with_an_app_made_id_is_made_once(aws: Aws, ana: Person) -> None:
    promise_id = open_promise(ana, dict(OUTSIDE), "offer")["promiseId"]
    token = make_link(ana, promise_id)
    body = {"act": "accept", "moveId": new_id()}
    first = public("POST", f"/v1/counterpart/{token}/moves", body=body)
    assert first.status == 200, first.body
    before = partition(aws, f"PROMISE#{promise_id}")
    again = public("POST", f"/v1/counterpart/{token}/moves", body=body)
    assert (again.status, again.body) == (200, public("GET", f"/v1/counterpart/{token}").body)
    assert partition(aws, f"PROMISE#{promise_id}") == before
    assert_id_conflict(public("POST", f"/v1/counterpart/{token}/moves", body={**body, "note": "x"}))


def test_a_move_replay_racing_its_first_write_is_told_apart(aws: Aws, ana: Person, bea: Person) -> None:
    promise_id = open_promise(ana, bea)["promiseId"]
    body = {"act": "promise", "moveId": new_id()}
    answers: list[Reply] = []
    path = f"/v1/me/promises/{promise_id}/moves"
    with before_write(lambda: answers.append(bea("POST", path, body=body))):
        replay = bea("POST", path, body=body)
    assert answers[0].status == 200
    assert (replay.status, replay.body) == (200, answers[0].body)
    assert len(bea("GET", f"{path}").body["items"]) == 2


# --- plan items --------------------------------------------------------------------------------


def new_plan(person: Person) -> str:
    reply = plan_call(
        person, "POST", "/v1/me/plans", body={"title": "Lead", "items": [{"kind": "skill", "title": "A"}]}
    )
    assert reply.status == 201, reply.body
    return str(reply.body["planId"])


def test_a_plan_item_with_an_app_made_id_is_added_once_in_its_place(aws: Aws, ana: Person) -> None:
    plan_id = new_plan(ana)
    early = new_id(now_ms=1)  # made offline long ago: it sorts first
    body = {"itemId": early, "kind": "reading", "title": "The book"}
    first = plan_call(ana, "POST", f"/v1/me/plans/{plan_id}/items", body=body)
    assert first.status == 201, first.body
    assert first.body["itemId"] == early
    before = mine(aws, ana)
    again = plan_call(ana, "POST", f"/v1/me/plans/{plan_id}/items", body=body)
    assert (again.status, again.body, again.headers["ETag"]) == (201, first.body, first.headers["ETag"])
    assert mine(aws, ana) == before
    plan = plan_call(ana, "GET", f"/v1/me/plans/{plan_id}").body
    assert [i["title"] for i in plan["items"]] == ["The book", "A"], "items sort by id"
    assert "requestHash" not in str(plan)

    patched = plan_call(ana, "PATCH", f"/v1/me/plans/{plan_id}/items/{early}", body={"progress": 50})
    later = plan_call(ana, "POST", f"/v1/me/plans/{plan_id}/items", body=body)
    assert (later.status, later.body, later.headers["ETag"]) == (201, patched.body, '"v2"')

    before = mine(aws, ana)
    assert_id_conflict(
        plan_call(ana, "POST", f"/v1/me/plans/{plan_id}/items", body={**body, "title": "Other"})
    )
    assert mine(aws, ana) == before
    bad = plan_call(ana, "POST", f"/v1/me/plans/{plan_id}/items", body={**body, "itemId": "x" * 26})
    assert bad.status == 422
    assert [e["field"] for e in bad.problem["errors"]] == ["itemId"]
    made_with = plan_call(ana, "POST", "/v1/me/plans", body={"title": "T", "items": [body]})
    assert made_with.status == 422, "a new plan's items take no ids"


def plan_body(plan_id: str, title: str = "Lead", **fields: Any) -> dict[str, Any]:
    items = [{"kind": "skill", "title": "A"}, {"kind": "reading", "title": "B"}]
    return {"planId": plan_id, "title": title, "items": items, **fields}


def test_a_plan_with_an_app_made_id_is_made_once_with_its_items_in_order(
    aws: Aws, ana: Person, bea: Person
) -> None:
    plan_id = new_id()
    first = plan_call(ana, "POST", "/v1/me/plans", body=plan_body(plan_id))
    assert first.status == 201, first.body
    assert first.body["planId"] == plan_id
    assert (first.headers["Location"], first.headers["ETag"]) == (f"/v1/me/plans/{plan_id}", '"v1"')
    items = first.body["items"]
    assert [i["title"] for i in items] == ["A", "B"]
    assert [i["itemId"] for i in items] == sorted({i["itemId"] for i in items}), "server ids, in order"
    before = mine(aws, ana)

    again = plan_call(ana, "POST", "/v1/me/plans", body=plan_body(plan_id))
    assert (again.status, again.body) == (201, first.body)
    assert (again.headers["ETag"], again.headers["Location"]) == (
        first.headers["ETag"],
        first.headers["Location"],
    )
    assert mine(aws, ana) == before, "a replay stores nothing"
    read = plan_call(ana, "GET", f"/v1/me/plans/{plan_id}")
    assert read.body == first.body
    assert "requestHash" not in str(read.body)
    assert "requestHash" not in str(plan_call(ana, "GET", "/v1/me/plans").body)

    # Changed since: the replay shows the plan as it is now.
    assert plan_call(ana, "PATCH", f"/v1/me/plans/{plan_id}", body={"targetDate": "2031-01-01"}).status == 200
    later = plan_call(ana, "POST", "/v1/me/plans", body=plan_body(plan_id))
    assert (later.status, later.headers["ETag"], later.headers["Location"]) == (
        201,
        '"v2"',
        first.headers["Location"],
    )
    assert later.body == plan_call(ana, "GET", f"/v1/me/plans/{plan_id}").body
    assert later.body["targetDate"] == "2031-01-01"

    before = mine(aws, ana)
    assert_id_conflict(plan_call(ana, "POST", "/v1/me/plans", body=plan_body(plan_id, "Other")))
    assert_id_conflict(plan_call(ana, "POST", "/v1/me/plans", body={**plan_body(plan_id), "items": []}))
    assert mine(aws, ana) == before
    theirs = plan_call(bea, "POST", "/v1/me/plans", body=plan_body(plan_id, "Bea's own"))
    assert theirs.status == 201, "plans live in each person's partition"
    # A plan made with a server id is never anyone's replay.
    made = new_plan(ana)
    body = {"planId": made, "title": "Lead", "items": [{"kind": "skill", "title": "A"}]}
    assert_id_conflict(plan_call(ana, "POST", "/v1/me/plans", body=body))


def test_a_plan_replay_after_a_care_it_serves_was_archived_is_still_a_replay(aws: Aws, ana: Person) -> None:
    care_id = ana.care("POST", "/v1/me/cares", body={"statement": "A", "domain": "self"}).body["careId"]
    plan_id = new_id()
    body = plan_body(plan_id, careIds=[care_id])
    first = plan_call(ana, "POST", "/v1/me/plans", body=body)
    assert first.status == 201, first.body
    assert ana.care("DELETE", f"/v1/me/cares/{care_id}").status == 204
    before = mine(aws, ana)
    again = plan_call(ana, "POST", "/v1/me/plans", body=body)
    assert (again.status, again.body) == (201, first.body), "a rule of now does not refuse a replay"
    assert mine(aws, ana) == before
    new = plan_call(ana, "POST", "/v1/me/plans", body=plan_body(new_id(), careIds=[care_id]))
    assert new.status == 422, "while a new plan serving that care is refused"


def test_a_plan_replay_racing_its_first_write_is_told_apart(aws: Aws, ana: Person) -> None:
    body = plan_body(new_id())
    answers: list[Reply] = []
    with before_write(lambda: answers.append(plan_call(ana, "POST", "/v1/me/plans", body=body))):
        replay = plan_call(ana, "POST", "/v1/me/plans", body=body)
    assert answers[0].status == 201
    assert (replay.status, replay.body) == (201, answers[0].body)
    assert [i["planId"] for i in mine(aws, ana) if i.get("entity") == "plan"] == [body["planId"]]
    assert len([i for i in mine(aws, ana) if i.get("entity") == "plan-item"]) == 2


# --- obstacles ---------------------------------------------------------------------------------


def obstacle_body(obstacle_id: str, description: str = "Fear of letting go") -> dict[str, Any]:
    return {"obstacleId": obstacle_id, "kind": "dragon", "description": description}


def test_an_obstacle_with_an_app_made_id_is_named_once(aws: Aws, ana: Person) -> None:
    plan_id = new_plan(ana)
    path = f"/v1/me/plans/{plan_id}/obstacles"
    obstacle_id = new_id()
    first = plan_call(ana, "POST", path, body=obstacle_body(obstacle_id))
    assert first.status == 201, first.body
    assert first.body["obstacleId"] == obstacle_id
    before = mine(aws, ana)

    again = plan_call(ana, "POST", path, body=obstacle_body(obstacle_id))
    assert (again.status, again.body, again.headers["ETag"]) == (201, first.body, first.headers["ETag"])
    assert mine(aws, ana) == before, "a replay stores nothing"
    plan = plan_call(ana, "GET", f"/v1/me/plans/{plan_id}").body
    assert plan["obstacles"] == [first.body]
    assert "requestHash" not in str(plan)
    assert "requestHash" not in str(plan_call(ana, "GET", path).body)

    # Changed since: the replay shows the obstacle as it is now.
    patched = plan_call(ana, "PATCH", f"{path}/{obstacle_id}", body={"response": "Hand over one task"})
    assert patched.status == 200, patched.body
    later = plan_call(ana, "POST", path, body=obstacle_body(obstacle_id))
    assert (later.status, later.body, later.headers["ETag"]) == (201, patched.body, '"v2"')

    before = mine(aws, ana)
    assert_id_conflict(plan_call(ana, "POST", path, body=obstacle_body(obstacle_id, "Other")))
    assert_id_conflict(plan_call(ana, "POST", path, body={**obstacle_body(obstacle_id), "kind": "cliff"}))
    assert mine(aws, ana) == before
    # An obstacle named with a server id is never anyone's replay.
    made = plan_call(ana, "POST", path, body={"kind": "cliff", "description": "Gap"}).body
    assert_id_conflict(
        plan_call(
            ana, "POST", path, body={"obstacleId": made["obstacleId"], "kind": "cliff", "description": "Gap"}
        )
    )


def test_an_obstacle_replay_racing_its_first_write_is_told_apart(aws: Aws, ana: Person) -> None:
    plan_id = new_plan(ana)
    body = obstacle_body(new_id())
    path = f"/v1/me/plans/{plan_id}/obstacles"
    answers: list[Reply] = []
    with before_write(lambda: answers.append(plan_call(ana, "POST", path, body=body))):
        replay = plan_call(ana, "POST", path, body=body)
    assert answers[0].status == 201
    assert (replay.status, replay.body) == (201, answers[0].body)
    assert len(plan_call(ana, "GET", f"/v1/me/plans/{plan_id}").body["obstacles"]) == 1


def test_an_item_replay_racing_its_first_write_is_told_apart(aws: Aws, ana: Person) -> None:
    plan_id = new_plan(ana)
    body = {"itemId": new_id(), "kind": "practice", "title": "Ask"}
    path = f"/v1/me/plans/{plan_id}/items"
    answers: list[Reply] = []
    with before_write(lambda: answers.append(plan_call(ana, "POST", path, body=body))):
        replay = plan_call(ana, "POST", path, body=body)
    assert answers[0].status == 201
    assert (replay.status, replay.body) == (201, answers[0].body)
    assert len(plan_call(ana, "GET", f"/v1/me/plans/{plan_id}").body["items"]) == 2


def test_export_shows_nothing_of_request_hashes(aws: Aws, ana: Person, bea: Person) -> None:
    assert ana.care("POST", "/v1/me/cares", body=care_body(new_id())).status == 201
    promise_id = new_id()
    assert ana("POST", "/v1/me/promises", body=opening_body(bea, promiseId=promise_id)).status == 201
    assert move_with_id(bea, promise_id, "promise", new_id()).status == 200
    plan_id = new_plan(ana)
    body = {"itemId": new_id(), "kind": "reading", "title": "The book"}
    assert plan_call(ana, "POST", f"/v1/me/plans/{plan_id}/items", body=body).status == 201
    assert ana.care("POST", "/v1/me/reflections", body=reflection_body(new_id())).status == 201
    assert plan_call(ana, "POST", "/v1/me/plans", body=plan_body(new_id())).status == 201
    path = f"/v1/me/plans/{plan_id}/obstacles"
    assert plan_call(ana, "POST", path, body=obstacle_body(new_id())).status == 201
    keyed = {"Idempotency-Key": f"key-{new_id()}"}  # the id bound to the key: a hash too
    assert plan_call(ana, "POST", "/v1/me/plans", body={"title": "Keyed"}, headers=keyed).status == 201
    hashed = {i.get("entity") for i in mine(aws, ana) if "requestHash" in i}
    assert {"care", "reflection", "plan", "plan-item", "plan-obstacle"} <= hashed
    for person in (ana, bea):
        exported = person.profile("GET", "/v1/me/export")
        assert exported.status == 200, exported.body
        assert "requestHash" not in str(exported.body)
        assert "MOVEID" not in str(exported.body)


# --- 412s that show the resource as it is now --------------------------------------------------

STALE = {"If-Match": '"v1"'}


def test_a_stale_profile_write_shows_my_profile_now(ana: Person) -> None:
    assert ana.profile("PATCH", "/v1/me", body={"displayName": "Ana Two"}).status == 200
    read = ana.profile("GET", "/v1/me")
    body = {"displayName": "X", "handle": ana.handle, "currentLevel": "expert", "timeZone": "Europe/Lisbon"}
    for reply in (
        ana.profile("PUT", "/v1/me", body=body, headers=STALE),
        ana.profile("PATCH", "/v1/me", body={"displayName": "X"}, headers=STALE),
        ana.profile("DELETE", "/v1/me", headers=STALE),
        ana.profile("PUT", "/v1/me", body=body, headers={"If-None-Match": "*"}),
    ):
        assert_shows_current(reply, read)
    assert ana.profile("GET", "/v1/me").body == read.body


def test_a_412_for_a_thing_that_is_not_there_shows_nothing(aws: Aws) -> None:
    sub, username = aws.create_user()
    nobody = Person(aws, sub, username, "nobody")
    reply = nobody.profile("PATCH", "/v1/me", body={"displayName": "X"}, headers=STALE)
    assert reply.status == 404
    body = {"displayName": "X", "handle": "nobody_x", "currentLevel": "expert", "timeZone": "Europe/Lisbon"}
    reply = nobody.profile("PUT", "/v1/me", body=body, headers=STALE)
    assert reply.status == 412
    assert "current" not in reply.problem
    assert "ETag" not in reply.headers


def test_a_stale_care_write_shows_the_care_now(ana: Person) -> None:
    care_id = ana.care("POST", "/v1/me/cares", body={"statement": "A", "domain": "self"}).body["careId"]
    assert ana.care("PATCH", f"/v1/me/cares/{care_id}", body={"meaningForMe": "Why"}).status == 200
    read = ana.care("GET", f"/v1/me/cares/{care_id}")
    assert_shows_current(ana.care("PATCH", f"/v1/me/cares/{care_id}", body={"rank": 1}, headers=STALE), read)
    assert_shows_current(ana.care("DELETE", f"/v1/me/cares/{care_id}", headers=STALE), read)


def test_a_stale_move_shows_the_promise_as_each_side_sees_it(aws: Aws, ana: Person, bea: Person) -> None:
    promise_id = open_promise(ana, bea)["promiseId"]
    assert move(bea, promise_id, "counter", conditions=["Mine"]).status == 200
    assert_shows_current(
        move(ana, promise_id, "accept", headers=STALE), ana("GET", f"/v1/me/promises/{promise_id}")
    )
    assert_shows_current(
        move(bea, promise_id, "withdraw", headers=STALE), bea("GET", f"/v1/me/promises/{promise_id}")
    )

    offer = open_promise(ana, dict(OUTSIDE), "request")
    token = make_link(ana, offer["promiseId"])
    assert public("POST", f"/v1/counterpart/{token}/moves", body={"act": "counter"}).status == 200
    stale = public("POST", f"/v1/counterpart/{token}/moves", body={"act": "accept"}, headers=STALE)
    assert_shows_current(stale, public("GET", f"/v1/counterpart/{token}"))


def test_a_stale_partner_move_shows_the_request_as_its_get_does(aws: Aws, ana: Person) -> None:
    acme = register("Acme Coaching")
    client_id = grant(ana, acme, ["requests.write"])["clientId"]
    body = {"what": "Hold a retro", "dueAt": "2030-03-01T17:00:00Z", "coachName": "Maria"}
    made = as_partner(acme, "POST", f"/partner/v1/clients/{client_id}/requests", body=body)
    assert made.status == 201, made.body
    (membership,) = ana("GET", "/v1/me/promises").body["items"]
    assert move(ana, membership["promiseId"], "promise").status == 200
    path = f"/partner/v1/clients/{client_id}/requests/{made.body['requestId']}"
    stale = as_partner(acme, "POST", f"{path}/moves", body={"act": "withdraw"}, headers=STALE)
    assert_shows_current(stale, as_partner(acme, "GET", path))


def test_stale_plan_writes_show_what_they_named_as_it_is_now(ana: Person) -> None:
    plan_id = new_plan(ana)
    plan_path = f"/v1/me/plans/{plan_id}"
    item_id = plan_call(ana, "GET", plan_path).body["items"][0]["itemId"]
    obstacle = plan_call(
        ana, "POST", f"{plan_path}/obstacles", body={"kind": "dragon", "description": "Fear"}
    )
    obstacle_id = obstacle.body["obstacleId"]
    changed_item = plan_call(ana, "PATCH", f"{plan_path}/items/{item_id}", body={"progress": 10})
    changed_obstacle = plan_call(
        ana, "PATCH", f"{plan_path}/obstacles/{obstacle_id}", body={"response": "Go"}
    )
    rule = {"rrule": "FREQ=DAILY;BYHOUR=8;BYMINUTE=0", "mode": "pinned", "timeZone": "Europe/Lisbon"}
    assert plan_call(ana, "PUT", f"{plan_path}/reminder", body=rule).status == 201
    plan_reminder = plan_call(ana, "PUT", f"{plan_path}/reminder", body={**rule, "paused": True})
    assert plan_call(ana, "PUT", f"{plan_path}/items/{item_id}/reminder", body=rule).status == 201
    item_reminder = plan_call(
        ana, "PUT", f"{plan_path}/items/{item_id}/reminder", body={**rule, "paused": True}
    )
    read = plan_call(ana, "GET", plan_path)
    old = {"If-Match": '"v1"'}

    assert_shows_current(plan_call(ana, "PATCH", plan_path, body={"title": "X"}, headers=old), read)
    assert_shows_current(plan_call(ana, "DELETE", plan_path, headers=old), read)
    for reply in (
        plan_call(ana, "PATCH", f"{plan_path}/items/{item_id}", body={"progress": 20}, headers=old),
        plan_call(ana, "DELETE", f"{plan_path}/items/{item_id}", headers=old),
    ):
        assert_shows_current(reply, changed_item)
        assert reply.problem["current"] in read.body["items"]
    stale = plan_call(
        ana, "PATCH", f"{plan_path}/obstacles/{obstacle_id}", body={"response": "X"}, headers=old
    )
    assert_shows_current(stale, changed_obstacle)
    for path, now in (
        (f"{plan_path}/reminder", plan_reminder),
        (f"{plan_path}/items/{item_id}/reminder", item_reminder),
    ):
        assert_shows_current(plan_call(ana, "PUT", path, body=rule, headers=old), now)
    assert plan_call(ana, "GET", plan_path).body == read.body


# --- 412s found by the write: a change landed between the read and the write -----------------


def test_a_racing_change_to_my_profile_is_a_412_showing_it_now(ana: Person) -> None:
    other_device = lambda: ana.profile("PATCH", "/v1/me", body={"displayName": "Other device"})  # noqa: E731
    with before_write(other_device, "PutItem"):  # a change that keeps the handle: one Put
        reply = ana.profile("PATCH", "/v1/me", body={"displayName": "This device"}, headers=STALE)
    assert_shows_current(reply, ana.profile("GET", "/v1/me"))
    assert reply.problem["current"]["displayName"] == "Other device"


def test_a_racing_change_to_a_care_is_a_412_showing_it_now(ana: Person) -> None:
    care_id = ana.care("POST", "/v1/me/cares", body={"statement": "A", "domain": "self"}).body["careId"]
    path = f"/v1/me/cares/{care_id}"
    with before_write(lambda: ana.care("PATCH", path, body={"meaningForMe": "Other device"})):
        reply = ana.care("PATCH", path, body={"meaningForMe": "This device"}, headers=STALE)
    assert_shows_current(reply, ana.care("GET", path))
    assert reply.problem["current"]["meaningForMe"] == "Other device"


def test_a_racing_move_is_a_412_showing_the_promise_now(ana: Person, bea: Person) -> None:
    promise_id = open_promise(ana, bea)["promiseId"]
    with before_write(lambda: move(ana, promise_id, "withdraw")):
        reply = move(bea, promise_id, "promise", headers=STALE)
    assert_shows_current(reply, bea("GET", f"/v1/me/promises/{promise_id}"))
    assert reply.problem["current"]["state"] == "withdrawn"


def test_racing_plan_changes_are_412s_showing_what_they_named_now(ana: Person) -> None:
    plan_id = new_plan(ana)
    plan_path = f"/v1/me/plans/{plan_id}"
    item_id = plan_call(ana, "GET", plan_path).body["items"][0]["itemId"]
    item_path = f"{plan_path}/items/{item_id}"

    with before_write(lambda: plan_call(ana, "PATCH", item_path, body={"progress": 30})):
        reply = plan_call(ana, "PATCH", item_path, body={"progress": 60}, headers=STALE)
    assert reply.status == 412, reply.body
    assert reply.problem["current"] in plan_call(ana, "GET", plan_path).body["items"]
    assert (reply.problem["current"]["progress"], reply.problem["etag"]) == (30, '"v2"')

    read = plan_call(ana, "GET", plan_path)
    fresh = {"If-Match": read.headers["ETag"]}
    with before_write(lambda: plan_call(ana, "PATCH", plan_path, body={"title": "Other device"})):
        reply = plan_call(ana, "PATCH", plan_path, body={"title": "This device"}, headers=fresh)
    assert_shows_current(reply, plan_call(ana, "GET", plan_path))

    rule = {"rrule": "FREQ=DAILY;BYHOUR=8;BYMINUTE=0", "mode": "pinned", "timeZone": "Europe/Lisbon"}
    set_first = plan_call(ana, "PUT", f"{plan_path}/reminder", body=rule)
    assert set_first.status == 201
    with before_write(lambda: plan_call(ana, "PUT", f"{plan_path}/reminder", body={**rule, "paused": True})):
        reply = plan_call(ana, "PUT", f"{plan_path}/reminder", body=rule, headers=STALE)
    assert reply.status == 412, reply.body
    assert (reply.problem["current"]["paused"], reply.problem["etag"]) == (True, '"v2"')
