"""Each person's change log, in their partition (none of it has an `entity`: not exported).

- `SYNC`: the log's counter. `seq`, the last sequence readers may read up to (published);
  `reserved`, the last sequence given out; `lease` and `leaseUntil` while a writer holds the
  log; `erasedAt` while an erasure closes it (before deleting it with the rest).
- `CHANGE#<seq:012d>`: one change (type, id, op, version, at, data; `ref`), the latest of its
  thing; a tombstone (op delete) expires through TTL after `TOMBSTONE_DAYS`.
- `SYNCREF#<ref>`: where a thing's latest entry is (`seq`) and the stream record it came from
  (`src`), so a newer change deletes the older entry (compaction) and a replayed stream record
  older than what is logged writes nothing.

Writing without a transaction (each item is written once, at its size: a transaction would
count every item twice). One writer at a time holds a log's lease, claimed on the counter with
a conditional update that also gives out the writer's sequence numbers; the writer writes its
entries and deletes the entries they replace, then the pointers, then publishes (`seq`) and
lets go of the lease in one update. Readers read the counter first and never past `seq`, so an
entry becomes visible only once every entry before it is written, and a sequence number is
never given out twice: a writer that dies holding the lease (its lease ends when its Lambda
invocation must have ended) leaves entries the next writer publishes, and at worst an entry
whose pointer it did not write (a duplicate of an older state of a thing, before the newer one).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from shared.domain.errors import AccountErased, ServiceUnavailable
from shared.domain.sync import TOMBSTONE_DAYS, Change
from shared.domain.timeutil import to_rfc3339
from shared.store import keys
from shared.store.table import (
    batch_write,
    deserialize,
    dynamodb,
    error_code,
    key,
    new_item_put,
    serialize,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction, TransactionCancelled

COUNTER_SK = "SYNC"
CHANGE_PREFIX = "CHANGE#"
REF_PREFIX = "SYNCREF#"
# Changes written under one lease: their entries and deletions in two BatchWriteItems of 25,
# their pointers in one.
MAX_CHANGES_PER_WRITE = 25
# A lease outlives its writer's invocation by this much (requests in flight, clocks).
LEASE_MARGIN_SECONDS = 5
# Erasure waits this long at most for a writer holding the log; longer is a 503 (retry).
_ERASURE_WAIT_SECONDS = 3.0


def change_sk(seq: int) -> str:
    return f"{CHANGE_PREFIX}{seq:012d}"


def _ref_sk(ref: str) -> str:
    return f"{REF_PREFIX}{ref}"


@dataclass(frozen=True)
class LogState:
    """What a write to the log starts from: the counter as read (the last sequence given out,
    who holds the log and until when, whether it was closed by an erasure), each thing's latest
    entry, the person's calendar feed (its id, when they have one)."""

    reserved: int | None
    lease_until: int | None
    erased: bool
    refs: dict[str, tuple[int, int]]  # ref -> (seq of its entry, src)
    feed_id: str | None

    def held(self, now: datetime) -> bool:
        """Whether another writer holds the log now."""
        return self.lease_until is not None and self.lease_until >= now.timestamp()


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
    counter = found.get(COUNTER_SK, {})
    pointer = found.get(str(feed_pointer_key(user_id)["SK"]["S"]))
    # A counter from before leases has `seq` alone: everything up to it is written.
    reserved = counter.get("reserved", counter.get("seq"))
    return LogState(
        reserved=int(reserved) if reserved is not None else None,
        lease_until=int(counter["leaseUntil"]) if "lease" in counter else None,
        erased="erasedAt" in counter,
        refs={
            r: (int(found[_ref_sk(r)]["seq"]), int(found[_ref_sk(r)].get("src", "0")))
            for r in refs
            if _ref_sk(r) in found
        },
        feed_id=str(pointer["feedId"]) if pointer and pointer.get("feedId") else None,
    )


class Raced(Exception):
    """Another writer claimed the log since it was read: read the state again and retry."""


class Busy(Exception):
    """Another writer held the log for as long as this writer could wait."""


@dataclass(frozen=True)
class Lease:
    """A writer's hold on one log: its token, and the sequence numbers it was given."""

    token: str
    first: int
    last: int


def claim(user_id: str, state: LogState, count: int, now: datetime, until: int) -> Lease:
    """Hold the log until `until` (epoch seconds) and take the next `count` sequence numbers,
    if nobody claimed it since `state` was read. Raises Raced, or AccountErased when the log
    was closed by an erasure.

    A log's first claim makes its counter, in a transaction with the check that the person's
    account is not erased (once: 4 write units); every later claim is one conditional update
    of the counter (1 unit), which an erasure closes (`close`) before deleting it."""
    token = uuid.uuid4().hex
    if state.reserved is None:
        return _first_claim(user_id, token, count, until)
    before = state.reserved
    open_ = "attribute_exists(PK) AND attribute_not_exists(#erased)"
    free = "(attribute_not_exists(#lease) OR #until < :now)"
    # A counter from before leases has `seq` alone (everything up to it written).
    unclaimed = "(#reserved = :before OR (attribute_not_exists(#reserved) AND #seq = :before))"
    try:
        with throttling_as_unavailable():
            dynamodb().update_item(
                TableName=table_name(),
                Key=key(keys.user_pk(user_id), COUNTER_SK),
                UpdateExpression="SET #reserved = :last, #lease = :token, #until = :until",
                ConditionExpression=f"{open_} AND {free} AND {unclaimed}",
                ExpressionAttributeNames={
                    "#reserved": "reserved",
                    "#seq": "seq",
                    "#lease": "lease",
                    "#until": "leaseUntil",
                    "#erased": "erasedAt",
                },
                ExpressionAttributeValues={
                    ":before": {"N": str(before)},
                    ":last": {"N": str(before + count)},
                    ":token": {"S": token},
                    ":until": {"N": str(until)},
                    ":now": {"N": str(int(now.timestamp()))},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        if "erasedAt" in error.response.get("Item", {}):  # type: ignore[operator]
            raise AccountErased("This account has been erased.") from error
        raise Raced from error  # claimed since our read, or deleted by an erasure
    return Lease(token, before + 1, before + count)


def _first_claim(user_id: str, token: str, count: int, until: int) -> Lease:
    counter = {
        "PK": keys.user_pk(user_id),
        "SK": COUNTER_SK,
        "reserved": count,
        "lease": token,
        "leaseUntil": until,
    }
    tx = Transaction()
    tx.add("counter", [new_item_put(counter)])
    tx.require_account(user_id)  # raises AccountErased from commit
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        raise Raced from cancelled
    return Lease(token, 1, count)


def write(user_id: str, lease: Lease, changes: Sequence[Change], state: LogState, now: datetime) -> None:
    """Under `lease`, write `changes` (one per ref) at its sequence numbers: the entries and the
    deletion of the entries they replace, then the pointers, then the calendar feed's bump."""
    from shared.store.calendar_feeds import bump_calendar

    if len(changes) > lease.last - lease.first + 1:
        raise ValueError("more changes than the lease's sequence numbers")
    pk = keys.user_pk(user_id)
    expires = int((now + timedelta(days=TOMBSTONE_DAYS)).timestamp())
    entries: list[dict[str, Any]] = []
    pointers: list[dict[str, Any]] = []
    for seq, change in enumerate(changes, start=lease.first):
        gone = expires if change.op == "delete" else None
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
            "expiresAt": gone,
        }
        entries.append({"PutRequest": {"Item": serialize(entry)}})
        older = state.refs.get(change.ref)
        if older is not None:
            entries.append({"DeleteRequest": {"Key": key(pk, change_sk(older[0]))}})
        pointer = {"PK": pk, "SK": _ref_sk(change.ref), "seq": seq, "src": str(change.src), "expiresAt": gone}
        pointers.append({"PutRequest": {"Item": serialize(pointer)}})
    # A pointer only once its entry is written: a pointer to a missing entry would lose a change.
    throttled = ServiceUnavailable("The change log's writes are throttled.", retry_after_seconds=1)
    batch_write(entries, throttled)
    batch_write(pointers, throttled)
    if state.feed_id and any(c.calendar for c in changes):
        bump_calendar(state.feed_id, lease.last)


def release(user_id: str, lease: Lease) -> None:
    """Publish the lease's entries (readers may now read up to its last sequence) and let go of
    the log, in one update; nothing if the lease was lost (it ran out: the next writer publishes)."""
    try:
        with throttling_as_unavailable():
            dynamodb().update_item(
                TableName=table_name(),
                Key=key(keys.user_pk(user_id), COUNTER_SK),
                UpdateExpression="SET #seq = :last REMOVE #lease, #until",
                ConditionExpression="#lease = :token",
                ExpressionAttributeNames={"#seq": "seq", "#lease": "lease", "#until": "leaseUntil"},
                ExpressionAttributeValues={":last": {"N": str(lease.last)}, ":token": {"S": lease.token}},
            )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        raise LeaseLost from error


class LeaseLost(Exception):
    """The lease ran out before its writer published: the next writer publishes its entries."""


def lease_until(deadline: float) -> int:
    """A lease for a writer that cannot run past `deadline` (epoch seconds)."""
    return math.ceil(deadline) + LEASE_MARGIN_SECONDS


def close(user_id: str, now: datetime) -> None:
    """Close a person's log (their account is being erased, its marker already left): no
    writer claims it from here on, and this waits for the one holding it, if any, to let go
    (a 503 when that takes longer than a moment: the erasure is retried). The erasure then
    deletes the log with everything else; a log with no counter is claimed only in a
    transaction that checks the marker."""
    pk = keys.user_pk(user_id)
    try:
        with throttling_as_unavailable():
            response = dynamodb().update_item(
                TableName=table_name(),
                Key=key(pk, COUNTER_SK),
                UpdateExpression="SET #erased = :now",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#erased": "erasedAt"},
                ExpressionAttributeValues={":now": {"S": to_rfc3339(now)}},
                ReturnValues="ALL_NEW",
            )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        return  # no log (or already erased)
    counter = deserialize(response.get("Attributes", {}))
    waited = 0.0
    while "lease" in counter and int(counter["leaseUntil"]) >= time.time():
        if waited >= _ERASURE_WAIT_SECONDS:
            retry = max(1, int(counter["leaseUntil"] - time.time()))
            raise ServiceUnavailable("The account's change log is being written; retry shortly.", retry)
        time.sleep(0.05)
        waited += 0.05
        with throttling_as_unavailable():
            got = dynamodb().get_item(TableName=table_name(), Key=key(pk, COUNTER_SK), ConsistentRead=True)
        counter = deserialize(got.get("Item", {}))


def read_changes(user_id: str, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The entries after sequence `after`, oldest first, up to what is published; and whether
    the page stopped before the end. A consistent GetItem of the counter, then (when there is
    something new) one consistent Query no further than the counter says."""
    pk = keys.user_pk(user_id)
    with throttling_as_unavailable():
        got = dynamodb().get_item(
            TableName=table_name(),
            Key=key(pk, COUNTER_SK),
            ConsistentRead=True,
            ProjectionExpression="#seq",
            ExpressionAttributeNames={"#seq": "seq"},
        )
    published = int(got.get("Item", {}).get("seq", {}).get("N", "0"))
    if published <= after:
        return [], False
    params: Mapping[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
        "ExpressionAttributeValues": {
            ":pk": {"S": pk},
            ":from": {"S": change_sk(after + 1)},
            ":to": {"S": change_sk(published)},
        },
        "ConsistentRead": True,
        "Limit": limit,
    }
    with throttling_as_unavailable():
        response = dynamodb().query(**params)
    return [deserialize(i) for i in response.get("Items", [])], "LastEvaluatedKey" in response
