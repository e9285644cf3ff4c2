"""Cares: their ranking, what a change did (for the history), links' counters and neglect.

Pure rules, no storage. Active cares are ranked 1..n without gaps; archived cares have no rank
and keep their place in history and in links.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

MAX_ACTIVE_CARES = 25
MAX_CARES_PER_LINK = 5
NEGLECT_AFTER = timedelta(days=30)

# What a care's revision can record; `rank` changes of other cares are "reranked".
EDITABLE_FIELDS = ("statement", "domain", "valueForOthers", "meaningForMe")
TRACKED_FIELDS = (*EDITABLE_FIELDS, "rank", "status", "sourceReflectionId")

LinkKind = Literal["promise", "plan_item"]
# The status of a linked thing as far as the care map counts it. A promise is `open` until it
# reaches a final state (`fulfilled`, or `closed` for revoked, declined, withdrawn, cancelled);
# a plan item is `open` (todo, doing), `done`, or `closed` (skipped, removed).
LinkStatus = Literal["open", "fulfilled", "done", "closed"]

_COUNTERS: dict[tuple[str, str], str] = {
    ("promise", "open"): "promisesOpen",
    ("promise", "fulfilled"): "promisesFulfilled",
    ("plan_item", "open"): "planItemsOpen",
    ("plan_item", "done"): "planItemsDone",
}
COUNTER_FIELDS = tuple(_COUNTERS.values())


def place(order: Sequence[str], care_id: str, rank: int | None) -> list[str]:
    """The active order with `care_id` at `rank` (1-based; None or past the end: last).

    `care_id` may be new (inserted) or already ranked (moved); the others keep their relative
    order, so ranks stay 1..n without gaps.
    """
    rest = [c for c in order if c != care_id]
    position = len(rest) if rank is None else min(max(rank, 1), len(rest) + 1) - 1
    return [*rest[:position], care_id, *rest[position:]]


def remove(order: Sequence[str], care_id: str) -> list[str]:
    """The active order without `care_id` (archiving): the cares below move up by one."""
    return [c for c in order if c != care_id]


def rank_moves(before: Sequence[str], after: Sequence[str]) -> dict[str, tuple[int | None, int | None]]:
    """Every care whose rank differs between two orders: care id -> (old rank, new rank)."""
    old = {c: i + 1 for i, c in enumerate(before)}
    new = {c: i + 1 for i, c in enumerate(after)}
    return {c: (old.get(c), new.get(c)) for c in {*old, *new} if old.get(c) != new.get(c)}


@dataclass(frozen=True)
class Change:
    """One field of a care that a revision changed."""

    field: str
    before: Any
    after: Any


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: Iterable[str] = TRACKED_FIELDS
) -> list[Change]:
    """What differs between two versions of a care, in the order of `fields` (absent = None)."""
    return [Change(f, before.get(f), after.get(f)) for f in fields if before.get(f) != after.get(f)]


def revision_action(found: Sequence[Change], *, created: bool = False) -> str:
    """How the history names a revision: created, archived, restored, reranked or edited."""
    if created:
        return "created"
    status = next((c for c in found if c.field == "status"), None)
    if status is not None:
        return "archived" if status.after == "archived" else "restored"
    if found and all(c.field == "rank" for c in found):
        return "reranked"
    return "edited"


def counter_deltas(kind: LinkKind, before: LinkStatus | None, after: LinkStatus | None) -> dict[str, int]:
    """How a linked thing moving from `before` to `after` changes a care's counters.

    None means not linked (before a link is made, after it is removed). Only the non-zero
    deltas are returned.
    """
    deltas: dict[str, int] = {}
    for status, sign in ((before, -1), (after, +1)):
        counter = _COUNTERS.get((kind, status)) if status else None
        if counter:
            deltas[counter] = deltas.get(counter, 0) + sign
    return {k: v for k, v in deltas.items() if v}


def plan_item_link_status(status: str) -> LinkStatus:
    """How the care map counts a plan item's status: todo and doing are open, skipped is closed."""
    return "done" if status == "done" else "closed" if status == "skipped" else "open"


def plan_item_counts(statuses: Iterable[str], sign: int = 1) -> dict[str, int]:
    """What plan items in these statuses add to (sign 1) or take from (-1) each care their plan
    serves: a plan counts for its cares through all its items (non-zero counters only)."""
    total: dict[str, int] = {}
    for status in statuses:
        for counter, delta in counter_deltas("plan_item", None, plan_item_link_status(status)).items():
            total[counter] = total.get(counter, 0) + sign * delta
    return {k: v for k, v in total.items() if v}


def is_neglected(*, status: str, last_activity: datetime | None, created: datetime, now: datetime) -> bool:
    """An active care is neglected when nothing linked to it moved for 30 days.

    A care that never had activity counts from its creation, so a new care is not neglected
    on its first day; archived cares are never neglected.
    """
    if status != "active":
        return False
    return now - (last_activity or created) > NEGLECT_AFTER
