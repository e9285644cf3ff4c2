"""The sign-in side of an account: the Cognito user pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from shared.config import settings
from shared.store.table import error_code

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

_client: CognitoIdentityProviderClient | None = None


def cognito() -> CognitoIdentityProviderClient:
    """The process's Cognito client, made on first use."""
    global _client
    if _client is None:
        _client = boto3.client("cognito-idp")
    return _client


def reset_clients() -> None:
    """Forget the cached client (tests switch emulators between cases)."""
    global _client
    _client = None


def _pool_id() -> str:
    pool_id = settings().user_pool_id
    if not pool_id:
        raise RuntimeError("USER_POOL_ID is not configured for this function")
    return pool_id


def sign_out_everywhere(username: str) -> None:
    """Revoke every refresh token of the person (Cognito global sign-out), so no device can
    get a new token; access and ID tokens already issued stay valid until they expire, which
    is why the API also checks the erasure marker. Already gone is fine (a retried erasure)."""
    try:
        cognito().admin_user_global_sign_out(UserPoolId=_pool_id(), Username=username)
    except ClientError as error:
        if error_code(error) != "UserNotFoundException":
            raise


def delete_sign_in_user(username: str) -> None:
    """Delete the person's Cognito user; already gone is fine (erasure may be retried)."""
    try:
        cognito().admin_delete_user(UserPoolId=_pool_id(), Username=username)
    except ClientError as error:
        if error_code(error) != "UserNotFoundException":
            raise
