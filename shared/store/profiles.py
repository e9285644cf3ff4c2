"""The profile aggregate: one item per person plus a reservation per handle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from shared.domain.errors import AccountErased, Conflict, PreconditionFailed
from shared.store import keys
from shared.store.accounts import is_erased
from shared.store.table import (
    deserialize,
    dynamodb,
    error_code,
    key,
    serialize,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction, TransactionCancelled

# How long a handle someone gave up stays theirs: long enough that the people who knew them by
# it have seen the new one, and that a request sent to the old one cannot reach a stranger.
HANDLE_HOLD = timedelta(days=30)

PUBLIC_FIELDS = (
    "displayName",
    "handle",
    "currentLevel",
    "targetLevel",
    "timeZone",
    "notificationPrefs",
    "createdAt",
    "updatedAt",
)


@dataclass(frozen=True)
class StoredProfile:
    """A profile as read, with the version its ETag stands for."""

    data: dict[str, Any]
    version: int

    @property
    def handle(self) -> str:
        return str(self.data["handle"])


def get_profile(user_id: str) -> StoredProfile | None:
    """GetItem on USER#<sub> / PROFILE (strongly consistent: ETags must not go back in time)."""
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(), Key=key(keys.user_pk(user_id), keys.PROFILE_SK), ConsistentRead=True
        )
    if "Item" not in response:
        return None
    item = deserialize(response["Item"])
    return StoredProfile({k: item[k] for k in PUBLIC_FIELDS if k in item}, int(item["version"]))


def handle_owner(handle: str) -> str | None:
    """Who holds `handle` now (consistent GetItem); None when no one does, or when it is held
    after its owner gave it up (a held handle reaches no one)."""
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(),
            Key=key(keys.handle_pk(handle.lower()), keys.HANDLE_SK),
            ConsistentRead=True,
        )
    item = deserialize(response.get("Item", {}))
    if not item or "expiresAt" in item:
        return None
    return str(item["owner"])


def active_handle_check(handle: str, owner: str) -> dict[str, Any]:
    """A ConditionCheck that `handle` is still `owner`'s own, current handle when the write
    commits (not given up meanwhile), so nothing stores a handle that names no one."""
    return {
        "ConditionCheck": {
            "TableName": table_name(),
            "Key": key(keys.handle_pk(handle.lower()), keys.HANDLE_SK),
            "ConditionExpression": "#owner = :owner AND attribute_not_exists(expiresAt)",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":owner": {"S": owner}},
        }
    }


def handle_unchanged_check(user_id: str, handle: str | None) -> dict[str, Any]:
    """A ConditionCheck that my profile still has `handle` (or, for None, that I still have no
    profile) when the write commits."""
    check: dict[str, Any] = {"TableName": table_name(), "Key": key(keys.user_pk(user_id), keys.PROFILE_SK)}
    if handle is None:
        check["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        check["ConditionExpression"] = "#handle = :handle"
        check["ExpressionAttributeNames"] = {"#handle": "handle"}
        check["ExpressionAttributeValues"] = {":handle": {"S": handle}}
    return {"ConditionCheck": check}


def save_profile(
    user_id: str, data: dict[str, Any], current: StoredProfile | None, now: datetime
) -> StoredProfile:
    """Write the profile: with its handle reservation in one transaction, or, when the handle
    stays as it was, on its own (`_put_alone`).

    The write is conditioned on the version that was read (or on absence), so a concurrent writer
    makes this fail rather than be overwritten; a handle someone else holds makes it fail too.
    A handle given up stays held for its owner for `HANDLE_HOLD` (see `_hold`).
    """
    version = (current.version if current else 0) + 1
    item = {
        "PK": keys.user_pk(user_id),
        "SK": keys.PROFILE_SK,
        "entity": "profile",
        "version": version,
        **data,
    }
    profile_put: dict[str, Any] = {"TableName": table_name(), "Item": serialize(item)}
    if current is None:
        profile_put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        profile_put["ConditionExpression"] = "version = :v"
        profile_put["ExpressionAttributeValues"] = {":v": {"N": str(current.version)}}
    new_handle = str(data["handle"])
    old_handle = current.handle if current else None
    if current is not None and new_handle == old_handle:
        _put_alone(user_id, profile_put)
        return StoredProfile({k: item[k] for k in PUBLIC_FIELDS if k in item}, version)
    transaction = Transaction()
    transaction.add("profile", [{"Put": profile_put}])
    transaction.require_account(user_id)
    if new_handle != old_handle:
        transaction.add("handle", [_reserve(user_id, new_handle, now)])
        if old_handle:
            transaction.add("old-handle", [_hold(user_id, old_handle, now)])
    try:
        transaction.commit()
    except TransactionCancelled as error:
        if error.failed_on("handle"):
            raise Conflict("That handle is taken.") from error
        if error.failed_on("profile"):
            raise PreconditionFailed("The profile changed since it was read.") from error
        # TransactionConflict: another transaction touched the same items at the same moment.
        raise Conflict("The profile is being changed by another request; retry.") from error
    return StoredProfile({k: item[k] for k in PUBLIC_FIELDS if k in item}, version)


def _put_alone(user_id: str, put: dict[str, Any]) -> None:
    """A change that keeps the handle: one conditional Put, no transaction (a quarter of its
    write units). The condition on the version read holds only while the profile exists, and an
    erasure deletes it after leaving its marker, so a change in flight cannot bring it back:
    the account check a transaction would carry adds nothing here."""
    try:
        with throttling_as_unavailable():
            dynamodb().put_item(**put)
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        if is_erased(user_id):
            raise AccountErased("This account has been erased; sign in again.") from error
        raise PreconditionFailed("The profile changed since it was read.") from error


def _reserve(user_id: str, handle: str, now: datetime) -> dict[str, Any]:
    """The Put that reserves `handle` for me if it is free, mine (held since I gave it up), or
    held by someone else whose hold has ended (TTL removes items days late, so the condition
    reads the time, not the item's absence). Anyone else's active handle fails it."""
    item = {"PK": keys.handle_pk(handle), "SK": keys.HANDLE_SK, "owner": user_id, "entity": "handle"}
    return {
        "Put": {
            "TableName": table_name(),
            "Item": serialize(item),
            "ConditionExpression": (
                "attribute_not_exists(PK) OR #owner = :me"
                " OR (attribute_exists(expiresAt) AND expiresAt < :now)"
            ),
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":me": {"S": user_id}, ":now": {"N": str(int(now.timestamp()))}},
        }
    }


def _hold(user_id: str, handle: str, now: datetime) -> dict[str, Any]:
    """Release my old handle into a hold: no one else may take it, and no new promise reaches
    it, for `HANDLE_HOLD`; people who knew me by it see my new handle meanwhile (the handle
    follower rewrites their views). `expiresAt` ends the hold, and TTL removes the item later."""
    until = int((now + HANDLE_HOLD).timestamp())
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(keys.handle_pk(handle), keys.HANDLE_SK),
            "UpdateExpression": "SET expiresAt = :until, releasedAt = :now",
            "ConditionExpression": "#owner = :me",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {
                ":me": {"S": user_id},
                ":until": {"N": str(until)},
                ":now": {"N": str(int(now.timestamp()))},
            },
        }
    }
