"""Devices: push-token registrations in their owner's partition.

A device item also holds `endpointArn`, the SNS platform endpoint made for its token. That is
plumbing, not part of the device as the API shows it: `_public` leaves it out. Beside the
devices, two technical items (no `entity`, so never exported): one per token
(`PUSHTOKEN#<digest>`, naming its device) and the person's device count (`DEVICES`), which
keep "one device per token" and "at most MAX_DEVICES" true under concurrent registrations.
"""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any

from shared.domain.errors import Conflict, NotFound
from shared.store import keys
from shared.store.table import (
    deserialize,
    dynamodb,
    key,
    new_item_put,
    query_prefix,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction, TransactionCancelled

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


MAX_DEVICES = 10
# Concurrent registrations touch the same counter: DynamoDB cancels all but one with
# TransactionConflict, and each is simply tried again (conditions are evaluated afresh).
_CONFLICT_ATTEMPTS = 4


def _token_sk(platform: str, push_token: str) -> str:
    # A digest keeps the key short and the same for the same install, whatever the token's length.
    digest = hashlib.sha256(f"{platform}:{push_token}".encode()).hexdigest()[:40]
    return f"{keys.PUSH_TOKEN_PREFIX}{digest}"


class DeviceLimitReached(Conflict):
    """The person has MAX_DEVICES devices already (409)."""

    def __init__(self) -> None:
        super().__init__(f"You have {MAX_DEVICES} devices registered; remove one first.")


def register_device(user_id: str, device: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Register a device, once per push token, at most MAX_DEVICES per person, whatever the
    concurrency; answers (the device, whether it is new).

    One transaction: the device, its token's item (`PUSHTOKEN#<digest>`, so the same token for
    the same person is one device: a racing second registration finds the first), the person's
    device count (`DEVICES`, conditioned below the limit) and their account check. When the
    token is registered already, that device is the answer, even at the limit.
    """
    pk = keys.user_pk(user_id)
    token_sk = _token_sk(device["platform"], device["pushToken"])
    item = {"PK": pk, "SK": keys.device_sk(device["deviceId"]), "entity": "device", **device}
    attempt = 0
    while True:
        tx = Transaction()
        tx.add("device", [new_item_put(item)])
        tx.add("token", [new_item_put({"PK": pk, "SK": token_sk, "deviceId": device["deviceId"]})])
        tx.add("limit", [_count_change(pk, +1)])
        tx.require_account(user_id)
        try:
            tx.commit()
        except TransactionCancelled as error:
            existing = _device_for_token(pk, token_sk)
            if existing is not None:
                return existing, False
            if error.failed_on("limit"):
                raise DeviceLimitReached() from error
            attempt += 1
            if not error.conflicted() or attempt >= _CONFLICT_ATTEMPTS:
                raise Conflict("Your devices are being changed by another request; retry.") from error
            time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311 (jitter, not a secret)
            continue
        return _public(item), True


def _count_change(pk: str, delta: int) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": key(pk, keys.DEVICE_COUNT_SK),
        "UpdateExpression": "SET #count = if_not_exists(#count, :zero) + :delta",
        "ExpressionAttributeNames": {"#count": "count"},
        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":delta": {"N": str(delta)}},
    }
    if delta > 0:
        update["ConditionExpression"] = "attribute_not_exists(#count) OR #count < :max"
        update["ExpressionAttributeValues"][":max"] = {"N": str(MAX_DEVICES)}
    return {"Update": update}


def _device_for_token(pk: str, token_sk: str) -> dict[str, Any] | None:
    """The device registered with a token (two consistent GetItems), or None."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(TableName=table_name(), Key=key(pk, token_sk), ConsistentRead=True)
    if "Item" not in found:
        return None
    device_id = str(deserialize(found["Item"])["deviceId"])
    device = _get(pk, device_id)
    return _public(device) if device else None


def _get(pk: str, device_id: str) -> dict[str, Any] | None:
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(), Key=key(pk, keys.device_sk(device_id)), ConsistentRead=True
        )
    return deserialize(found["Item"]) if "Item" in found else None


def _delete(user_id: str, device: dict[str, Any], condition: dict[str, Any]) -> bool:
    """Delete a device with its token item and count, if `condition` on the device holds."""
    pk = keys.user_pk(user_id)
    tx = Transaction()
    tx.add(
        "device",
        [
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": key(pk, keys.device_sk(device["deviceId"])),
                    **condition,
                }
            }
        ],
    )
    token_key = key(pk, _token_sk(device["platform"], device["pushToken"]))
    tx.add("token", [{"Delete": {"TableName": table_name(), "Key": token_key}}])
    tx.add("count", [_count_change(pk, -1)])
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("device"):
            return False
        raise Conflict("Your devices are being changed by another request; retry.") from error
    return True


def remove_device(user_id: str, device_id: str) -> str | None:
    """Delete one of my devices and answer its `endpointArn` (None if it had none): a GetItem,
    then one transaction (the device, its token item, my count); someone else's id, or an
    unknown one, is NotFound."""
    device = _get(keys.user_pk(user_id), device_id)
    if device is None or not _delete(user_id, device, {"ConditionExpression": "attribute_exists(PK)"}):
        raise NotFound("No such device.")
    endpoint = device.get("endpointArn")
    return str(endpoint) if endpoint else None


def remove_dead_device(user_id: str, device: dict[str, Any]) -> bool:
    """Delete a device whose push endpoint the push service disabled (as `push_targets` answered
    it), the way `remove_device` does (one transaction: the device, its token item, my count);
    answer whether it was deleted. Conditioned on the endpoint, so a device gone or changed
    since is left as it is."""
    condition = {
        "ConditionExpression": "endpointArn = :arn",
        "ExpressionAttributeValues": {":arn": {"S": str(device["endpointArn"])}},
    }
    return _delete(user_id, device, condition)


def forget_push_token(user_id: str, platform: str, push_token: str) -> list[str]:
    """Delete this person's device that carries `push_token`; answer its id (or nothing).

    For when another person registers the same token (the phone changed hands, or someone else
    signed in on it): this person's pushes must no longer reach that phone. The token's item
    names the device; its deletion is conditioned on the token, so a concurrent change wins.
    """
    pk = keys.user_pk(user_id)
    device = _device_for_token(pk, _token_sk(platform, push_token))
    if device is None:
        return []
    condition = {
        "ConditionExpression": "pushToken = :token",
        "ExpressionAttributeValues": {":token": {"S": push_token}},
    }
    return [str(device["deviceId"])] if _delete(user_id, device, condition) else []
