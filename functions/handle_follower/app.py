"""Follows profile changes into what copies them, from the table's stream: a new handle into
the promises that show it, a new time zone into the person's floating reminders.

A promise shows each app-user side by handle, in the promise itself, in the moves they made and
in the other side's lists (membership, care links): copies, so that every read stays one
request. When someone changes their handle (or first makes their profile), this function,
triggered by the stream with a filter on profile items, rewrites those copies
(`shared.logic.promises.follow_handle`). Meanwhile nobody else can take the old handle: it is
held for its owner for 30 days, far longer than this takes.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import lifecycle
from shared.domain.timeutil import utc_now
from shared.logic.promises import follow_handle
from shared.logic.reminders import follow_time_zone
from shared.observability import logger, metrics
from shared.store.table import deserialize

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def follow(record: DynamoDBRecord) -> None:
    """One profile change: a new handle shown everywhere, floating reminders moved to a new zone."""
    images = record.raw_event["dynamodb"]
    new = deserialize(images.get("NewImage", {}))
    old = deserialize(images.get("OldImage", {}))
    if new.get("entity") != "profile":
        return
    user_id = str(new["PK"]).removeprefix("USER#")
    # The filter cannot compare old and new: only a changed handle or time zone means work.
    if new.get("handle") != old.get("handle"):
        metrics.add_metric(name="HandleCopiesRewritten", unit="Count", value=follow_handle(user_id))
    if old and new.get("timeZone") != old.get("timeZone"):
        moved = follow_time_zone(user_id, utc_now())
        metrics.add_metric(name="FloatingRemindersMoved", unit="Count", value=moved)


# The clients every invocation needs, made during Lambda's initialisation.
lifecycle.init()


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A batch of stream records; answers the ones to retry (ReportBatchItemFailures)."""
    response = process_partial_response(
        event=event, record_handler=follow, processor=processor, context=context
    )
    return dict(response)
