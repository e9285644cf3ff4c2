"""Reflections: answers to the generative questions, kept as written (never updated)."""

from __future__ import annotations

from typing import Any

from shared.domain.errors import Conflict
from shared.store import keys
from shared.store.table import (
    deserialize,
    dynamodb,
    key,
    new_item_put,
    query_prefix,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction, TransactionCancelled

PUBLIC_FIELDS = ("reflectionId", "questionSetVersion", "answers", "createdAt")


def public(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a stored reflection that the API shows."""
    return {k: item[k] for k in PUBLIC_FIELDS if k in item}


class ReflectionIdTaken(Conflict):
    """The new reflection's id exists already (a replay of its write, or another write's id)."""


def add_reflection(
    user_id: str, reflection: dict[str, Any], *, request_hash: str | None = None
) -> dict[str, Any]:
    """Put under a new id (a collision fails rather than overwrites), in one transaction with
    my account check, so a reflection written while my account is erased is not kept.
    `request_hash`: the app made the id (`shared.domain.replay`); ReflectionIdTaken when it
    exists."""
    item = {
        "PK": keys.user_pk(user_id),
        "SK": keys.reflection_sk(reflection["reflectionId"]),
        "entity": "reflection",
        **reflection,
    }
    if request_hash is not None:
        item["requestHash"] = request_hash
    tx = Transaction()
    tx.add("reflection", [new_item_put(item)])
    tx.require_account(user_id)
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("reflection"):
            raise ReflectionIdTaken("A reflection with this id exists already.") from error
        raise Conflict("The reflection could not be kept; retry.") from error
    return public(item)


def get_reflection(user_id: str, reflection_id: str) -> dict[str, Any] | None:
    """GetItem USER#<sub> / REFLECTION#<id>; None when absent or not mine."""
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(), Key=key(keys.user_pk(user_id), keys.reflection_sk(reflection_id))
        )
    return public(deserialize(response["Item"])) if "Item" in response else None


def find_reflection(user_id: str, reflection_id: str) -> tuple[dict[str, Any], str | None] | None:
    """GetItem (consistent) USER#<sub> / REFLECTION#<id>: (the reflection as shown, the
    `requestHash` of its write when the app made its id), or None. A replay is told apart on it."""
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(),
            Key=key(keys.user_pk(user_id), keys.reflection_sk(reflection_id)),
            ConsistentRead=True,
        )
    item = deserialize(response.get("Item", {}))
    if item.get("entity") != "reflection":
        return None
    hashed = item.get("requestHash")
    return public(item), str(hashed) if hashed else None


def list_reflections(
    user_id: str, limit: int, start: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Query PK = USER#<sub> AND begins_with(SK, REFLECTION#), newest first, one page."""
    items, last = query_prefix(
        keys.user_pk(user_id), keys.REFLECTION_PREFIX, limit=limit, start=start, newest_first=True
    )
    return [public(i) for i in items], last


def reflection_exists_check(user_id: str, reflection_id: str) -> dict[str, Any]:
    """A transaction item that holds only if the reflection is mine (for `sourceReflectionId`)."""
    return {
        "ConditionCheck": {
            "TableName": table_name(),
            "Key": key(keys.user_pk(user_id), keys.reflection_sk(reflection_id)),
            "ConditionExpression": "attribute_exists(PK)",
        }
    }
