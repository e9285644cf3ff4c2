"""Devices: register, list (paginated), remove; idempotency and other people's ids."""

from __future__ import annotations

from collections.abc import Callable

from tests.handler.conftest import Caller


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
