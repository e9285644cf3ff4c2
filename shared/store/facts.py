"""A person's learning record: what they did, kept as facts in their partition.

`USER#<sub>` / `FACT#<ulid>` (entity `learning-fact`): factId (a ULID of the fact's own time, so
facts sort as they happened and `since` is a key condition), kind (`plan-item-completed`,
`practice`, `promise-fulfilled`, `promise-assessed`), at, and what the kind needs (planId,
itemId, title; promiseId, what, onTime, value). Written in the transaction of the change it
records; partners read it as xAPI statements (`shared.domain.xapi`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.ids import new_id
from shared.domain.timeutil import to_rfc3339
from shared.store import keys
from shared.store.table import deserialize, dynamodb, new_item_put, table_name, throttling_as_unavailable

FACT_PREFIX = "FACT#"
_ZERO_RANDOM = "0" * 16


def fact_put(user_id: str, kind: str, at: datetime, fields: dict[str, Any]) -> dict[str, Any]:
    """A transaction's Put of one fact."""
    fact_id = new_id(int(at.timestamp() * 1000))
    item = {
        "PK": keys.user_pk(user_id),
        "SK": f"{FACT_PREFIX}{fact_id}",
        "entity": "learning-fact",
        "factId": fact_id,
        "kind": kind,
        "at": to_rfc3339(at),
        **{k: v for k, v in fields.items() if v is not None},
    }
    return new_item_put(item)


def facts_since(
    user_id: str, since: datetime | None, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of my facts from `since` on, oldest first (a Query: the ULID's time is the key)."""
    lower = FACT_PREFIX
    if since is not None:
        lower += new_id(int(since.timestamp() * 1000))[:10] + _ZERO_RANDOM
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :lower AND :upper",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.user_pk(user_id)},
            ":lower": {"S": lower},
            ":upper": {"S": FACT_PREFIX + "~"},
        },
        "Limit": limit,
    }
    if start:
        params["ExclusiveStartKey"] = start
    with throttling_as_unavailable():
        response = dynamodb().query(**params)
    return [deserialize(i) for i in response.get("Items", [])], response.get("LastEvaluatedKey")
