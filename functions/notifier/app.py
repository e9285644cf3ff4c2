"""Pushes every new inbox item to its person's devices, from the table's stream.

Senders (promise moves, later reminders) only write the inbox item, inside their own
transaction; this function, triggered by the stream with a filter on new `notification`
items, publishes it to each of the person's devices through SNS, unless the person's
preferences hold it back (a kind turned off, or their quiet hours in their own time zone).
A request therefore never waits on SNS, and its DynamoDB budget holds; a failing device never
fails the others (`shared.push`). A record whose devices cannot be read is reported as a batch
item failure, so Lambda retries just that record; what still fails goes to the on-failure
queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.domain.notification_prefs import may_push
from shared.domain.timeutil import utc_now
from shared.observability import logger, metrics
from shared.push import push_to_person
from shared.store.profiles import get_profile
from shared.store.table import deserialize

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class DevicesUnreadable(Exception):
    """The person's devices could not be read: retry this record."""


def push_notification(record: DynamoDBRecord) -> None:
    """Publish one new inbox item to every device of its person."""
    image = deserialize(record.raw_event["dynamodb"].get("NewImage", {}))
    if record.raw_event.get("eventName") != "INSERT" or image.get("entity") != "notification":
        return  # the event source's filter lets only these through; be safe all the same
    user_id = str(image["PK"]).removeprefix("USER#")
    stored = get_profile(user_id)
    if not may_push(str(image.get("kind", "")), stored.data if stored else None, utc_now()):
        metrics.add_metric(name="PushesHeldByPreferences", unit="Count", value=1)
        return  # the inbox has it; the person asked not to be disturbed by this, or not now
    report = push_to_person(
        user_id, title=str(image["title"]), body=str(image["body"]), data=dict(image.get("data", {}))
    )
    if report.devices_unread:
        raise DevicesUnreadable(image["notificationId"])
    metrics.add_metric(name="PushesSent", unit="Count", value=report.sent)
    if report.failed:
        metrics.add_metric(name="PushesFailed", unit="Count", value=report.failed)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A batch of stream records; answers the ones to retry (ReportBatchItemFailures)."""
    response = process_partial_response(
        event=event, record_handler=push_notification, processor=processor, context=context
    )
    return dict(response)
