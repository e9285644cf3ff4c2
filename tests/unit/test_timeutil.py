"""shared.domain.timeutil: RFC 3339 in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from shared.domain.timeutil import to_rfc3339, utc_now


def test_to_rfc3339_is_utc_with_z() -> None:
    assert to_rfc3339(datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)) == "2026-11-27T09:00:00Z"


def test_to_rfc3339_converts_other_offsets_to_utc() -> None:
    lisbon_summer = timezone(timedelta(hours=1))
    moment = datetime(2026, 7, 1, 0, 30, 15, 999_999, tzinfo=lisbon_summer)
    assert to_rfc3339(moment) == "2026-06-30T23:30:15Z"


def test_utc_now_is_aware_utc_to_the_second() -> None:
    now = utc_now()
    assert now.tzinfo is UTC
    assert now.microsecond == 0
    assert abs((datetime.now(UTC) - now).total_seconds()) < 5
    assert to_rfc3339(now).endswith("Z")
