"""Pushes every new inbox item to its person's devices, from the table's stream.

Senders (promise moves, later reminders) only write the inbox item, inside their own
transaction; this function, triggered by the stream with a filter on new `notification`
items, publishes it to each of the person's devices through SNS, unless the person's
preferences hold it back (a kind turned off, or their quiet hours in their own time zone).
A request therefore never waits on SNS, and its DynamoDB budget holds; a failing device never
fails the others (`shared.push`).

A device whose endpoint the push service disabled is removed (its item and SNS endpoint), and
its record is done. A record with something worth retrying (its devices or its person could
not be read, SNS was throttled or failed for a device, the invocation was running out of time)
is reported as a batch item failure, so Lambda retries it; what still fails after the last
retry goes to the on-failure queue. Every such report is logged and counted
(`NotificationRecordsFailed`) as it is made: the function cannot tell which retry is the last.

A retry does not push twice to a device: a push receipt (`PUSHED#<notificationId>`, in the
person's partition) names the devices that have the notification, and is read before pushing.
It is written only for a record Lambda will deliver again: one that failed, or one after a
failed record of the same batch (Lambda resumes from the first failure).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from shared import lifecycle
from shared.domain.errors import Conflict, ServiceUnavailable
from shared.domain.notification_prefs import may_push
from shared.domain.timeutil import utc_now
from shared.observability import logger, metrics
from shared.push import delete_endpoints, push_to_person
from shared.store import devices, keys
from shared.store.profiles import get_profile
from shared.store.table import deserialize, dynamodb, key, table_name, throttling_as_unavailable

# Beside the inbox item, no `entity` (never exported); erased with the partition.
RECEIPT_PREFIX = "PUSHED#"
# A stream keeps a record for 24 hours, so no retry comes after that; then TTL removes it.
RECEIPT_SECONDS = 2 * 24 * 3600
# No new record or device is started with less time left than this: the ones left are retried
# instead of lost to a timeout (which would retry the whole batch, pushing again what was sent).
# One SNS publish that gets no answer takes up to 2 attempts x (2 s connect + 3 s read); most
# slow ones answer on the first attempt.
TIME_MARGIN_MS = 8_000


class DevicesUnreadable(Exception):
    """The person's devices could not be read: retry this record."""


class PushesToRetry(Exception):
    """Some devices did not get the push for a reason that may pass (throttled, a 5xx)."""


class OutOfTime(Exception):
    """Too little time left to start this record: retry it."""


class _Processor(BatchProcessor):
    """Powertools' processor, logging and counting every record it reports as failed."""

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        error = exception[1]
        raw = record.raw_event if isinstance(record, DynamoDBRecord) else {}
        image = raw.get("dynamodb", {}).get("NewImage", {})
        extra = {
            "notificationId": image.get("notificationId", {}).get("S"),
            "sequenceNumber": raw.get("dynamodb", {}).get("SequenceNumber"),
            "reason": type(error).__name__,
        }
        message = (
            "A notification was not pushed to every device: Lambda retries it,"
            " then sends it to the on-failure queue"
        )
        if isinstance(error, DevicesUnreadable | PushesToRetry | OutOfTime):
            logger.warning(message, extra={**extra, "detail": str(error)})
        else:  # not foreseen: with its traceback
            logger.error(message, extra=extra, exc_info=error)
        metrics.add_metric(name="NotificationRecordsFailed", unit="Count", value=1)
        return super().failure_handler(record, exception)


# A batch whose every record failed is reported as such too, not raised as a function error:
# Lambda then retries from the first failed record either way, and only crashes and timeouts
# count as the function's errors.
processor = _Processor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def push_notification(record: DynamoDBRecord, lambda_context: LambdaContext | None = None) -> None:
    """Publish one new inbox item to every device of its person that does not have it yet."""
    image = deserialize(record.raw_event["dynamodb"].get("NewImage", {}))
    if record.raw_event.get("eventName") != "INSERT" or image.get("entity") != "notification":
        return  # the event source's filter lets only these through; be safe all the same
    user_id = str(image["PK"]).removeprefix("USER#")
    notification_id = str(image["notificationId"])

    def out_of_time() -> bool:
        return lambda_context is not None and lambda_context.get_remaining_time_in_millis() < TIME_MARGIN_MS

    if out_of_time():
        raise OutOfTime(notification_id)
    stored = get_profile(user_id)
    if not may_push(str(image.get("kind", "")), stored.data if stored else None, utc_now()):
        metrics.add_metric(name="PushesHeldByPreferences", unit="Count", value=1)
        return  # the inbox has it; the person asked not to be disturbed by this, or not now
    pushed_already = devices_pushed(user_id, notification_id)
    report = push_to_person(
        user_id,
        title=str(image["title"]),
        body=str(image["body"]),
        data=dict(image.get("data", {})),
        skip_device_ids=pushed_already,
        out_of_time=out_of_time,
    )
    if report.devices_unread:
        raise DevicesUnreadable(notification_id)
    metrics.add_metric(name="PushesSent", unit="Count", value=report.sent)
    if report.failed:
        metrics.add_metric(name="PushesFailed", unit="Count", value=report.failed)
    if report.skipped:
        metrics.add_metric(name="PushesSentBefore", unit="Count", value=report.skipped)
    for device in report.disabled_devices:
        remove_disabled_device(user_id, device)
    # Lambda delivers this record again if it fails, or if one before it in this batch did.
    if report.retry_device_ids or processor.fail_messages:
        remember_pushed(user_id, notification_id, report.sent_device_ids)
    if report.retry_device_ids:
        raise PushesToRetry(f"{len(report.retry_device_ids)} device(s) of {notification_id}")


def _receipt_key(user_id: str, notification_id: str) -> dict[str, Any]:
    return key(keys.user_pk(user_id), f"{RECEIPT_PREFIX}{notification_id}")


def devices_pushed(user_id: str, notification_id: str) -> frozenset[str]:
    """The devices that have this notification already, from its receipt (one consistent GetItem)."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(),
            Key=_receipt_key(user_id, notification_id),
            ConsistentRead=True,
            ProjectionExpression="pushedTo",
        )
    return frozenset(str(d) for d in deserialize(found.get("Item", {})).get("pushedTo", []))


def remember_pushed(user_id: str, notification_id: str, device_ids: Collection[str]) -> None:
    """Add these devices to the notification's receipt (one UpdateItem); best effort."""
    if not device_ids:
        return
    try:
        dynamodb().update_item(
            TableName=table_name(),
            Key=_receipt_key(user_id, notification_id),
            UpdateExpression="ADD pushedTo :devices SET expiresAt = :expires",
            ExpressionAttributeValues={
                ":devices": {"SS": sorted(device_ids)},
                ":expires": {"N": str(int(time.time()) + RECEIPT_SECONDS)},
            },
        )
    except (ClientError, BotoCoreError):
        logger.exception(
            "Could not note which devices got a notification: its retry pushes to them again",
            extra={"notificationId": notification_id, "devices": len(device_ids)},
        )
        metrics.add_metric(name="PushReceiptsNotWritten", unit="Count", value=1)


def remove_disabled_device(user_id: str, device: dict[str, Any]) -> None:
    """Remove a device whose endpoint SNS disabled, as DELETE /v1/me/devices/{id} does: its
    items, then its endpoint (unless enabled again since). The app registers afresh when it next
    starts. A removal that fails is logged and counted; the next push tries it again."""
    device_id = str(device["deviceId"])
    try:
        removed = devices.remove_dead_device(user_id, device)
    except (ClientError, BotoCoreError, ServiceUnavailable, Conflict):
        logger.exception(
            "Could not remove a device whose push endpoint is disabled", extra={"deviceId": device_id}
        )
        metrics.add_metric(name="DisabledDevicesNotRemoved", unit="Count", value=1)
        return
    if not removed:
        logger.info(
            "A device with a disabled endpoint changed meanwhile; left as it is",
            extra={"deviceId": device_id},
        )
        return
    delete_endpoints(user_id, [str(device["endpointArn"])], only_if_disabled=True)
    logger.info("Removed a device whose push endpoint is disabled", extra={"deviceId": device_id})
    metrics.add_metric(name="DisabledDevicesRemoved", unit="Count", value=1)


# The clients every invocation needs, made during Lambda's initialisation.
lifecycle.init(sns=True)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A batch of stream records; answers the ones to retry (ReportBatchItemFailures)."""
    response = process_partial_response(
        event=event, record_handler=push_notification, processor=processor, context=context
    )
    return dict(response)
