"""The journey: what a person's promise log says about them, month by month.

The journey is the performer's record: promises made (a promise exists from the move that puts
it in `promised`), fulfilled, fulfilled on time, fulfilled at the first report (first-time
satisfaction), revoked, declined by them (healthy declines), the customers' assessments and the
size of what they promised. Each move changes the counters of one month (UTC) of one person,
kept in one item per month, so that reading a year is one Query whatever the number of promises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.domain.promises import Act, Role, State

SCOPES = ("self", "team", "organisation", "network", "community")
# Promise sizes are counted in fixed buckets, so a month's item has the same size whether the
# person made ten promises or ten thousand (the journey costs the same read units). Median and
# largest are therefore reported as buckets, e.g. "6-10" people.
PEOPLE_BUCKETS = ((1, 1), (2, 2), (3, 5), (6, 10), (11, 25), (26, 100), (101, 1000), (1001, None))
HORIZON_BUCKETS = ((1, 1), (2, 7), (8, 30), (31, 90), (91, 365), (366, None))
COUNTERS = (
    "made",
    "fulfilled",
    "fulfilledOnTime",
    "firstTimeSatisfied",
    "revoked",
    "declined",
    "assessments",
    "assessmentTotal",
)

_BEFORE_A_PROMISE = frozenset({State.opening, State.requested, State.offered, State.countered})


def month_of(moment: datetime) -> str:
    """`YYYY-MM` of a time, in UTC."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


@dataclass(frozen=True)
class MoveFacts:
    """What the journey needs to know about one move."""

    act: Act
    role: Role
    before: State
    after: State
    at: datetime
    due_at: datetime | None
    reported_at: datetime | None  # the last completion report, this move's included
    ever_not_satisfied: bool  # a "not satisfied" happened earlier in this promise's log


def move_deltas(facts: MoveFacts) -> dict[str, int]:
    """How one move changes the performer's counters for the month of `facts.at` (non-zero only)."""
    deltas: dict[str, int] = {}
    if facts.after == State.promised and facts.before in _BEFORE_A_PROMISE:
        deltas["made"] = 1
    if facts.after == State.fulfilled:
        deltas["fulfilled"] = 1
        if facts.due_at is None or (facts.reported_at is not None and facts.reported_at <= facts.due_at):
            deltas["fulfilledOnTime"] = 1
        if not facts.ever_not_satisfied:
            deltas["firstTimeSatisfied"] = 1
    if facts.after == State.revoked:
        deltas["revoked"] = 1
    if facts.after == State.declined and facts.role == Role.performer:
        deltas["declined"] = 1
    return deltas


def assessment_deltas(value: int) -> dict[str, int]:
    """How a customer's assessment changes the performer's counters."""
    return {"assessments": 1, "assessmentTotal": value}


def _bucket(value: int, buckets: Sequence[tuple[int, int | None]]) -> int:
    return next(
        i for i, (low, high) in enumerate(buckets) if value >= low and (high is None or value <= high)
    )


def _label(bucket: tuple[int, int | None]) -> str:
    low, high = bucket
    if high is None:
        return f"{low}+"
    return str(low) if low == high else f"{low}-{high}"


def size_deltas(size: Mapping[str, Any]) -> dict[str, int]:
    """The bucket counters one promise made adds to its month (`p<i>` people, `h<i>` horizon,
    `s<i>` scope: short names keep a year of months within one 4 KB read)."""
    return {
        f"p{_bucket(int(size['people']), PEOPLE_BUCKETS)}": 1,
        f"h{_bucket(int(size['horizonDays']), HORIZON_BUCKETS)}": 1,
        f"s{SCOPES.index(str(size['scope']))}": 1,
    }


def _median_and_largest(
    counters: Mapping[str, Any], prefix: str, labels: Sequence[str]
) -> tuple[str | None, str | None]:
    counts = [int(counters.get(f"{prefix}{i}", 0)) for i in range(len(labels))]
    total = sum(counts)
    if not total:
        return None, None
    running, median = 0, None
    for i, count in enumerate(counts):
        running += count
        if median is None and running * 2 >= total:
            median = labels[i]
    largest = labels[max(i for i, count in enumerate(counts) if count)]
    return median, largest


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarize(month: str, counters: Mapping[str, Any]) -> dict[str, Any]:
    """One month of the journey as the API shows it, from that month's stored counters."""
    made = int(counters.get("made", 0))
    fulfilled = int(counters.get("fulfilled", 0))
    assessments = int(counters.get("assessments", 0))
    median_people, largest_people = _median_and_largest(counters, "p", [_label(b) for b in PEOPLE_BUCKETS])
    median_horizon, largest_horizon = _median_and_largest(counters, "h", [_label(b) for b in HORIZON_BUCKETS])
    _, largest_scope = _median_and_largest(counters, "s", SCOPES)
    return {
        "month": month,
        "promisesMade": made,
        "fulfilled": fulfilled,
        "fulfilledOnTime": int(counters.get("fulfilledOnTime", 0)),
        "onTimeRate": _rate(int(counters.get("fulfilledOnTime", 0)), fulfilled),
        "firstTimeSatisfied": int(counters.get("firstTimeSatisfied", 0)),
        "firstTimeSatisfactionRate": _rate(int(counters.get("firstTimeSatisfied", 0)), fulfilled),
        "revoked": int(counters.get("revoked", 0)),
        "declined": int(counters.get("declined", 0)),
        "assessments": assessments,
        "meanAssessment": round(int(counters.get("assessmentTotal", 0)) / assessments, 2)
        if assessments
        else None,
        "size": {
            "medianPeople": median_people,
            "largestPeople": largest_people,
            "medianHorizonDays": median_horizon,
            "largestHorizonDays": largest_horizon,
            "largestScope": largest_scope,
        },
    }


def summarize_plan(figures: Mapping[str, Any]) -> dict[str, int]:
    """One month's plan figures as the API shows them, from the stored item (in local months)."""
    return {
        "itemsDone": int(figures.get("itemsDone", 0)),
        "practiceDays": len(figures.get("practiceDays", ())),
    }


def months_between(first: str, last: str) -> list[str]:
    """Every `YYYY-MM` from `first` to `last`, both included."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
