"""Blocks: people I have blocked, in my partition, two items per block.

`BLOCK#<blockId>` is the block as my list shows it (and as DELETE names it); `BLOCKED#<sub>` is
its lookup by the blocked person's id, so that a request or offer from them can be refused
inside its own transaction by a ConditionCheck (`not_blocked_check`), with no extra read. Both
are written and deleted together. The blocked person's handle is not kept: it can change, so
lists read the current one from their profile.
"""

from __future__ import annotations

import time
from typing import Any

from shared.domain.errors import Conflict, NotFound, ServiceUnavailable
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

_PUBLIC = ("blockId", "createdAt")


class HandleMoved(Exception):
    """The handle named no longer belongs to the person it was read for."""


def not_blocked_check(blocker_id: str, blocked_id: str) -> dict[str, Any]:
    """A ConditionCheck that holds while `blocker_id` has not blocked `blocked_id`."""
    return {
        "ConditionCheck": {
            "TableName": table_name(),
            "Key": key(keys.user_pk(blocker_id), keys.blocked_sk(blocked_id)),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def add_block(user_id: str, block: dict[str, Any], blocked_id: str, handle_check: dict[str, Any]) -> bool:
    """Block `blocked_id`: one transaction of both items, my account check and `handle_check`
    (the handle I named is still theirs). Answers False when I had blocked them already."""
    pk = keys.user_pk(user_id)
    tx = Transaction()
    item = {
        "PK": pk,
        "SK": keys.block_sk(block["blockId"]),
        "entity": "block",
        **block,
        "blockedUserId": blocked_id,
    }
    tx.add("block", [new_item_put(item)])
    lookup = {"PK": pk, "SK": keys.blocked_sk(blocked_id), "blockId": block["blockId"]}
    tx.add("lookup", [new_item_put(lookup)])
    tx.add("handle", [handle_check])
    tx.require_account(user_id)
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("lookup"):
            return False
        if error.failed_on("handle"):
            raise HandleMoved from error
        raise Conflict("Your blocks are being changed by another request; retry.") from error
    return True


def block_of(user_id: str, blocked_id: str) -> dict[str, Any] | None:
    """My block of `blocked_id` (two GetItems: the lookup, then the block), or None."""
    with throttling_as_unavailable():
        lookup = dynamodb().get_item(
            TableName=table_name(),
            Key=key(keys.user_pk(user_id), keys.blocked_sk(blocked_id)),
            ConsistentRead=True,
        )
    if "Item" not in lookup:
        return None
    block_id = str(deserialize(lookup["Item"])["blockId"])
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(),
            Key=key(keys.user_pk(user_id), keys.block_sk(block_id)),
            ConsistentRead=True,
        )
    return deserialize(found["Item"]) if "Item" in found else None


def list_blocks(
    user_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Query PK = USER#<sub> AND begins_with(SK, BLOCK#), oldest first, one page: the blocks
    with the blocked person's id (for the caller to show their current handle)."""
    items, last = query_prefix(keys.user_pk(user_id), keys.BLOCK_PREFIX, limit=limit, start=start)
    return [{**{k: i[k] for k in _PUBLIC}, "blockedUserId": i["blockedUserId"]} for i in items], last


def current_handles(user_ids: list[str]) -> dict[str, str]:
    """BatchGetItem of these people's profiles: id -> current handle (absent when erased)."""
    unique = list(dict.fromkeys(user_ids))
    out: dict[str, str] = {}
    for start in range(0, len(unique), 100):
        wanted = {
            table_name(): {
                "Keys": [key(keys.user_pk(u), keys.PROFILE_SK) for u in unique[start : start + 100]],
                "ProjectionExpression": "PK, #handle",
                "ExpressionAttributeNames": {"#handle": "handle"},
            }
        }
        for attempt in range(5):
            with throttling_as_unavailable():
                response = dynamodb().batch_get_item(RequestItems=wanted)  # type: ignore[arg-type]
            for raw in response.get("Responses", {}).get(table_name(), []):
                item = deserialize(raw)
                out[str(item["PK"]).removeprefix("USER#")] = str(item["handle"])
            wanted = dict(response.get("UnprocessedKeys") or {})  # type: ignore[arg-type]
            if not wanted:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            # Only throttling leaves keys unread; never show a block without its handle for it.
            raise ServiceUnavailable("The database is busy; retry shortly.", retry_after_seconds=2)
    return out


def remove_block(user_id: str, block_id: str) -> None:
    """Unblock: a GetItem of the block, then one transaction deleting both of its items."""
    pk = keys.user_pk(user_id)
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(), Key=key(pk, keys.block_sk(block_id)), ConsistentRead=True
        )
    if "Item" not in found:
        raise NotFound("No such block.")
    blocked_id = str(deserialize(found["Item"])["blockedUserId"])
    tx = Transaction()
    tx.add(
        "block",
        [
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": key(pk, keys.block_sk(block_id)),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            }
        ],
    )
    tx.add("lookup", [{"Delete": {"TableName": table_name(), "Key": key(pk, keys.blocked_sk(blocked_id))}}])
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("block"):
            raise NotFound("No such block.") from error
        raise Conflict("Your blocks are being changed by another request; retry.") from error
