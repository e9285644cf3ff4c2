"""shared.domain.journey: how each move and assessment changes a performer's month, and the summary.

Expectations are written out by hand from DOMAIN.md and issue 4 ("The journey"): a promise is
*made* when it first reaches `promised`; *fulfilled on time* when the completion that was
accepted was reported by the due time; *first-time satisfaction* is reported -> satisfied with
no "not satisfied" before; *declined* counts only the performer's own "no".
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from shared.domain.journey import (
    COUNTERS,
    HORIZON_BUCKETS,
    PEOPLE_BUCKETS,
    SCOPES,
    MoveFacts,
    assessment_deltas,
    month_of,
    months_between,
    move_deltas,
    size_deltas,
    summarize,
)
from shared.domain.promises import TRANSITIONS, Act, Role, State

AT = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
DUE = AT + timedelta(days=3)


def facts(
    act: Act,
    role: Role,
    before: State,
    after: State,
    *,
    due_at: datetime | None = DUE,
    reported_at: datetime | None = None,
    ever_not_satisfied: bool = False,
) -> MoveFacts:
    return MoveFacts(
        act=act,
        role=role,
        before=before,
        after=after,
        at=AT,
        due_at=due_at,
        reported_at=reported_at,
        ever_not_satisfied=ever_not_satisfied,
    )


def _move(state: State, role: Role, act: Act, **kwargs: Any) -> dict[str, int]:
    """The deltas of a legal move, its next state taken from the state machine's table."""
    return move_deltas(facts(act, role, state, TRANSITIONS[(state, role, act)], **kwargs))


_C, _P = Role.customer, Role.performer

# --- made --------------------------------------------------------------------------------------


def test_a_self_logged_promise_is_made_when_it_opens() -> None:
    assert move_deltas(facts(Act.self_log, _P, State.opening, State.promised)) == {"made": 1}


def test_opening_a_request_or_an_offer_makes_nothing_yet() -> None:
    assert move_deltas(facts(Act.request, _C, State.opening, State.requested)) == {}
    assert move_deltas(facts(Act.offer, _P, State.opening, State.offered)) == {}


@pytest.mark.parametrize(
    ("state", "role", "act"),
    [
        (State.requested, _P, Act.promise),
        (State.offered, _C, Act.accept),
        (State.countered, _C, Act.accept),
    ],
)
def test_a_promise_is_made_when_it_first_reaches_promised(state: State, role: Role, act: Act) -> None:
    assert _move(state, role, act) == {"made": 1}


def test_back_to_promised_after_not_satisfied_is_not_made_again() -> None:
    deltas = _move(State.reported, _C, Act.declare_not_satisfied, reported_at=AT)
    assert deltas == {}


@pytest.mark.parametrize(
    ("state", "role", "act"),
    [
        (State.requested, _P, Act.counter),
        (State.offered, _C, Act.counter),
        (State.countered, _C, Act.counter),
        (State.promised, _P, Act.report_completion),
    ],
)
def test_moves_that_stay_open_count_nothing(state: State, role: Role, act: Act) -> None:
    assert _move(state, role, act, reported_at=AT) == {}


# --- fulfilled ---------------------------------------------------------------------------------


def test_fulfilled_on_time_at_the_first_report() -> None:
    deltas = _move(State.reported, _C, Act.declare_satisfied, reported_at=DUE - timedelta(hours=1))
    assert deltas == {"fulfilled": 1, "fulfilledOnTime": 1, "firstTimeSatisfied": 1}


def test_reported_exactly_at_the_due_time_is_on_time() -> None:
    deltas = _move(State.reported, _C, Act.declare_satisfied, reported_at=DUE)
    assert deltas.get("fulfilledOnTime") == 1


def test_fulfilled_late_is_fulfilled_but_not_on_time() -> None:
    deltas = _move(State.reported, _C, Act.declare_satisfied, reported_at=DUE + timedelta(seconds=1))
    assert deltas == {"fulfilled": 1, "firstTimeSatisfied": 1}


def test_fulfilled_without_a_due_time_is_on_time() -> None:
    deltas = _move(State.reported, _C, Act.declare_satisfied, due_at=None, reported_at=AT)
    assert deltas == {"fulfilled": 1, "fulfilledOnTime": 1, "firstTimeSatisfied": 1}


def test_satisfied_after_a_not_satisfied_is_not_first_time() -> None:
    deltas = _move(
        State.reported,
        _C,
        Act.declare_satisfied,
        reported_at=DUE - timedelta(days=1),
        ever_not_satisfied=True,
    )
    assert deltas == {"fulfilled": 1, "fulfilledOnTime": 1}


def test_late_and_after_a_not_satisfied_counts_only_fulfilled() -> None:
    deltas = _move(
        State.reported,
        _C,
        Act.declare_satisfied,
        reported_at=DUE + timedelta(days=1),
        ever_not_satisfied=True,
    )
    assert deltas == {"fulfilled": 1}


# --- revoked, declined, withdrawn, cancelled ---------------------------------------------------


def test_revoking_counts_revoked() -> None:
    assert _move(State.promised, _P, Act.revoke) == {"revoked": 1}


def test_a_performer_declining_a_request_is_a_healthy_decline() -> None:
    assert _move(State.requested, _P, Act.decline) == {"declined": 1}


@pytest.mark.parametrize("state", [State.offered, State.countered])
def test_the_customer_declining_is_not_the_performers_decline(state: State) -> None:
    assert _move(state, _C, Act.decline) == {}


@pytest.mark.parametrize(
    ("state", "role"),
    [(State.requested, _C), (State.offered, _P), (State.countered, _P)],
)
def test_withdrawing_counts_nothing(state: State, role: Role) -> None:
    assert _move(state, role, Act.withdraw) == {}


@pytest.mark.parametrize("state", [State.promised, State.reported])
def test_cancelling_counts_nothing(state: State) -> None:
    assert _move(state, _C, Act.cancel, reported_at=AT) == {}


def test_every_delta_is_a_known_counter_and_positive() -> None:
    for (state, role, act), after in TRANSITIONS.items():
        for flags in (False, True):
            deltas = move_deltas(facts(act, role, state, after, reported_at=AT, ever_not_satisfied=flags))
            assert set(deltas) <= set(COUNTERS), (state, role, act)
            assert all(v == 1 for v in deltas.values()), (state, role, act)


# --- assessments, size -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 3, 5])
def test_an_assessment_adds_one_and_its_value(value: int) -> None:
    assert assessment_deltas(value) == {"assessments": 1, "assessmentTotal": value}


# Bucket edges, written out by hand (DOMAIN.md's size: people coordinated, horizon in days).
PEOPLE_GROUPS = ((1,), (2,), (3, 5), (6, 10), (11, 25), (26, 100), (101, 1000), (1001, 10**6))
HORIZON_GROUPS = ((1,), (2, 7), (8, 30), (31, 90), (91, 365), (366, 3650))


def _people(n: int) -> dict[str, int]:
    return size_deltas({"people": n, "horizonDays": 1, "scope": "self"})


def _horizon(n: int) -> dict[str, int]:
    return size_deltas({"people": 1, "horizonDays": n, "scope": "self"})


@pytest.mark.parametrize(
    ("deltas_of", "groups"), [(_people, PEOPLE_GROUPS), (_horizon, HORIZON_GROUPS)], ids=["people", "horizon"]
)
def test_bucket_edges(deltas_of: Any, groups: tuple[tuple[int, ...], ...]) -> None:
    """Sizes in one group count in the same bucket; neighbouring groups in different ones."""
    for group in groups:
        assert deltas_of(group[0]) == deltas_of(group[-1]), group
    for lower, upper in itertools.pairwise(groups):
        assert deltas_of(lower[-1]) != deltas_of(upper[0]), (lower, upper)
    assert len({tuple(sorted(deltas_of(g[0]))) for g in groups}) == len(groups)


def test_scopes_count_in_five_buckets() -> None:
    buckets = {
        tuple(sorted(size_deltas({"people": 1, "horizonDays": 1, "scope": scope}))) for scope in SCOPES
    }
    assert len(buckets) == 5


def test_size_deltas_are_three_counters_of_one_apart_from_the_others() -> None:
    deltas = size_deltas({"people": 12, "horizonDays": 90, "scope": "team"})
    assert len(deltas) == 3
    assert set(deltas.values()) == {1}
    assert not set(deltas) & set(COUNTERS)
    other = size_deltas({"people": 13, "horizonDays": 91, "scope": "network"})
    assert set(other) != set(deltas)
    assert size_deltas({"people": 11, "horizonDays": 31, "scope": "team"}) == deltas, "same buckets"


def test_scopes_are_ordered_smallest_first() -> None:
    assert SCOPES == ("self", "team", "organisation", "network", "community")


def test_size_deltas_refuse_an_unknown_scope() -> None:
    with pytest.raises(ValueError, match="not in tuple"):
        size_deltas({"people": 1, "horizonDays": 1, "scope": "galaxy"})


def test_buckets_cover_every_allowed_size_without_gaps() -> None:
    for buckets, top in ((PEOPLE_BUCKETS, 1_000_000), (HORIZON_BUCKETS, 3650)):
        assert buckets[0][0] == 1
        for (_, high), (low, _) in itertools.pairwise(buckets):
            assert high is not None
            assert low == high + 1
        assert buckets[-1][1] is None or buckets[-1][1] >= top


def _sizes(*sizes: tuple[int, int, str]) -> dict[str, int]:
    """The counters of a month in which promises of these sizes were made (as the moves add them)."""
    counters: dict[str, int] = {"made": len(sizes)}
    for people, days, scope in sizes:
        for name, delta in size_deltas({"people": people, "horizonDays": days, "scope": scope}).items():
            counters[name] = counters.get(name, 0) + delta
    return counters


def _size(people: int = 1, days: int = 1, scope: str = "self") -> dict[str, Any]:
    """The journey's size summary of a month with one promise of this size."""
    summary: dict[str, Any] = summarize("2026-11", _sizes((people, days, scope)))["size"]
    return summary


@pytest.mark.parametrize(
    ("people", "label"),
    [
        (1, "1"),
        (2, "2"),
        (3, "3-5"),
        (5, "3-5"),
        (6, "6-10"),
        (10, "6-10"),
        (11, "11-25"),
        (25, "11-25"),
        (26, "26-100"),
        (100, "26-100"),
        (101, "101-1000"),
        (1000, "101-1000"),
        (1001, "1001+"),
        (10**6, "1001+"),
    ],
)
def test_people_bucket_labels(people: int, label: str) -> None:
    size = _size(people=people)
    assert (size["medianPeople"], size["largestPeople"]) == (label, label)


@pytest.mark.parametrize(
    ("days", "label"),
    [
        (1, "1"),
        (2, "2-7"),
        (7, "2-7"),
        (8, "8-30"),
        (30, "8-30"),
        (31, "31-90"),
        (90, "31-90"),
        (91, "91-365"),
        (365, "91-365"),
        (366, "366+"),
        (3650, "366+"),
    ],
)
def test_horizon_bucket_labels(days: int, label: str) -> None:
    size = _size(days=days)
    assert (size["medianHorizonDays"], size["largestHorizonDays"]) == (label, label)


@pytest.mark.parametrize("scope", ["self", "team", "organisation", "network", "community"])
def test_size_counts_the_scope(scope: str) -> None:
    assert _size(scope=scope)["largestScope"] == scope


# --- summarize ---------------------------------------------------------------------------------

NO_SIZE = {
    "medianPeople": None,
    "largestPeople": None,
    "medianHorizonDays": None,
    "largestHorizonDays": None,
    "largestScope": None,
}


def test_an_empty_month_is_zeros_and_nones() -> None:
    assert summarize("2026-03", {}) == {
        "month": "2026-03",
        "promisesMade": 0,
        "fulfilled": 0,
        "fulfilledOnTime": 0,
        "onTimeRate": None,
        "firstTimeSatisfied": 0,
        "firstTimeSatisfactionRate": None,
        "revoked": 0,
        "declined": 0,
        "assessments": 0,
        "meanAssessment": None,
        "size": NO_SIZE,
    }


MIXED = ((1, 7, "self"), (40, 30, "team"), (3, 365, "organisation"), (2, 10, "team"))


def test_summarize_counts_rates_and_mean() -> None:
    month = summarize(
        "2026-11",
        {
            "month": "2026-11",
            "fulfilled": 3,
            "fulfilledOnTime": 2,
            "firstTimeSatisfied": 1,
            "revoked": 1,
            "declined": 2,
            "assessments": 3,
            "assessmentTotal": 13,
            **_sizes(*MIXED),
        },
    )
    assert {k: v for k, v in month.items() if k != "size"} == {
        "month": "2026-11",
        "promisesMade": 4,
        "fulfilled": 3,
        "fulfilledOnTime": 2,
        "onTimeRate": 0.6667,
        "firstTimeSatisfied": 1,
        "firstTimeSatisfactionRate": 0.3333,
        "revoked": 1,
        "declined": 2,
        "assessments": 3,
        "meanAssessment": 4.33,
    }
    assert month["size"]["largestScope"] == "organisation"


def test_summarize_median_and_largest_of_an_even_month() -> None:
    # people 1, 2, 3, 40 -> the lower middle is 2; days 7, 10, 30, 365 -> the lower middle is 10.
    assert summarize("2026-11", _sizes(*MIXED))["size"] == {
        "medianPeople": "2",
        "largestPeople": "26-100",
        "medianHorizonDays": "8-30",
        "largestHorizonDays": "91-365",
        "largestScope": "organisation",
    }


def test_summarize_odd_number_of_sizes_takes_the_middle() -> None:
    size = summarize("2026-11", _sizes((7, 1, "self"), (1, 100, "self"), (2000, 3, "community")))["size"]
    assert size == {
        "medianPeople": "6-10",
        "largestPeople": "1001+",
        "medianHorizonDays": "2-7",
        "largestHorizonDays": "91-365",
        "largestScope": "community",
    }


def test_summarize_rates_are_none_without_fulfilled_promises_even_with_made_ones() -> None:
    month = summarize("2026-11", {"revoked": 1, **_sizes((1, 7, "self"), (1, 7, "self"))})
    assert month["onTimeRate"] is None
    assert month["firstTimeSatisfactionRate"] is None
    assert month["meanAssessment"] is None
    assert month["promisesMade"] == 2
    assert month["revoked"] == 1


def test_summarize_full_marks() -> None:
    month = summarize(
        "2026-11",
        {
            "fulfilled": 2,
            "fulfilledOnTime": 2,
            "firstTimeSatisfied": 2,
            "assessments": 1,
            "assessmentTotal": 5,
        },
    )
    assert month["onTimeRate"] == 1.0
    assert month["firstTimeSatisfactionRate"] == 1.0
    assert month["meanAssessment"] == 5.0
    assert month["size"] == NO_SIZE


# --- months ------------------------------------------------------------------------------------


def test_months_between_crosses_a_year_boundary() -> None:
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_months_between_one_month_and_a_whole_year() -> None:
    assert months_between("2026-05", "2026-05") == ["2026-05"]
    year = months_between("2026-01", "2026-12")
    assert year == [f"2026-{m:02d}" for m in range(1, 13)]


def test_months_between_ten_years() -> None:
    months = months_between("2017-01", "2026-12")
    assert len(months) == 120
    assert months[0] == "2017-01"
    assert months[-1] == "2026-12"
    assert len(set(months)) == 120


def test_months_between_is_empty_when_first_is_after_last() -> None:
    assert months_between("2026-03", "2026-02") == []


def test_month_of_a_utc_time() -> None:
    assert month_of(datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)) == "2026-01"
    assert month_of(datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)) == "2025-12"
    assert month_of(datetime(987, 3, 4, tzinfo=UTC)) == "0987-03"


def test_month_of_converts_to_utc() -> None:
    assert month_of(datetime(2026, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-2)))) == "2027-01"
