"""DynamoDB requests per route, counted by a botocore hook: deterministic budgets.

Read routes: exactly one request. Write routes: at most a read and one write (a transaction, or
one conditional write where nothing else must change with it),
plus the idempotency records only when the client sends an Idempotency-Key. Never a Scan.
Every signed-in request also reads the erasure marker, once (`account_checks`, see
tests/support/aws.py), whatever the route. The costly routes (export, erasure) also count the
request against the person's rate limit: one UpdateItem (`shared.api.ratelimit`).
"""

from __future__ import annotations

from collections import Counter

from tests.handler.conftest import Caller, profile_body


def _counted(me: Caller, method: str, path: str, **kwargs: object) -> Counter[str]:
    me.aws.requests.clear()
    reply = me(method, path, **kwargs)
    assert reply.status < 400, reply.body
    # Besides its own budget, every signed-in request reads the erasure marker once.
    assert me.aws.requests.account_checks == 1
    return me.aws.requests.counts


def test_read_routes_make_exactly_one_request(me: Caller) -> None:
    me("PUT", "/v1/me", body=profile_body())
    for n in range(3):
        me("POST", "/v1/me/devices", body={"platform": "ios", "pushToken": f"token-{n:06d}"})
    assert _counted(me, "GET", "/v1/me") == Counter({"GetItem": 1})
    assert _counted(me, "GET", "/v1/me/devices") == Counter({"Query": 1})
    # The export's read, and its counter (one UpdateItem: the per-person limit).
    assert _counted(me, "GET", "/v1/me/export") == Counter({"Query": 1, "UpdateItem": 1})


def test_write_routes_make_a_read_and_one_write(me: Caller) -> None:
    assert _counted(me, "PUT", "/v1/me", body=profile_body()) == Counter(
        {"GetItem": 1, "TransactWriteItems": 1}
    )
    # Keeping the handle, the profile is one conditional Put (no transaction: see profiles.py).
    assert _counted(me, "PATCH", "/v1/me", body={"displayName": "B"}) == Counter({"GetItem": 1, "PutItem": 1})
    assert _counted(me, "PATCH", "/v1/me", body={"handle": "new_handle"}) == Counter(
        {"GetItem": 1, "TransactWriteItems": 1}
    )
    device = {"platform": "ios", "pushToken": "token-000001"}
    assert _counted(me, "POST", "/v1/me/devices", body=device) == Counter(
        {"Query": 1, "TransactWriteItems": 1}
    )
    device_id = me("GET", "/v1/me/devices").body["items"][0]["deviceId"]
    assert _counted(me, "DELETE", f"/v1/me/devices/{device_id}") == Counter(
        {"GetItem": 1, "TransactWriteItems": 1}
    )


def test_idempotency_records_only_with_a_key(me: Caller) -> None:
    device = {"platform": "ios", "pushToken": "token-000002"}
    first = _counted(me, "POST", "/v1/me/devices", body=device, headers={"Idempotency-Key": "abc"})
    # Powertools: PutItem (in progress) + UpdateItem (completed) around the route's own requests.
    assert first == Counter({"Query": 1, "TransactWriteItems": 1, "PutItem": 1, "UpdateItem": 1})
    replay = _counted(me, "POST", "/v1/me/devices", body=device, headers={"Idempotency-Key": "abc"})
    assert replay == Counter({"PutItem": 1}), "a replay is answered from the record alone"


def test_no_route_scans(me: Caller) -> None:
    me("PUT", "/v1/me", body=profile_body())
    me("POST", "/v1/me/devices", body={"platform": "ios", "pushToken": "token-000003"})
    me("GET", "/v1/me/export")
    me("DELETE", "/v1/me")
    assert "Scan" not in me.aws.requests.operations
