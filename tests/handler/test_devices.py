"""Devices: register, list (paginated), remove; idempotency and other people's ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from shared.store import table
from tests.handler.conftest import Caller
from tests.support.aws import fail_next


def _device(token: str = "apns-token-0001", platform: str = "ios") -> dict[str, str]:
    return {"platform": platform, "pushToken": token}


def test_register_list_and_remove(me: Caller) -> None:
    created = me("POST", "/v1/me/devices", body=_device())
    assert created.status == 201
    device_id = created.body["deviceId"]
    assert created.headers["Location"] == f"/v1/me/devices/{device_id}"
    listed = me("GET", "/v1/me/devices")
    assert [d["deviceId"] for d in listed.body["items"]] == [device_id]
    assert listed.body["nextCursor"] is None
    assert me("DELETE", f"/v1/me/devices/{device_id}").status == 204
    assert me("GET", "/v1/me/devices").body["items"] == []
    assert me("DELETE", f"/v1/me/devices/{device_id}").status == 404


def test_registering_the_same_token_twice_returns_the_same_device(me: Caller) -> None:
    first = me("POST", "/v1/me/devices", body=_device())
    again = me("POST", "/v1/me/devices", body=_device())
    assert again.status == 200
    assert again.body == first.body
    assert len(me("GET", "/v1/me/devices").body["items"]) == 1


def test_another_persons_device_is_404_and_stays(make_caller: Callable[[], Caller]) -> None:
    ana, bea = make_caller(), make_caller()
    device_id = ana("POST", "/v1/me/devices", body=_device()).body["deviceId"]
    reply = bea("DELETE", f"/v1/me/devices/{device_id}")
    assert reply.status == 404
    assert reply.problem["status"] == 404
    assert [d["deviceId"] for d in ana("GET", "/v1/me/devices").body["items"]] == [device_id]


def test_list_pages_with_a_cursor(me: Caller) -> None:
    ids = [me("POST", "/v1/me/devices", body=_device(f"token-{n:08d}")).body["deviceId"] for n in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = me("GET", "/v1/me/devices", query=query)
        assert page.status == 200
        seen += [d["deviceId"] for d in page.body["items"]]
        cursor = page.body["nextCursor"]
        pages += 1
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert pages == 3


def test_a_forged_or_foreign_cursor_is_422(make_caller: Callable[[], Caller]) -> None:
    ana, bea = make_caller(), make_caller()
    for n in range(3):
        ana("POST", "/v1/me/devices", body=_device(f"token-{n:08d}"))
    cursor = ana("GET", "/v1/me/devices", query={"limit": "1"}).body["nextCursor"]
    assert cursor
    foreign = bea("GET", "/v1/me/devices", query={"cursor": cursor})
    assert foreign.status == 422
    assert foreign.problem["errors"][0]["field"] == "cursor"
    forged = ana("GET", "/v1/me/devices", query={"cursor": cursor[:-3] + "AAA"})
    assert forged.status == 422


def test_limit_out_of_range_is_422(me: Caller) -> None:
    for bad in ("0", "101", "ten"):
        reply = me("GET", "/v1/me/devices", query={"limit": bad})
        assert reply.status == 422
        assert reply.problem["errors"][0]["location"] == "query"
        assert reply.problem["errors"][0]["field"] == "limit"


def test_idempotency_key_replays_the_first_response(me: Caller) -> None:
    key = {"Idempotency-Key": "register-1"}
    first = me("POST", "/v1/me/devices", body=_device("token-aaaaaaaa"), headers=key)
    replay = me("POST", "/v1/me/devices", body=_device("token-aaaaaaaa"), headers=key)
    assert first.status == replay.status == 201
    assert replay.body == first.body
    assert len(me("GET", "/v1/me/devices").body["items"]) == 1


def test_idempotency_key_with_another_body_is_422(me: Caller) -> None:
    key = {"Idempotency-Key": "register-2"}
    me("POST", "/v1/me/devices", body=_device("token-aaaaaaaa"), headers=key)
    reply = me("POST", "/v1/me/devices", body=_device("token-bbbbbbbb"), headers=key)
    assert reply.status == 422
    assert reply.problem["errors"][0]["field"] == "Idempotency-Key"
    assert len(me("GET", "/v1/me/devices").body["items"]) == 1


def test_idempotency_keys_of_different_people_do_not_collide(make_caller: Callable[[], Caller]) -> None:
    ana, bea = make_caller(), make_caller()
    key = {"Idempotency-Key": "same-key"}
    a = ana("POST", "/v1/me/devices", body=_device("token-aaaaaaaa"), headers=key)
    b = bea("POST", "/v1/me/devices", body=_device("token-aaaaaaaa"), headers=key)
    assert a.status == b.status == 201
    assert a.body["deviceId"] != b.body["deviceId"]


def test_device_limit(me: Caller) -> None:
    for n in range(10):
        assert me("POST", "/v1/me/devices", body=_device(f"token-{n:08d}")).status == 201
    reply = me("POST", "/v1/me/devices", body=_device("token-one-too-many"))
    assert reply.status == 409
    assert len(me("GET", "/v1/me/devices", query={"limit": "100"}).body["items"]) == 10


# --- under a flaky network: registrations that race (issue 9, part 5) -------------------------


def _while_writing(register_first: Callable[[], Any]) -> Any:
    """Run `register_first` after the request under test has read my devices and just before it
    writes: what a parallel registration from a retrying phone does."""
    fired: list[Any] = []
    started: list[bool] = []

    def hook(**_: Any) -> None:
        if not started:  # once: the registration it runs writes through this client too
            started.append(True)
            fired.append(register_first())

    table.dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", hook)
    return fired, hook


def _stop(hook: Any) -> None:
    table.dynamodb().meta.events.unregister("before-call.dynamodb.TransactWriteItems", hook)


def _endpoint_tokens(aws: Any) -> list[str]:
    sns = boto3.client("sns", region_name="us-east-1")
    tokens = []
    for app in sns.list_platform_applications()["PlatformApplications"]:
        endpoints = sns.list_endpoints_by_platform_application(
            PlatformApplicationArn=app["PlatformApplicationArn"]
        )
        tokens += [e["Attributes"]["Token"] for e in endpoints["Endpoints"]]
    return tokens


def test_the_same_token_registered_twice_at_once_is_one_device(me: Caller) -> None:
    fired, hook = _while_writing(lambda: me("POST", "/v1/me/devices", body=_device("token-racing-1")))
    try:
        outer = me("POST", "/v1/me/devices", body=_device("token-racing-1"))
    finally:
        _stop(hook)
    (inner,) = fired
    assert inner.status == 201
    assert outer.status == 200, "the later one finds the earlier: the same device"
    assert outer.body == inner.body
    assert [d["deviceId"] for d in me("GET", "/v1/me/devices").body["items"]] == [inner.body["deviceId"]]
    # The count holds one: nine more fit, and not ten.
    for n in range(9):
        assert me("POST", "/v1/me/devices", body=_device(f"token-{n:08d}")).status == 201
    assert me("POST", "/v1/me/devices", body=_device("token-eleventh")).status == 409


def test_the_limit_holds_when_two_registrations_race_for_the_last_place(me: Caller) -> None:
    for n in range(9):
        assert me("POST", "/v1/me/devices", body=_device(f"token-{n:08d}")).status == 201
    fired, hook = _while_writing(lambda: me("POST", "/v1/me/devices", body=_device("token-tenth-in")))
    try:
        late = me("POST", "/v1/me/devices", body=_device("token-eleventh-out"))
    finally:
        _stop(hook)
    assert fired[0].status == 201
    assert late.status == 409, late.body
    listed = me("GET", "/v1/me/devices", query={"limit": "100"}).body["items"]
    assert len(listed) == 10
    assert "token-eleventh-out" not in {d["pushToken"] for d in listed}
    assert "token-eleventh-out" not in _endpoint_tokens(me.aws), "its push endpoint was not left behind"
    assert "token-tenth-in" in _endpoint_tokens(me.aws)


def test_removing_a_device_makes_room_and_frees_its_token(me: Caller) -> None:
    ids = [me("POST", "/v1/me/devices", body=_device(f"token-{n:08d}")).body["deviceId"] for n in range(10)]
    assert me("DELETE", f"/v1/me/devices/{ids[0]}").status == 204
    again = me("POST", "/v1/me/devices", body=_device("token-00000000"))
    assert again.status == 201, "a new device for the token that was removed"
    assert again.body["deviceId"] != ids[0]
    assert me("POST", "/v1/me/devices", body=_device("token-eleventh")).status == 409


def test_a_transaction_conflict_on_registering_is_tried_again(me: Caller) -> None:
    # device, token, count, account check: another registration touched the count meanwhile.
    conflict = ["None", "None", "TransactionConflict", "None"]
    fail_next(table.dynamodb(), "TransactWriteItems", "TransactionCanceledException", reasons=conflict)
    assert me("POST", "/v1/me/devices", body=_device("token-retried-1")).status == 201
    assert len(me("GET", "/v1/me/devices").body["items"]) == 1


def test_a_transaction_conflict_on_removing_is_a_409_and_removes_nothing(me: Caller) -> None:
    device_id = me("POST", "/v1/me/devices", body=_device("token-kept-1")).body["deviceId"]
    conflict = ["None", "None", "TransactionConflict"]
    fail_next(table.dynamodb(), "TransactWriteItems", "TransactionCanceledException", reasons=conflict)
    reply = me("DELETE", f"/v1/me/devices/{device_id}")
    assert reply.status == 409, reply.body
    assert [d["deviceId"] for d in me("GET", "/v1/me/devices").body["items"]] == [device_id]
    assert me("DELETE", f"/v1/me/devices/{device_id}").status == 204
