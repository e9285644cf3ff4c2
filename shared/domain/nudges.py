"""Promise nudges: the performer of a promise still open is reminded of it twice.

Once 24 hours before its due time ("due soon"), and once when it is overdue (at its due time).
A promise is open for this while it is `promised`: before that nobody has committed, after a
report the performer has done their part. A promise made less than 24 hours before it is due
gets no "due soon" (it would come at once, and say what the person just said); after an outage
the dispatcher sends the latest stage only, as it does for reminders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Stage = Literal["due_soon", "overdue"]
BEFORE_DUE = timedelta(hours=24)
TITLES: dict[Stage, str] = {
    "due_soon": "Due within a day",
    "overdue": "Past its due time",
}


@dataclass(frozen=True)
class Nudge:
    """The next nudge of a promise: which, and when it fires."""

    stage: Stage
    at: datetime


def first_nudge(due_at: datetime, now: datetime) -> Nudge:
    """The first nudge of a promise that becomes `promised` now, due at `due_at`."""
    soon = due_at - BEFORE_DUE
    return Nudge("due_soon", soon) if now < soon else Nudge("overdue", due_at)


def stage_at(due_at: datetime, now: datetime) -> Stage:
    """The nudge to send when the dispatcher finds one due at `now`: the latest stage reached."""
    return "overdue" if now >= due_at else "due_soon"


def after(stage: Stage, due_at: datetime) -> Nudge | None:
    """The nudge that follows one just sent, or None after the last."""
    return Nudge("overdue", due_at) if stage == "due_soon" else None
