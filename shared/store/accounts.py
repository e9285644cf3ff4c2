"""Whole-account operations: export everything of mine, erase everything of mine.

Erasure leaves one marker, `ERASED#<sub>` (keys.erased_pk), for a few days: a token stays valid
for up to its lifetime after the account is gone, so every signed-in request reads the marker
(`is_erased`) and every write for a person checks it in its transaction
(`Transaction.require_account`). The marker holds the opaque `sub` and when, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.domain.errors import ServiceUnavailable
from shared.store import keys
from shared.store.table import (
    batch_write,
    deserialize,
    dynamodb,
    key,
    serialize,
    table_name,
    throttling_as_unavailable,
)

# Technical attributes, not the person's data: left out of the export. `endpointArn` (on devices)
# names our SNS endpoint, not anything the person gave us.
_KEY_ATTRS = ("PK", "SK", "owner", "entity", "version", "endpointArn")


def mark_erased(user_id: str, now: datetime) -> None:
    """Leave the erasure marker (before anything is deleted): from here on nothing is stored
    for this person again. Idempotent, so a retried erasure simply renews it."""
    expires = now + timedelta(days=keys.ERASED_MARKER_DAYS)
    item = {
        "PK": keys.erased_pk(user_id),
        "SK": keys.ERASED_SK,
        "erasedAt": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "expiresAt": int(expires.timestamp()),
    }
    with throttling_as_unavailable():
        dynamodb().put_item(TableName=table_name(), Item=serialize(item))


def is_erased(user_id: str) -> bool:
    """Whether this person's account was erased (GetItem of the marker).

    Eventually consistent (half the read cost): a request that slips through in the second
    after an erasure finds nothing left to read, and cannot write, because writes check the
    marker in their own transaction, where the read is always consistent.
    """
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(),
            Key=key(keys.erased_pk(user_id), keys.ERASED_SK),
            ProjectionExpression="PK",
        )
    return "Item" in response


def _query_pages(params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        with throttling_as_unavailable():
            response = dynamodb().query(**params)
        yield from response.get("Items", [])
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        params = {**params, "ExclusiveStartKey": last}


def export_items(user_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every domain item of my partition, grouped by entity (one Query per 1 MB page).

    Items without `entity` (idempotency records) are technical and left out by the filter.
    """
    grouped: dict[str, list[dict[str, Any]]] = {}
    params = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk",
        "FilterExpression": "attribute_exists(entity)",
        "ExpressionAttributeValues": {":pk": {"S": keys.user_pk(user_id)}},
    }
    for raw in _query_pages(params):
        item = deserialize(raw)
        entity = str(item["entity"])
        grouped.setdefault(entity, []).append({k: v for k, v in item.items() if k not in _KEY_ATTRS})
    return grouped


@dataclass
class AccountItems:
    """What erasure deletes: the keys of every item of mine, and the push endpoints they name."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    endpoint_arns: list[str] = field(default_factory=list)


def find_items(user_id: str) -> AccountItems:
    """Every item of mine: my partition, plus what the ByOwner index finds elsewhere.

    Every feature that stores an item outside the person's partition sets `owner` on it, so
    this finds it without knowing the feature. Devices' SNS endpoints come along, so that the
    caller can delete them before the items that name them are gone.
    """
    found = AccountItems()
    own = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk",
        "ProjectionExpression": "PK, SK, endpointArn, #handle, feedId",
        "ExpressionAttributeNames": {"#handle": "handle"},
        "ExpressionAttributeValues": {":pk": {"S": keys.user_pk(user_id)}},
        "ConsistentRead": True,
    }
    elsewhere = {
        "TableName": table_name(),
        "IndexName": keys.BY_OWNER_INDEX,
        "KeyConditionExpression": "#owner = :owner",
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": {":owner": {"S": user_id}},
    }
    for raw in (*_query_pages(own), *_query_pages(elsewhere)):
        found.keys.append({"PK": raw["PK"], "SK": raw["SK"]})
        if "endpointArn" in raw:
            found.endpoint_arns.append(raw["endpointArn"]["S"])
        if raw["SK"]["S"] == keys.PROFILE_SK and "handle" in raw:
            # Named from the profile too: the index is eventually consistent, and a handle taken
            # a moment before the erasure may not be in it yet.
            found.keys.append(key(keys.handle_pk(raw["handle"]["S"]), keys.HANDLE_SK))
        if raw["SK"]["S"] == keys.CALENDAR_FEED_SK and "feedId" in raw:
            # My calendar feed's lookup, named from my pointer for the same reason.
            found.keys.append(key(keys.calendar_feed_pk(raw["feedId"]["S"]), keys.CALENDAR_FEED_SK))
    return found


def delete_items(found: AccountItems) -> int:
    """Delete the items `find_items` found (each once), in batches of 25; answer how many."""
    unique = list({(k["PK"]["S"], k["SK"]["S"]): k for k in found.keys}.values())
    # Erasure is idempotent: the client retries the DELETE and it carries on where it stopped.
    throttled = ServiceUnavailable("Erasure is throttled; retry shortly.", retry_after_seconds=5)
    batch_write([{"DeleteRequest": {"Key": k}} for k in unique], throttled)
    return len(unique)
