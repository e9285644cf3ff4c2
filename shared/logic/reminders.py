"""Reminders of plans and plan items: an RFC 5545 rule in the person's own time.

A `floating` reminder follows the profile's time zone (it moves when the person travels: the
stream-fed follower recomputes it when the zone changes); a `pinned` one keeps its own zone.
Each keeps `nextFireAt` (UTC) and, while it will fire and is not paused, the keys of the due
index, which the dispatcher (next, issue 10) reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain import recurrence
from shared.domain.errors import Conflict, FieldError, InvalidInput, NotFound, PreconditionFailed
from shared.domain.timeutil import to_rfc3339
from shared.logic.plans import settled
from shared.store import keys, profiles
from shared.store import plans as store

UPCOMING = 5  # occurrences shown with a reminder, so the app can show when it will fire
# What a reminder keeps of what it reminds of, for the dispatcher alone (not shown).
_COPIES = ("planId", "itemId", "title", "settled", "lastDoneAt")
_ATTEMPTS = 3


def _zone_for(user_id: str, request: Mapping[str, Any]) -> str:
    if request.get("mode", "floating") == "pinned":
        name = request.get("timeZone")
        if not name:
            raise InvalidInput(
                "A pinned reminder needs its time zone.",
                [FieldError("body", "timeZone", "missing", "required when mode is pinned")],
            )
        return str(name)
    profile = profiles.get_profile(user_id)
    if profile is None:
        raise InvalidInput(
            "A floating reminder follows your profile's time zone: create your profile first.",
            [FieldError("body", "mode", "no_time_zone", "needs a profile with a timeZone, or pinned")],
        )
    return str(profile.data["timeZone"])


def view(reminder: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A reminder as the API shows it, with its next occurrences in its local time."""
    zone = ZoneInfo(str(reminder["timeZone"]))
    upcoming: list[str] = []
    if not reminder.get("paused"):
        rule = recurrence.load_rule(str(reminder["rrule"]))
        upcoming = [recurrence.local_view(i, zone) for i in recurrence.occurrences(rule, zone, now, UPCOMING)]
    shown = {k: v for k, v in reminder.items() if k not in _COPIES}
    return {**shown, "upcoming": upcoming}


def _next_fire(rule: recurrence.Rule, zone: ZoneInfo, now: datetime) -> str | None:
    following = recurrence.next_occurrence(rule, zone, now)
    return to_rfc3339(following) if following else None


def set_reminder(
    user_id: str,
    plan_id: str,
    item_id: str | None,
    request: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    check_version: Callable[[str | None, int | None, Any], None],
) -> tuple[dict[str, Any], int, bool]:
    """Create or replace the reminder of a plan or an item; answers (its view, version, new?).

    The rule is refused with a 422 naming `rrule` when it is malformed, unsupported, fires more
    than 24 times a day or never fires (`shared.domain.recurrence`). The reminder copies what
    it needs of the plan or item (its title, whether it is done), written over the version read
    of it, so a change made meanwhile is never lost (the change carries on the copies itself).
    """
    for _ in range(_ATTEMPTS):
        try:
            return _set_reminder_once(
                user_id, plan_id, item_id, request, now, if_match=if_match, check_version=check_version
            )
        except store.Raced:
            continue
    raise Conflict("The plan is being changed by another request; retry.")


def _set_reminder_once(
    user_id: str,
    plan_id: str,
    item_id: str | None,
    request: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    check_version: Callable[[str | None, int | None, Any], None],
) -> tuple[dict[str, Any], int, bool]:
    sk = keys.plan_reminder_sk(plan_id, item_id)
    found = store.read_plan(user_id, plan_id)
    thing = (found.item(item_id) if item_id else found.plan) if found else None
    if found is None or thing is None:
        raise NotFound("No such plan or item.")
    # The plan's Query read its reminders too.
    current = (found.reminders[sk], found.versions[sk]) if sk in found.reminders else None
    check_version(if_match, current[1] if current else None, found)
    if current is None and found.child_count >= store.MAX_CHILDREN:
        raise Conflict(f"A plan holds at most {store.MAX_CHILDREN} items, obstacles and reminders.")
    zone_name = _zone_for(user_id, request)
    zone = ZoneInfo(zone_name)
    local_now = now.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    rule = recurrence.parse_rule(str(request["rrule"]), start=local_now, zone=zone)
    at = to_rfc3339(now)
    reminder = {
        "rrule": rule.text,
        "mode": request.get("mode", "floating"),
        "timeZone": zone_name,
        "onlyIfNotDone": bool(request.get("onlyIfNotDone", False)),
        "paused": bool(request.get("paused", False)),
        # A paused reminder will not fire: no next time, and out of the due index.
        "nextFireAt": None if request.get("paused") else _next_fire(rule, zone, now),
        "planId": plan_id,
        "itemId": item_id,
        # What the push says, and whether it is done, as the plan or item is now; its changes
        # carry these copies along from then on.
        "title": str(thing["title"]),
        "settled": settled(thing) if item_id else False,
        "lastDoneAt": thing.get("lastDoneAt") if item_id else found.last_done_at,
        "createdAt": current[0]["createdAt"] if current else at,
        "updatedAt": at,
    }
    reminder = {k: v for k, v in reminder.items() if v is not None}
    owner_version = found.versions[keys.plan_item_sk(plan_id, item_id)] if item_id else found.version
    version = store.save_reminder(user_id, sk, reminder, current[1] if current else None, owner_version)
    return view(reminder, now), version, current is None


def remove_reminder(user_id: str, plan_id: str, item_id: str | None) -> None:
    """Delete the reminder of a plan or an item; NotFound when there is none."""
    store.delete_reminder(user_id, keys.plan_reminder_sk(plan_id, item_id))


def follow_time_zone(user_id: str, now: datetime) -> int:
    """Move my floating reminders to my profile's time zone now: their next occurrence is
    computed again there. Answers how many moved; a reminder changed meanwhile is left to its
    own writer (its version condition), which used the new zone already."""
    profile = profiles.get_profile(user_id)
    if profile is None:
        return 0
    zone_name = str(profile.data["timeZone"])
    moved = 0
    for sk, reminder, version in store.floating_reminders(user_id):
        if reminder.get("timeZone") == zone_name:
            continue
        rule = recurrence.load_rule(str(reminder["rrule"]))
        updated = {
            **reminder,
            "timeZone": zone_name,
            "nextFireAt": _next_fire(rule, ZoneInfo(zone_name), now),
        }
        updated = {k: v for k, v in updated.items() if v is not None}
        try:
            store.save_reminder(user_id, sk, updated, version)
        except (NotFound, PreconditionFailed):
            continue
        moved += 1
    return moved
