"""Secrets the functions read from AWS Secrets Manager (Powertools parameters, cached), never from
plain environment variables: the environment holds only the secret's name or ARN.

- The client id key (`client_id_key`): read once per execution environment, never rotated.
- The cursor keys (`cursor_keys`): the HMAC keys of list and sync cursors, in a rotated secret
  (`functions/key_rotation`). Its value is JSON: `{"current": key}`, and after a rotation
  `{"current": new, "previous": old, "rotatedAt": "<RFC 3339 UTC>"}`. Cursors are always signed
  with `current`; `previous` still verifies for `PREVIOUS_KEY_GRACE` after `rotatedAt`, so a
  cursor handed out just before a rotation still works. `cursor_mac` and `cursor_mac_valid` are
  the one place cursors are signed and checked (`shared.api.pagination`, `shared.logic.sync`).

Powertools' parameters module is imported on first use, not at import: most requests of most
functions read no secret, and a cold start need not pay for it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.config import ConfigurationError
from shared.domain.errors import ServiceUnavailable
from shared.domain.timeutil import parse_rfc3339, to_rfc3339

CLIENT_ID_KEY_ENV = "CLIENT_ID_KEY_SECRET"
# Read once per execution environment: a changed key changes every partner's clientIds, so it
# is not rotated under a running function (a new deployment picks up a new one).
KEY_CACHE_SECONDS = 24 * 3600

CURSOR_KEY_ENV = "CURSOR_KEY_SECRET"
# How long an execution environment keeps the cursor keys before reading them again: after a
# rotation, other environments may sign with the old key for this long (it still verifies).
CURSOR_KEY_CACHE_SECONDS = 300
# How long the previous key still verifies after a rotation.
PREVIOUS_KEY_GRACE = timedelta(days=1)
# A cursor no cached key verifies makes the keys be read again (another environment may sign with
# a newer key already), but at most this often per process: forged cursors must not turn into a
# stream of Secrets Manager calls.
CURSOR_KEY_REFRESH_SECONDS = 60.0
MIN_CURSOR_KEY_CHARS = 32
# Cursor MACs: HMAC-SHA256, truncated.
CURSOR_MAC_BYTES = 16

# The fields of the cursor key secret's JSON value.
CURRENT = "current"
PREVIOUS = "previous"
ROTATED_AT = "rotatedAt"

_last_forced_read: float | None = None


def client_id_key() -> bytes:
    """The HMAC key of partner-specific client ids (`shared.domain.partners.client_id`)."""
    name = os.environ.get(CLIENT_ID_KEY_ENV)
    if not name:
        raise ConfigurationError(f"missing environment variable: {CLIENT_ID_KEY_ENV}")
    value = _read_secret(name, "the client id key secret", max_age=KEY_CACHE_SECONDS)
    if not isinstance(value, str) or len(value) < 32:
        raise ConfigurationError("the client id key secret is not a string of at least 32 characters")
    return value.encode()


@dataclass(frozen=True)
class CursorKeys:
    """The cursor signing keys: `current` signs; `previous` verifies until `previous_valid_until`."""

    current: bytes
    previous: bytes | None = None
    previous_valid_until: datetime | None = None

    @classmethod
    def from_secret(cls, value: Any) -> CursorKeys:
        """The keys a secret value (its JSON, parsed) holds; a malformed one is a ConfigurationError.

        Messages name the fields, never their values.
        """
        if not isinstance(value, Mapping):
            raise ConfigurationError("the cursor key secret is not a JSON object")
        current = value.get(CURRENT)
        if not isinstance(current, str) or len(current) < MIN_CURSOR_KEY_CHARS:
            raise ConfigurationError(_not_a_key(CURRENT))
        previous = value.get(PREVIOUS)
        if previous is None:
            return cls(current.encode())
        if not isinstance(previous, str) or len(previous) < MIN_CURSOR_KEY_CHARS:
            raise ConfigurationError(_not_a_key(PREVIOUS))
        rotated_at = value.get(ROTATED_AT)
        try:
            moment = parse_rfc3339(rotated_at) if isinstance(rotated_at, str) else None
        except ValueError:
            moment = None
        if moment is None:
            raise ConfigurationError(
                f"the cursor key secret has {PREVIOUS!r} without an RFC 3339 {ROTATED_AT!r}"
            )
        return cls(current.encode(), previous.encode(), moment + PREVIOUS_KEY_GRACE)

    def verifying(self, now: datetime) -> tuple[bytes, ...]:
        """The keys a cursor may be signed with at `now`: current, and previous within its grace."""
        if (
            self.previous is not None
            and self.previous_valid_until is not None
            and now < self.previous_valid_until
        ):
            return (self.current, self.previous)
        return (self.current,)


def _not_a_key(field: str) -> str:
    return f"the cursor key secret's {field!r} is not a string of at least {MIN_CURSOR_KEY_CHARS} characters"


def rotated_cursor_keys(value: Any, new_key: str, now: datetime) -> dict[str, str]:
    """The secret value after a rotation at `now`: `new_key` current, the old current previous."""
    old = CursorKeys.from_secret(value)
    return {CURRENT: new_key, PREVIOUS: old.current.decode(), ROTATED_AT: to_rfc3339(now)}


def cursor_keys(*, force_fetch: bool = False) -> CursorKeys:
    """The cursor keys, from the secret named by `CURSOR_KEY_SECRET` (cached a few minutes)."""
    name = os.environ.get(CURSOR_KEY_ENV)
    if not name:
        raise ConfigurationError(f"missing environment variable: {CURSOR_KEY_ENV}")
    value = _read_secret(
        name,
        "the cursor key secret",
        transform="json",
        max_age=CURSOR_KEY_CACHE_SECONDS,
        force_fetch=force_fetch,
    )
    return CursorKeys.from_secret(value)


# Secrets Manager's answers that say "later", not "never": the request is a 503 with Retry-After
# (as a DynamoDB throttle is), not a 500.
_TRANSIENT_CODES = frozenset({"ThrottlingException", "InternalServiceError", "RequestLimitExceeded"})


def _read_secret(name: str, what: str, **options: Any) -> Any:
    """A secret's value through Powertools parameters (cached); a read that failed for a while
    is ServiceUnavailable, anything else (no access, no such secret, not JSON) a
    ConfigurationError: a deployment fault."""
    from aws_lambda_powertools.utilities import parameters
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return parameters.get_secret(name, **options)
    except parameters.TransformParameterError:
        raise ConfigurationError(f"{what} is not JSON") from None
    except parameters.GetParameterError as error:
        # Powertools raises it inside its own `except`: the SDK's error is the context.
        cause = error.__context__
        transient = isinstance(cause, BotoCoreError) or (
            isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") in _TRANSIENT_CODES
        )
        if transient:
            raise ServiceUnavailable("A service we depend on is busy; try again shortly.") from error
        raise ConfigurationError(f"{what} could not be read") from error


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:CURSOR_MAC_BYTES]


def _clock() -> datetime:
    """Now, in UTC (one place, so tests can move it)."""
    return datetime.now(UTC)


def cursor_mac(payload: bytes) -> bytes:
    """The MAC that signs a cursor's payload (callers prefix their own domain), current key."""
    return _mac(cursor_keys().current, payload)


def cursor_mac_valid(signature: bytes, payload: bytes, *, now: datetime | None = None) -> bool:
    """Whether `signature` is a MAC of `payload` made with a key that verifies now.

    When no cached key verifies, the keys are read again (another execution environment may
    already sign with a key this one has not seen yet), at most once a minute per process.
    """
    if len(signature) != CURSOR_MAC_BYTES:
        return False
    moment = now or _clock()
    if _verifies(cursor_keys(), signature, payload, moment):
        return True
    if not _may_read_again():
        return False
    return _verifies(cursor_keys(force_fetch=True), signature, payload, moment)


def _verifies(keys: CursorKeys, signature: bytes, payload: bytes, now: datetime) -> bool:
    # Every key is tried (no early exit), so the time taken says nothing about which one matched.
    matches = [hmac.compare_digest(signature, _mac(key, payload)) for key in keys.verifying(now)]
    return any(matches)


def _may_read_again() -> bool:
    global _last_forced_read
    moment = time.monotonic()
    if _last_forced_read is not None and moment - _last_forced_read < CURSOR_KEY_REFRESH_SECONDS:
        return False
    _last_forced_read = moment
    return True


def reset_clients() -> None:
    """Forget cached secrets and the provider's client (tests: each case has its own emulator)."""
    global _last_forced_read
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]  # also drops the default providers
    _last_forced_read = None
