"""Mobile push through SNS: one platform endpoint per registered device, one publish per device.

Every sender (promise moves, reminders) writes the inbox item in its own transaction
(`shared.store.notifications.inbox_put`); the notifier (`functions/notifier`), fed by the
table's stream, then calls `push_to_person`: a device that fails is logged, counted and named
in the report (for a retry, or for its removal when disabled), never raised, and never stops
the others.

Endpoints are made when a device registers (`register_endpoint`) and deleted when it is
removed or the account is erased (`delete_endpoints`). An endpoint carries its owner's `sub`
as CustomUserData: a push token identifies an app install, and when another person registers
the same install, the endpoint moves to them and the previous owner's device is forgotten.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.config import settings
from shared.domain.errors import FieldError, InvalidInput, ServiceUnavailable
from shared.observability import logger
from shared.store import devices
from shared.store.table import error_code

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

# A push is a teaser; the inbox keeps the whole text. APNs and FCM both refuse payloads over
# 4 KB, which these limits keep clear of even in 4-byte characters.
MAX_TITLE_CHARS = 80
MAX_BODY_CHARS = 240

# A person waits on a push only indirectly (it follows their own write), so fail fast.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=3)
_THROTTLING = frozenset({"Throttling", "Throttled", "ThrottlingException", "InternalError", "KMSThrottling"})
# A publish refused for one of these (or any 5xx, or no answer at all) may well pass later: the
# caller retries that device. Anything else (an invalid payload, say) would fail the same again.
_TRANSIENT = _THROTTLING | {"InternalFailure", "ServiceUnavailable", "KMSInternal"}
# SNS names the endpoint that already holds a token only in the message of the InvalidParameter
# it answers; AWS's guide for creating endpoints parses it the same way.
_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:\S+) already exists with the same [Tt]oken")

_client: SNSClient | None = None


def sns() -> SNSClient:
    """The process's SNS client, made on first use."""
    global _client
    if _client is None:
        _client = boto3.client("sns", config=_CLIENT_CONFIG)
    return _client


def reset_clients() -> None:
    """Forget the cached client (tests switch emulators between cases)."""
    global _client
    _client = None


# ---------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class Endpoint:
    """The SNS endpoint of a device; `previous_owner` is the person it was taken from, if any."""

    arn: str
    previous_owner: str | None = None


def register_endpoint(user_id: str, platform: str, push_token: str) -> Endpoint | None:
    """Make (or take over) the SNS endpoint for this token, owned by `user_id`.

    None when the platform has no SNS application in this deployment: the device is then
    registered without push. A token the push service refuses is a 422 on `pushToken`.
    """
    application_arn = settings().platform_application_arn(platform)
    if not application_arn:
        logger.warning(
            "No SNS platform application configured; device registered without push",
            extra={"platform": platform},
        )
        return None
    try:
        arn = _create_endpoint(application_arn, user_id, push_token)
        attributes = sns().get_endpoint_attributes(EndpointArn=arn)["Attributes"]
        owner = attributes.get("CustomUserData") or None
        if (
            owner != user_id
            or attributes.get("Token") != push_token
            or attributes.get("Enabled", "true").lower() != "true"
        ):
            # Another person's endpoint for this install, or one the push service disabled
            # (an old token that came back): make it this person's, enabled.
            sns().set_endpoint_attributes(
                EndpointArn=arn,
                Attributes={"CustomUserData": user_id, "Token": push_token, "Enabled": "true"},
            )
    except ClientError as error:
        code = error_code(error)
        if code in _THROTTLING:
            raise ServiceUnavailable(
                "The push service is busy; retry shortly.", retry_after_seconds=2
            ) from error
        if code == "InvalidParameter":
            raise InvalidInput(
                "The push service refused this token.",
                [
                    FieldError(
                        "body", "pushToken", "push_token_rejected", "not a token the push service accepts"
                    )
                ],
            ) from error
        raise
    return Endpoint(arn, owner if owner and owner != user_id else None)


def _create_endpoint(application_arn: str, user_id: str, push_token: str) -> str:
    try:
        response = sns().create_platform_endpoint(
            PlatformApplicationArn=application_arn,
            Token=push_token,
            CustomUserData=user_id,
            # Also as an attribute, so that GetEndpointAttributes shows the owner in every SNS
            # implementation (moto keeps CustomUserData only there).
            Attributes={"CustomUserData": user_id},
        )
    except ClientError as error:
        found = _EXISTING_ENDPOINT.search(str(error.response.get("Error", {}).get("Message", "")))
        if error_code(error) != "InvalidParameter" or found is None:
            raise
        return found.group(1)
    return response["EndpointArn"]


def delete_endpoints(user_id: str, endpoint_arns: list[str], *, only_if_disabled: bool = False) -> int:
    """Delete these endpoints of `user_id`; answer how many were deleted. Best effort.

    Gone already is fine; an endpoint another person has taken over since is left to them, and
    with `only_if_disabled` so is one enabled again since (a registration of its token came
    back); any other failure is logged (the device item that named it is deleted regardless, so
    the endpoint is never published to again).
    """
    deleted = 0
    for arn in endpoint_arns:
        try:
            attributes = sns().get_endpoint_attributes(EndpointArn=arn)["Attributes"]
            owner = attributes.get("CustomUserData") or None
            if owner is not None and owner != user_id:
                continue
            if only_if_disabled and attributes.get("Enabled", "true").lower() == "true":
                continue
            sns().delete_endpoint(EndpointArn=arn)
            deleted += 1
        except ClientError as error:
            if error_code(error) != "NotFound":
                logger.warning("Could not delete an SNS endpoint", extra={"errorCode": error_code(error)})
        except BotoCoreError as error:
            logger.warning("Could not delete an SNS endpoint", extra={"error": type(error).__name__})
    return deleted


# ---------------------------------------------------------------- publishing


@dataclass(frozen=True)
class PushReport:
    """What one push to a person did, device by device.

    Two reports are equal when their counts are (the device ids are detail for the caller).
    """

    sent: int = 0
    failed: int = 0
    # Registered while push was not set up in this deployment: nothing to publish to.
    without_endpoint: int = 0
    # The push service disabled these (uninstalled app, expired token); the app re-registers
    # when it next starts, and removing them is the caller's choice.
    disabled_device_ids: tuple[str, ...] = ()
    # The devices could not be read at all (the database refused): nothing was tried.
    devices_unread: bool = False
    # Left out because the caller said they have this notification already (a retry).
    skipped: int = 0
    # Who got it, and who did not for a reason that may pass (throttled, a 5xx, no answer, or
    # not tried because the caller ran out of time): what a retry should still try. Both ids.
    sent_device_ids: tuple[str, ...] = field(default=(), compare=False)
    retry_device_ids: tuple[str, ...] = field(default=(), compare=False)
    # The disabled devices as `devices.push_targets` answers them, for their removal.
    disabled_devices: tuple[dict[str, Any], ...] = field(default=(), compare=False)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def build_message(title: str, body: str, data: dict[str, Any]) -> str:
    """The SNS `Message` for MessageStructure=json: one payload per push service, plus a default.

    iOS gets an APNs alert with `data` beside `aps`; Android an FCM HTTP v1 notification whose
    `data` values are strings, as FCM requires (non-strings are sent as JSON).
    """
    title, body = _clip(title, MAX_TITLE_CHARS), _clip(body, MAX_BODY_CHARS)
    apns = {"aps": {"alert": {"title": title, "body": body}, "sound": "default"}, "data": data}
    fcm = {
        "fcmV1Message": {
            "message": {
                "notification": {"title": title, "body": body},
                "data": {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()},
            }
        }
    }
    # Each service's payload is itself a JSON string inside the message (SNS requires it).
    return json.dumps(
        {
            "default": body,
            "APNS": json.dumps(apns),
            "APNS_SANDBOX": json.dumps(apns),
            "GCM": json.dumps(fcm),
        }
    )


def push_to_person(
    user_id: str,
    *,
    title: str,
    body: str,
    data: dict[str, Any],
    skip_device_ids: Collection[str] = (),
    out_of_time: Callable[[], bool] | None = None,
) -> PushReport:
    """Publish one notification to every device of `user_id`; never raises for a device.

    One Query reads the devices (`devices.push_targets`), then one SNS Publish per device, but
    for those in `skip_device_ids` (they have it already). Once `out_of_time()` answers true,
    the devices left are not tried: they are named for a retry.
    """
    try:
        targets = devices.push_targets(user_id)
    except (ClientError, BotoCoreError, ServiceUnavailable):
        logger.exception("Could not read the devices to push to")
        return PushReport(devices_unread=True)
    message = build_message(title, body, data)
    failed = without_endpoint = skipped = 0
    sent: list[str] = []
    retry: list[str] = []
    disabled: list[dict[str, Any]] = []
    for device in targets:
        device_id = str(device["deviceId"])
        arn = device.get("endpointArn")
        if not arn:
            without_endpoint += 1
            continue
        if device_id in skip_device_ids:
            skipped += 1
            continue
        if out_of_time is not None and out_of_time():
            failed += 1
            retry.append(device_id)
            continue
        try:
            sns().publish(TargetArn=arn, MessageStructure="json", Message=message)
            sent.append(device_id)
        except ClientError as error:
            failed += 1
            code = error_code(error)
            if code == "EndpointDisabled":
                disabled.append(device)
            elif code in _TRANSIENT or _status(error) >= 500:
                retry.append(device_id)
            logger.warning("Push to a device failed", extra={"deviceId": device_id, "errorCode": code})
        except BotoCoreError as error:  # no answer (it may have been delivered all the same)
            failed += 1
            retry.append(device_id)
            logger.warning(
                "Push to a device failed", extra={"deviceId": device_id, "error": type(error).__name__}
            )
    return PushReport(
        sent=len(sent),
        failed=failed,
        without_endpoint=without_endpoint,
        disabled_device_ids=tuple(str(d["deviceId"]) for d in disabled),
        skipped=skipped,
        sent_device_ids=tuple(sent),
        retry_device_ids=tuple(retry),
        disabled_devices=tuple(disabled),
    )


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
