"""Handler tests: the real lambda_handler on moto, with a signed-in person."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from functions.account.app import lambda_handler as account_handler
from functions.profile.app import lambda_handler
from infra.local import push as local_push
from shared import push
from tests.support.aws import Aws, Reply, http_event, invoke


@dataclass
class Caller:
    """One signed-in person calling the profile function (and the account export)."""

    aws: Aws
    sub: str
    username: str

    def __call__(self, method: str, path: str, **kwargs: Any) -> Reply:
        return invoke(
            profile_or_account(path),
            http_event(method, path, user=self.sub, username=self.username, **kwargs),
        )


def profile_or_account(path: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The profile function, or the account function for the export (its own function)."""
    return account_handler if path == "/v1/me/export" else lambda_handler


@pytest.fixture
def pushes(aws: Aws) -> Iterator[list[dict[str, Any]]]:
    """What reached devices, recorded by the local stack's hook on shared.push's SNS client."""
    local_push.clear()
    local_push.watch(push.sns().meta.events)
    yield local_push.SENT
    local_push.clear()


@pytest.fixture
def make_caller(aws: Aws) -> Callable[[], Caller]:
    def make() -> Caller:
        sub, username = aws.create_user()
        return Caller(aws, sub, username)

    return make


@pytest.fixture
def me(make_caller: Callable[[], Caller]) -> Caller:
    return make_caller()


def profile_body(**overrides: Any) -> dict[str, Any]:
    """A valid PUT /v1/me body."""
    body: dict[str, Any] = {
        "displayName": "Ana Lima",
        "handle": "ana_lima",
        "currentLevel": "expert",
        "targetLevel": "team_lead",
        "timeZone": "Europe/Lisbon",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}
