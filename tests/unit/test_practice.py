"""shared.domain.practice: practice days in the person's zone, streaks, and month bitmaps.

Expectations are written out by hand from issue 10 ("Practice"): done at 23:30 in Lisbon counts
for that Lisbon day, at 00:30 for the next; a streak is not broken until a whole day passes
without practice. Instants are given in UTC, as the API receives them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.practice import (
    NO_PRACTICE,
    Streaks,
    StreakState,
    add_practice_day,
    days_from_bits,
    month_bits,
    month_key,
    practice_day,
    state_from_months,
    streaks,
    streaks_from_months,
)

LISBON = ZoneInfo("Europe/Lisbon")
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def _utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _run(first: date, length: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(length)]


# --- practice_day -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done_at", "zone", "expected"),
    [
        # Lisbon's clocks go forward on 29 March 2026 at 01:00 UTC (WET +00:00 -> WEST +01:00).
        pytest.param(_utc(2026, 3, 28, 23, 30), LISBON, date(2026, 3, 28), id="lisbon-23:30-before-dst"),
        pytest.param(_utc(2026, 3, 29, 0, 30), LISBON, date(2026, 3, 29), id="lisbon-00:30-dst-night"),
        pytest.param(_utc(2026, 3, 29, 22, 30), LISBON, date(2026, 3, 29), id="lisbon-23:30-after-dst"),
        # 00:30 WEST on 30 March is still 29 March in UTC: the Lisbon date wins.
        pytest.param(_utc(2026, 3, 29, 23, 30), LISBON, date(2026, 3, 30), id="lisbon-00:30-after-dst"),
        pytest.param(_utc(2026, 7, 15, 22, 30), LISBON, date(2026, 7, 15), id="lisbon-23:30-summer"),
        pytest.param(_utc(2026, 7, 15, 23, 30), LISBON, date(2026, 7, 16), id="lisbon-00:30-summer"),
        # Tokyo is +09:00 all year: its new day starts at 15:00 UTC the day before.
        pytest.param(_utc(2026, 3, 10, 14, 30), TOKYO, date(2026, 3, 10), id="tokyo-23:30"),
        pytest.param(_utc(2026, 3, 10, 15, 30), TOKYO, date(2026, 3, 11), id="tokyo-00:30"),
        # New York in summer is -04:00: 23:30 local is already the next day in UTC.
        pytest.param(_utc(2026, 7, 16, 3, 30), NEW_YORK, date(2026, 7, 15), id="new-york-23:30-summer"),
        pytest.param(_utc(2026, 7, 16, 4, 30), NEW_YORK, date(2026, 7, 16), id="new-york-00:30-summer"),
        # And -05:00 in winter.
        pytest.param(_utc(2026, 1, 16, 4, 30), NEW_YORK, date(2026, 1, 15), id="new-york-23:30-winter"),
        pytest.param(_utc(2026, 1, 16, 5, 30), NEW_YORK, date(2026, 1, 16), id="new-york-00:30-winter"),
    ],
)
def test_practice_counts_for_the_local_day(done_at: datetime, zone: ZoneInfo, expected: date) -> None:
    assert practice_day(done_at, zone) == expected


def test_practice_day_depends_on_the_instant_not_the_offset_it_was_written_with() -> None:
    # 00:30 in Tokyo, written with Tokyo's offset: still 29 March in Lisbon (15:30 UTC).
    done_at = datetime(2026, 3, 30, 0, 30, tzinfo=timezone(timedelta(hours=9)))
    assert practice_day(done_at, TOKYO) == date(2026, 3, 30)
    assert practice_day(done_at, LISBON) == date(2026, 3, 29)


def test_practice_day_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="without a time zone"):
        practice_day(datetime(2026, 3, 28, 23, 30), LISBON)


# --- streaks -------------------------------------------------------------------------------------

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("days", "today", "expected"),
    [
        pytest.param([], TODAY, Streaks(0, 0), id="empty"),
        pytest.param([TODAY], TODAY, Streaks(1, 1), id="only-today"),
        pytest.param([TODAY - timedelta(days=1)], TODAY, Streaks(1, 1), id="only-yesterday"),
        pytest.param([TODAY - timedelta(days=2)], TODAY, Streaks(0, 1), id="only-two-days-ago"),
        # 20-22 then 24-26 November: the gap on the 23rd splits the runs.
        pytest.param(
            [*_run(date(2026, 11, 20), 3), *_run(date(2026, 11, 24), 3)],
            TODAY,
            Streaks(3, 3),
            id="gap-current-ends-yesterday",
        ),
        pytest.param(
            [*_run(date(2026, 11, 10), 5), *_run(date(2026, 11, 24), 4)],
            TODAY,
            Streaks(4, 5),
            id="gap-current-ends-today",
        ),
        pytest.param(_run(date(2026, 11, 22), 5), TODAY, Streaks(5, 5), id="run-ending-yesterday-is-current"),
        pytest.param(_run(date(2026, 11, 21), 5), TODAY, Streaks(0, 5), id="run-ending-two-days-ago-is-over"),
        pytest.param(
            [TODAY, TODAY, TODAY - timedelta(days=1), TODAY - timedelta(days=1), TODAY],
            TODAY,
            Streaks(2, 2),
            id="duplicates-count-once",
        ),
        pytest.param(
            [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 2)],
            date(2026, 2, 3),
            Streaks(4, 4),
            id="across-a-month",
        ),
        pytest.param(
            [date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 1)],
            date(2026, 1, 1),
            Streaks(3, 3),
            id="across-a-year",
        ),
        pytest.param(
            [date(2028, 2, 27), date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1)],
            date(2028, 3, 1),
            Streaks(4, 4),
            id="across-a-leap-day",
        ),
        pytest.param(
            [date(2028, 2, 28), date(2028, 3, 1)],
            date(2028, 3, 1),
            Streaks(1, 1),
            id="missing-the-leap-day-breaks-the-run",
        ),
        pytest.param(
            [date(2027, 2, 28), date(2027, 3, 1)],
            date(2027, 3, 1),
            Streaks(2, 2),
            id="no-leap-day-in-2027",
        ),
        pytest.param(
            [TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=2)],
            TODAY,
            Streaks(1, 3),
            id="days-after-today-only-count-for-longest",
        ),
    ],
)
def test_streaks(days: list[date], today: date, expected: Streaks) -> None:
    assert streaks(days, today) == expected
    assert streaks(reversed(days), today) == expected


def test_streaks_accept_any_iterable_once() -> None:
    assert streaks(iter(_run(date(2026, 11, 25), 3)), TODAY) == Streaks(3, 3)


def _longest_by_brute_force(days: set[date]) -> int:
    best = 0
    for day in days:
        length = 0
        while day + timedelta(days=length) in days:
            length += 1
        best = max(best, length)
    return best


def _current_by_brute_force(days: set[date], today: date) -> int:
    end = today if today in days else today - timedelta(days=1)
    length = 0
    while end - timedelta(days=length) in days:
        length += 1
    return length


_DAYS = st.lists(st.dates(min_value=date(2027, 11, 1), max_value=date(2028, 4, 30)), max_size=120)
_TODAY = st.dates(min_value=date(2027, 11, 1), max_value=date(2028, 5, 2))


@given(days=_DAYS, today=_TODAY)
def test_streaks_match_a_day_by_day_count(days: list[date], today: date) -> None:
    # Around a leap day and a year boundary, with duplicates and days after today.
    distinct = set(days)
    result = streaks(days, today)
    assert result.longest == _longest_by_brute_force(distinct)
    assert result.current == _current_by_brute_force(distinct, today)


# --- month bitmaps -------------------------------------------------------------------------------


def test_month_bits_sets_bit_d_minus_1_for_day_d() -> None:
    days = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 31), date(2026, 3, 2)]
    assert month_bits(days, "2026-03") == 0b1 | 0b10 | 1 << 30
    assert month_bits([], "2026-03") == 0


def test_month_bits_ignores_days_of_other_months() -> None:
    days = [date(2026, 2, 28), date(2026, 3, 5), date(2026, 4, 1), date(2025, 3, 5)]
    assert month_bits(days, "2026-03") == 1 << 4


def test_days_from_bits_lists_the_days_in_order() -> None:
    assert days_from_bits("2026-03", 1 << 30 | 0b101) == [
        date(2026, 3, 1),
        date(2026, 3, 3),
        date(2026, 3, 31),
    ]
    assert days_from_bits("2028-02", 1 << 28) == [date(2028, 2, 29)]
    assert days_from_bits("2026-04", 0) == []


@pytest.mark.parametrize(
    ("month", "bits"),
    [
        pytest.param("2026-02", 1 << 28, id="29-february-in-a-common-year"),
        pytest.param("2026-04", 1 << 30, id="31-april"),
        pytest.param("2026-03", 1 << 31, id="day-32"),
        pytest.param("2026-03", -1, id="negative"),
    ],
)
def test_days_from_bits_refuses_days_the_month_does_not_have(month: str, bits: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        days_from_bits(month, bits)


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-3", "26-03", "2026/03", "2026-03-01", ""])
def test_a_month_must_be_yyyy_mm(month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bits([], month)
    with pytest.raises(ValueError, match="YYYY-MM"):
        days_from_bits(month, 0)


def test_month_key_is_yyyy_mm() -> None:
    assert month_key(date(2026, 3, 9)) == "2026-03"
    assert month_key(date(987, 12, 31)) == "0987-12"


def _by_month(days: list[date]) -> dict[str, int]:
    grouped: dict[str, list[date]] = defaultdict(list)
    for day in days:
        grouped[month_key(day)].append(day)
    return {month: month_bits(month_days, month) for month, month_days in grouped.items()}


@given(days=_DAYS)
def test_bitmaps_round_trip(days: list[date]) -> None:
    months = _by_month(days)
    restored = [day for month in sorted(months) for day in days_from_bits(month, months[month])]
    assert restored == sorted(set(days))
    # A month fits in 31 bits (a DynamoDB number holds it exactly).
    assert all(0 < bits < 1 << 31 for bits in months.values())


@given(days=_DAYS, today=_TODAY)
def test_streaks_from_months_equal_streaks_on_the_same_days(days: list[date], today: date) -> None:
    assert streaks_from_months(_by_month(days), today) == streaks(days, today)


def test_streaks_from_months_across_a_year_and_a_missing_month() -> None:
    months = {
        "2026-12": month_bits(_run(date(2026, 12, 28), 4), "2026-12"),
        "2027-01": month_bits(_run(date(2027, 1, 1), 3), "2027-01"),
        # February empty and absent: 31 January to 1 March is not a run.
        "2027-03": 0b1,
    }
    assert streaks_from_months(months, date(2027, 1, 4)) == Streaks(7, 7)
    assert streaks_from_months(months, date(2027, 3, 2)) == Streaks(1, 7)
    assert streaks_from_months({}, date(2027, 3, 2)) == Streaks(0, 0)


def test_streaks_from_months_refuse_a_corrupted_month() -> None:
    with pytest.raises(ValueError, match="outside"):
        streaks_from_months({"2027-02": 1 << 28}, date(2027, 3, 1))


# --- the kept streak state ------------------------------------------------------------------------


@given(days=_DAYS, today=_TODAY)
def test_the_kept_state_folded_day_by_day_equals_the_streaks_of_all_days(
    days: list[date], today: date
) -> None:
    # Days in any order, as practices come from devices in zones that change: when the state
    # alone cannot tell (a day before the last), the caller recomputes from the months so far.
    state, seen = NO_PRACTICE, []
    for day in days:
        seen.append(day)
        state = add_practice_day(state, day) or state_from_months(_by_month(seen))
    assert state == state_from_months(_by_month(days))
    expected = streaks(days, today)
    assert state.longest == expected.longest
    if not days or today >= max(days):
        assert state.current(today) == expected.current


def test_add_practice_day_extends_restarts_repeats_or_asks_for_the_days() -> None:
    first = add_practice_day(NO_PRACTICE, date(2026, 12, 1))
    assert first == StreakState(date(2026, 12, 1), 1, 1)
    second = add_practice_day(first, date(2026, 12, 2))
    assert second == StreakState(date(2026, 12, 2), 2, 2)
    assert add_practice_day(second, date(2026, 12, 2)) is second
    assert add_practice_day(second, date(2026, 12, 5)) == StreakState(date(2026, 12, 5), 1, 2)
    assert add_practice_day(second, date(2026, 11, 30)) is None


def test_the_current_run_holds_through_the_next_day_then_breaks() -> None:
    state = StreakState(date(2026, 12, 2), 4, 9)
    assert state.current(date(2026, 12, 2)) == 4
    assert state.current(date(2026, 12, 3)) == 4
    assert state.current(date(2026, 12, 4)) == 0
    assert state.current(date(2026, 12, 1)) == 4, "west of the day it ended on: still going"
    assert NO_PRACTICE.current(date(2026, 12, 4)) == 0
