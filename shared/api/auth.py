"""The signed-in person, from the claims API Gateway's JWT authorizer already checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class NotSignedIn(Exception):
    """The event carries no verified identity (only possible behind a misconfigured route)."""


@dataclass(frozen=True)
class CurrentUser:
    """Who is calling: the token's `sub`, and the Cognito username needed to erase them."""

    user_id: str
    username: str


def current_user(event: dict[str, Any]) -> CurrentUser:
    """Read the caller from `requestContext.authorizer.jwt.claims` (access or ID token)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not sub:
        raise NotSignedIn("no verified subject")
    username = claims.get("username") or claims.get("cognito:username") or sub
    return CurrentUser(user_id=str(sub), username=str(username))
