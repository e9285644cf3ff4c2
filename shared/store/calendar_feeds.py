"""The secret calendar feed: my pointer to it, its lookup by id, and what the feed is made of.

Two items, neither with `entity` (so the export, which keeps only items with one, and the
change log, whose stream filter names entities, ignore them):

- `USER#<sub>` / `CALFEED`: my pointer (`feedId`, `createdAt`), erased with my partition;
- `CALFEED#<feedId>` / `CALFEED`: the lookup a feed request reads (one GetItem): `owner` (so
  erasure finds it through the ByOwner index), `hash` (SHA-256 hex of the token's secret),
  `createdAt` and `calSeq`, which the change log moves whenever what the feed shows changes
  (`bump_calendar`): the feed's ETag is derived from it, so an unchanged feed costs that read.

Making, rotating and revoking are one read of my pointer and one transaction, conditioned on
the pointer as read, so two rotations at once cannot leave a lookup behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shared.domain.errors import ServiceUnavailable
from shared.store import keys
from shared.store.table import (
    deserialize,
    dynamodb,
    error_code,
    key,
    query_all,
    serialize,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction

_DUE_INDEX, _DUE_ATTRIBUTE = keys.PROMISE_LISTS["all"]
_BATCH_GET = 100  # BatchGetItem's limit of keys per request
_PROMISE_FIELDS = ("promiseId", "what", "state", "dueAt", "customer", "performer", "version", "updatedAt")
_REMINDER_FIELDS = (
    "SK",
    "planId",
    "itemId",
    "title",
    "rrule",
    "mode",
    "timeZone",
    "paused",
    "onlyIfNotDone",
    "settled",
    "lastDoneAt",
    "version",
    "updatedAt",
)


def feed_pointer_key(user_id: str) -> dict[str, Any]:
    """The DynamoDB key of my pointer to my feed (`USER#<sub>` / `CALFEED`), for a BatchGetItem
    (the change log reads it to learn which feed to bump)."""
    return key(keys.user_pk(user_id), keys.CALENDAR_FEED_SK)


def _lookup_key(feed_id: str) -> dict[str, Any]:
    return key(keys.calendar_feed_pk(feed_id), keys.CALENDAR_FEED_SK)


def bump_calendar(feed_id: str, seq: int) -> bool:
    """Set the feed's `calSeq` (the change log's sequence of its owner): the feed's ETag changes
    with it. Only while the feed exists (a revoked or rotated feed's lookup is gone: nothing is
    brought back); answers whether it was there. The change log's writer holds its owner's log
    while it bumps, so bumps come in order."""
    try:
        with throttling_as_unavailable():
            dynamodb().update_item(
                TableName=table_name(),
                Key=_lookup_key(feed_id),
                UpdateExpression="SET calSeq = :seq",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":seq": {"N": str(int(seq))}},
            )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        return False
    return True


@dataclass(frozen=True)
class FeedLookup:
    """What a feed request reads by the token's id: whose feed, the secret's hash, its sequence."""

    feed_id: str
    owner: str
    secret_hash: str
    cal_seq: int


# --- my pointer, and writes --------------------------------------------------------------------


def my_feed_id(user_id: str) -> str | None:
    """The id of my current feed (GetItem of my pointer, consistent), or None."""
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(),
            Key=feed_pointer_key(user_id),
            ConsistentRead=True,
            ProjectionExpression="feedId",
        )
    item = response.get("Item")
    return str(deserialize(item)["feedId"]) if item else None


def _pointer_condition(read_feed_id: str | None) -> tuple[str, dict[str, Any]]:
    if read_feed_id is None:
        return "attribute_not_exists(PK)", {}
    return "feedId = :read", {":read": {"S": read_feed_id}}


def save_feed(
    user_id: str, feed_id: str, secret_hash: str, created_at: str, read_feed_id: str | None
) -> None:
    """One transaction: my pointer to the new feed (over the one read), the new lookup, the old
    lookup deleted (the old token stops working with the commit), and my account check.

    Raises TransactionCancelled (label `pointer`: my feed changed since it was read)."""
    condition, values = _pointer_condition(read_feed_id)
    pointer: dict[str, Any] = {
        "TableName": table_name(),
        "Item": serialize(
            {
                "PK": keys.user_pk(user_id),
                "SK": keys.CALENDAR_FEED_SK,
                "feedId": feed_id,
                "createdAt": created_at,
            }
        ),
        "ConditionExpression": condition,
    }
    if values:
        pointer["ExpressionAttributeValues"] = values
    lookup = {
        "TableName": table_name(),
        "Item": serialize(
            {
                "PK": keys.calendar_feed_pk(feed_id),
                "SK": keys.CALENDAR_FEED_SK,
                "owner": user_id,
                "hash": secret_hash,
                "createdAt": created_at,
                "calSeq": 0,
            }
        ),
        "ConditionExpression": "attribute_not_exists(PK)",
    }
    tx = Transaction()
    tx.add("pointer", [{"Put": pointer}])
    tx.add("lookup", [{"Put": lookup}])
    if read_feed_id is not None:
        tx.add("old", [{"Delete": {"TableName": table_name(), "Key": _lookup_key(read_feed_id)}}])
    tx.require_account(user_id)
    tx.commit()


def delete_feed(user_id: str, read_feed_id: str) -> None:
    """One transaction: my pointer (if it still names the feed read) and its lookup.

    Raises TransactionCancelled (label `pointer`: my feed changed since it was read)."""
    condition, values = _pointer_condition(read_feed_id)
    tx = Transaction()
    tx.add(
        "pointer",
        [
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": feed_pointer_key(user_id),
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": values,
                }
            }
        ],
    )
    tx.add("lookup", [{"Delete": {"TableName": table_name(), "Key": _lookup_key(read_feed_id)}}])
    tx.commit()


# --- the feed ----------------------------------------------------------------------------------


def lookup(feed_id: str) -> FeedLookup | None:
    """GetItem of a feed's lookup (consistent: a rotated or revoked token fails at once)."""
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(),
            Key=_lookup_key(feed_id),
            ConsistentRead=True,
            ProjectionExpression="#owner, #hash, calSeq",
            ExpressionAttributeNames={"#owner": "owner", "#hash": "hash"},
        )
    raw = response.get("Item")
    if not raw:
        return None
    item = deserialize(raw)
    return FeedLookup(feed_id, str(item["owner"]), str(item["hash"]), int(item.get("calSeq", 0)))


def memberships_due(user_id: str, first_due: str, last_due: str) -> list[dict[str, Any]]:
    """My promises (both roles) due from `first_due` to `last_due` (RFC 3339, UTC), from my
    memberships in the `PromisesByDue` index: promiseId and myRole; all pages."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": _DUE_INDEX,
        "KeyConditionExpression": "#list = :list AND #due BETWEEN :first AND :last",
        "ExpressionAttributeNames": {"#list": _DUE_ATTRIBUTE, "#due": "dueKey", "#role": "myRole"},
        "ExpressionAttributeValues": {
            ":list": {"S": keys.promise_list(user_id)},
            ":first": {"S": first_due},
            ":last": {"S": f"{last_due}#~"},  # "~" sorts after every `#<promiseId>`
        },
        "ProjectionExpression": "promiseId, #role",
    }
    return query_all(params)


def promises(promise_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The promises themselves (what, state, sides, version), by id: BatchGetItem, 100 keys a
    request, eventually consistent (the feed is a view that the next poll refreshes)."""
    unique = list(dict.fromkeys(promise_ids))
    names = {f"#f{i}": name for i, name in enumerate(_PROMISE_FIELDS)}
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(unique), _BATCH_GET):
        wanted: dict[str, Any] = {
            table_name(): {
                "Keys": [
                    key(keys.promise_pk(p), keys.PROMISE_SK) for p in unique[start : start + _BATCH_GET]
                ],
                "ProjectionExpression": ", ".join(names),
                "ExpressionAttributeNames": names,
            }
        }
        for attempt in range(6):
            with throttling_as_unavailable():
                response = dynamodb().batch_get_item(RequestItems=wanted)
            for raw in response.get("Responses", {}).get(table_name(), []):
                item = deserialize(raw)
                found[str(item["promiseId"])] = item
            wanted = dict(response.get("UnprocessedKeys") or {})
            if not wanted:
                break
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            # Only throttling leaves keys unread; never serve a feed that silently lacks promises.
            raise ServiceUnavailable("The database is busy; retry shortly.", retry_after_seconds=2)
    return found


def reminders(user_id: str) -> list[dict[str, Any]]:
    """Every reminder of my plans and plan items (Query of my plans' prefix, filtered to
    reminders), all pages. Its cost grows with my plans; a feed pays it only when it changed."""
    names = {f"#f{i}": name for i, name in enumerate(_REMINDER_FIELDS)}
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "FilterExpression": "#entity = :reminder",
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": {**names, "#entity": "entity"},
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.user_pk(user_id)},
            ":prefix": {"S": keys.PLAN_PREFIX},
            ":reminder": {"S": "plan-reminder"},
        },
    }
    return query_all(params)
