"""Pushes follow the person's notification preferences: kinds turned off, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.domain.notification_prefs import in_quiet_hours, may_push

# 2026-11-27 is in winter: Lisbon is UTC+0, Tokyo UTC+9.
NIGHT = {"quietHoursStart": "22:00", "quietHoursEnd": "07:00"}
LUNCH = {"quietHoursStart": "12:00", "quietHoursEnd": "13:30"}


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("prefs", "zone", "now", "quiet"),
    [
        (NIGHT, "Europe/Lisbon", _at(23), True),
        (NIGHT, "Europe/Lisbon", _at(6, 59), True),
        (NIGHT, "Europe/Lisbon", _at(7), False),
        (NIGHT, "Europe/Lisbon", _at(21, 59), False),
        (NIGHT, "Europe/Lisbon", _at(22), True),
        (NIGHT, "Asia/Tokyo", _at(13), True),  # 22:00 in Tokyo
        (NIGHT, "Asia/Tokyo", _at(23), False),  # 08:00 in Tokyo
        (LUNCH, "UTC", _at(12, 30), True),
        (LUNCH, "UTC", _at(13, 30), False),
        (LUNCH, "UTC", _at(11, 59), False),
        ({}, "UTC", _at(3), False),
        ({"quietHoursStart": "22:00"}, "UTC", _at(23), False),
        ({"quietHoursStart": "08:00", "quietHoursEnd": "08:00"}, "UTC", _at(8), False),
        (NIGHT, "Not/AZone", _at(23), True),  # an unknown zone reads as UTC
    ],
)
def test_quiet_hours(prefs: dict[str, Any], zone: str, now: datetime, quiet: bool) -> None:
    assert in_quiet_hours(prefs, zone, now) is quiet


def _profile(**prefs: Any) -> dict[str, Any]:
    return {
        "timeZone": "Europe/Lisbon",
        "notificationPrefs": {"reminders": True, "promiseUpdates": True, **prefs},
    }


def test_a_kind_turned_off_is_never_pushed() -> None:
    assert may_push("promise", _profile(promiseUpdates=False), _at(12)) is False
    assert may_push("reminder", _profile(promiseUpdates=False), _at(12)) is True
    assert may_push("reminder", _profile(reminders=False), _at(12)) is False
    assert may_push("promise", _profile(reminders=False), _at(12)) is True


def test_quiet_hours_hold_for_every_kind() -> None:
    quiet = _profile(**NIGHT)
    assert may_push("promise", quiet, _at(23)) is False
    assert may_push("reminder", quiet, _at(23)) is False
    assert may_push("promise", quiet, _at(12)) is True


def test_without_a_profile_everything_may_be_pushed() -> None:
    assert may_push("promise", None, _at(3)) is True
