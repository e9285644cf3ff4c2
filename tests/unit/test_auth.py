"""shared.api.auth: the caller from the JWT authorizer's claims."""

from __future__ import annotations

from typing import Any

import pytest

from shared.api.auth import CurrentUser, NotSignedIn, current_user


def _event(claims: dict[str, Any] | None) -> dict[str, Any]:
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims, "scopes": None}}}}


def test_access_token_claims_give_sub_and_username() -> None:
    user = current_user(_event({"sub": "1111-2222", "username": "ana", "token_use": "access"}))
    assert user == CurrentUser(user_id="1111-2222", username="ana")


def test_id_token_claims_give_cognito_username() -> None:
    user = current_user(_event({"sub": "1111-2222", "cognito:username": "ana", "token_use": "id"}))
    assert user == CurrentUser(user_id="1111-2222", username="ana")


def test_username_falls_back_to_sub() -> None:
    assert current_user(_event({"sub": "1111-2222"})) == CurrentUser("1111-2222", "1111-2222")


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"requestContext": None},
        {"requestContext": {}},
        {"requestContext": {"authorizer": None}},
        {"requestContext": {"authorizer": {}}},
        {"requestContext": {"authorizer": {"lambda": {"sub": "x"}}}},
        _event(None),
        _event({}),
        _event({"username": "ana"}),
        _event({"sub": ""}),
        _event({"sub": None, "cognito:username": "ana"}),
    ],
)
def test_missing_sub_is_not_signed_in(event: dict[str, Any]) -> None:
    with pytest.raises(NotSignedIn):
        current_user(event)


def test_null_jwt_block_is_not_signed_in() -> None:
    with pytest.raises(NotSignedIn):
        current_user({"requestContext": {"authorizer": {"jwt": None}}})
