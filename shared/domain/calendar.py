"""The calendar feed as iCalendar (RFC 5545), written with the `icalendar` library: pure.

What it shows:

- each promise of mine due from 30 days ago to 365 days ahead, in either role, as an event at
  its due time (UTC): "I promised: <what>" as the performer, "Promised to me: <what>" as the
  customer, the other side by handle or name in the description. `UID` is
  `promise-<promiseId>@career-journey.app`, `SEQUENCE` the promise's version (it grows with every
  move), `STATUS` CANCELLED once it was cancelled, revoked, declined or withdrawn, TENTATIVE
  while nothing is promised yet (requested, offered, countered), CONFIRMED otherwise;
- each occurrence of my plans' reminders in the next 60 days (from today's UTC midnight), its
  title as the summary, `UID` `reminder-<planId>[-<itemId>]-<occurrence, UTC basic>@...`,
  `SEQUENCE` the reminder's version. Paused reminders show nothing; a reminder held by
  `onlyIfNotDone` (its item settled, or done on that local day) shows no occurrence the
  dispatcher would hold.

Time zones. A reminder's occurrences are the instants `shared.domain.recurrence` computes in
the reminder's zone, which is what the dispatcher fires by; each is written as a local time
with `TZID` and the zone's `VTIMEZONE` (`Calendar.add_missing_timezones`), for pinned and
floating reminders alike. RFC 5545 floating times (form #1 of 3.3.5: no `TZID`) mean "this
wall-clock time in whatever zone the viewer is in", i.e. the calendar device's zone, which the
server neither knows nor follows; the product's floating reminders follow the *profile's* zone
(the handle follower moves them when it changes, and the change log bumps the feed). Written
floating, an event would sit at another instant than its push whenever the device and the
profile disagree (a trip before the profile is changed), and clients read floating times in
a daylight-saving gap each their own way; zoned, the event is exactly when the push comes
(a skipped local time shows at the end of the gap, where the reminder fires).

Events have no `DTEND`: a due time and a reminder are moments (RFC 5545 3.6.1: the event ends
when it starts), and `TRANSP:TRANSPARENT` keeps them out of free/busy.

Every value is a function of the stored data and the day (no "now", no random `UID`): the
feed's strong ETag (`feed_etag`) names one exact body. Without `METHOD`, `DTSTAMP` is when the
information was last revised (RFC 5545 3.8.7.2): the promise's or reminder's `updatedAt`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from icalendar.prop import vDuration

from shared.domain import recurrence

# Bump when the feed's shape changes: every ETag changes with it, so no client keeps an old body.
FORMAT_VERSION: Final = 1
UID_DOMAIN: Final = "career-journey.app"
PRODID: Final = "-//Career Journey//Calendar feed//EN"
CALENDAR_NAME: Final = "Career journey"
PROMISES_PAST_DAYS: Final = 30
PROMISES_AHEAD_DAYS: Final = 365
REMINDER_DAYS: Final = 60
# Calendar apps poll on their own schedule; this is the hint RFC 7986 (and Outlook's X- twin) give.
REFRESH: Final = timedelta(hours=1)
_CHUNK: Final = 64  # occurrences asked of the recurrence engine at a time

Status = Literal["CONFIRMED", "TENTATIVE", "CANCELLED"]
_CANCELLED: Final = frozenset({"cancelled", "revoked", "declined", "withdrawn"})
_NOT_YET_PROMISED: Final = frozenset({"opening", "requested", "offered", "countered"})


def event_status(state: str) -> Status:
    """The event's STATUS for a promise in `state`."""
    if state in _CANCELLED:
        return "CANCELLED"
    if state in _NOT_YET_PROMISED:
        return "TENTATIVE"
    return "CONFIRMED"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def promise_window(today: date) -> tuple[datetime, datetime]:
    """Due times the feed shows: from 30 days before today (UTC) to the end of 365 days after."""
    return (
        _midnight(today - timedelta(days=PROMISES_PAST_DAYS)),
        _midnight(today + timedelta(days=PROMISES_AHEAD_DAYS + 1)),
    )


def reminder_window(today: date) -> tuple[datetime, datetime]:
    """Occurrences the feed shows: from today's UTC midnight, 60 days (end excluded)."""
    return _midnight(today), _midnight(today + timedelta(days=REMINDER_DAYS))


# --- validators ---------------------------------------------------------------------------------


def feed_etag(feed_id: str, cal_seq: int, today: date) -> str:
    """The feed's strong ETag: what its body depends on, hashed (the feed id stays private).

    `calSeq` moves with every change of my promises, reminders or profile; the day moves the
    windows; the format version moves with the code that writes the body.
    """
    seed = f"{FORMAT_VERSION}|{feed_id}|{cal_seq}|{today.isoformat()}"
    return f'"{hashlib.sha256(seed.encode()).hexdigest()[:32]}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names the current representation (RFC 9110 13.1.2: the weak
    comparison, so `W/"x"` matches `"x"`; `*` matches any)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


# --- what the feed shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPromise:
    """A promise of mine as the feed shows it."""

    promise_id: str
    my_role: Literal["customer", "performer"]
    what: str
    state: str
    due_at: datetime
    counterpart: str  # "@handle", or an outside person's name
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class FeedReminder:
    """A reminder of one of my plans (or plan items) as the feed shows it."""

    plan_id: str
    item_id: str | None
    title: str
    rrule: str  # the stored rule, with its DTSTART (`recurrence.load_rule`)
    zone: ZoneInfo  # where it fires: its own (pinned) or my profile's (floating)
    version: int
    updated_at: datetime
    only_if_not_done: bool = False
    settled: bool = False
    last_done_at: datetime | None = None


def counterpart_label(party: dict[str, object]) -> str:
    """The other side as the feed names it: an app user by handle, an outside person by name."""
    if party.get("handle"):
        return f"@{party['handle']}"
    return str(party.get("name") or "someone")


def promise_uid(promise_id: str) -> str:
    """The stable UID of a promise's event."""
    return f"promise-{promise_id}@{UID_DOMAIN}"


def reminder_uid(plan_id: str, item_id: str | None, occurrence: datetime) -> str:
    """The stable UID of one occurrence of a reminder (by its instant, UTC basic format)."""
    owner = f"{plan_id}-{item_id}" if item_id else plan_id
    return f"reminder-{owner}-{occurrence.astimezone(UTC):%Y%m%dT%H%M%SZ}@{UID_DOMAIN}"


def promise_event(promise: FeedPromise) -> Event:
    """One promise's event, at its due time (UTC)."""
    if promise.my_role == "performer":
        summary, other = f"I promised: {promise.what}", f"Customer: {promise.counterpart}"
    else:
        summary, other = f"Promised to me: {promise.what}", f"Performer: {promise.counterpart}"
    return Event.new(
        uid=promise_uid(promise.promise_id),
        stamp=promise.updated_at,
        last_modified=promise.updated_at,
        start=promise.due_at.astimezone(UTC),
        summary=summary,
        description=f"{other}\nState: {promise.state}",
        sequence=promise.version,
        status=event_status(promise.state),  # type: ignore[arg-type]
        transparency="TRANSPARENT",  # type: ignore[arg-type]
    )


def _held(reminder: FeedReminder, occurrence: datetime) -> bool:
    """Whether the dispatcher would hold this occurrence (`onlyIfNotDone`, already done)."""
    if not reminder.only_if_not_done:
        return False
    if reminder.settled:
        return True
    last = reminder.last_done_at
    return (
        last is not None
        and last.astimezone(reminder.zone).date() == occurrence.astimezone(reminder.zone).date()
    )


def reminder_occurrences(reminder: FeedReminder, start: datetime, end: datetime) -> list[datetime]:
    """The instants (UTC) a reminder fires at from `start` (included) to `end` (excluded)."""
    rule = recurrence.load_rule(reminder.rrule)
    found: list[datetime] = []
    after = start - timedelta(seconds=1)  # occurrences are on whole minutes; the engine's is "strictly after"
    while True:
        chunk = recurrence.occurrences(rule, reminder.zone, after, _CHUNK)
        for instant in chunk:
            if instant >= end:
                return found
            if not _held(reminder, instant):
                found.append(instant)
        if len(chunk) < _CHUNK:
            return found
        after = chunk[-1]


def reminder_events(reminder: FeedReminder, start: datetime, end: datetime) -> list[Event]:
    """One event per occurrence in the window, in the reminder's zone (TZID)."""
    description = "A reminder of your learning plan."
    return [
        Event.new(
            uid=reminder_uid(reminder.plan_id, reminder.item_id, instant),
            stamp=reminder.updated_at,
            last_modified=reminder.updated_at,
            start=instant.astimezone(reminder.zone),
            summary=reminder.title,
            description=description,
            sequence=reminder.version,
            status="CONFIRMED",  # type: ignore[arg-type]
            transparency="TRANSPARENT",  # type: ignore[arg-type]
        )
        for instant in reminder_occurrences(reminder, start, end)
    ]


def build_calendar(promises: Iterable[FeedPromise], reminders: Sequence[FeedReminder], today: date) -> bytes:
    """The whole feed for `today` (UTC), as the bytes of a VCALENDAR."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.calendar_name = CALENDAR_NAME
    calendar.refresh_interval = REFRESH
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"  # required by RFC 7986 (5.7)
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for promise in sorted(promises, key=lambda p: (p.due_at, p.promise_id)):
        calendar.add_component(promise_event(promise))
    start, end = reminder_window(today)
    ordered = sorted(reminders, key=lambda r: (r.plan_id, r.item_id or ""))
    for reminder in ordered:
        for event in reminder_events(reminder, start, end):
            calendar.add_component(event)
    # Zones only as far as the reminders reach (a day either side): a short VTIMEZONE per zone.
    calendar.add_missing_timezones(
        first_date=start.date() - timedelta(days=1), last_date=end.date() + timedelta(days=1)
    )
    body: bytes = calendar.to_ical()
    return body
