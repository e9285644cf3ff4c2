"""Whether a notification may reach a person's devices now, by their own preferences.

The inbox always gets the item; these rules only decide the push. A kind the person turned off
(`promiseUpdates`, `reminders`) is never pushed, and nothing is pushed during their quiet hours,
read in their own time zone (a window may wrap midnight: 22:00 to 07:00).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Which preference switches a kind of notification off.
_SWITCH = {"promise": "promiseUpdates", "reminder": "reminders"}


def _clock(text: Any) -> time | None:
    if not isinstance(text, str) or len(text) != 5:
        return None
    return time(int(text[:2]), int(text[3:]))


def in_quiet_hours(prefs: Mapping[str, Any], time_zone: str | None, now: datetime) -> bool:
    """Whether `now` falls in the person's quiet hours (start included, end excluded)."""
    start, end = _clock(prefs.get("quietHoursStart")), _clock(prefs.get("quietHoursEnd"))
    if start is None or end is None or start == end:
        return False
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone).time().replace(second=0, microsecond=0, tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def may_push(kind: str, profile: Mapping[str, Any] | None, now: datetime) -> bool:
    """Whether a notification of `kind` may be pushed to the person now.

    Without a profile (no preferences yet) everything may be pushed: the defaults are "on".
    """
    if profile is None:
        return True
    prefs = profile.get("notificationPrefs") or {}
    switch = _SWITCH.get(kind)
    if switch is not None and prefs.get(switch) is False:
        return False
    return not in_quiet_hours(prefs, profile.get("timeZone"), now)
