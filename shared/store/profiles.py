"""The profile aggregate: one item per person plus a reservation per handle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shared.domain.errors import Conflict, PreconditionFailed
from shared.store import keys
from shared.store.table import (
    cancellation_codes,
    deserialize,
    dynamodb,
    error_code,
    key,
    serialize,
    table_name,
    throttling_as_unavailable,
)

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
    actions: list[dict[str, Any]] = [{"Put": profile_put}]

    new_handle = str(data["handle"])
    old_handle = current.handle if current else None
    if new_handle != old_handle:
        actions.append(
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": serialize(
                        {
                            "PK": keys.handle_pk(new_handle),
                            "SK": "HANDLE",
                            "owner": user_id,
                            "entity": "handle",
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        )
        if old_handle:
            actions.append(
                {"Delete": {"TableName": table_name(), "Key": key(keys.handle_pk(old_handle), "HANDLE")}}
            )
    _transact(actions)
    return StoredProfile({k: item[k] for k in _PUBLIC if k in item}, version)


def _transact(actions: list[dict[str, Any]]) -> None:
    try:
        with throttling_as_unavailable():
            dynamodb().transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
    except ClientError as error:
        if error_code(error) != "TransactionCanceledException":
            raise
        codes = cancellation_codes(error)
        if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
            raise Conflict("That handle is taken.") from error
        if codes and codes[0] == "ConditionalCheckFailed":
            raise PreconditionFailed("The profile changed since it was read.") from error
        # TransactionConflict: another transaction touched the same items at the same moment.
        raise Conflict("The profile is being changed by another request; retry.") from error
