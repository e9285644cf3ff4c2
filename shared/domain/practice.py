"""Practice days and streaks.

A practice counts for the day on which the person did it, in their own time zone: done at 23:30
in Lisbon it counts for that Lisbon day, at 00:30 for the next one, whatever the date in UTC.

The journey keeps practice days as one small item per local month (its days, a number set that
DynamoDB's ADD keeps without a read), read here as a bitmap in which bit d-1 is set when the
person practised on day d, and one item of streak state (`StreakState`: the last day, the run
ending on it, the longest run), kept up to date by each practice. Reading the streaks costs that
one item whatever the history; the months are read again only in the rare case a practice lands
on a day before the last one (a person who flew west across midnight).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Streaks:
    """Runs of consecutive practice days: the one still going, and the longest ever."""

    current: int
    longest: int


def practice_day(done_at: datetime, zone: ZoneInfo) -> date:
    """The local date in `zone` on which a practice done at `done_at` counts.

    `done_at` must be aware: a naive time has no single local date, and guessing its zone would
    move practices between days without anyone noticing.
    """
    if done_at.tzinfo is None or done_at.utcoffset() is None:
        raise ValueError(f"practice time without a time zone: {done_at.isoformat()}")
    return done_at.astimezone(zone).date()


def month_key(day: date) -> str:
    """`YYYY-MM` of a local date: the key of the month item that holds it."""
    return f"{day.year:04d}-{day.month:02d}"


def _parse_month(month: str) -> tuple[int, int, int]:
    """(year, month, number of days) of a `YYYY-MM`; ValueError for anything else."""
    match = _MONTH.fullmatch(month)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    year, number = int(match[1]), int(match[2])
    if year < 1:
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    return year, number, calendar.monthrange(year, number)[1]


def month_bits(days: Iterable[date], month: str) -> int:
    """The bitmap of `month` (`YYYY-MM`): bit d-1 set for each day d of that month in `days`.

    Days of other months are ignored, so the days of a whole history can be passed month by month.
    """
    year, number, _ = _parse_month(month)
    bits = 0
    for day in days:
        if day.year == year and day.month == number:
            bits |= 1 << (day.day - 1)
    return bits


def days_from_bits(month: str, bits: int) -> list[date]:
    """The days of `month` (`YYYY-MM`) whose bits are set, in order.

    A bitmap with bits past the month's last day (or negative) is refused with ValueError: it
    could only come from a bug or a corrupted item, and reading it would invent days.
    """
    year, number, length = _parse_month(month)
    if bits < 0 or bits >> length:
        raise ValueError(f"bitmap {bits} has days outside {month}")
    return [date(year, number, d) for d in range(1, length + 1) if bits >> (d - 1) & 1]


def _streaks_of_sorted(days: Iterable[date], today: date) -> Streaks:
    """Streaks over distinct days given in increasing order."""
    yesterday = today - _ONE_DAY
    previous: date | None = None
    run = longest = current = 0
    for day in days:
        run = run + 1 if previous is not None and day - previous == _ONE_DAY else 1
        longest = max(longest, run)
        # The run is still going if it reaches today, or yesterday: a streak only breaks once a
        # whole day has passed without practice. Today comes after yesterday, so it wins.
        if day in (yesterday, today):
            current = run
        previous = day
    return Streaks(current=current, longest=longest)


def streaks(days: Iterable[date], today: date) -> Streaks:
    """The current and the longest run of consecutive practice days.

    `current` is the run ending today or yesterday (0 otherwise); duplicates count once. A day
    after `today` (a device clock ahead) counts toward `longest` but never makes a run current.
    """
    return _streaks_of_sorted(sorted(set(days)), today)


def streaks_from_months(months: Mapping[str, int], today: date) -> Streaks:
    """The same as `streaks`, from month bitmaps (`YYYY-MM` -> bits) as the journey stores them.

    A month missing from the mapping has no practice day, so runs across it break as they should.
    """

    def ordered_days() -> Iterable[date]:
        # `YYYY-MM` keys sort chronologically, and each month's days come out in order.
        for month in sorted(months):
            yield from days_from_bits(month, months[month])

    return _streaks_of_sorted(ordered_days(), today)


@dataclass(frozen=True)
class StreakState:
    """What the journey keeps of a person's practice streaks, so reading them costs one item:
    the last day practised, the run of consecutive days ending on it, and the longest run."""

    last_day: date | None
    run: int
    longest: int

    def current(self, today: date) -> int:
        """The run still going on `today`: it ends today or yesterday, else 0. A run that ends
        after today (a person who flew west after practising) is still going too."""
        if self.last_day is None or (today - self.last_day).days > 1:
            return 0
        return self.run


NO_PRACTICE = StreakState(last_day=None, run=0, longest=0)


def add_practice_day(state: StreakState, day: date) -> StreakState | None:
    """The state after a practice on `day`, or None when it cannot be told from the state alone.

    A day after the last extends the run (the next day) or starts a new one; the last day again
    changes nothing. A day before the last (a person who flew west across midnight) may join two
    runs, which only the days themselves can tell: the caller recomputes with `state_from_months`.
    """
    last = state.last_day
    if last is None or day > last:
        run = state.run + 1 if last is not None and day - last == _ONE_DAY else 1
        return StreakState(last_day=day, run=run, longest=max(state.longest, run))
    if day == last:
        return state
    return None


def state_from_months(months: Mapping[str, int]) -> StreakState:
    """The state from month bitmaps (`YYYY-MM` -> bits), as `add_practice_day` would have kept it."""
    last: date | None = None
    for month in sorted(months, reverse=True):
        days = days_from_bits(month, months[month])
        if days:
            last = days[-1]
            break
    if last is None:
        return NO_PRACTICE
    found = streaks_from_months(months, last)
    return StreakState(last_day=last, run=found.current, longest=found.longest)
