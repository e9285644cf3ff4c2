"""Blocking people: their requests and offers to me are refused as if my handle did not exist.

The refusal itself happens where promises are opened (`shared.logic.promises.open_promise`
checks `BLOCKED#<me>` in the other person's partition inside its transaction); this module
makes, lists and removes blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.domain.errors import Conflict, FieldError, InvalidInput
from shared.domain.ids import new_id
from shared.domain.timeutil import to_rfc3339
from shared.store import blocks, profiles


def _unknown_handle() -> InvalidInput:
    return InvalidInput(
        "No one in the app has that handle.",
        [FieldError("body", "handle", "not_found", "must be the handle of an app user")],
    )


def block_person(user_id: str, handle: str, now: datetime) -> tuple[dict[str, Any], bool]:
    """Block whoever holds `handle` now; answers (the block as listed, whether it is new).

    Blocking someone already blocked answers their existing block. An unknown or held handle,
    or my own, is a 422 on `handle`.
    """
    blocked_id = profiles.handle_owner(handle)
    if blocked_id is None:
        raise _unknown_handle()
    if blocked_id == user_id:
        raise InvalidInput(
            "You cannot block yourself.", [FieldError("body", "handle", "is_me", "must be someone else's")]
        )
    block = {"blockId": new_id(), "createdAt": to_rfc3339(now)}
    try:
        created = blocks.add_block(
            user_id, block, blocked_id, profiles.active_handle_check(handle, blocked_id)
        )
    except blocks.HandleMoved:
        raise _unknown_handle() from None
    if created:
        return {**block, "handle": handle.lower()}, True
    existing = blocks.block_of(user_id, blocked_id)
    if existing is None:
        raise Conflict("Your blocks changed meanwhile; retry.")
    return {
        "blockId": existing["blockId"],
        "createdAt": existing["createdAt"],
        "handle": handle.lower(),
    }, False


def list_blocks(
    user_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of my blocks, oldest first, each with the blocked person's current handle."""
    items, last = blocks.list_blocks(user_id, limit, start)
    return with_current_handles(items), last


def with_current_handles(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Blocks as listed: each with the blocked person's handle now (one BatchGetItem per 100)."""
    handles = blocks.current_handles([str(i["blockedUserId"]) for i in items]) if items else {}
    return [
        {"blockId": i["blockId"], "createdAt": i["createdAt"], "handle": handles.get(str(i["blockedUserId"]))}
        for i in items
    ]
