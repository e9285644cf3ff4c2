"""Webhook events from the table's stream: who may hear of what happened, and the queue.

The event source mapping passes only the records that can make events (a promise's move, a
learning fact, a grant's partner side made or removed). For each, `shared.logic.webhooks`
finds the partners that may hear of it; here each event is kept (for redelivery, 30 days) and
put on the webhook queue, for the partners whose webhook is enabled and asks for that type. A
record that fails is reported alone (ReportBatchItemFailures); its retry sends the same event
ids, so receivers drop what they had.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import lifecycle
from shared.logic import webhooks as logic
from shared.observability import logger, metrics
from shared.store import webhooks as store
from shared.store.table import deserialize

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def events_of(record: DynamoDBRecord, now: datetime) -> list[logic.Outgoing]:
    """The events one stream record makes, for every partner that may hear of them."""
    raw = record.raw_event
    name = raw.get("eventName")
    new = deserialize(raw["dynamodb"].get("NewImage", {}))
    old = deserialize(raw["dynamodb"].get("OldImage", {}))
    image = new or old
    source = f"{image.get('PK')}|{image.get('SK')}|{name}"
    entity = image.get("entity")
    if entity == "partner-client" and name in ("INSERT", "REMOVE"):
        partner_id = str(image["PK"]).removeprefix("PARTNER#")
        kind = "grant.created" if name == "INSERT" else "grant.revoked"
        at = str(raw["dynamodb"].get("ApproximateCreationDateTime") or "")
        when = datetime.fromtimestamp(float(at), UTC).isoformat() if at else now.isoformat()
        return [logic.grant_event(partner_id, kind, image, source, when.replace("+00:00", "Z"))]
    if name != "INSERT":
        return []
    if entity == "promise-move":
        promise_id = str(image["promiseId"])
        events = []
        for user_id in image.get("participants", []):
            data: dict[str, tuple[str | None, Any]] = {
                "promiseId": ("promise", promise_id),
                "act": (None, image.get("act")),
                "by": (None, image.get("role")),
                "state": (None, image.get("state")),
            }
            person = logic.PersonEvent("promise.moved", str(user_id), source, str(image["at"]), data)
            events += logic.person_events(person, now)
        return events
    if entity == "learning-fact":
        user_id = str(image["PK"]).removeprefix("USER#")
        if image.get("kind") == "promise-assessed":
            data = {"promiseId": ("promise", str(image["promiseId"])), "value": (None, image.get("value"))}
            return logic.person_events(
                logic.PersonEvent("promise.assessed", user_id, source, str(image["at"]), data), now
            )
        if image.get("kind") == "plan-item-completed":
            data = {
                "planId": ("plan", str(image["planId"])),
                "itemId": ("plan-item", str(image["itemId"])),
                "title": (None, image.get("title")),
            }
            return logic.person_events(
                logic.PersonEvent("plan.item_completed", user_id, source, str(image["at"]), data), now
            )
    return []


def fan_out(record: DynamoDBRecord) -> None:
    """Keep and queue each event of one record for the partners whose webhook wants it."""
    now = datetime.now(UTC)
    webhooks: dict[str, dict[str, Any] | None] = {}
    queued = 0
    for event in events_of(record, now):
        if event.partner_id not in webhooks:
            webhooks[event.partner_id] = store.get_webhook(event.partner_id)
        hook = webhooks[event.partner_id]
        if hook is None or hook.get("status") != "enabled" or event.type not in hook.get("events", []):
            continue
        store.put_event(
            event.partner_id, event.event_id, event.type, event.payload, event.client_id, now, event.user_id
        )
        store.queue_event(event.partner_id, event.event_id)
        queued += 1
    if queued:
        metrics.add_metric(name="WebhookEventsQueued", unit="Count", value=queued)


# The clients every invocation needs, made during Lambda's initialisation.
lifecycle.init(sqs=True)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A batch of stream records; answers the ones to retry (ReportBatchItemFailures)."""
    return dict(
        process_partial_response(event=event, record_handler=fan_out, processor=processor, context=context)
    )
