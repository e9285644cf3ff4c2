"""Every minute (EventBridge schedule): fire the reminders that are due (`shared.logic.dispatcher`).

"Now" is the scheduled event's `time`, as EventBridge sends it, so a run can be replayed for any
moment (the local stack's `POST /_local/schedules/DispatcherFunction/run` does).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import lifecycle
from shared.logic.dispatcher import dispatch
from shared.observability import logger, metrics

# The clients every invocation needs, made during Lambda's initialisation.
lifecycle.init()


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One run for the event's time; answers what it did."""
    text = str(event.get("time") or datetime.now(UTC).isoformat())
    now = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    run = dispatch(now)
    metrics.add_metric(name="RemindersFired", unit="Count", value=run.fired)
    # Every run, 0 included: the lag alarm treats a minute without it as the dispatcher down.
    metrics.add_metric(name="ReminderLagSeconds", unit="Seconds", value=run.lag_seconds)
    if run.held:
        metrics.add_metric(name="RemindersHeld", unit="Count", value=run.held)
    if run.failed:
        metrics.add_metric(name="RemindersFailed", unit="Count", value=run.failed)
    return {
        "fired": run.fired,
        "held": run.held,
        "skipped": run.skipped,
        "failed": run.failed,
        "lagSeconds": run.lag_seconds,
    }
