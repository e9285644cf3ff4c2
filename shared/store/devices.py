"""Devices: push-token registrations in their owner's partition."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from shared.domain.errors import NotFound
from shared.store import keys
from shared.store.table import (
    deserialize,
    dynamodb,
    error_code,
    key,
    serialize,
    table_name,
    throttling_as_unavailable,
)

_PUBLIC = ("deviceId", "platform", "pushToken", "createdAt")


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in _PUBLIC if k in item}


def list_devices(
    user_id: str, limit: int | None = None, start: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Query PK = USER#<sub> AND begins_with(SK, DEVICE#): oldest first, one page."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.user_pk(user_id)},
            ":prefix": {"S": keys.DEVICE_PREFIX},
        },
    }
    if limit:
        params["Limit"] = limit
    if start:
        params["ExclusiveStartKey"] = start
    with throttling_as_unavailable():
        response = dynamodb().query(**params)
    items = [_public(deserialize(i)) for i in response.get("Items", [])]
    return items, response.get("LastEvaluatedKey")


def add_device(user_id: str, device: dict[str, Any]) -> dict[str, Any]:
    """Put one device item; its id is new, so the condition only guards against id reuse."""
    item = {
        "PK": keys.user_pk(user_id),
        "SK": keys.device_sk(device["deviceId"]),
        "entity": "device",
        **device,
    }
    with throttling_as_unavailable():
        dynamodb().put_item(
            TableName=table_name(), Item=serialize(item), ConditionExpression="attribute_not_exists(PK)"
        )
    return _public(item)


def remove_device(user_id: str, device_id: str) -> None:
    """Delete one of my devices; someone else's id, or an unknown one, is NotFound."""
    try:
        with throttling_as_unavailable():
            dynamodb().delete_item(
                TableName=table_name(),
                Key=key(keys.user_pk(user_id), keys.device_sk(device_id)),
                ConditionExpression="attribute_exists(PK)",
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            raise NotFound("No such device.") from error
        raise
