"""Recurrence of reminders: RFC 5545 `RRULE`s read in the person's local time, fired as instants.

Occurrences are computed by python-dateutil's `rrule` on *naive* local date-times, where it has
none of its zoned-start traps (nonexistent and repeated local times, `UNTIL` against an aware
start), and each local date-time is turned into an instant here, with `zoneinfo`, by the
product's rules:

- a local time that does not exist that day (the clock springs forward over it) fires once, at
  the first valid minute after it (the end of the gap);
- a local time that happens twice (the clock falls back) fires once, at its first occurrence;
- local times that land on the same instant fire once.

The zone is not part of a `Rule`: the same rule asked in another zone gives the same local
times there, which is what a "floating" reminder wants when its person travels.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Final, Literal
from zoneinfo import ZoneInfo

from dateutil import rrule as du

from shared.domain.errors import FieldError, InvalidInput

MAX_TEXT_LENGTH: Final = 1000
MAX_FIRES_PER_DAY: Final = 24
MAX_INTERVAL: Final = 1000
MAX_COUNT: Final = 10_000
# "Never fires" is decided by looking this far ahead of the start: one whole Gregorian cycle
# (400 years, 146,097 days), after which every calendar pattern repeats. A rule whose first
# occurrence is further away than that (only possible with a large INTERVAL out of step with
# its BY parts) is refused as never firing, which for a reminder it is.
HORIZON_DAYS: Final = 146_097

FREQUENCIES: Final = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

SUPPORTED_DESCRIPTION: Final = (
    "`rrule` is an RFC 5545 recurrence rule, `FREQ=...` or `RRULE:FREQ=...`, optionally after a "
    "`DTSTART:YYYYMMDDTHHMMSS` line (a floating local date-time, seconds 00; no `Z`, no `TZID`: "
    "the zone is the reminder's); without `DTSTART` the rule starts now, to the minute, in the "
    "reminder's zone, and the stored rule (answered back) always carries its `DTSTART`. At most "
    f"{MAX_TEXT_LENGTH} characters. Supported: `FREQ` HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY; "
    f"`INTERVAL` (1 to {MAX_INTERVAL}); `COUNT` (1 to {MAX_COUNT}) or `UNTIL` (not both): a UTC "
    "date-time (`...Z`) is compared with each occurrence's instant, a floating date-time with its "
    "local time, a date includes that whole local day; `BYDAY` (with ordinals such as `1MO` or "
    "`-1FR` for MONTHLY and YEARLY only); `BYMONTHDAY` (-31 to 31, not with WEEKLY; months "
    "without that day are skipped); `BYMONTH`; `BYHOUR`; `BYMINUTE`; `BYSECOND` only as 0; "
    "`WKST`. Refused with a 422 naming `rrule`: MINUTELY and SECONDLY, `BYSETPOS`, `BYWEEKNO`, "
    "`BYYEARDAY`, any other or malformed part, a rule that can fire more than "
    f"{MAX_FIRES_PER_DAY} times in one local day, and a rule that never fires (no occurrence "
    "after now within 400 years, for example February 30th, an `UNTIL` already past or a "
    "`COUNT` used up). Times are local wall-clock times: 09:00 stays 09:00 across daylight "
    "saving changes; a time skipped by a change fires once at the first valid minute after it, "
    "and a time that happens twice fires once, the first time."
)

_FREQ: Final[dict[str, Literal[0, 1, 2, 3, 4, 5, 6]]] = {
    "HOURLY": du.HOURLY,
    "DAILY": du.DAILY,
    "WEEKLY": du.WEEKLY,
    "MONTHLY": du.MONTHLY,
    "YEARLY": du.YEARLY,
}
_KNOWN_UNSUPPORTED: Final = {
    "BYSETPOS": "rrule_bysetpos_unsupported",
    "BYWEEKNO": "rrule_byweekno_unsupported",
    "BYYEARDAY": "rrule_byyearday_unsupported",
}
_PARTS: Final = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYMONTH",
    "BYMONTHDAY",
    "BYDAY",
    "BYHOUR",
    "BYMINUTE",
    "BYSECOND",
    "WKST",
)
_DATE_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)")
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_BYDAY = re.compile(r"([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_INTEGER = re.compile(r"[+-]?\d{1,6}")


def _invalid(code: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"The recurrence rule is not supported: {message}", [FieldError("body", "rrule", code, message)]
    )


@dataclass(frozen=True)
class Rule:
    """A parsed recurrence, with every default that RFC 5545 takes from `DTSTART` made explicit.

    Explicit defaults keep `text` self-contained (it parses again into an equal `Rule` whatever
    "now" is) and let the engine restart the iteration close to the moment asked about instead
    of from `dtstart`: only the phase of `INTERVAL` still depends on `dtstart`.
    """

    text: str
    freq: str
    dtstart: datetime
    interval: int = 1
    count: int | None = None
    # A `datetime` with tzinfo (UTC) is an instant; a naive one is local; a `date` is inclusive.
    until: datetime | date | None = None
    bymonth: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    # (ordinal, weekday): ordinal 0 is "every such weekday"; weekday 0 is Monday.
    byday: tuple[tuple[int, int], ...] = ()
    # Empty for HOURLY without BYHOUR: every hour.
    byhour: tuple[int, ...] = ()
    byminute: tuple[int, ...] = (0,)
    wkst: int = 0


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_rule(text: str, *, start: datetime, zone: ZoneInfo | None = None) -> Rule:
    """Read a rule a person sent, or refuse it with a 422 whose code says what is wrong.

    `start` (naive, local) stands in for a missing `DTSTART` and is the moment after which the
    rule must fire. `zone`, when the caller knows it, makes the "never fires" check exact for a
    UTC `UNTIL`; without it a UTC `UNTIL` is read as generously as any zone on Earth would.
    """
    if start.tzinfo is not None:
        raise ValueError("start must be a naive local date-time")
    start = start.replace(second=0, microsecond=0)
    rule = _parse(text, default_start=start)
    _check_per_day(rule)
    _check_fires(rule, start, zone)
    return rule


def load_rule(text: str) -> Rule:
    """Read back a rule's stored `text` (which always has its `DTSTART`), without the checks.

    For the dispatcher: a stored rule that has since ended is no error there, it just has no
    next occurrence.
    """
    return _parse(text, default_start=None)


def _parse(text: str, *, default_start: datetime | None) -> Rule:
    if len(text) > MAX_TEXT_LENGTH:
        raise _invalid("rrule_too_long", f"the rule is longer than {MAX_TEXT_LENGTH} characters")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    dtstart: datetime | None = None
    rule_line: str | None = None
    for line in lines:
        upper = line.upper()
        if upper.startswith("DTSTART"):
            if dtstart is not None:
                raise _invalid("rrule_malformed", "DTSTART is given twice")
            dtstart = _parse_dtstart(upper)
        else:
            if rule_line is not None:
                raise _invalid("rrule_malformed", "only one RRULE is supported")
            rule_line = upper.removeprefix("RRULE:")
    if rule_line is None:
        raise _invalid("rrule_malformed", "there is no RRULE")
    if dtstart is None:
        if default_start is None:
            raise _invalid("rrule_malformed", "the stored rule has no DTSTART")
        dtstart = default_start
    parts = _split_parts(rule_line)
    return _build(parts, dtstart)


def _parse_dtstart(line: str) -> datetime:
    name, sep, value = line.partition(":")
    if not sep:
        raise _invalid("rrule_dtstart_malformed", "DTSTART must read DTSTART:YYYYMMDDTHHMMSS")
    if "TZID=" in name:
        raise _invalid(
            "rrule_dtstart_zoned",
            "DTSTART must be a floating local date-time without TZID: the zone is given apart",
        )
    if name != "DTSTART":
        raise _invalid("rrule_dtstart_malformed", "DTSTART must read DTSTART:YYYYMMDDTHHMMSS")
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        raise _invalid("rrule_dtstart_malformed", "DTSTART must read DTSTART:YYYYMMDDTHHMMSS")
    if match.group(7):
        raise _invalid(
            "rrule_dtstart_zoned",
            "DTSTART must be a floating local date-time without Z: the zone is given apart",
        )
    moment = _date_time(match, "rrule_dtstart_malformed", "DTSTART")
    if moment.second:
        raise _invalid("rrule_dtstart_malformed", "DTSTART must be on a whole minute (seconds 00)")
    return moment


def _date_time(match: re.Match[str], code: str, what: str) -> datetime:
    try:
        year, month, day, hour, minute, second = (int(group) for group in match.groups()[:6])
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise _invalid(code, f"{what} is not a valid date-time") from None


def _split_parts(line: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for chunk in line.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep or not name or not value:
            raise _invalid("rrule_malformed", "every part must read NAME=VALUE, separated by ';'")
        if name in _KNOWN_UNSUPPORTED:
            raise _invalid(_KNOWN_UNSUPPORTED[name], f"{name} is not supported")
        if name not in _PARTS:
            raise _invalid("rrule_part_unknown", f"{name[:40]} is not a recurrence part we know")
        if name in parts:
            raise _invalid("rrule_malformed", f"{name} is given twice")
        parts[name] = value
    return parts


def _integers(name: str, value: str, low: int, high: int, *, nonzero: bool = False) -> tuple[int, ...]:
    found: set[int] = set()
    for item in value.split(","):
        if not _INTEGER.fullmatch(item):
            raise _invalid("rrule_malformed", f"{name} must be a list of integers")
        number = int(item)
        if not low <= number <= high or (nonzero and number == 0):
            raise _invalid("rrule_value_out_of_range", f"{name} values must be from {low} to {high}")
        found.add(number)
    return tuple(sorted(found))


def _single(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit():
        raise _invalid("rrule_malformed", f"{name} must be a positive integer")
    number = int(value)
    if not low <= number <= high:
        raise _invalid("rrule_value_out_of_range", f"{name} must be from {low} to {high}")
    return number


def _parse_until(value: str) -> datetime | date:
    if match := _DATE_TIME.fullmatch(value):
        moment = _date_time(match, "rrule_malformed", "UNTIL")
        return moment.replace(tzinfo=UTC) if match.group(7) else moment
    if match := _DATE.fullmatch(value):
        try:
            return date(*(int(group) for group in match.groups()))
        except ValueError:
            raise _invalid("rrule_malformed", "UNTIL is not a valid date") from None
    raise _invalid("rrule_malformed", "UNTIL must be YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ")


def _parse_byday(value: str, freq: str) -> tuple[tuple[int, int], ...]:
    found: set[tuple[int, int]] = set()
    for item in value.split(","):
        match = _BYDAY.fullmatch(item)
        if match is None:
            raise _invalid("rrule_malformed", "BYDAY must be a list such as MO,WE or 1MO,-1FR")
        sign, digits, day = match.groups()
        if digits is None:
            if sign:
                raise _invalid("rrule_malformed", "BYDAY must be a list such as MO,WE or 1MO,-1FR")
            ordinal = 0
        else:
            ordinal = -int(digits) if sign == "-" else int(digits)
            if not 1 <= abs(ordinal) <= 53:
                raise _invalid("rrule_value_out_of_range", "BYDAY ordinals must be from 1 to 53")
            if freq not in ("MONTHLY", "YEARLY"):
                raise _invalid(
                    "rrule_part_not_allowed", "BYDAY ordinals are only for MONTHLY and YEARLY rules"
                )
        found.add((ordinal, WEEKDAYS.index(day)))
    return tuple(sorted(found, key=lambda entry: (entry[1], entry[0])))


def _build(parts: dict[str, str], dtstart: datetime) -> Rule:
    if "FREQ" not in parts:
        raise _invalid("rrule_malformed", "FREQ is missing")
    freq = parts["FREQ"]
    if freq in ("MINUTELY", "SECONDLY"):
        raise _invalid("rrule_frequency_unsupported", f"FREQ={freq} is not supported")
    if freq not in FREQUENCIES:
        raise _invalid("rrule_malformed", "FREQ must be HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY")
    interval = _single("INTERVAL", parts["INTERVAL"], 1, MAX_INTERVAL) if "INTERVAL" in parts else 1
    if "COUNT" in parts and "UNTIL" in parts:
        raise _invalid("rrule_count_and_until", "COUNT and UNTIL cannot be used together")
    count = _single("COUNT", parts["COUNT"], 1, MAX_COUNT) if "COUNT" in parts else None
    until = _parse_until(parts["UNTIL"]) if "UNTIL" in parts else None
    bymonth = _integers("BYMONTH", parts["BYMONTH"], 1, 12) if "BYMONTH" in parts else ()
    bymonthday = (
        _integers("BYMONTHDAY", parts["BYMONTHDAY"], -31, 31, nonzero=True) if "BYMONTHDAY" in parts else ()
    )
    if bymonthday and freq == "WEEKLY":
        raise _invalid("rrule_part_not_allowed", "BYMONTHDAY cannot be used with FREQ=WEEKLY")
    byday = _parse_byday(parts["BYDAY"], freq) if "BYDAY" in parts else ()
    byhour = _integers("BYHOUR", parts["BYHOUR"], 0, 23) if "BYHOUR" in parts else ()
    byminute = _integers("BYMINUTE", parts["BYMINUTE"], 0, 59) if "BYMINUTE" in parts else ()
    if "BYSECOND" in parts and _integers("BYSECOND", parts["BYSECOND"], 0, 60) != (0,):
        raise _invalid("rrule_bysecond_unsupported", "BYSECOND can only be 0")
    if "WKST" in parts:
        if parts["WKST"] not in WEEKDAYS:
            raise _invalid("rrule_malformed", "WKST must be MO, TU, WE, TH, FR, SA or SU")
        wkst = WEEKDAYS.index(parts["WKST"])
    else:
        wkst = 0
    # RFC 5545 takes what the rule leaves out from DTSTART (as dateutil does): make it explicit.
    if not bymonthday and not byday:
        if freq == "YEARLY":
            bymonth = bymonth or (dtstart.month,)
            bymonthday = (dtstart.day,)
        elif freq == "MONTHLY":
            bymonthday = (dtstart.day,)
        elif freq == "WEEKLY":
            byday = ((0, dtstart.weekday()),)
    if not byhour and freq != "HOURLY":
        byhour = (dtstart.hour,)
    if not byminute:
        byminute = (dtstart.minute,)
    rule = Rule(
        text="",
        freq=freq,
        dtstart=dtstart,
        interval=interval,
        count=count,
        until=until,
        bymonth=bymonth,
        bymonthday=bymonthday,
        byday=byday,
        byhour=byhour,
        byminute=byminute,
        wkst=wkst,
    )
    return replace(rule, text=_canonical(rule))


def _canonical(rule: Rule) -> str:
    def numbers(values: tuple[int, ...]) -> str:
        return ",".join(str(value) for value in values)

    parts = [f"FREQ={rule.freq}"]
    if rule.interval != 1:
        parts.append(f"INTERVAL={rule.interval}")
    if rule.count is not None:
        parts.append(f"COUNT={rule.count}")
    if isinstance(rule.until, datetime):
        parts.append(f"UNTIL={rule.until:%Y%m%dT%H%M%S}{'Z' if rule.until.tzinfo else ''}")
    elif isinstance(rule.until, date):
        parts.append(f"UNTIL={rule.until:%Y%m%d}")
    if rule.bymonth:
        parts.append(f"BYMONTH={numbers(rule.bymonth)}")
    if rule.bymonthday:
        parts.append(f"BYMONTHDAY={numbers(rule.bymonthday)}")
    if rule.byday:
        days = ",".join(f"{ordinal or ''}{WEEKDAYS[day]}" for ordinal, day in rule.byday)
        parts.append(f"BYDAY={days}")
    if rule.byhour:
        parts.append(f"BYHOUR={numbers(rule.byhour)}")
    parts.append(f"BYMINUTE={numbers(rule.byminute)}")
    if rule.wkst:
        parts.append(f"WKST={WEEKDAYS[rule.wkst]}")
    # %Y does not promise four digits on every platform; DTSTART years are 1..9999.
    start = f"{rule.dtstart.year:04d}{rule.dtstart:%m%dT%H%M%S}"
    return f"DTSTART:{start}\nRRULE:{';'.join(parts)}"


# ---------------------------------------------------------------------------------------------
# Checks that need the calendar


def _hours_in_phase(rule: Rule, day_index: int) -> list[int]:
    """The hours of a HOURLY rule's day `day_index` (days since dtstart's) that INTERVAL keeps."""
    hours = rule.byhour or tuple(range(24))
    return [hour for hour in hours if (day_index * 24 + hour - rule.dtstart.hour) % rule.interval == 0]


def _check_per_day(rule: Rule) -> None:
    # Local days all have 24 naive hours here (a fall-back hour fires once: fold=0), so the
    # count is exact: times of day per matching day, and for HOURLY the worst day of the
    # INTERVAL's phase (the phase of day d repeats every INTERVAL days).
    if rule.freq == "HOURLY":
        hours = max(len(_hours_in_phase(rule, day)) for day in range(rule.interval))
    else:
        hours = len(rule.byhour)
    fires = hours * len(rule.byminute)
    if fires > MAX_FIRES_PER_DAY:
        raise _invalid(
            "rrule_too_frequent",
            f"the rule fires up to {fires} times in a day; at most {MAX_FIRES_PER_DAY} are allowed",
        )


_MONTH_LENGTHS: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _month_length(year: int, month: int) -> int:
    return 29 if month == 2 and _is_leap(year) else _MONTH_LENGTHS[month - 1]


def _date_matches(rule: Rule, day: date) -> bool:
    """Whether `day` passes BYMONTH, BYMONTHDAY and BYDAY, as dateutil reads them."""
    if rule.bymonth and day.month not in rule.bymonth:
        return False
    if rule.bymonthday:
        month_length = _month_length(day.year, day.month)
        if day.day not in rule.bymonthday and day.day - month_length - 1 not in rule.bymonthday:
            return False
    if rule.byday:
        weekday = day.weekday()
        for ordinal, wanted in rule.byday:
            if wanted != weekday:
                continue
            if ordinal == 0:
                return True
            if rule.freq == "MONTHLY" or rule.bymonth:
                position, length = day.day, _month_length(day.year, day.month)
            else:
                position = day.timetuple().tm_yday
                length = 366 if _is_leap(day.year) else 365
            from_start, from_end = (position - 1) // 7 + 1, -((length - position) // 7 + 1)
            if ordinal in (from_start, from_end):
                return True
        return False
    return True


def _in_phase(rule: Rule, day: date) -> bool:
    """Whether INTERVAL keeps the period (year, month, week, day) that `day` belongs to."""
    start = rule.dtstart.date()
    if rule.freq == "YEARLY":
        return (day.year - start.year) % rule.interval == 0
    if rule.freq == "MONTHLY":
        return (day.year * 12 + day.month - start.year * 12 - start.month) % rule.interval == 0
    if rule.freq == "WEEKLY":
        week_start = start - timedelta(days=(start.weekday() - rule.wkst) % 7)
        return ((day - week_start).days // 7) % rule.interval == 0
    if rule.freq == "DAILY":
        return (day - start).days % rule.interval == 0
    return bool(_hours_in_phase(rule, (day - start).days))


def _times_of(rule: Rule, day: date) -> list[time]:
    if rule.freq == "HOURLY":
        hours = _hours_in_phase(rule, (day - rule.dtstart.date()).days)
    else:
        hours = list(rule.byhour)
    return [time(hour, minute) for hour in hours for minute in rule.byminute]


def _pattern_fires_after(rule: Rule, moment: datetime) -> bool:
    """Whether the pattern (COUNT and UNTIL aside) has a local occurrence after `moment`.

    dateutil cannot answer this for a pattern that never matches: it walks period by period
    up to the year 9999 (millions of steps for a DAILY rule). This walks at most one 400-year
    cycle of days and stops at the first match, which for a sound rule is within days.
    """
    lower = max(moment, rule.dtstart - timedelta(seconds=1))
    first = lower.date()
    last = (
        date.max if date.max - first < timedelta(days=HORIZON_DAYS) else first + timedelta(days=HORIZON_DAYS)
    )
    in_phase = _in_phase
    if rule.freq == "HOURLY":
        # Which days keep an hour depends only on the day's index modulo this cycle.
        cycle = rule.interval // math.gcd(rule.interval, 24)
        kept = {index for index in range(cycle) if _hours_in_phase(rule, index)}
        origin = rule.dtstart.date()

        def in_phase(rule: Rule, day: date) -> bool:
            return (day - origin).days % cycle in kept

    day = first
    while True:
        if rule.bymonth and day.month not in rule.bymonth:
            # A month the rule never uses: skip it whole.
            if day.year == date.max.year and day.month == 12:
                return False
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            if day > last:
                return False
            continue
        if (
            _date_matches(rule, day)
            and in_phase(rule, day)
            and (day != first or any(datetime.combine(day, at) > lower for at in _times_of(rule, day)))
        ):
            return True
        if day == last:
            return False
        day += timedelta(days=1)


def _check_fires(rule: Rule, start: datetime, zone: ZoneInfo | None) -> None:
    never = _invalid("rrule_never_fires", "the rule has no occurrence after now")
    if not _pattern_fires_after(rule, start):
        raise never
    if zone is not None:
        after = _instant(start, zone)
        if next_occurrence(rule, zone, after) is None:
            raise never
        return
    # No zone: a UTC UNTIL is read as in the zone furthest ahead of UTC (+14:00), so that only
    # a rule that would never fire anywhere is refused here.
    local_until: datetime | None = None
    if isinstance(rule.until, datetime) and rule.until.tzinfo is not None:
        local_until = rule.until.replace(tzinfo=None) + timedelta(hours=14)
    if _dateutil(rule, _anchor(rule, start), local_until=local_until).after(start) is None:
        raise never


# ---------------------------------------------------------------------------------------------
# Occurrences


def _local_until(rule: Rule) -> datetime | None:
    if isinstance(rule.until, datetime):
        return None if rule.until.tzinfo is not None else rule.until
    if isinstance(rule.until, date):
        # A DATE UNTIL includes its whole local day (occurrences are on whole minutes).
        return datetime.combine(rule.until, time(23, 59, 59))
    return None


def _dateutil(rule: Rule, anchor: datetime, *, local_until: datetime | None = None) -> du.rrule:
    return du.rrule(
        _FREQ[rule.freq],
        dtstart=anchor,
        interval=rule.interval,
        wkst=rule.wkst,
        count=rule.count,
        until=local_until or _local_until(rule),
        bymonth=rule.bymonth or None,
        bymonthday=rule.bymonthday or None,
        byweekday=[du.weekday(day, ordinal or None) for ordinal, day in rule.byday] or None,
        byhour=rule.byhour or None,
        byminute=rule.byminute,
        bysecond=(0,),
        cache=False,
    )


def _anchor(rule: Rule, moment: datetime) -> datetime:
    """A start for dateutil as close before `moment` as the INTERVAL's phase allows.

    dateutil always iterates from its `dtstart`: a years-old hourly rule would walk every hour
    since. With every BY part explicit, restarting at the first period (in step with INTERVAL)
    that contains `moment` gives the same occurrences from there on. COUNT counts from the real
    start, so a COUNT rule keeps it (COUNT is capped, which bounds that walk).
    """
    start = rule.dtstart
    if rule.count is not None or moment <= start:
        return start
    step = rule.interval
    if rule.freq == "YEARLY":
        periods = (moment.year - start.year) // step * step
        anchor = datetime(start.year + periods, 1, 1)
    elif rule.freq == "MONTHLY":
        periods = (moment.year * 12 + moment.month - start.year * 12 - start.month) // step * step
        year, month = divmod(start.year * 12 + start.month - 1 + periods, 12)
        anchor = datetime(year, month + 1, 1)
    elif rule.freq == "WEEKLY":
        week_start = datetime.combine(start.date(), time()) - timedelta(
            days=(start.weekday() - rule.wkst) % 7
        )
        periods = (moment - week_start).days // 7 // step * step
        anchor = week_start + timedelta(weeks=periods)
    elif rule.freq == "DAILY":
        day_start = datetime.combine(start.date(), time())
        anchor = day_start + timedelta(days=(moment - day_start).days // step * step)
    else:
        hour_start = start.replace(minute=0)
        hours = int((moment - hour_start).total_seconds()) // 3600
        anchor = hour_start + timedelta(hours=hours // step * step)
    return max(anchor, start)


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant a local wall-clock time fires at, by the product's rules (see the module)."""
    first = local.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        # It exists: fold=0 is its first occurrence when the clock fell back over it.
        return instant
    # It does not exist (the clock sprang forward over it). RFC 5545 would drop it for a rule
    # (3.3.10) or read it with the offset before the gap (3.3.5: 02:30 becomes 03:30); the
    # product fires it once, at the first valid minute after it: the end of the gap, which is
    # the first instant whose local time is past `local`. fold=0 and fold=1 read it with the
    # offsets before and after the gap, so that instant lies between the two.
    low = int(local.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp())
    low, high = min(low, high), max(low, high)
    while low < high:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > local:
            high = middle
        else:
            low = middle + 1
    gap_end = datetime.fromtimestamp(high, UTC)
    if gap_end.second:  # transitions are on whole minutes in any zone of this century
        gap_end += timedelta(seconds=60 - gap_end.second)
    return gap_end


def _require_aware(after: datetime) -> None:
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be an aware datetime")


def _walk(rule: Rule, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Instants of a rule strictly after `after`, increasing, each once."""
    _require_aware(after)
    after = after.astimezone(UTC)
    until = rule.until if isinstance(rule.until, datetime) and rule.until.tzinfo else None
    # Local times map to instants in order (a gap's times all go to its end, a repeated time to
    # its first reading), so walking local times walks instants in order. Start a day (and a
    # margin) before `after`'s local reading: a time in a gap fires at the gap's end, so the one
    # sought may read up to a gap's length earlier, and no gap is longer than a day (Samoa's,
    # in 2011, was the longest).
    local_start = after.astimezone(zone).replace(tzinfo=None) - timedelta(hours=25)
    last = after
    for local in _dateutil(rule, _anchor(rule, local_start)):
        instant = _instant(local, zone)
        if until is not None and instant > until:
            return
        if instant > last:
            last = instant
            yield instant


def next_occurrence(rule: Rule, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first instant (UTC) the rule fires strictly after `after`; None once it has ended.

    Strictly after, so that a dispatcher that fired at `t` and asks again from `t` moves on
    (and two local times that fire at one instant, in a gap, fire once). The zone is an
    argument, not part of the rule, so a floating reminder follows its person's current zone.
    """
    return next(_walk(rule, zone, after), None)


def occurrences(rule: Rule, zone: ZoneInfo, after: datetime, limit: int) -> list[datetime]:
    """The next `limit` instants (UTC) strictly after `after`, fewer if the rule ends first.

    For the answer to a PUT, which shows the next few occurrences to the person.
    """
    return list(islice(_walk(rule, zone, after), max(limit, 0)))


def local_view(instant: datetime, zone: ZoneInfo) -> str:
    """RFC 3339 with the local offset (`2026-03-29T09:00:00+01:00`): what the app shows.

    The stored and compared values stay in UTC; this is only for people to read.
    """
    _require_aware(instant)
    local = instant.astimezone(zone)
    return f"{local.year:04d}-{local:%m-%dT%H:%M:%S}{_offset(local)}"


def _offset(local: datetime) -> str:
    offset = local.utcoffset() or timedelta()
    minutes = math.floor(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
