"""Each person's change log, from the table's stream (delta sync, `GET /v1/me/changes`).

The event source mapping passes only the kinds of item the app keeps offline; for each record,
`shared.logic.sync` works out whose log it changes and what they now see, and writes it. When a
person's log cannot be written, the earliest of their records is reported
(ReportBatchItemFailures): the stream delivers it and what follows again, and what was logged
already is recognised as a replay and skipped.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import lifecycle
from shared.logic.sync import log_records
from shared.observability import logger, metrics

# The clients every invocation needs, made during Lambda's initialisation.
lifecycle.init()


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A batch of stream records; answers where to resume when a log could not be written."""
    deadline = time.time() + context.get_remaining_time_in_millis() / 1000
    failed_at = log_records(event.get("Records", []), datetime.now(UTC), deadline)
    return {"batchItemFailures": [{"itemIdentifier": failed_at}] if failed_at else []}
