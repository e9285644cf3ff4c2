"""The profile aggregate: one item per person plus a reservation per handle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.domain.errors import Conflict, PreconditionFailed
from shared.store import keys
from shared.store.table import (
    deserialize,
    dynamodb,
    key,
    new_item_put,
    serialize,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction, TransactionCancelled

_PUBLIC = (
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
    return StoredProfile({k: item[k] for k in _PUBLIC if k in item}, int(item["version"]))


def save_profile(user_id: str, data: dict[str, Any], current: StoredProfile | None) -> StoredProfile:
    """Write the profile as one transaction with its handle reservation.

    The write is conditioned on the version that was read (or on absence), so a concurrent writer
    makes this fail rather than be overwritten; a handle someone else holds makes it fail too.
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
    transaction = Transaction()
    transaction.add("profile", [{"Put": profile_put}])

    new_handle = str(data["handle"])
    old_handle = current.handle if current else None
    if new_handle != old_handle:
        handle = {"PK": keys.handle_pk(new_handle), "SK": "HANDLE", "owner": user_id, "entity": "handle"}
        transaction.add("handle", [new_item_put(handle)])
        if old_handle:
            old = {"Delete": {"TableName": table_name(), "Key": key(keys.handle_pk(old_handle), "HANDLE")}}
            transaction.add("old-handle", [old])
    try:
        transaction.commit()
    except TransactionCancelled as error:
        if error.failed_on("handle"):
            raise Conflict("That handle is taken.") from error
        if error.failed_on("profile"):
            raise PreconditionFailed("The profile changed since it was read.") from error
        # TransactionConflict: another transaction touched the same items at the same moment.
        raise Conflict("The profile is being changed by another request; retry.") from error
    return StoredProfile({k: item[k] for k in _PUBLIC if k in item}, version)
