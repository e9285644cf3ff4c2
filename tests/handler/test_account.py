"""Export and erasure of a whole account."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.handler.conftest import Caller, profile_body


def _mentions(item: dict[str, object], sub: str, handle: str) -> bool:
    text = json.dumps(item, default=str)
    return sub in text or f"HANDLE#{handle}" in text


def test_export_holds_every_item_of_mine_and_nothing_of_others(make_caller: Callable[[], Caller]) -> None:
    ana, bea = make_caller(), make_caller()
    ana("PUT", "/v1/me", body=profile_body(handle="ana"))
    ana("POST", "/v1/me/devices", body={"platform": "ios", "pushToken": "ana-token-1"})
    ana(
        "POST",
        "/v1/me/devices",
        body={"platform": "android", "pushToken": "ana-token-2"},
        headers={"Idempotency-Key": "k"},
    )
    bea("PUT", "/v1/me", body=profile_body(handle="bea"))
    bea("POST", "/v1/me/devices", body={"platform": "ios", "pushToken": "bea-token-1"})

    export = ana("GET", "/v1/me/export")
    assert export.status == 200
    assert export.body["userId"] == ana.sub
    assert export.body["profile"]["handle"] == "ana"
    assert sorted(d["pushToken"] for d in export.body["devices"]) == ["ana-token-1", "ana-token-2"]
    assert export.body["other"] == {}, "idempotency records are technical, not exported"
    assert "bea" not in json.dumps(export.body)


def test_export_of_a_new_person_is_empty_not_404(me: Caller) -> None:
    export = me("GET", "/v1/me/export")
    assert export.status == 200
    assert export.body["profile"] is None
    assert export.body["devices"] == []


def test_erasure_leaves_no_item_that_mentions_me(make_caller: Callable[[], Caller]) -> None:
    ana, bea = make_caller(), make_caller()
    ana("PUT", "/v1/me", body=profile_body(handle="ana"))
    ana("PATCH", "/v1/me", body={"handle": "ana_two"})
    for n in range(3):
        ana(
            "POST",
            "/v1/me/devices",
            body={"platform": "ios", "pushToken": f"ana-token-{n}"},
            headers={"Idempotency-Key": f"k{n}"},
        )
    bea("PUT", "/v1/me", body=profile_body(handle="bea"))
    before = ana.aws.all_items()
    assert any(_mentions(i, ana.sub, "ana_two") for i in before)

    assert ana("DELETE", "/v1/me").status == 204

    after = ana.aws.all_items()
    left = [i for i in after if _mentions(i, ana.sub, "ana_two")]
    # Only the marker that refuses her still-valid tokens: her opaque id, when, and its expiry.
    assert [sorted(i) for i in left] == [["PK", "SK", "erasedAt", "expiresAt"]]
    assert left[0]["PK"] == f"ERASED#{ana.sub}"
    assert not ana.aws.user_exists(ana.username), "the sign-in user is gone too"
    assert ana.aws.user_exists(bea.username)
    assert bea("GET", "/v1/me").body["handle"] == "bea", "other people keep their data"
    # The handle is free again for someone else.
    assert bea("PATCH", "/v1/me", body={"handle": "ana_two"}).status == 200


def test_erasure_is_idempotent(me: Caller) -> None:
    me("PUT", "/v1/me", body=profile_body())
    assert me("DELETE", "/v1/me").status == 204
    assert me("DELETE", "/v1/me").status == 204


def test_erasure_honours_if_match(me: Caller) -> None:
    me("PUT", "/v1/me", body=profile_body())
    assert me("DELETE", "/v1/me", headers={"If-Match": '"v9"'}).status == 412
    assert me("GET", "/v1/me").status == 200
    assert me("DELETE", "/v1/me", headers={"If-Match": '"v1"'}).status == 204
    assert me("GET", "/v1/me").status == 401, "the token outlives the account, not its access"
