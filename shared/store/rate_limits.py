"""Request counters for per-subject rate limits (`shared.api.ratelimit` decides what they mean).

One item per subject, limit and window, in the subject's own partition, so that whatever removes
the subject removes its counters:

- `USER#<sub>` / `RATE#<limit>#<windowStart>`: a person's (account erasure deletes the
  partition);
- `USER#<sub>` / `RATE#feed#<feedId>#<windowStart>`: one of their calendar feeds' (the same);
- `PROMISE#<id>` / `RATE#link#<windowStart>`: the promise's counterpart link's (deleted with
  the promise's partition).

Attributes: `count` and `expiresAt` (TTL, just after the window; the key names the window, so an
expired item that TTL has not yet removed is never read again). No `entity`: the export, the
change log and the stream's other consumers ignore them.

Counting is one UpdateItem, `ADD count 1` conditioned on `count < limit`: a request over the
limit writes nothing, so the count never runs past the limit.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from shared.store.table import dynamodb, error_code, key, table_name, throttling_as_unavailable

RATE_PREFIX = "RATE#"


def counter_sk(limit_name: str, window_start: int, qualifier: str | None = None) -> str:
    """The sort key of one window's counter (`qualifier`: which of several subjects in one
    partition, e.g. a person's feed)."""
    middle = f"{limit_name}#{qualifier}" if qualifier else limit_name
    return f"{RATE_PREFIX}{middle}#{window_start}"


def count_request(pk: str, sk: str, *, limit: int, expires_at: int) -> bool:
    """Count one request in the window's counter unless it reached `limit` already.

    True when counted, False when the limit was reached (nothing written). Throttling that
    survives the client's retries raises ServiceUnavailable, as every store does.
    """
    try:
        with throttling_as_unavailable():
            dynamodb().update_item(
                TableName=table_name(),
                Key=key(pk, sk),
                UpdateExpression="ADD #count :one SET expiresAt = :expires",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(int(limit))},
                    ":expires": {"N": str(int(expires_at))},
                },
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True
