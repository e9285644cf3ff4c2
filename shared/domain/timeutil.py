"""Times as the API shows them: RFC 3339 in UTC with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, in UTC, to the second (what clients see)."""
    return datetime.now(UTC).replace(microsecond=0)


def to_rfc3339(moment: datetime) -> str:
    """`2026-11-27T09:00:00Z` (the year always four digits, which strftime does not promise)."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z"


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 time as stored (`...Z` or with an offset), as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {text!r}")
    return moment.astimezone(UTC)
