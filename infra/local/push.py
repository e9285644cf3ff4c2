"""Push messages "sent" while the local stack runs, for `GET /_local/push` to list.

The functions run in the gateway's process, so whatever stands in for the push service
appends here and the gateway reads the same list.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

SENT: list[dict[str, Any]] = []
_LOCK = threading.Lock()


def record(endpoint: str, message: Any, sent_at: datetime | None = None) -> dict[str, Any]:
    """Remember one push message (oldest first) and answer the entry as listed."""
    when = (sent_at or datetime.now(UTC)).astimezone(UTC)
    entry = {"endpoint": endpoint, "message": message, "sentAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    with _LOCK:
        SENT.append(entry)
    return entry


def items() -> list[dict[str, Any]]:
    """A snapshot of the messages sent so far, oldest first."""
    with _LOCK:
        return list(SENT)


def clear() -> None:
    """Forget every message (tests use it to start from nothing)."""
    with _LOCK:
        SENT.clear()
