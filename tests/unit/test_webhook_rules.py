"""shared.domain.webhooks: Standard Webhooks signatures, the retry schedule, when to give up."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from shared.domain.webhooks import (
    FAILING_DISABLE_AFTER,
    MAX_DELAY,
    MAX_PAYLOAD_BYTES,
    RETRY_SCHEDULE,
    is_secret,
    new_secret,
    next_delay,
    outcome,
    parse_retry_after,
    should_disable,
    sign,
    signed_headers,
    signing_secrets,
    webhook_timestamp,
)

NOW = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
PAYLOAD = json.dumps({"type": "promise.kept", "clientId": "cl_1", "promiseId": "pr_1"}).encode()


def middle() -> float:
    return 0.5


# --- secrets


def test_new_secret_is_whsec_and_base64_of_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert is_secret(secret)
    assert new_secret() != secret


def test_new_secret_is_what_the_library_reads() -> None:
    secret = new_secret()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg = "msg_1"
    # The same key given as bytes signs the same: the library decoded the string as we encoded it.
    assert Webhook(secret).sign(msg, NOW, "{}") == Webhook(key).sign(msg, NOW, "{}")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "whsec_",
        base64.b64encode(bytes(32)).decode(),  # no prefix
        "whsk_" + base64.b64encode(bytes(32)).decode(),
        "whsec_" + base64.b64encode(bytes(23)).decode(),  # too short
        "whsec_" + base64.b64encode(bytes(65)).decode(),  # too long
        "whsec_" + base64.urlsafe_b64encode(b"\xfb" * 32).decode(),  # not the standard alphabet
        "whsec_" + base64.b64encode(bytes(32)).decode() + " ",
    ],
)
def test_is_secret_refuses_malformed_secrets(value: str) -> None:
    assert not is_secret(value)


# --- signatures


def verify(secret: str, payload: bytes, headers: dict[str, str]) -> object:
    """What a receiver does: the library checks the signature and the timestamp (±5 min of now)."""
    return Webhook(secret).verify(payload, headers)


def test_signed_headers_are_verified_by_the_library() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    headers = signed_headers([secret], "msg_2a", now, PAYLOAD)
    assert headers["webhook-id"] == "msg_2a"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["content-type"] == "application/json"
    assert headers["webhook-signature"].startswith("v1,")
    assert " " not in headers["webhook-signature"]
    assert verify(secret, PAYLOAD, headers) == json.loads(PAYLOAD)


def test_during_rotation_both_secrets_sign_and_each_verifies() -> None:
    old, new = new_secret(), new_secret()
    now = datetime.now(UTC)
    headers = signed_headers([new, old], "msg_rot", now, PAYLOAD)
    entries = headers["webhook-signature"].split(" ")
    assert len(entries) == 2
    assert all(entry.startswith("v1,") for entry in entries)
    assert verify(new, PAYLOAD, headers) == json.loads(PAYLOAD)
    assert verify(old, PAYLOAD, headers) == json.loads(PAYLOAD)


def test_a_wrong_secret_or_a_changed_body_or_id_is_refused() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    headers = signed_headers([secret], "msg_3", now, PAYLOAD)
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), PAYLOAD, headers)
    with pytest.raises(WebhookVerificationError):
        verify(secret, PAYLOAD.replace(b"pr_1", b"pr_2"), headers)
    with pytest.raises(WebhookVerificationError):
        verify(secret, PAYLOAD, {**headers, "webhook-id": "msg_4"})


def test_sign_matches_the_spec_by_hand() -> None:
    """HMAC-SHA256 over `{id}.{timestamp}.{body}`, base64: the spec's scheme, independently of the library."""
    import hashlib
    import hmac

    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    moment = datetime(2026, 11, 27, 9, 0, 0, 750_000, tzinfo=UTC)
    digest = hmac.new(b"k" * 24, b"msg_x.1795770000." + PAYLOAD, hashlib.sha256).digest()
    assert webhook_timestamp(moment) == "1795770000"
    assert sign([secret], "msg_x", moment, PAYLOAD) == "v1," + base64.b64encode(digest).decode()


def test_sign_uses_the_instant_not_the_wall_clock_of_other_offsets() -> None:
    secret = new_secret()
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 11, 27, 10, 0, 0, tzinfo=paris)
    assert sign([secret], "m", moment, PAYLOAD) == sign([secret], "m", NOW, PAYLOAD)
    assert webhook_timestamp(moment) == webhook_timestamp(NOW) == str(int(NOW.timestamp()))


def test_sign_refuses_what_it_cannot_sign_safely() -> None:
    secret = new_secret()
    with pytest.raises(ValueError, match="no secret"):
        sign([], "m", NOW, PAYLOAD)
    with pytest.raises(ValueError, match="naive"):
        sign([secret], "m", NOW.replace(tzinfo=None), PAYLOAD)
    with pytest.raises(ValueError, match="whsec_"):
        sign([secret, "whsec_not base64!"], "m", NOW, PAYLOAD)
    for bad_id in ("", "has space", "line\nbreak", "x" * 257):
        with pytest.raises(ValueError, match="webhook id"):
            sign([secret], bad_id, NOW, PAYLOAD)
    with pytest.raises(UnicodeDecodeError):
        sign([secret], "m", NOW, b"\xff")


def test_a_secret_given_twice_signs_once() -> None:
    secret = new_secret()
    assert sign([secret, secret], "m", NOW, PAYLOAD) == sign([secret], "m", NOW, PAYLOAD)


def test_signing_secrets_keep_the_old_one_for_24_hours() -> None:
    rotated = NOW
    assert signing_secrets("new", None, None, NOW) == ["new"]
    assert signing_secrets("new", "old", rotated, rotated) == ["new", "old"]
    assert signing_secrets("new", "old", rotated, rotated + timedelta(hours=23, minutes=59)) == ["new", "old"]
    assert signing_secrets("new", "old", rotated, rotated + timedelta(hours=24)) == ["new"]
    assert signing_secrets("same", "same", rotated, rotated) == ["same"]


# --- outcomes


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (299, "delivered"),
        (410, "gone"),
        (None, "retry"),
        (302, "retry"),
        (400, "retry"),
        (404, "retry"),
        (429, "retry"),
        (500, "retry"),
        (504, "retry"),
        (199, "retry"),
    ],
)
def test_outcome(status: int | None, expected: str) -> None:
    assert outcome(status) == expected


# --- retry schedule


def test_the_schedule_is_standard_webhooks_and_svix() -> None:
    assert RETRY_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


def test_next_delay_follows_the_schedule_at_zero_jitter() -> None:
    delays = [next_delay(attempt, 500, None, rand=middle) for attempt in range(1, 8)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000]


def test_the_schedule_is_exhausted_after_the_eighth_attempt() -> None:
    assert next_delay(8, 500, None, rand=middle) is None
    assert next_delay(9, None, None, rand=middle) is None


def test_jitter_is_ten_percent_either_way() -> None:
    assert next_delay(2, 500, None, rand=lambda: 0.0) == pytest.approx(270)
    assert next_delay(2, 500, None, rand=lambda: 0.999_999) == pytest.approx(330, rel=1e-5)
    assert next_delay(2, 500, None, rand=lambda: 0.25) == pytest.approx(285)
    # A misbehaving source of randomness cannot push it further, or below zero.
    assert next_delay(2, 500, None, rand=lambda: 7.0) == pytest.approx(330)
    assert next_delay(2, 500, None, rand=lambda: -3.0) == pytest.approx(270)


def test_jitter_with_the_real_random_stays_in_bounds() -> None:
    for _ in range(200):
        delay = next_delay(1, None, None)
        assert delay is not None
        assert 4.5 <= delay <= 5.5


def test_a_shorter_schedule_for_tests() -> None:
    schedule = (0, 0.1, 0.2)
    assert next_delay(1, None, None, schedule, rand=middle) == pytest.approx(0.1)
    assert next_delay(2, None, None, schedule, rand=middle) == pytest.approx(0.2)
    assert next_delay(3, None, None, schedule, rand=middle) is None
    zero = next_delay(1, None, None, (0, 0), rand=lambda: 0.0)
    assert zero == 0


def test_success_and_gone_stop_retrying() -> None:
    assert next_delay(1, 200, None, rand=middle) is None
    assert next_delay(1, 410, "60", rand=middle) is None


def test_other_client_errors_and_redirects_are_retried() -> None:
    for status in (301, 302, 400, 401, 403, 404, 408, 409, 413, 422, 500, 501, 503):
        assert next_delay(1, status, None, rand=middle) == 5


def test_attempts_are_numbered_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        next_delay(0, 500, None)


# --- Retry-After


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retry_after_seconds_postpones_throttling_answers(status: int) -> None:
    assert next_delay(1, status, "120", rand=middle) == 120


def test_retry_after_is_ignored_for_other_statuses_and_for_no_answer() -> None:
    for status in (None, 400, 500, 501):
        assert next_delay(1, status, "120", rand=middle) == 5


def test_retry_after_earlier_than_the_schedule_does_not_hurry_it() -> None:
    assert next_delay(3, 429, "10", rand=middle) == 1800
    assert next_delay(1, 429, "0", rand=middle) == 5


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(NOW + timedelta(hours=1), usegmt=True)
    assert later == "Fri, 27 Nov 2026 10:00:00 GMT"
    assert next_delay(1, 503, later, rand=middle, now=NOW) == 3600
    past = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert next_delay(1, 503, past, rand=middle, now=NOW) == 5


def test_retry_after_is_capped_at_twelve_hours() -> None:
    assert MAX_DELAY == 12 * 3600
    assert next_delay(1, 429, "86400", rand=middle) == MAX_DELAY
    far = format_datetime(NOW + timedelta(days=30), usegmt=True)
    assert next_delay(1, 429, far, rand=middle, now=NOW) == MAX_DELAY
    assert next_delay(1, 429, "9" * 12, rand=middle) == MAX_DELAY


def test_the_cap_holds_for_the_schedule_with_jitter_too() -> None:
    delay = next_delay(7, 500, None, rand=lambda: 0.999_999)
    assert delay is not None
    assert delay <= MAX_DELAY


@pytest.mark.parametrize(
    "value", ["", "soon", "-5", "1.5", "12e3", "9" * 40, "Fri, 99 Nov 2026 10:00:00 GMT"]
)
def test_malformed_retry_after_is_ignored(value: str) -> None:
    assert parse_retry_after(value, NOW) is None
    assert next_delay(1, 429, value, rand=middle, now=NOW) == 5


def test_parse_retry_after() -> None:
    assert parse_retry_after(" 30 ", NOW) == 30
    assert parse_retry_after("Fri, 27 Nov 2026 09:00:30 GMT", NOW) == 30
    assert parse_retry_after("Fri, 27 Nov 2026 09:00:30 -0000", NOW) == 30
    assert parse_retry_after("Fri, 27 Nov 2026 08:00:00 GMT", NOW) == 0


# --- limits


def test_limits() -> None:
    assert MAX_PAYLOAD_BYTES == 20_000
    assert timedelta(days=5) == FAILING_DISABLE_AFTER


def test_an_endpoint_failing_for_five_days_is_disabled() -> None:
    assert not should_disable(None, NOW)
    assert not should_disable(NOW - timedelta(days=4, hours=23), NOW)
    assert should_disable(NOW - timedelta(days=5), NOW)
    assert should_disable(NOW - timedelta(days=9), NOW)
