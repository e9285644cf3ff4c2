"""Blocking (issue 9, part 8): a blocked person's requests and offers are refused as if my handle
did not exist, and nothing of theirs is pushed to me."""

from __future__ import annotations

from typing import Any

from shared.store import table
from tests.handler import test_promises
from tests.handler.test_promises import Person, get, inbox, moved, new_person, open_promise, opening_body
from tests.support.aws import Aws, Reply

make_person, ana, bea, cai = (
    test_promises.make_person,
    test_promises.ana,
    test_promises.bea,
    test_promises.cai,
)


def _block(person: Person, handle: str) -> Reply:
    return person.profile("POST", "/v1/me/blocks", body={"handle": handle})


def _blocks(person: Person) -> list[dict[str, Any]]:
    reply = person.profile("GET", "/v1/me/blocks")
    assert reply.status == 200, reply.body
    items: list[dict[str, Any]] = reply.body["items"]
    return items


def _comparable(reply: Reply) -> dict[str, Any]:
    return {k: v for k, v in reply.problem.items() if k != "instance"}


def test_a_blocked_persons_requests_and_offers_are_refused_as_if_i_did_not_exist(
    ana: Person, bea: Person, cai: Person
) -> None:
    blocked = _block(bea, ana.handle)
    assert blocked.status == 201, blocked.body
    assert blocked.headers["Location"] == f"/v1/me/blocks/{blocked.body['blockId']}"
    inbox_before = inbox(bea)
    nobody = ana("POST", "/v1/me/promises", body=opening_body("no_such_handle_x"))
    for opening in ("request", "offer", "promise"):
        refused = ana("POST", "/v1/me/promises", body=opening_body(bea, opening))
        assert refused.status == 422, refused.body
        assert _comparable(refused) == _comparable(nobody), "a block is never revealed"
    assert ana("GET", "/v1/me/promises").body["items"] == []
    assert inbox(bea) == inbox_before, "nothing reached bea"
    # Others still reach bea, and bea still reaches ana.
    open_promise(cai, bea)
    open_promise(bea, ana)


def test_promises_already_shared_go_on_after_a_block(ana: Person, bea: Person) -> None:
    asked = open_promise(ana, bea)["promiseId"]
    assert _block(bea, ana.handle).status == 201
    assert moved(bea, asked, "promise")["state"] == "promised"
    assert get(ana, asked)["state"] == "promised"


def test_blocking_twice_is_the_same_block_and_unblocking_lets_them_in_again(ana: Person, bea: Person) -> None:
    first = _block(bea, ana.handle)
    again = _block(bea, ana.handle.upper())
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert [b["blockId"] for b in _blocks(bea)] == [first.body["blockId"]]
    assert bea.profile("DELETE", f"/v1/me/blocks/{first.body['blockId']}").status == 204
    assert _blocks(bea) == []
    assert bea.profile("DELETE", f"/v1/me/blocks/{first.body['blockId']}").status == 404
    open_promise(ana, bea)


def test_only_my_own_blocks_can_be_removed(ana: Person, bea: Person, cai: Person) -> None:
    block_id = _block(bea, ana.handle).body["blockId"]
    assert cai.profile("DELETE", f"/v1/me/blocks/{block_id}").status == 404
    assert [b["blockId"] for b in _blocks(bea)] == [block_id]


def test_unknown_held_and_own_handles_cannot_be_blocked(ana: Person, bea: Person) -> None:
    for handle in ("no_such_handle_x", ana.handle):
        reply = _block(ana, handle)
        assert reply.status == 422, reply.body
        assert reply.problem["errors"][0]["field"] == "handle"
    old = bea.handle
    assert bea.profile("PATCH", "/v1/me", body={"handle": "bea_renamed"}).status == 200
    assert _block(ana, old).status == 422, "a held handle names no one"
    assert _blocks(ana) == []


def test_the_list_shows_the_blocked_persons_handle_now(aws: Aws, ana: Person, bea: Person) -> None:
    assert _block(bea, ana.handle).status == 201
    assert ana.profile("PATCH", "/v1/me", body={"handle": "ana_renamed"}).status == 200
    (listed,) = _blocks(bea)
    assert listed["handle"] == "ana_renamed"
    assert ana.profile("DELETE", "/v1/me").status == 204
    (listed,) = _blocks(bea)
    assert listed.get("handle") is None, "gone from the app: no handle to show"


def test_a_block_that_lands_while_a_request_is_in_flight_refuses_it(aws: Aws) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    fired: list[bool] = []

    def block_first(**_: Any) -> None:
        if not fired:
            fired.append(True)
            assert _block(bea, ana.handle).status == 201

    table.dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", block_first)
    try:
        reply = ana("POST", "/v1/me/promises", body=opening_body(bea))
    finally:
        table.dynamodb().meta.events.unregister("before-call.dynamodb.TransactWriteItems", block_first)
    assert reply.status == 422, reply.body
    assert inbox(bea) == []
