"""A partner's webhook, the events sent to it and every delivery attempt, in its partition.

- `PARTNER#<partnerId>` / `WEBHOOK` (entity `webhook`): url, events (the types it wants), secrets
  (`[{secret, createdAt, expiresAt?}]`: the newest signs, an older one too until it expires, a
  day after a rotation), status (`enabled`, `disabled`), disabledReason, failingSince (the
  first failure since the last success), version, createdAt, updatedAt.
- `PARTNER#<partnerId>` / `EVENT#<eventId>` (entity `webhook-event`): type, payload (the JSON
  sent, under 20 kB), clientId (when it is about a client), createdAt; kept 30 days (TTL) for
  redelivery.
- `PARTNER#<partnerId>` / `DELIVERY#<ulid>` (entity `webhook-delivery`): one attempt: eventId,
  type, attempt, status (HTTP, absent without an answer), outcome (delivered, retry, gone,
  refused), latencyMs, error, at; kept 30 days (TTL).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from shared.domain.errors import NotFound, PreconditionFailed
from shared.domain.ids import new_id
from shared.domain.timeutil import to_rfc3339
from shared.store.partners import partner_pk
from shared.store.table import (
    deserialize,
    dynamodb,
    error_code,
    key,
    query_prefix,
    serialize,
    table_name,
    throttling_as_unavailable,
)

WEBHOOK_SK = "WEBHOOK"
EVENT_PREFIX = "EVENT#"
DELIVERY_PREFIX = "DELIVERY#"
KEPT = timedelta(days=30)
WEBHOOK_FIELDS = (
    "url",
    "events",
    "secrets",
    "status",
    "disabledReason",
    "failingSince",
    "version",
    "createdAt",
    "updatedAt",
)
DELIVERY_FIELDS = (
    "deliveryId",
    "eventId",
    "type",
    "attempt",
    "status",
    "outcome",
    "latencyMs",
    "error",
    "at",
)


def get_webhook(partner_id: str) -> dict[str, Any] | None:
    """The partner's webhook (consistent GetItem), or None."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(), Key=key(partner_pk(partner_id), WEBHOOK_SK), ConsistentRead=True
        )
    item = deserialize(found.get("Item", {}))
    return {k: item[k] for k in WEBHOOK_FIELDS if k in item} if item else None


def put_webhook(partner_id: str, webhook: dict[str, Any], read_version: int | None) -> None:
    """Put the webhook over the version read (or as the first); 412 when it changed meanwhile."""
    item = {"PK": partner_pk(partner_id), "SK": WEBHOOK_SK, "entity": "webhook", **webhook}
    condition: dict[str, Any] = (
        {"ConditionExpression": "attribute_not_exists(PK)"}
        if read_version is None
        else {
            "ConditionExpression": "version = :read",
            "ExpressionAttributeValues": {":read": {"N": str(read_version)}},
        }
    )
    try:
        with throttling_as_unavailable():
            dynamodb().put_item(TableName=table_name(), Item=serialize(item), **condition)
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            raise PreconditionFailed("The webhook changed meanwhile; read it again.") from error
        raise


def put_event(
    partner_id: str,
    event_id: str,
    event_type: str,
    payload: str,
    client_id: str | None,
    at: datetime,
    owner: str | None = None,
) -> None:
    """Keep one event as sent (for redelivery), 30 days; `owner`, the person it is about, lets
    their erasure find it (ByOwner) before its time is up."""
    item = {
        "PK": partner_pk(partner_id),
        "SK": f"{EVENT_PREFIX}{event_id}",
        "entity": "webhook-event",
        "eventId": event_id,
        "type": event_type,
        "payload": payload,
        "clientId": client_id,
        "owner": owner,
        "createdAt": to_rfc3339(at),
        "expiresAt": int((at + KEPT).timestamp()),
    }
    with throttling_as_unavailable():
        dynamodb().put_item(
            TableName=table_name(), Item=serialize({k: v for k, v in item.items() if v is not None})
        )


def get_event(partner_id: str, event_id: str) -> dict[str, Any] | None:
    """One event kept for the partner, or None (unknown, or older than 30 days)."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(), Key=key(partner_pk(partner_id), f"{EVENT_PREFIX}{event_id}")
        )
    item = deserialize(found.get("Item", {}))
    return item or None


def log_delivery(partner_id: str, attempt: dict[str, Any], at: datetime) -> str:
    """Write one delivery attempt; answers its id."""
    delivery_id = new_id(int(at.timestamp() * 1000))
    item = {
        "PK": partner_pk(partner_id),
        "SK": f"{DELIVERY_PREFIX}{delivery_id}",
        "entity": "webhook-delivery",
        "deliveryId": delivery_id,
        **{k: v for k, v in attempt.items() if v is not None},
        "at": to_rfc3339(at),
        "expiresAt": int((at + KEPT).timestamp()),
    }
    with throttling_as_unavailable():
        dynamodb().put_item(TableName=table_name(), Item=serialize(item))
    return delivery_id


def get_delivery(partner_id: str, delivery_id: str) -> dict[str, Any]:
    """One delivery attempt of the partner's, or NotFound."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(), Key=key(partner_pk(partner_id), f"{DELIVERY_PREFIX}{delivery_id}")
        )
    item = deserialize(found.get("Item", {}))
    if not item:
        raise NotFound("No such delivery.")
    return {k: item[k] for k in DELIVERY_FIELDS if k in item}


def deliveries(
    partner_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of the delivery log, newest first (a Query)."""
    items, last = query_prefix(
        partner_pk(partner_id), DELIVERY_PREFIX, limit=limit, start=start, newest_first=True
    )
    return [{k: i[k] for k in DELIVERY_FIELDS if k in i} for i in items], last


def mark_webhook(partner_id: str, sets: dict[str, Any], removes: tuple[str, ...] = ()) -> None:
    """Record what deliveries learnt (failing since when, disabled and why) on the webhook, if
    it still exists; no version bump (the partner's own changes are not overwritten)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts = []
    for i, (name, value) in enumerate(sets.items()):
        names[f"#s{i}"] = name
        values[f":s{i}"] = serialize({"v": value})["v"]
        parts.append(f"#s{i} = :s{i}")
    expression = ("SET " + ", ".join(parts)) if parts else ""
    if removes:
        for i, name in enumerate(removes):
            names[f"#r{i}"] = name
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
    if not expression:
        return
    params: dict[str, Any] = {
        "TableName": table_name(),
        "Key": key(partner_pk(partner_id), WEBHOOK_SK),
        "UpdateExpression": expression.strip(),
        "ConditionExpression": "attribute_exists(PK)",
        "ExpressionAttributeNames": names,
    }
    if values:
        params["ExpressionAttributeValues"] = values
    try:
        with throttling_as_unavailable():
            dynamodb().update_item(**params)
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":  # gone meanwhile: nothing to mark
            raise


# --- the webhook queue -----------------------------------------------------------------------------

_sqs: Any = None


def queue_client() -> Any:
    """The SQS client (made once per execution environment)."""
    global _sqs
    if _sqs is None:
        _sqs = boto3.client("sqs")
    return _sqs


def reset_clients() -> None:
    """Forget the queue's client (tests: each case has its own emulator)."""
    global _sqs
    _sqs = None


def queue_event(partner_id: str, event_id: str) -> None:
    """Put one kept event on the webhook queue (the sender posts it)."""
    queue_client().send_message(
        QueueUrl=os.environ["WEBHOOK_QUEUE_URL"],
        MessageBody=json.dumps({"partnerId": partner_id, "eventId": event_id}),
    )


def show_again_in(receipt_handle: str, seconds: float) -> None:
    """Bring a received message back after `seconds` (its next attempt)."""
    queue_client().change_message_visibility(
        QueueUrl=os.environ["WEBHOOK_QUEUE_URL"], ReceiptHandle=receipt_handle, VisibilityTimeout=int(seconds)
    )
