"""Whole-account operations: export everything of mine, erase everything of mine."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from shared.domain.errors import ServiceUnavailable
from shared.store import keys
from shared.store.table import deserialize, dynamodb, table_name, throttling_as_unavailable

_BATCH = 25  # BatchWriteItem's limit
_KEY_ATTRS = ("PK", "SK", "owner", "entity", "version")


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


def erase_items(user_id: str) -> int:
    """Delete every item of mine: my partition, plus what the ByOwner index finds elsewhere.

    Every feature that stores an item outside the person's partition sets `owner` on it, so
    this finds it without knowing the feature. Returns how many items were deleted.
    """
    to_delete: list[dict[str, Any]] = []
    own = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk",
        "ProjectionExpression": "PK, SK",
        "ExpressionAttributeValues": {":pk": {"S": keys.user_pk(user_id)}},
    }
    elsewhere = {
        "TableName": table_name(),
        "IndexName": keys.BY_OWNER_INDEX,
        "KeyConditionExpression": "#owner = :owner",
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": {":owner": {"S": user_id}},
    }
    for raw in (*_query_pages(own), *_query_pages(elsewhere)):
        to_delete.append({"PK": raw["PK"], "SK": raw["SK"]})
    for start in range(0, len(to_delete), _BATCH):
        _delete_batch(to_delete[start : start + _BATCH])
    return len(to_delete)


def _delete_batch(item_keys: list[dict[str, Any]]) -> None:
    requests: list[dict[str, Any]] = [{"DeleteRequest": {"Key": k}} for k in item_keys]
    for attempt in range(8):
        with throttling_as_unavailable():
            response = dynamodb().batch_write_item(RequestItems={table_name(): requests})  # type: ignore[dict-item]
        requests = list[Any](response.get("UnprocessedItems", {}).get(table_name(), []))
        if not requests:
            return
        time.sleep(min(0.05 * 2**attempt, 1.0))
    # Erasure is idempotent: the client retries the DELETE and it carries on where it stopped.
    raise ServiceUnavailable("Erasure is throttled; retry shortly.", retry_after_seconds=5)
