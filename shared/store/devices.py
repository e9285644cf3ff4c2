"""Devices: push-token registrations in their owner's partition.

A device item also holds `endpointArn`, the SNS platform endpoint made for its token. That is
plumbing, not part of the device as the API shows it: `_public` leaves it out.
"""

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
    put_new_item,
    query_prefix,
    table_name,
    throttling_as_unavailable,
)

_PUBLIC = ("deviceId", "platform", "pushToken", "createdAt")


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in _PUBLIC if k in item}


def _query_page(
    user_id: str, limit: int | None, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    return query_prefix(keys.user_pk(user_id), keys.DEVICE_PREFIX, limit=limit, start=start)


def list_devices(
    user_id: str, limit: int | None = None, start: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Query PK = USER#<sub> AND begins_with(SK, DEVICE#): oldest first, one page."""
    items, last = _query_page(user_id, limit, start)
    return [_public(i) for i in items], last


def push_targets(user_id: str) -> list[dict[str, Any]]:
    """Every device of mine with its `endpointArn` (absent when none was made): the same Query,
    all pages (a person has at most a handful of devices, so one page in practice)."""
    targets: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        items, start = _query_page(user_id, None, start)
        targets += [{**_public(i), "endpointArn": i.get("endpointArn")} for i in items]
        if not start:
            return targets


def add_device(user_id: str, device: dict[str, Any]) -> dict[str, Any]:
    """Put one device item; its id is new, so the condition only guards against id reuse."""
    item = {
        "PK": keys.user_pk(user_id),
        "SK": keys.device_sk(device["deviceId"]),
        "entity": "device",
        **device,
    }
    put_new_item(item)
    return _public(item)


def remove_device(user_id: str, device_id: str) -> str | None:
    """Delete one of my devices and answer its `endpointArn` (None if it had none), from the
    same request; someone else's id, or an unknown one, is NotFound."""
    try:
        with throttling_as_unavailable():
            response = dynamodb().delete_item(
                TableName=table_name(),
                Key=key(keys.user_pk(user_id), keys.device_sk(device_id)),
                ConditionExpression="attribute_exists(PK)",
                ReturnValues="ALL_OLD",
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            raise NotFound("No such device.") from error
        raise
    endpoint = deserialize(response.get("Attributes", {})).get("endpointArn")
    return str(endpoint) if endpoint else None


def forget_push_token(user_id: str, platform: str, push_token: str) -> list[str]:
    """Delete this person's devices that carry `push_token`; answer their ids.

    For when another person registers the same token (the phone changed hands, or someone else
    signed in on it): this person's pushes must no longer reach that phone. A Query of their
    devices, then a DeleteItem per match, conditioned on the token so a concurrent change wins.
    """
    forgotten = []
    for device in push_targets(user_id):
        if device["pushToken"] != push_token or device["platform"] != platform:
            continue
        try:
            with throttling_as_unavailable():
                dynamodb().delete_item(
                    TableName=table_name(),
                    Key=key(keys.user_pk(user_id), keys.device_sk(device["deviceId"])),
                    ConditionExpression="pushToken = :token",
                    ExpressionAttributeValues={":token": {"S": push_token}},
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            continue
        forgotten.append(str(device["deviceId"]))
    return forgotten
