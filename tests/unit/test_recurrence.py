"""shared.domain.recurrence: RRULEs read in local time, fired as instants, across zones and DST.

Transition dates used below (2026): Lisbon springs forward on 29 March at 01:00 (to 02:00) and
falls back on 25 October at 02:00 (to 01:00); New York on 8 March at 02:00 (to 03:00) and on
1 November at 02:00 (to 01:00); Sydney falls back on 5 April at 03:00 (to 02:00) and springs
forward on 4 October at 02:00 (to 03:00); Lord Howe moves by 30 minutes, on 5 April at 02:00
(to 01:30) and on 4 October at 02:00 (to 02:30); Kathmandu stays at +05:45.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from shared.domain.errors import InvalidInput
from shared.domain.recurrence import (
    MAX_TEXT_LENGTH,
    SUPPORTED_DESCRIPTION,
    Rule,
    load_rule,
    local_view,
    next_occurrence,
    occurrences,
    parse_rule,
)

LISBON = ZoneInfo("Europe/Lisbon")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
TOKYO = ZoneInfo("Asia/Tokyo")
UTC_ZONE = ZoneInfo("UTC")

# A Tuesday, a little after six in the morning: "now" in the person's zone, to the minute.
NOW = datetime(2026, 12, 1, 6, 37)
START_2026 = datetime(2026, 1, 1)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _views(rule: Rule, zone: ZoneInfo, after: datetime, limit: int) -> list[str]:
    return [local_view(instant, zone) for instant in occurrences(rule, zone, after, limit)]


def _refusal(text: str, start: datetime = NOW, zone: ZoneInfo | None = None) -> tuple[str, str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_rule(text, start=start, zone=zone)
    [error] = caught.value.errors
    return error.field, error.code, error.message


# --- parsing and the stored text ---------------------------------------------------------------


def test_bare_and_prefixed_rules_in_any_case_give_one_canonical_text() -> None:
    bare = parse_rule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", start=NOW)
    prefixed = parse_rule("rrule:freq=daily;byminute=0;byhour=9", start=NOW)
    assert bare == prefixed
    assert bare.text == "DTSTART:20261201T063700\nRRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0"


def test_a_given_dtstart_wins_over_start_and_is_kept() -> None:
    rule = parse_rule("DTSTART:20261130T090000\r\nRRULE:FREQ=DAILY", start=NOW)
    assert rule.dtstart == datetime(2026, 11, 30, 9, 0)
    assert rule.text == "DTSTART:20261130T090000\nRRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0"


def test_start_is_truncated_to_the_minute() -> None:
    rule = parse_rule("FREQ=HOURLY", start=datetime(2026, 12, 1, 6, 37, 42, 123))
    assert rule.text == "DTSTART:20261201T063700\nRRULE:FREQ=HOURLY;BYMINUTE=37"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        # What RFC 5545 takes from DTSTART (Tuesday 1 December, 06:37) is written out.
        ("FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=TU;BYHOUR=6;BYMINUTE=37"),
        ("FREQ=MONTHLY;BYHOUR=20", "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=20;BYMINUTE=37"),
        ("FREQ=YEARLY;BYMINUTE=5", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=1;BYHOUR=6;BYMINUTE=5"),
        ("FREQ=YEARLY;BYMONTH=3", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1;BYHOUR=6;BYMINUTE=37"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=6;BYMINUTE=37"),
        # Lists are sorted and deduplicated; INTERVAL=1, WKST=MO and BYSECOND=0 are defaults.
        (
            "FREQ=WEEKLY;INTERVAL=1;BYDAY=FR,MO,MO;BYHOUR=18,8;BYMINUTE=0;BYSECOND=0;WKST=MO",
            "FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=8,18;BYMINUTE=0",
        ),
        (
            "FREQ=DAILY;INTERVAL=2;UNTIL=20270101T120000Z;WKST=SU",
            "FREQ=DAILY;INTERVAL=2;UNTIL=20270101T120000Z;BYHOUR=6;BYMINUTE=37;WKST=SU",
        ),
        ("FREQ=DAILY;UNTIL=20270101", "FREQ=DAILY;UNTIL=20270101;BYHOUR=6;BYMINUTE=37"),
        ("FREQ=DAILY;COUNT=5;BYMONTH=1,12", "FREQ=DAILY;COUNT=5;BYMONTH=1,12;BYHOUR=6;BYMINUTE=37"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1,15", "FREQ=MONTHLY;BYMONTHDAY=-1,15;BYHOUR=6;BYMINUTE=37"),
    ],
)
def test_the_canonical_text_parses_again_into_the_same_rule(text: str, canonical: str) -> None:
    rule = parse_rule(text, start=NOW)
    assert rule.text == f"DTSTART:20261201T063700\nRRULE:{canonical}"
    # Stored and read back later (another "now"), by the route or by the dispatcher.
    assert parse_rule(rule.text, start=NOW + timedelta(hours=5)) == rule
    assert load_rule(rule.text) == rule


def test_load_rule_reads_an_ended_rule_which_then_has_no_next_occurrence() -> None:
    rule = load_rule("DTSTART:20200101T090000\nRRULE:FREQ=DAILY;COUNT=2")
    assert occurrences(rule, LISBON, _utc(2019, 12, 31), 5) == [
        _utc(2020, 1, 1, 9),
        _utc(2020, 1, 2, 9),
    ]
    assert next_occurrence(rule, LISBON, _utc(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("FREQ=MINUTELY", "rrule_frequency_unsupported"),
        ("FREQ=SECONDLY;COUNT=3", "rrule_frequency_unsupported"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1", "rrule_bysetpos_unsupported"),
        ("FREQ=YEARLY;BYWEEKNO=20", "rrule_byweekno_unsupported"),
        ("FREQ=YEARLY;BYYEARDAY=100", "rrule_byyearday_unsupported"),
        ("FREQ=DAILY;BYEASTER=0", "rrule_part_unknown"),
        ("FREQ=DAILY;X-NAME=1", "rrule_part_unknown"),
        ("FREQ=DAILY;BYSECOND=30", "rrule_bysecond_unsupported"),
        ("FREQ=DAILY;BYSECOND=0,30", "rrule_bysecond_unsupported"),
        ("FREQ=FORTNIGHTLY", "rrule_malformed"),
        ("BYHOUR=9", "rrule_malformed"),
        ("", "rrule_malformed"),
        ("FREQ=DAILY;", "rrule_malformed"),
        ("FREQ=DAILY;;BYHOUR=9", "rrule_malformed"),
        ("FREQ=DAILY;FREQ=WEEKLY", "rrule_malformed"),
        ("FREQ=DAILY\nFREQ=WEEKLY", "rrule_malformed"),
        ("FREQ=DAILY;INTERVAL=0", "rrule_value_out_of_range"),
        ("FREQ=DAILY;INTERVAL=-2", "rrule_malformed"),
        ("FREQ=DAILY;INTERVAL=1001", "rrule_value_out_of_range"),
        ("FREQ=DAILY;COUNT=0", "rrule_value_out_of_range"),
        ("FREQ=DAILY;COUNT=10001", "rrule_value_out_of_range"),
        ("FREQ=DAILY;COUNT=three", "rrule_malformed"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20300101", "rrule_count_and_until"),
        ("FREQ=DAILY;BYHOUR=24", "rrule_value_out_of_range"),
        ("FREQ=DAILY;BYMINUTE=60", "rrule_value_out_of_range"),
        ("FREQ=DAILY;BYHOUR=9,", "rrule_malformed"),
        ("FREQ=DAILY;BYHOUR=nine", "rrule_malformed"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "rrule_value_out_of_range"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "rrule_value_out_of_range"),
        ("FREQ=YEARLY;BYMONTH=13", "rrule_value_out_of_range"),
        ("FREQ=WEEKLY;BYDAY=XX", "rrule_malformed"),
        ("FREQ=WEEKLY;BYDAY=-MO", "rrule_malformed"),
        ("FREQ=WEEKLY;BYDAY=1MO", "rrule_part_not_allowed"),
        ("FREQ=DAILY;BYDAY=-1FR", "rrule_part_not_allowed"),
        ("FREQ=MONTHLY;BYDAY=54MO", "rrule_value_out_of_range"),
        ("FREQ=WEEKLY;BYMONTHDAY=3", "rrule_part_not_allowed"),
        ("FREQ=WEEKLY;WKST=XY", "rrule_malformed"),
        ("FREQ=DAILY;UNTIL=2027-01-01", "rrule_malformed"),
        ("FREQ=DAILY;UNTIL=20270230", "rrule_malformed"),
        ("DTSTART:20261201T090000Z\nRRULE:FREQ=DAILY", "rrule_dtstart_zoned"),
        ("DTSTART;TZID=Europe/Lisbon:20261201T090000\nRRULE:FREQ=DAILY", "rrule_dtstart_zoned"),
        ("DTSTART:20261201\nRRULE:FREQ=DAILY", "rrule_dtstart_malformed"),
        ("DTSTART;VALUE=DATE:20261201\nRRULE:FREQ=DAILY", "rrule_dtstart_malformed"),
        ("DTSTART:20261201T090030\nRRULE:FREQ=DAILY", "rrule_dtstart_malformed"),
        ("DTSTART:20261301T090000\nRRULE:FREQ=DAILY", "rrule_dtstart_malformed"),
        ("DTSTART:20261201T090000\nDTSTART:20261201T090000\nRRULE:FREQ=DAILY", "rrule_malformed"),
        ("DTSTART:20261201T090000", "rrule_malformed"),
    ],
)
def test_refusals_name_rrule_with_a_stable_code(text: str, code: str) -> None:
    field, found, message = _refusal(text)
    assert (field, found) == ("rrule", code)
    assert message


def test_the_text_is_capped_at_1000_characters() -> None:
    filler = ",".join(["9"] * 500)  # BYHOUR=9,9,9,...: harmless, only long
    longest = f"FREQ=DAILY;BYHOUR={filler}"[:MAX_TEXT_LENGTH].rstrip(",")
    assert parse_rule(longest, start=NOW).byhour == (9,)
    assert _refusal(longest + ",9" * 10)[1] == "rrule_too_long"
    assert MAX_TEXT_LENGTH == 1000


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,30", 48),
        ("FREQ=HOURLY;BYMINUTE=0,30", 48),
        ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=8,9,10,11,12;BYMINUTE=0,10,20,30,40", 25),
        ("FREQ=HOURLY;INTERVAL=5;BYMINUTE=0,10,20,30,40", 25),  # some days have 5 of the hours
        ("FREQ=HOURLY;INTERVAL=7;BYHOUR=0,7,14,21,1,8,15,22;BYMINUTE=0,10,20,30,40,50,55", 28),
    ],
)
def test_more_than_24_fires_in_a_local_day_is_refused_with_the_exact_count(text: str, fires: int) -> None:
    field, code, message = _refusal(text)
    assert (field, code) == ("rrule", "rrule_too_frequent")
    assert f"up to {fires} times" in message


@pytest.mark.parametrize(
    ("text", "most"),
    [
        ("FREQ=HOURLY", 24),
        ("FREQ=HOURLY;INTERVAL=2;BYMINUTE=0,30", 24),
        ("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0", 24),
        ("FREQ=DAILY;BYHOUR=9,21;BYMINUTE=0,5,10,15,20,25,30,35,40,45,50,55", 24),
        ("FREQ=HOURLY;INTERVAL=5;BYMINUTE=0,15,30,45", 20),  # 5 of the hours, some days
        ("FREQ=HOURLY;INTERVAL=7;BYHOUR=0,7,14,21,1,8,15,22;BYMINUTE=0,10,20,30,40,50", 24),
    ],
)
def test_up_to_24_fires_in_a_local_day_is_accepted(text: str, most: int) -> None:
    rule = parse_rule(text, start=NOW)
    per_day: dict[date, int] = {}
    for instant in occurrences(rule, UTC_ZONE, _utc(2026, 12, 2), 300):
        per_day[instant.date()] = per_day.get(instant.date(), 0) + 1
    assert max(per_day.values()) == most


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=HOURLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=-30",
        "FREQ=MONTHLY;BYDAY=6MO",
        "FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=2MO",  # the first of a month is never its second Monday
        "FREQ=YEARLY;BYMONTH=1;BYDAY=53MO",  # with BYMONTH the ordinal counts in the month
        "FREQ=DAILY;UNTIL=20261130",
        "FREQ=DAILY;UNTIL=20261201T063000",
        "FREQ=DAILY;UNTIL=20261130T000000Z",
        "DTSTART:20261101T090000\nRRULE:FREQ=DAILY;COUNT=30",  # the 30th was 30 November
        # INTERVAL out of step with the BY parts: a fortnight from a Tuesday never reaches a
        # Monday; 48 hours from 06:00 never reach 07:00; four years from 2027 never reach a leap year.
        "FREQ=DAILY;INTERVAL=14;BYDAY=MO",
        "DTSTART:20261201T060000\nRRULE:FREQ=HOURLY;INTERVAL=48;BYHOUR=7",
        "DTSTART:20270101T090000\nRRULE:FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
        "DTSTART:20270101T090000\nRRULE:FREQ=MONTHLY;INTERVAL=12;BYMONTH=2",
    ],
)
def test_a_rule_that_never_fires_after_start_is_refused(text: str) -> None:
    assert _refusal(text)[:2] == ("rrule", "rrule_never_fires")


def test_a_rule_whose_only_occurrences_are_rare_is_accepted() -> None:
    # Leap days that are Mondays: 29 February 2044 is the next one.
    rule = parse_rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=9;BYMINUTE=0", start=NOW)
    assert next_occurrence(rule, UTC_ZONE, _utc(2026, 12, 1)) == _utc(2044, 2, 29, 9)


def test_count_left_over_after_start_is_accepted() -> None:
    rule = parse_rule("DTSTART:20261101T090000\nRRULE:FREQ=DAILY;COUNT=31", start=NOW)
    assert occurrences(rule, UTC_ZONE, _utc(2026, 12, 1, 6), 5) == [_utc(2026, 12, 1, 9)]


def test_a_utc_until_is_checked_in_the_zone_when_it_is_given() -> None:
    # 10:00 in New York on 1 December is 15:00Z, after the UNTIL of 12:00Z: it never fires
    # there. Without a zone the check only refuses what would never fire in any zone.
    text = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0;UNTIL=20261201T120000Z"
    start = datetime(2026, 12, 1, 8, 0)
    assert _refusal(text, start=start, zone=NEW_YORK)[1] == "rrule_never_fires"
    rule = parse_rule(text, start=start)
    assert next_occurrence(rule, NEW_YORK, _utc(2026, 12, 1, 13)) is None
    # In Tokyo, 10:00 on 1 December is 01:00Z, before the UNTIL; on 2 December it is after.
    assert occurrences(parse_rule(text, start=start, zone=TOKYO), TOKYO, _utc(2026, 11, 30, 23), 3) == [
        _utc(2026, 12, 1, 1),
    ]


def test_supported_description_names_what_is_refused() -> None:
    for word in ("MINUTELY", "BYSETPOS", "BYWEEKNO", "BYYEARDAY", "24", "never fires", "DTSTART"):
        assert word in SUPPORTED_DESCRIPTION
    assert "\n" not in SUPPORTED_DESCRIPTION


# --- local times across daylight saving ----------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        (
            LISBON,
            _utc(2026, 3, 28),
            ["2026-03-28T09:00:00+00:00", "2026-03-29T09:00:00+01:00", "2026-03-30T09:00:00+01:00"],
        ),
        (
            LISBON,
            _utc(2026, 10, 24),
            ["2026-10-24T09:00:00+01:00", "2026-10-25T09:00:00+00:00", "2026-10-26T09:00:00+00:00"],
        ),
        (
            NEW_YORK,
            _utc(2026, 3, 7),
            ["2026-03-07T09:00:00-05:00", "2026-03-08T09:00:00-04:00", "2026-03-09T09:00:00-04:00"],
        ),
        (
            NEW_YORK,
            _utc(2026, 10, 31),
            ["2026-10-31T09:00:00-04:00", "2026-11-01T09:00:00-05:00", "2026-11-02T09:00:00-05:00"],
        ),
        (
            SYDNEY,
            _utc(2026, 4, 3, 12),
            ["2026-04-04T09:00:00+11:00", "2026-04-05T09:00:00+10:00", "2026-04-06T09:00:00+10:00"],
        ),
        (
            SYDNEY,
            _utc(2026, 10, 2, 12),
            ["2026-10-03T09:00:00+10:00", "2026-10-04T09:00:00+11:00", "2026-10-05T09:00:00+11:00"],
        ),
        (
            KATHMANDU,
            _utc(2026, 3, 28),
            ["2026-03-28T09:00:00+05:45", "2026-03-29T09:00:00+05:45", "2026-03-30T09:00:00+05:45"],
        ),
    ],
)
def test_nine_stays_nine_local_across_both_changes(
    zone: ZoneInfo, after: datetime, expected: list[str]
) -> None:
    rule = parse_rule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", start=START_2026)
    assert _views(rule, zone, after, 3) == expected


@pytest.mark.parametrize(
    ("zone", "after", "instants"),
    [
        # The UTC instants move by the offset change; the local time does not.
        (LISBON, _utc(2026, 3, 28), [_utc(2026, 3, 28, 9), _utc(2026, 3, 29, 8)]),
        (NEW_YORK, _utc(2026, 10, 31), [_utc(2026, 10, 31, 13), _utc(2026, 11, 1, 14)]),
        (SYDNEY, _utc(2026, 4, 3, 12), [_utc(2026, 4, 3, 22), _utc(2026, 4, 4, 23)]),
        (SYDNEY, _utc(2026, 10, 2, 12), [_utc(2026, 10, 2, 23), _utc(2026, 10, 3, 22)]),
        (KATHMANDU, _utc(2026, 3, 28), [_utc(2026, 3, 28, 3, 15), _utc(2026, 3, 29, 3, 15)]),
    ],
)
def test_the_instants_carry_the_offset_of_the_day(
    zone: ZoneInfo, after: datetime, instants: list[datetime]
) -> None:
    rule = parse_rule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", start=START_2026)
    found = occurrences(rule, zone, after, 2)
    assert found == instants
    assert all(instant.tzinfo is UTC for instant in found)


@pytest.mark.parametrize(
    ("zone", "rule_text", "after", "expected"),
    [
        # New York skips 02:00-03:00 on 8 March: 02:30 fires at 03:00 EDT (07:00Z), not at 03:30
        # (RFC 5545 3.3.5) and not never (3.3.10).
        (
            NEW_YORK,
            "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
            _utc(2026, 3, 7),
            ["2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
        ),
        # Lisbon skips 01:00-02:00 on 29 March.
        (
            LISBON,
            "FREQ=DAILY;BYHOUR=1;BYMINUTE=30",
            _utc(2026, 3, 28),
            ["2026-03-28T01:30:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"],
        ),
        # Sydney skips 02:00-03:00 on 4 October.
        (
            SYDNEY,
            "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
            _utc(2026, 10, 2, 12),
            ["2026-10-03T02:30:00+10:00", "2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"],
        ),
        # Lord Howe skips only 02:00-02:30 on 4 October.
        (
            LORD_HOWE,
            "FREQ=DAILY;BYHOUR=2;BYMINUTE=15",
            _utc(2026, 10, 2, 12),
            ["2026-10-03T02:15:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"],
        ),
    ],
)
def test_a_skipped_local_time_fires_once_at_the_first_valid_minute_after_it(
    zone: ZoneInfo, rule_text: str, after: datetime, expected: list[str]
) -> None:
    rule = parse_rule(rule_text, start=START_2026)
    assert _views(rule, zone, after, 3) == expected


def test_the_gap_in_new_york_is_at_seven_utc() -> None:
    rule = parse_rule("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", start=START_2026)
    assert next_occurrence(rule, NEW_YORK, _utc(2026, 3, 7, 8)) == _utc(2026, 3, 8, 7)
    # Asked again from the instant it fired at, it moves on to the next day.
    assert next_occurrence(rule, NEW_YORK, _utc(2026, 3, 8, 7)) == _utc(2026, 3, 9, 6, 30)


def test_times_in_one_gap_fire_once_not_twice() -> None:
    # 02:00, 02:30 and 03:00 on 8 March in New York are all 07:00Z: one push, not three.
    rule = parse_rule("FREQ=HOURLY;BYHOUR=0,1,2,3;BYMINUTE=0,30", start=START_2026)
    assert _views(rule, NEW_YORK, _utc(2026, 3, 8, 5), 6) == [
        "2026-03-08T00:30:00-05:00",
        "2026-03-08T01:00:00-05:00",
        "2026-03-08T01:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T03:30:00-04:00",
        "2026-03-09T00:00:00-04:00",
    ]
    daily = parse_rule("FREQ=DAILY;BYHOUR=2;BYMINUTE=0,30", start=START_2026)
    assert occurrences(daily, NEW_YORK, _utc(2026, 3, 7, 8), 3) == [
        _utc(2026, 3, 8, 7),
        _utc(2026, 3, 9, 6),
        _utc(2026, 3, 9, 6, 30),
    ]


@pytest.mark.parametrize(
    ("zone", "rule_text", "after", "expected"),
    [
        # New York repeats 01:00-02:00 on 1 November: 01:30 fires at 01:30 EDT (05:30Z) only.
        (
            NEW_YORK,
            "FREQ=DAILY;BYHOUR=1;BYMINUTE=30",
            _utc(2026, 10, 31),
            ["2026-10-31T01:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
        ),
        # Lisbon repeats 01:00-02:00 on 25 October.
        (
            LISBON,
            "FREQ=DAILY;BYHOUR=1;BYMINUTE=30",
            _utc(2026, 10, 24),
            ["2026-10-24T01:30:00+01:00", "2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"],
        ),
        # Sydney repeats 02:00-03:00 on 5 April.
        (
            SYDNEY,
            "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
            _utc(2026, 4, 3, 12),
            ["2026-04-04T02:30:00+11:00", "2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"],
        ),
        # Lord Howe repeats 01:30-02:00 on 5 April.
        (
            LORD_HOWE,
            "FREQ=DAILY;BYHOUR=1;BYMINUTE=45",
            _utc(2026, 4, 3, 12),
            ["2026-04-04T01:45:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"],
        ),
    ],
)
def test_a_repeated_local_time_fires_once_at_its_first_occurrence(
    zone: ZoneInfo, rule_text: str, after: datetime, expected: list[str]
) -> None:
    rule = parse_rule(rule_text, start=START_2026)
    assert _views(rule, zone, after, 3) == expected


def test_after_the_first_reading_of_a_repeated_time_the_second_does_not_fire() -> None:
    rule = parse_rule("FREQ=DAILY;BYHOUR=1;BYMINUTE=30", start=START_2026)
    fired = next_occurrence(rule, NEW_YORK, _utc(2026, 11, 1))
    assert fired == _utc(2026, 11, 1, 5, 30)
    # An hour later the wall clock reads 01:30 again (EST): nothing fires then.
    assert next_occurrence(rule, NEW_YORK, fired) == _utc(2026, 11, 2, 6, 30)
    assert next_occurrence(rule, NEW_YORK, _utc(2026, 11, 1, 6, 0)) == _utc(2026, 11, 2, 6, 30)


def test_hourly_over_a_fall_back_fires_each_local_hour_once() -> None:
    rule = parse_rule("FREQ=HOURLY;BYMINUTE=0", start=START_2026)
    assert _views(rule, NEW_YORK, _utc(2026, 11, 1, 4, 30), 4) == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T02:00:00-05:00",  # 01:00 EST (06:00Z) is not fired: 01:00 already was
        "2026-11-01T03:00:00-05:00",
        "2026-11-01T04:00:00-05:00",
    ]


# --- UNTIL ----------------------------------------------------------------------------------------


def test_a_utc_until_is_compared_with_the_instant_not_the_wall_clock() -> None:
    # Lisbon in summer is UTC+1: 09:00 on 1 July is 08:00Z, before an UNTIL of 08:30Z, though
    # its wall-clock reading (09:00) is after it. It fires; 2 July does not.
    rule = parse_rule("DTSTART:20260629T090000\nRRULE:FREQ=DAILY;UNTIL=20260701T083000Z", start=START_2026)
    assert _views(rule, LISBON, _utc(2026, 6, 29), 5) == [
        "2026-06-29T09:00:00+01:00",
        "2026-06-30T09:00:00+01:00",
        "2026-07-01T09:00:00+01:00",
    ]
    # New York in summer is UTC-4: 09:00 on 1 July is 13:00Z, after an UNTIL of 11:00Z, though
    # its wall-clock reading (09:00) is before it. 30 June is the last.
    rule = parse_rule("DTSTART:20260629T090000\nRRULE:FREQ=DAILY;UNTIL=20260701T110000Z", start=START_2026)
    assert _views(rule, NEW_YORK, _utc(2026, 6, 29), 5) == [
        "2026-06-29T09:00:00-04:00",
        "2026-06-30T09:00:00-04:00",
    ]


def test_a_utc_until_equal_to_an_instant_includes_it() -> None:
    rule = parse_rule("DTSTART:20260629T090000\nRRULE:FREQ=DAILY;UNTIL=20260630T080000Z", start=START_2026)
    assert occurrences(rule, LISBON, _utc(2026, 6, 1), 5) == [_utc(2026, 6, 29, 8), _utc(2026, 6, 30, 8)]


def test_a_floating_until_is_compared_in_local_time_in_every_zone() -> None:
    rule = parse_rule("DTSTART:20260629T090000\nRRULE:FREQ=DAILY;UNTIL=20260701T090000", start=START_2026)
    for zone, last in (
        (TOKYO, "2026-07-01T09:00:00+09:00"),
        (NEW_YORK, "2026-07-01T09:00:00-04:00"),
        (KATHMANDU, "2026-07-01T09:00:00+05:45"),
    ):
        views = _views(rule, zone, _utc(2026, 6, 1), 5)
        assert len(views) == 3
        assert views[-1] == last


def test_a_date_until_includes_that_whole_local_day() -> None:
    rule = parse_rule(
        "DTSTART:20260629T000000\nRRULE:FREQ=DAILY;UNTIL=20260701;BYHOUR=0,23;BYMINUTE=0,59", start=START_2026
    )
    views = _views(rule, SYDNEY, _utc(2026, 6, 1), 20)
    assert views[-2:] == ["2026-07-01T23:00:00+10:00", "2026-07-01T23:59:00+10:00"]
    assert len(views) == 12  # 3 days x 4 times


# --- zones, the other frequencies, COUNT ----------------------------------------------------------


def test_the_same_rule_in_another_zone_gives_the_same_local_time() -> None:
    rule = parse_rule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", start=datetime(2026, 12, 1, 8, 0))
    fired = next_occurrence(rule, LISBON, _utc(2026, 12, 1, 8))
    assert fired == _utc(2026, 12, 1, 9)
    # A moment later the person is in Tokyo (18:00 there): the floating reminder follows them
    # to 09:00 Tokyo the next morning; a pinned one stays at 09:00 Lisbon.
    moment = fired + timedelta(seconds=30)
    floating = next_occurrence(rule, TOKYO, moment)
    assert floating == _utc(2026, 12, 2, 0)
    assert floating is not None
    assert local_view(floating, TOKYO) == "2026-12-02T09:00:00+09:00"
    assert next_occurrence(rule, LISBON, moment) == _utc(2026, 12, 2, 9)


def test_weekly_byday_with_interval_and_wkst_as_in_rfc_5545() -> None:
    # RFC 5545 3.8.5.3: WKST changes which days an every-other-week rule picks.
    monday = parse_rule(
        "DTSTART:19970805T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
        start=START_2026.replace(year=1997),
    )
    sunday = parse_rule(
        "DTSTART:19970805T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
        start=START_2026.replace(year=1997),
    )
    after = _utc(1997, 8, 1)
    assert [i.day for i in occurrences(monday, UTC_ZONE, after, 10)] == [5, 10, 19, 24]
    assert [i.day for i in occurrences(sunday, UTC_ZONE, after, 10)] == [5, 17, 19, 31]


def test_weekly_on_three_days_in_new_york() -> None:
    rule = parse_rule("FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=18;BYMINUTE=30", start=NOW)
    assert _views(rule, NEW_YORK, _utc(2026, 12, 1, 12), 4) == [
        "2026-12-02T18:30:00-05:00",
        "2026-12-04T18:30:00-05:00",
        "2026-12-07T18:30:00-05:00",
        "2026-12-09T18:30:00-05:00",
    ]


def test_monthly_on_the_31st_skips_the_months_without_one() -> None:
    rule = parse_rule("FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9;BYMINUTE=0", start=START_2026)
    assert _views(rule, LISBON, _utc(2026, 1, 1), 7) == [
        "2026-01-31T09:00:00+00:00",
        "2026-03-31T09:00:00+01:00",
        "2026-05-31T09:00:00+01:00",
        "2026-07-31T09:00:00+01:00",
        "2026-08-31T09:00:00+01:00",
        "2026-10-31T09:00:00+00:00",
        "2026-12-31T09:00:00+00:00",
    ]


def test_monthly_last_day_and_last_friday() -> None:
    last_day = parse_rule("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0", start=START_2026)
    assert [i.date() for i in occurrences(last_day, UTC_ZONE, _utc(2028, 1, 1), 3)] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]
    last_friday = parse_rule("FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=17;BYMINUTE=0", start=START_2026)
    assert [i.date() for i in occurrences(last_friday, UTC_ZONE, _utc(2026, 1, 1), 3)] == [
        date(2026, 1, 30),
        date(2026, 2, 27),
        date(2026, 3, 27),
    ]


def test_yearly_fourth_thursday_of_november() -> None:
    rule = parse_rule("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;BYHOUR=12;BYMINUTE=0", start=START_2026)
    assert [i.date() for i in occurrences(rule, NEW_YORK, _utc(2026, 1, 1), 3)] == [
        date(2026, 11, 26),
        date(2027, 11, 25),
        date(2028, 11, 23),
    ]


def test_count_counts_from_dtstart_and_then_ends() -> None:
    rule = parse_rule("DTSTART:20261201T090000\nRRULE:FREQ=DAILY;COUNT=3", start=NOW)
    assert _views(rule, LISBON, _utc(2026, 11, 1), 10) == [
        "2026-12-01T09:00:00+00:00",
        "2026-12-02T09:00:00+00:00",
        "2026-12-03T09:00:00+00:00",
    ]
    # Asked in the middle, only what is left: COUNT does not restart.
    assert occurrences(rule, LISBON, _utc(2026, 12, 2, 9), 10) == [_utc(2026, 12, 3, 9)]
    assert next_occurrence(rule, LISBON, _utc(2026, 12, 3, 9)) is None


def test_next_occurrence_is_strictly_after() -> None:
    rule = parse_rule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", start=NOW)
    assert next_occurrence(rule, LISBON, _utc(2026, 12, 1, 9)) == _utc(2026, 12, 2, 9)
    assert next_occurrence(rule, LISBON, _utc(2026, 12, 1, 8, 59, 59)) == _utc(2026, 12, 1, 9)
    assert occurrences(rule, LISBON, _utc(2026, 12, 1, 9), 0) == []


def test_naive_after_is_a_programming_error() -> None:
    rule = parse_rule("FREQ=DAILY", start=NOW)
    with pytest.raises(ValueError, match="aware"):
        next_occurrence(rule, LISBON, datetime(2026, 12, 1, 9))
    with pytest.raises(ValueError, match="naive"):
        parse_rule("FREQ=DAILY", start=_utc(2026, 12, 1))


@pytest.mark.parametrize(
    "text",
    [
        "DTSTART:20150301T103000\nRRULE:FREQ=HOURLY;INTERVAL=7;BYMINUTE=0,30",
        "DTSTART:20150301T103000\nRRULE:FREQ=HOURLY;INTERVAL=5;BYHOUR=1,9,17;BYDAY=SA,SU",
        "DTSTART:20150301T103000\nRRULE:FREQ=DAILY;INTERVAL=3;BYHOUR=8,20",
        "DTSTART:20150304T103000\nRRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,SU;WKST=SU",
        "DTSTART:20150331T103000\nRRULE:FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=31,-2",
        "DTSTART:20150301T103000\nRRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO,-1FR",
        "DTSTART:20160229T103000\nRRULE:FREQ=YEARLY;INTERVAL=3",
        "DTSTART:20150301T103000\nRRULE:FREQ=YEARLY;INTERVAL=2;BYDAY=20MO,-1SU",
    ],
)
def test_far_from_dtstart_the_interval_keeps_its_phase(text: str) -> None:
    # The engine restarts dateutil near the moment asked about; dateutil walking from the real
    # DTSTART (in UTC, where local time is the instant) must agree.
    rule = parse_rule(text, start=datetime(2015, 1, 1))
    after = _utc(2031, 6, 15, 12, 17)
    walked = rrulestr(text).xafter(after.replace(tzinfo=None), count=30)
    assert occurrences(rule, UTC_ZONE, after, 30) == [moment.replace(tzinfo=UTC) for moment in walked]


@pytest.mark.parametrize(
    ("zone", "instant", "view"),
    [
        (LISBON, _utc(2026, 3, 29, 8), "2026-03-29T09:00:00+01:00"),
        (LISBON, _utc(2026, 1, 5, 9), "2026-01-05T09:00:00+00:00"),
        (NEW_YORK, _utc(2026, 1, 5, 14), "2026-01-05T09:00:00-05:00"),
        (KATHMANDU, _utc(2026, 1, 5, 3, 15), "2026-01-05T09:00:00+05:45"),
        (LORD_HOWE, _utc(2026, 6, 30, 22, 30), "2026-07-01T09:00:00+10:30"),
        (TOKYO, _utc(2026, 12, 31, 15), "2027-01-01T00:00:00+09:00"),
    ],
)
def test_local_view_is_rfc_3339_with_the_local_offset(zone: ZoneInfo, instant: datetime, view: str) -> None:
    assert local_view(instant, zone) == view


# --- ten years, five zones ------------------------------------------------------------------------


def _offsets_near(local: datetime, zone: ZoneInfo) -> set[timedelta]:
    """The UTC offsets the zone has around `local`, read from UTC (fromutc)."""
    found: set[timedelta] = set()
    # Transitions are months apart, and offsets within 14 hours: a day and a half either side
    # sees the offsets before and after any change that touches `local`.
    for hours in (-36, 0, 36):
        offset = (local.replace(tzinfo=UTC) + timedelta(hours=hours)).astimezone(zone).utcoffset()
        assert offset is not None
        found.add(offset)
    return found


def _expected_instant(local: datetime, zone: ZoneInfo) -> tuple[datetime, str]:
    """The instant `local` should fire at, found without the engine: by trying every offset the
    zone uses around then and keeping those whose instant reads back as `local`."""
    offsets = _offsets_near(local, zone)
    readings = sorted(
        instant
        for instant in ((local - offset).replace(tzinfo=UTC) for offset in offsets)
        if instant.astimezone(zone).replace(tzinfo=None) == local
    )
    if len(readings) == 2:
        return readings[0], "overlap"
    if readings:
        return readings[0], "plain"
    # A gap: walk minute by minute from the earliest candidate to where the offset changes.
    instant = min((local - offset).replace(tzinfo=UTC) for offset in offsets)
    before = instant.astimezone(zone).utcoffset()
    while instant.astimezone(zone).utcoffset() == before:
        instant += timedelta(minutes=1)
    return instant, "gap"


SIMULATED = [
    # zone, daily times that fall in its gaps and overlaps, DST changes each way in ten years
    (LISBON, [(1, 30)], 10),
    (NEW_YORK, [(1, 30), (2, 30)], 10),
    (SYDNEY, [(2, 30)], 10),
    (KATHMANDU, [(23, 45)], 0),  # no changes: a time whose UTC date is the day before
    (LORD_HOWE, [(1, 45), (2, 15)], 10),  # a 30-minute change
]


@pytest.mark.parametrize(("zone", "tricky", "changes"), SIMULATED, ids=lambda value: str(value))
def test_ten_years_of_a_dispatcher_miss_double_or_shift_nothing(
    zone: ZoneInfo, tricky: list[tuple[int, int]], changes: int
) -> None:
    first_day, end_day = date(2026, 1, 1), date(2036, 1, 1)
    kinds = {"plain": 0, "gap": 0, "overlap": 0}
    for hour, minute in [(9, 0), *tricky]:
        rule = parse_rule(f"FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute}", start=datetime(2025, 12, 31, 12))

        expected: list[datetime] = []
        day = first_day
        while day < end_day:
            instant, kind = _expected_instant(datetime.combine(day, time(hour, minute)), zone)
            expected.append(instant)
            kinds[kind] += 1
            day += timedelta(days=1)

        # The dispatcher: fire, then advance nextFireAt from the instant just fired.
        fired: list[datetime] = []
        moment = datetime.combine(first_day, time(), zone).astimezone(UTC) - timedelta(minutes=1)
        last = datetime.combine(end_day, time(), zone).astimezone(UTC)
        while (found := next_occurrence(rule, zone, moment)) is not None and found < last:
            fired.append(found)
            moment = found

        assert len(expected) == 3652
        assert fired == expected, f"{hour:02d}:{minute:02d}"
    # The tricky times met every change of the ten years: each spring gap and autumn overlap.
    assert kinds["gap"] == changes
    assert kinds["overlap"] == changes
