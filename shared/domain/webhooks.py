"""Partner webhooks: signatures, retries and when to give up (issue 11). Pure rules, no AWS.

Webhooks follow Standard Webhooks (https://www.standardwebhooks.com, the spec's
"Signature scheme", "Retry schedule" and "Status codes" sections):

- Each delivery carries `webhook-id` (stable per event, so receivers can drop duplicates),
  `webhook-timestamp` (Unix seconds) and `webhook-signature`: space-separated `v1,<base64>`
  entries, HMAC-SHA256 of `{id}.{timestamp}.{body}`, computed by the `standardwebhooks`
  library. During a secret rotation the body is signed with the new and the old secret (for
  `ROTATION_OVERLAP`), and a receiver accepts whichever it knows.
- Secrets are `whsec_` + base64 of `SECRET_BYTES` random bytes (the spec asks for 24 to 64).
- A delivery is retried on the Svix schedule (`RETRY_SCHEDULE`) with ±`JITTER` jitter.
  Only a 2xx response is a success. `410 Gone` stops the retries and disables the endpoint.
  Every other answer (3xx, which is never followed, 4xx, 5xx) or no answer is a failed attempt
  that is retried: the spec treats "the rest of the status codes" as failures, Svix retries
  every non-2xx, and a receiver's 401/404 is usually a configuration it fixes within the
  retry window. An endpoint that keeps failing is disabled after `FAILING_DISABLE_AFTER`.
- `429`, `502`, `503` and `504` ask the sender to slow down: their `Retry-After` (seconds or
  an HTTP-date) postpones the next attempt when it is later than the schedule's, up to
  `MAX_DELAY` (12 h, the longest an SQS message can stay invisible).
"""

from __future__ import annotations

import base64
import binascii
import math
import random
import re
import secrets as _secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Final, Literal

from standardwebhooks import Webhook

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES: Final = 32
SECRET_MIN_BYTES: Final = 24
SECRET_MAX_BYTES: Final = 64
ROTATION_OVERLAP: Final = timedelta(hours=24)

# Seconds to wait before attempt n+1 (index n); index 0 is the first attempt, sent at once.
# Eight attempts over about 27.6 hours.
RETRY_SCHEDULE: Final[tuple[float, ...]] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER: Final = 0.10
MAX_DELAY: Final = 12 * 60 * 60.0
RETRY_AFTER_STATUSES: Final = frozenset({429, 502, 503, 504})

MAX_PAYLOAD_BYTES: Final = 20_000
FAILING_DISABLE_AFTER: Final = timedelta(days=5)

Outcome = Literal["delivered", "retry", "gone"]

_MSG_ID = re.compile(r"[\x21-\x7e]{1,256}")
_DELAY_SECONDS = re.compile(r"[0-9]{1,12}")


def new_secret() -> str:
    """A fresh signing secret, `whsec_` + standard base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def is_secret(value: str) -> bool:
    """Whether `value` is a well-formed signing secret (`whsec_`, strict base64, 24 to 64 bytes).

    The library decodes leniently (it drops characters outside the base64 alphabet), so a
    mangled secret would silently become another key: check before signing with one.
    """
    if not value.startswith(SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return False
    return SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES


def signing_secrets(
    current: str, previous: str | None, rotated_at: datetime | None, now: datetime
) -> list[str]:
    """The secrets to sign with: the current one, and the previous one for 24 h after a rotation."""
    if previous is None or rotated_at is None or previous == current:
        return [current]
    if now < rotated_at + ROTATION_OVERLAP:
        return [current, previous]
    return [current]


def sign(secrets: Sequence[str], msg_id: str, timestamp: datetime, payload: bytes) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, separated by spaces.

    `timestamp` must be aware; it is signed to the second (floored), as `webhook_timestamp`
    writes it. `payload` must be UTF-8 (JSON), which is how receivers' libraries read it.
    """
    if not secrets:
        raise ValueError("no secret to sign with")
    if not _MSG_ID.fullmatch(msg_id):
        raise ValueError("a webhook id is 1 to 256 visible ASCII characters")
    moment = _aware_utc(timestamp)
    text = payload.decode("utf-8")
    signatures = []
    for secret in dict.fromkeys(secrets):
        if not is_secret(secret):
            raise ValueError("not a whsec_ signing secret")
        # The library does `timestamp.replace(tzinfo=UTC)`, which is only right for UTC times.
        signatures.append(Webhook(secret).sign(msg_id, moment, text))
    return " ".join(signatures)


def webhook_timestamp(timestamp: datetime) -> str:
    """The `webhook-timestamp` header: Unix seconds, floored, as the signature covers them."""
    return str(math.floor(_aware_utc(timestamp).timestamp()))


def signed_headers(
    secrets: Sequence[str], msg_id: str, timestamp: datetime, payload: bytes
) -> dict[str, str]:
    """The Standard Webhooks headers of one delivery, and its JSON content type."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": webhook_timestamp(timestamp),
        "webhook-signature": sign(secrets, msg_id, timestamp, payload),
    }


def outcome(status: int | None) -> Outcome:
    """What an attempt's answer means: 2xx delivered, 410 gone (disable the endpoint), else retry."""
    if status is not None and 200 <= status <= 299:
        return "delivered"
    if status == 410:
        return "gone"
    return "retry"


def next_delay(
    attempt: int,
    status: int | None,
    retry_after: str | None,
    schedule: Sequence[float] = RETRY_SCHEDULE,
    rand: Callable[[], float] = random.random,
    *,
    now: datetime | None = None,
) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, after attempt `attempt` (1-based) failed.

    `status` is the answer (None: no answer, a timeout or a network error). None means stop:
    the attempt did not fail (2xx), the endpoint is gone (410), or the schedule is exhausted.
    The schedule's delay gets ±10 % jitter (`rand()` in [0, 1) picks where). For 429, 502,
    503 and 504, a `Retry-After` later than that wins; the result never exceeds `MAX_DELAY`.
    `now` (default: the clock) reads a `Retry-After` given as an HTTP-date.
    """
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if outcome(status) != "retry" or attempt >= len(schedule):
        return None
    spread = min(max(rand(), 0.0), 1.0) * 2 - 1
    delay = max(schedule[attempt], 0.0) * (1 + JITTER * spread)
    if status in RETRY_AFTER_STATUSES and retry_after is not None:
        asked = parse_retry_after(retry_after, now or datetime.now(UTC))
        if asked is not None and asked > delay:
            delay = asked
    return min(max(delay, 0.0), MAX_DELAY)


def parse_retry_after(value: str, now: datetime) -> float | None:
    """A `Retry-After` as seconds from `now` (RFC 9110 10.2.3: delay-seconds or an HTTP-date).

    None when it is neither; a date in the past is 0.
    """
    text = value.strip()
    if _DELAY_SECONDS.fullmatch(text):
        return float(int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # `-0000`: UTC, says RFC 5322
        moment = moment.replace(tzinfo=UTC)
    return max((moment - _aware_utc(now)).total_seconds(), 0.0)


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    """Whether an endpoint that has failed every attempt since `failing_since` is disabled."""
    return failing_since is not None and now - failing_since >= FAILING_DISABLE_AFTER


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime is ambiguous: give it a time zone")
    return moment.astimezone(UTC)
