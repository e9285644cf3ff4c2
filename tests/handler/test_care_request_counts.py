"""DynamoDB requests per care route, counted by a botocore hook: deterministic budgets.

Read routes: one request (the questions: none, they live in code). Care writes: one Query and one
TransactWriteItems, however many cares a re-rank moves. A reflection: one TransactWriteItems
(the reflection and the account check). An
Idempotency-Key adds the idempotency records only. Never a Scan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from shared.store import care_links
from shared.store.care_links import Linked
from tests.handler import test_care
from tests.handler.test_care import (
    CareCaller,
    care_body,
    create_care,
    now,
    reflection_body,
    transact,
    write_reflection,
)

# The callers of test_care, by reference.
make_caller, me = test_care.make_caller, test_care.me


def _counted(
    me: CareCaller, method: str, path: str, *, status: int | None = None, **kwargs: Any
) -> Counter[str]:
    me.aws.requests.clear()
    reply = me(method, path, **kwargs)
    if status is None:
        assert reply.status < 400, reply.body
    else:
        assert reply.status == status, reply.body
    # Besides its own budget, every signed-in request reads the erasure marker once.
    assert me.aws.requests.account_checks == 1
    return me.aws.requests.counts


def _three_cares(me: CareCaller) -> list[str]:
    reflection = write_reflection(me)["reflectionId"]
    return [
        create_care(me, "A", sourceReflectionId=reflection)["careId"],
        create_care(me, "B")["careId"],
        create_care(me, "C")["careId"],
    ]


def test_questions_need_no_request(me: CareCaller) -> None:
    assert _counted(me, "GET", "/v1/care/questions") == Counter()
    assert _counted(me, "GET", "/v1/care/questions", query={"version": "1"}) == Counter()


def test_read_routes_make_exactly_one_request(me: CareCaller) -> None:
    ids = _three_cares(me)
    for n in range(3):
        write_reflection(me, items=[{"questionId": "why", "text": f"because {n}"}])
    me("DELETE", f"/v1/me/cares/{ids[2]}")
    for n in range(4):
        me("PATCH", f"/v1/me/cares/{ids[0]}", body={"statement": f"A{n}"})
    reflection_id = me("GET", "/v1/me/reflections").body["items"][0]["reflectionId"]

    one_query = Counter({"Query": 1})
    one_get = Counter({"GetItem": 1})
    assert _counted(me, "GET", "/v1/me/reflections") == one_query
    cursor = me("GET", "/v1/me/reflections", query={"limit": "2"}).body["nextCursor"]
    assert _counted(me, "GET", "/v1/me/reflections", query={"limit": "2", "cursor": cursor}) == one_query
    assert _counted(me, "GET", f"/v1/me/reflections/{reflection_id}") == one_get
    assert _counted(me, "GET", "/v1/me/cares") == one_query
    cursor = me("GET", "/v1/me/cares", query={"limit": "1"}).body["nextCursor"]
    assert _counted(me, "GET", "/v1/me/cares", query={"limit": "1", "cursor": cursor}) == one_query
    assert _counted(me, "GET", "/v1/me/cares", query={"status": "archived"}) == one_query
    assert _counted(me, "GET", f"/v1/me/cares/{ids[0]}") == one_get
    assert _counted(me, "GET", f"/v1/me/cares/{ids[0]}/history") == one_query
    cursor = me("GET", f"/v1/me/cares/{ids[0]}/history", query={"limit": "2"}).body["nextCursor"]
    assert _counted(me, "GET", f"/v1/me/cares/{ids[0]}/history", query={"cursor": cursor}) == one_query
    assert _counted(me, "GET", "/v1/me/care-map") == one_query


def test_the_care_map_is_one_query_whatever_the_links(me: CareCaller) -> None:
    ids = _three_cares(me)
    for n in range(10):
        transact(care_links.link(me.sub, ids, Linked("plan_item", f"L{n}"), "open", now()))
    transact(care_links.link(me.sub, ids[:1], Linked("promise", "P"), "open", now()))
    assert _counted(me, "GET", "/v1/me/care-map") == Counter({"Query": 1})
    entry = me("GET", "/v1/me/care-map").body["items"][0]
    assert entry["planItems"] == {"open": 10, "done": 0}
    assert entry["promises"] == {"open": 1, "fulfilled": 0}
    assert _counted(me, "GET", "/v1/me/cares") == Counter({"Query": 1})


def test_reading_what_is_not_mine_is_one_request(make_caller: Callable[[], CareCaller]) -> None:
    ana, bea = make_caller(), make_caller()
    care_id = create_care(bea, "Theirs")["careId"]
    reflection_id = write_reflection(bea)["reflectionId"]
    assert _counted(ana, "GET", f"/v1/me/cares/{care_id}", status=404) == Counter({"GetItem": 1})
    assert _counted(ana, "GET", f"/v1/me/cares/{care_id}/history", status=404) == Counter({"Query": 1})
    assert _counted(ana, "GET", f"/v1/me/reflections/{reflection_id}", status=404) == Counter({"GetItem": 1})


def test_care_writes_make_a_query_and_one_transaction(me: CareCaller) -> None:
    ids = _three_cares(me)
    query_and_write = Counter({"Query": 1, "TransactWriteItems": 1})
    assert _counted(me, "POST", "/v1/me/cares", body=care_body("D")) == query_and_write
    assert _counted(me, "POST", "/v1/me/cares", body=care_body("E", rank=1)) == query_and_write, (
        "re-ranks four"
    )
    assert _counted(me, "PATCH", f"/v1/me/cares/{ids[2]}", body={"rank": 1}) == query_and_write
    assert _counted(me, "PATCH", f"/v1/me/cares/{ids[1]}", body={"meaningForMe": "Why"}) == query_and_write
    assert _counted(me, "PATCH", f"/v1/me/cares/{ids[1]}", body={"meaningForMe": None}) == query_and_write
    assert _counted(me, "DELETE", f"/v1/me/cares/{ids[0]}") == query_and_write
    assert _counted(me, "PATCH", f"/v1/me/cares/{ids[0]}", body={"status": "active"}) == query_and_write


def test_refused_and_empty_care_writes_write_nothing(me: CareCaller) -> None:
    ids = _three_cares(me)
    assert _counted(me, "PATCH", f"/v1/me/cares/{ids[1]}", body={"statement": "B"}) == Counter({"Query": 1})
    stale = {"If-Match": '"v9"'}
    assert _counted(
        me, "PATCH", f"/v1/me/cares/{ids[0]}", body={"rank": 3}, headers=stale, status=412
    ) == Counter({"Query": 1})
    assert _counted(me, "DELETE", f"/v1/me/cares/{ids[0]}", headers=stale, status=412) == Counter(
        {"Query": 1}
    )
    assert _counted(me, "POST", "/v1/me/cares", body=care_body("A", color="red"), status=422) == Counter()
    assert (
        _counted(me, "POST", "/v1/me/reflections", body=reflection_body(version=7), status=422) == Counter()
    )


def test_a_reflection_is_one_put(me: CareCaller) -> None:
    assert _counted(me, "POST", "/v1/me/reflections", body=reflection_body()) == Counter(
        {"TransactWriteItems": 1}
    )


def test_idempotency_records_only_with_a_key(me: CareCaller) -> None:
    # Powertools: PutItem (in progress) + UpdateItem (completed) around the route's own requests.
    # A reflection or a care may carry an app-made id: a keyed create without one gets the id
    # bound to its key (one conditional PutItem more, shared/api/idempotency.py), so a run after
    # a timeout that struck after the commit is a replay, not a second one.
    key = {"Idempotency-Key": "reflection-1"}
    first = _counted(me, "POST", "/v1/me/reflections", body=reflection_body(), headers=key)
    assert first == Counter({"PutItem": 2, "TransactWriteItems": 1, "UpdateItem": 1})
    replay = _counted(me, "POST", "/v1/me/reflections", body=reflection_body(), headers=key)
    assert replay == Counter({"PutItem": 1}), "a replay is answered from the record alone"

    key = {"Idempotency-Key": "care-1"}
    first = _counted(me, "POST", "/v1/me/cares", body=care_body("A"), headers=key)
    assert first == Counter({"Query": 1, "TransactWriteItems": 1, "PutItem": 2, "UpdateItem": 1})
    replay = _counted(me, "POST", "/v1/me/cares", body=care_body("A"), headers=key)
    assert replay == Counter({"PutItem": 1})


def test_no_route_scans(me: CareCaller) -> None:
    ids = _three_cares(me)
    me("GET", "/v1/care/questions")
    me("GET", "/v1/me/reflections")
    me("GET", "/v1/me/cares")
    me("GET", "/v1/me/cares", query={"status": "archived"})
    me("PATCH", f"/v1/me/cares/{ids[2]}", body={"rank": 1})
    me("DELETE", f"/v1/me/cares/{ids[1]}")
    me("GET", f"/v1/me/cares/{ids[0]}/history")
    me("GET", "/v1/me/care-map")
    me.profile("GET", "/v1/me/export")
    me.profile("DELETE", "/v1/me")
    operations = me.aws.requests.operations
    assert "Query" in operations, "the hook saw the requests"
    assert "Scan" not in operations
