"""Each person's change log, in their partition (none of it has an `entity`: not exported).

- `SYNC`: `seq`, the last sequence given out. Every write to the log moves it on, conditioned on
  the value read, so entries appear strictly in sequence order: an entry is never written
  behind one a reader may already have passed.
- `CHANGE#<seq:012d>`: one change (type, id, op, version, at, data; `ref`), the latest of its
  thing; a tombstone (op delete) expires through TTL after `TOMBSTONE_DAYS`.
- `SYNCREF#<ref>`: where a thing's latest entry is (`seq`) and the stream record it came from
  (`src`), so a newer change deletes the older entry (compaction) and a replayed stream record
  older than what is logged writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.sync import TOMBSTONE_DAYS, Change
from shared.store import keys
from shared.store.table import (
    deserialize,
    dynamodb,
    key,
    serialize,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction, TransactionCancelled

COUNTER_SK = "SYNC"
CHANGE_PREFIX = "CHANGE#"
REF_PREFIX = "SYNCREF#"
_LAST_CHANGE = f"{CHANGE_PREFIX}~"
# A chunk's transaction: the counter, the account check, the calendar feed's bump, and per
# change the entry, the older entry's deletion and the pointer: 3 + 3 x 32 <= 100.
MAX_CHANGES_PER_WRITE = 32


def change_sk(seq: int) -> str:
    return f"{CHANGE_PREFIX}{seq:012d}"


def _ref_sk(ref: str) -> str:
    return f"{REF_PREFIX}{ref}"


@dataclass(frozen=True)
class LogState:
    """What a write to the log starts from: the last sequence, each thing's latest entry, the
    person's calendar feed (its id, when they have one)."""

    seq: int | None
    refs: dict[str, tuple[int, int]]  # ref -> (seq of its entry, src)
    feed_id: str | None


def read_state(user_id: str, refs: Sequence[str]) -> LogState:
    """One consistent BatchGetItem: the counter, the calendar feed pointer, the things' pointers."""
    from shared.store.calendar_feeds import feed_pointer_key

    pk = keys.user_pk(user_id)
    wanted_keys = [key(pk, COUNTER_SK), feed_pointer_key(user_id), *(key(pk, _ref_sk(r)) for r in refs)]
    wanted: Any = {table_name(): {"Keys": wanted_keys, "ConsistentRead": True}}
    found: dict[str, dict[str, Any]] = {}
    while wanted:
        with throttling_as_unavailable():
            response = dynamodb().batch_get_item(RequestItems=wanted)
        for raw in response.get("Responses", {}).get(table_name(), []):
            item = deserialize(raw)
            found[str(item["SK"])] = item
        wanted = response.get("UnprocessedKeys") or {}
    counter = found.get(COUNTER_SK)
    pointer = found.get(str(feed_pointer_key(user_id)["SK"]["S"]))
    return LogState(
        seq=int(counter["seq"]) if counter and "seq" in counter else None,
        refs={
            r: (int(found[_ref_sk(r)]["seq"]), int(found[_ref_sk(r)].get("src", "0")))
            for r in refs
            if _ref_sk(r) in found
        },
        feed_id=str(pointer["feedId"]) if pointer and pointer.get("feedId") else None,
    )


class Raced(Exception):
    """Another write to the same log committed first: read the state again and retry."""


def append(user_id: str, changes: Sequence[Change], state: LogState, now: datetime) -> int:
    """Write `changes` (one per ref, at most MAX_CHANGES_PER_WRITE) after `state`, in one
    transaction; answers the last sequence given out. Raises Raced when another write won."""
    from shared.store.calendar_feeds import calendar_bump

    pk = keys.user_pk(user_id)
    first = (state.seq or 0) + 1
    last = first + len(changes) - 1
    expires = int((now + timedelta(days=TOMBSTONE_DAYS)).timestamp())
    tx = Transaction()
    tx.add("counter", [_counter_update(pk, state.seq, last)])
    for seq, change in enumerate(changes, start=first):
        entry = {
            "PK": pk,
            "SK": change_sk(seq),
            "seq": seq,
            "type": change.type,
            "id": change.id,
            "op": change.op,
            "version": change.version,
            "at": change.at,
            "data": change.data,
            "ref": change.ref,
            "expiresAt": expires if change.op == "delete" else None,
        }
        pointer = {
            "PK": pk,
            "SK": _ref_sk(change.ref),
            "seq": seq,
            "src": str(change.src),
            "expiresAt": expires if change.op == "delete" else None,
        }
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": table_name(), "Item": serialize(entry)}},
            {"Put": {"TableName": table_name(), "Item": serialize(pointer)}},
        ]
        older = state.refs.get(change.ref)
        if older is not None:
            items.append({"Delete": {"TableName": table_name(), "Key": key(pk, change_sk(older[0]))}})
        tx.add("entry", items)
    if state.feed_id and any(c.calendar for c in changes):
        tx.add("calendar", [calendar_bump(state.feed_id, last)])
    tx.require_account(user_id)
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        if cancelled.conflicted() or cancelled.failed_on("counter") or cancelled.failed_on("calendar"):
            raise Raced from cancelled
        raise
    return last


def _counter_update(pk: str, read: int | None, last: int) -> dict[str, Any]:
    condition = "attribute_not_exists(#seq)" if read is None else "#seq = :read"
    values: dict[str, Any] = {":last": {"N": str(last)}}
    if read is not None:
        values[":read"] = {"N": str(read)}
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(pk, COUNTER_SK),
            "UpdateExpression": "SET #seq = :last",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#seq": "seq"},
            "ExpressionAttributeValues": values,
        }
    }


def read_changes(user_id: str, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """One consistent Query: the entries after sequence `after`, oldest first; and whether the
    page stopped before the end of the log."""
    params: Mapping[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.user_pk(user_id)},
            ":from": {"S": change_sk(after + 1)},
            ":to": {"S": _LAST_CHANGE},
        },
        "ConsistentRead": True,
        "Limit": limit,
    }
    with throttling_as_unavailable():
        response = dynamodb().query(**params)
    return [deserialize(i) for i in response.get("Items", [])], "LastEvaluatedKey" in response
