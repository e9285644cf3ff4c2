"""Webhook deliveries, from the webhook queue: one signed POST per event, every attempt logged.

A message names a partner and an event (`{partnerId, eventId}`); its receive count is the
attempt's number. A failed attempt sets the message's visibility to the next delay of the
Standard Webhooks schedule (with jitter, `Retry-After` honoured) and is reported as failed, so
the queue brings it back then; after the last attempt the queue's redrive policy moves it to the
dead-letter queue (every attempt is in the delivery log by then). An event the partner may no
longer hear of (grant revoked, webhook disabled) is logged as refused and dropped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import lifecycle
from shared.logic import webhooks as logic
from shared.observability import logger, metrics
from shared.store import webhooks as store

# A batch whose every message failed is reported as such too (each comes back after its own
# delay), not raised as a function error that would bring them all back at once.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class RetryLater(Exception):
    """The attempt failed; the message comes back after the delay set on it."""


def send(record: SQSRecord) -> None:
    """Deliver one event once; on a failure, schedule the next attempt and report it."""
    body = json.loads(record.body)
    attempt = int(record.attributes.approximate_receive_count)
    result = logic.deliver_one(str(body["partnerId"]), str(body["eventId"]), attempt, datetime.now(UTC))
    metrics.add_metric(name=f"Webhook{result.outcome.capitalize()}", unit="Count", value=1)
    if result.outcome != "retry":
        return
    if result.delay is None:
        # The last attempt: visible again at once, so the queue's redrive policy moves it to the
        # dead-letter queue on its next receive (every attempt is in the delivery log already).
        logger.warning("A webhook event failed its last attempt: to the dead-letter queue", extra=body)
        metrics.add_metric(name="WebhookEventsDead", unit="Count", value=1)
    store.show_again_in(record.receipt_handle, result.delay or 0)
    raise RetryLater(f"attempt {attempt} of {body['eventId']} failed")


# The clients every invocation needs, made during Lambda's initialisation.
lifecycle.init()


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A batch of queue messages; answers the ones to bring back (ReportBatchItemFailures)."""
    response = process_partial_response(
        event=event, record_handler=send, processor=processor, context=context
    )
    return dict(response)
