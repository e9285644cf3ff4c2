"""Delta sync, the rules: what a change is, how long tombstones are kept, when a cursor is too old.

Every person has a change log: a per-person sequence (1, 2, 3...) assigned by the server when a
change is written to the log, never by a device's clock. The log is compacted: each thing the
app keeps offline has one entry, its latest, so the log read from the start is a full snapshot
and a pull after k changes reads at most k entries whatever the size of the history. A deletion
leaves a tombstone entry, kept `TOMBSTONE_DAYS`.

A cursor carries the last sequence the app has and the moment it was last caught up (the end of
the log reached). Every entry it has not seen was written after that moment, so while the cursor
is younger than `CURSOR_MAX_AGE` every tombstone it needs is still there; an older one must
resync in full (410).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

# Tombstones are kept at least 30 days: the log keeps them 31 (TTL deletes a day or two late,
# never early), and a cursor is refused after 30.
TOMBSTONE_DAYS = 31
CURSOR_MAX_AGE = timedelta(days=30)

Op = Literal["upsert", "delete"]

# entity (as stored) -> the change's `type` (as the API names it). What the app keeps offline;
# devices, blocks, grants and the journey are read online (docs/architecture.md).
SYNCED_TYPES: dict[str, str] = {
    "profile": "profile",
    "reflection": "reflection",
    "care": "care",
    "care-revision": "careRevision",
    "promise": "promise",
    "promise-move": "move",
    "plan": "plan",
    "plan-item": "planItem",
    "plan-obstacle": "obstacle",
    "plan-suggestion": "suggestion",
    "plan-reminder": "reminder",
    "notification": "notification",
}
# What a calendar feed shows depends on these (promise due dates, reminders, the profile's zone).
CALENDAR_TYPES = frozenset({"promise", "reminder", "profile"})


@dataclass(frozen=True)
class Change:
    """One thing changed, as one person's log will hold it.

    `ref` names the stored item within the person's view (unique per thing), `src` the stream
    record's sequence number (a replay of an older record must not overwrite a newer change).
    """

    user_id: str
    ref: str
    type: str
    id: str
    op: Op
    version: int
    at: str
    data: dict[str, Any] | None
    src: int

    @property
    def calendar(self) -> bool:
        return self.type in CALENDAR_TYPES


@dataclass(frozen=True)
class SyncCursor:
    """Where an app is in its log: the last sequence it has, and when it was last caught up."""

    seq: int
    caught_up_at: int  # epoch seconds

    def expired(self, now: datetime) -> bool:
        """Whether tombstones it still needs may be gone (the app must resync in full)."""
        return now.timestamp() - self.caught_up_at > CURSOR_MAX_AGE.total_seconds()


def latest_per_ref(changes: list[Change]) -> list[Change]:
    """Keep one change per thing, its latest (highest stream sequence), in stream order."""
    latest: dict[str, Change] = {}
    for change in changes:
        kept = latest.get(change.ref)
        if kept is None or change.src >= kept.src:
            latest.pop(change.ref, None)
            latest[change.ref] = change
    return list(latest.values())
