"""shared.domain.promises: the conversation for action, checked against DOMAIN.md's diagram.

The expectations below are written out by hand from DOMAIN.md, in plain strings, so that a slip
in the module's table shows up as a failing test rather than being copied into the expectation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.errors import Conflict
from shared.domain.promises import (
    API_ACTS,
    FINAL_STATES,
    OPENINGS,
    TRANSITIONS,
    Act,
    IllegalMove,
    Move,
    Opening,
    Outcome,
    Role,
    State,
    allowed_acts,
    apply,
    is_final,
    is_first_time_satisfaction,
    make_move,
    next_state,
    open_promise,
    outcome,
    replay,
    waiting_on,
)

AT = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)

# DOMAIN.md, one entry per edge of the diagram (plus the offer, which DOMAIN.md describes in prose;
# A's counter to an offer goes to "requested", as the module docstring explains).
EXPECTED_EDGES: dict[tuple[str, str, str], str] = {
    ("requested", "performer", "promise"): "promised",
    ("requested", "performer", "counter"): "countered",
    ("requested", "performer", "decline"): "declined",
    ("requested", "customer", "withdraw"): "withdrawn",
    ("countered", "customer", "accept"): "promised",
    ("countered", "customer", "counter"): "requested",
    ("countered", "customer", "decline"): "declined",
    ("countered", "performer", "withdraw"): "withdrawn",
    ("promised", "performer", "report_completion"): "reported",
    ("promised", "performer", "revoke"): "revoked",
    ("promised", "customer", "cancel"): "cancelled",
    ("reported", "customer", "declare_satisfied"): "fulfilled",
    ("reported", "customer", "declare_not_satisfied"): "promised",
    ("reported", "customer", "cancel"): "cancelled",
    ("offered", "customer", "accept"): "promised",
    ("offered", "customer", "decline"): "declined",
    ("offered", "customer", "counter"): "requested",
    ("offered", "performer", "withdraw"): "withdrawn",
}

EXPECTED_STATES = {
    "opening",
    "requested",
    "offered",
    "promised",
    "reported",
    "fulfilled",
    "countered",
    "revoked",
    "declined",
    "withdrawn",
    "cancelled",
}
EXPECTED_FINALS = {"fulfilled", "revoked", "declined", "withdrawn", "cancelled"}
EXPECTED_API_ACTS = {
    "promise",
    "counter",
    "decline",
    "withdraw",
    "accept",
    "report_completion",
    "revoke",
    "cancel",
    "declare_satisfied",
    "declare_not_satisfied",
}
EXPECTED_WAITING_ON = {
    "requested": "performer",
    "offered": "customer",
    "countered": "customer",
    "promised": "performer",
    "reported": "customer",
}
EXPECTED_OUTCOMES = {
    "fulfilled": "fulfilled",
    "revoked": "revoked",
    "declined": "declined",
    "withdrawn": "declined",
    "cancelled": "cancelled",
}

ALL_MOVES = [(state, role, act) for state in State for role in Role for act in API_ACTS]


def _expected_allowed(state: State, role: Role) -> tuple[str, ...]:
    return tuple(sorted(a for (s, r, a), _ in EXPECTED_EDGES.items() if s == state and r == role))


# ---------------------------------------------------------------- the vocabulary


def test_states_roles_and_acts_are_the_domain_words() -> None:
    assert {s.value for s in State} == EXPECTED_STATES
    assert {r.value for r in Role} == {"customer", "performer"}
    assert {a.value for a in API_ACTS} == EXPECTED_API_ACTS
    assert {a.value for a in Act} == EXPECTED_API_ACTS | {"request", "offer", "self_log"}
    assert {o.value for o in Opening} == {"request", "offer", "promise"}


def test_final_states_are_fulfilled_revoked_declined_withdrawn_cancelled() -> None:
    assert {s.value for s in FINAL_STATES} == EXPECTED_FINALS
    assert all(is_final(s) == (s.value in EXPECTED_FINALS) for s in State)


def test_the_table_is_exactly_the_diagram() -> None:
    actual = {(s.value, r.value, a.value): to.value for (s, r, a), to in TRANSITIONS.items()}
    assert actual == EXPECTED_EDGES


# ---------------------------------------------------------------- the whole table


@pytest.mark.parametrize(("state", "role", "act"), ALL_MOVES, ids=lambda v: str(v))
def test_every_state_role_act_is_either_an_edge_or_refused(state: State, role: Role, act: Act) -> None:
    expected = EXPECTED_EDGES.get((state.value, role.value, act.value))
    if expected is not None:
        assert next_state(state, role, act) == expected
        assert act in allowed_acts(state, role)
    else:
        with pytest.raises(IllegalMove) as refused:
            next_state(state, role, act)
        assert refused.value.allowed == allowed_acts(state, role)
        assert refused.value.allowed == _expected_allowed(state, role)
        assert (refused.value.state, refused.value.role, refused.value.act) == (state, role, act)
        assert act not in refused.value.allowed


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("role", list(Role))
def test_allowed_acts_are_the_diagrams_edges_sorted(state: State, role: Role) -> None:
    assert allowed_acts(state, role) == _expected_allowed(state, role)


# ---------------------------------------------------------------- each edge of DOMAIN.md


def test_requested_edges() -> None:
    assert next_state(State.requested, Role.performer, Act.promise) == State.promised
    assert next_state(State.requested, Role.performer, Act.counter) == State.countered
    assert next_state(State.requested, Role.performer, Act.decline) == State.declined
    assert next_state(State.requested, Role.customer, Act.withdraw) == State.withdrawn


def test_countered_edges() -> None:
    assert next_state(State.countered, Role.customer, Act.accept) == State.promised
    assert next_state(State.countered, Role.customer, Act.counter) == State.requested
    assert next_state(State.countered, Role.customer, Act.decline) == State.declined
    assert next_state(State.countered, Role.performer, Act.withdraw) == State.withdrawn


def test_promised_edges() -> None:
    assert next_state(State.promised, Role.performer, Act.report_completion) == State.reported
    assert next_state(State.promised, Role.performer, Act.revoke) == State.revoked
    assert next_state(State.promised, Role.customer, Act.cancel) == State.cancelled


def test_reported_edges() -> None:
    assert next_state(State.reported, Role.customer, Act.declare_satisfied) == State.fulfilled
    assert next_state(State.reported, Role.customer, Act.declare_not_satisfied) == State.promised
    assert next_state(State.reported, Role.customer, Act.cancel) == State.cancelled


def test_offered_edges() -> None:
    assert next_state(State.offered, Role.customer, Act.accept) == State.promised
    assert next_state(State.offered, Role.customer, Act.decline) == State.declined
    assert next_state(State.offered, Role.customer, Act.counter) == State.requested
    assert next_state(State.offered, Role.performer, Act.withdraw) == State.withdrawn


def test_openings() -> None:
    assert OPENINGS[Opening.request] == (Role.customer, Act.request, State.requested)
    assert OPENINGS[Opening.offer] == (Role.performer, Act.offer, State.offered)
    assert OPENINGS[Opening.promise] == (Role.performer, Act.self_log, State.promised)


@pytest.mark.parametrize("role", list(Role))
def test_opening_state_takes_no_api_move(role: Role) -> None:
    assert allowed_acts(State.opening, role) == ()
    for act in API_ACTS:
        with pytest.raises(IllegalMove):
            next_state(State.opening, role, act)


# ---------------------------------------------------------------- who may do what


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
@pytest.mark.parametrize("role", list(Role))
def test_final_states_accept_no_move(state: State, role: Role) -> None:
    assert allowed_acts(state, role) == ()
    assert waiting_on(state) is None
    for act in Act:
        with pytest.raises(IllegalMove) as refused:
            apply(state, role, act)
        assert refused.value.allowed == ()


@pytest.mark.parametrize("state", list(State))
def test_only_the_customer_declares_satisfaction(state: State) -> None:
    for act in (Act.declare_satisfied, Act.declare_not_satisfied):
        with pytest.raises(IllegalMove):
            next_state(state, Role.performer, act)
    assert next_state(State.reported, Role.customer, Act.declare_satisfied) == State.fulfilled


@pytest.mark.parametrize("state", list(State))
def test_only_the_performer_reports_completion_or_revokes(state: State) -> None:
    for act in (Act.report_completion, Act.revoke):
        with pytest.raises(IllegalMove):
            next_state(state, Role.customer, act)
    assert next_state(State.promised, Role.performer, Act.report_completion) == State.reported
    assert next_state(State.promised, Role.performer, Act.revoke) == State.revoked


def test_waiting_on_whose_answer() -> None:
    actual = {s.value: r.value for s in State if (r := waiting_on(s)) is not None}
    assert actual == EXPECTED_WAITING_ON


def test_outcomes() -> None:
    for state in State:
        assert outcome(state) == EXPECTED_OUTCOMES.get(state.value, "open")
    assert isinstance(outcome(State.withdrawn), Outcome)


# ---------------------------------------------------------------- the refusal


def test_illegal_move_is_a_conflict_that_says_what_is_allowed() -> None:
    with pytest.raises(Conflict) as refused:
        next_state(State.promised, Role.customer, Act.declare_satisfied)
    error = refused.value
    assert isinstance(error, IllegalMove)
    assert error.allowed == (Act.cancel,)
    assert "declare_satisfied" in error.detail
    assert "promised" in error.detail
    assert "cancel" in error.detail


def test_illegal_move_on_a_final_promise_says_it_is_final() -> None:
    with pytest.raises(IllegalMove) as refused:
        next_state(State.fulfilled, Role.customer, Act.cancel)
    assert refused.value.allowed == ()
    assert "fulfilled" in refused.value.detail


# ---------------------------------------------------------------- opening, moves and replay


def test_open_promise_returns_the_first_move() -> None:
    due = AT + timedelta(days=7)
    first = open_promise(
        Opening.request, at=AT, actor="usr_a", note="please", conditions=("a draft",), due_at=due
    )
    assert first == Move(
        act=Act.request,
        role=Role.customer,
        actor="usr_a",
        at=AT,
        note="please",
        conditions=("a draft",),
        due_at=due,
        state=State.requested,
    )
    assert open_promise(Opening.offer, at=AT).state == State.offered
    self_logged = open_promise(Opening.promise, at=AT)
    assert (self_logged.role, self_logged.act, self_logged.state) == (
        Role.performer,
        Act.self_log,
        State.promised,
    )


def test_make_move_checks_and_records_the_resulting_state() -> None:
    move = make_move(State.requested, Role.performer, Act.counter, at=AT, actor="usr_b", conditions=("x",))
    assert (move.state, move.actor, move.conditions) == (State.countered, "usr_b", ("x",))
    with pytest.raises(IllegalMove):
        make_move(State.requested, Role.customer, Act.accept, at=AT)


def test_replay_a_whole_conversation() -> None:
    log = [
        (Role.customer, Act.request),
        (Role.performer, Act.counter),
        (Role.customer, Act.counter),
        (Role.performer, Act.promise),
        (Role.performer, Act.report_completion),
        (Role.customer, Act.declare_not_satisfied),
        (Role.performer, Act.report_completion),
        (Role.customer, Act.declare_satisfied),
    ]
    assert replay(log) == State.fulfilled
    assert replay(log[:4]) == State.promised
    assert replay([]) == State.opening


def test_replay_accepts_moves_and_ignores_their_stored_state() -> None:
    first = open_promise(Opening.offer, at=AT)
    forged = Move(act=Act.accept, role=Role.customer, actor=None, at=AT, state=State.fulfilled)
    assert replay([first, forged]) == State.promised


@pytest.mark.parametrize(
    "log",
    [
        [(Role.performer, Act.promise)],  # no opening act
        [(Role.performer, Act.request)],  # the performer does not request
        [(Role.customer, Act.self_log)],  # the customer does not self-log
        [(Role.customer, Act.request), (Role.customer, Act.request)],  # a second opening
        [(Role.performer, Act.self_log), (Role.customer, Act.declare_satisfied)],  # skips reported
    ],
)
def test_replay_refuses_a_bad_log(log: list[tuple[Role, Act]]) -> None:
    with pytest.raises(IllegalMove):
        replay(log)


def test_refused_opening_lists_the_roles_opening_acts() -> None:
    with pytest.raises(IllegalMove) as refused:
        apply(State.opening, Role.performer, Act.request)
    assert set(refused.value.allowed) == {Act.offer, Act.self_log}


@pytest.mark.parametrize(
    ("acts", "expected"),
    [
        ([Act.self_log, Act.report_completion, Act.declare_satisfied], True),
        ([Act.request, Act.promise, Act.report_completion, Act.declare_satisfied], True),
        (
            [
                Act.request,
                Act.promise,
                Act.report_completion,
                Act.declare_not_satisfied,
                Act.report_completion,
                Act.declare_satisfied,
            ],
            False,
        ),
        ([Act.request, Act.promise, Act.report_completion], False),
        ([Act.request, Act.promise, Act.report_completion, Act.cancel], False),
        ([], False),
    ],
)
def test_first_time_satisfaction(acts: list[Act], expected: bool) -> None:
    assert is_first_time_satisfaction(acts) is expected


# ---------------------------------------------------------------- random conversations


@given(
    opening=st.sampled_from(Opening),
    attempts=st.lists(st.tuples(st.sampled_from(Role), st.sampled_from(API_ACTS)), max_size=40),
)
def test_random_conversations_follow_the_diagram(opening: Opening, attempts: list[tuple[Role, Act]]) -> None:
    first = open_promise(opening, at=AT)
    state = first.state
    model = {"request": "requested", "offer": "offered", "promise": "promised"}[opening.value]
    applied: list[tuple[Role, Act]] = [(first.role, first.act)]
    refused: list[tuple[Role, Act]] = []

    for role, act in attempts:
        expected = EXPECTED_EDGES.get((model, role.value, act.value))
        if expected is None:
            with pytest.raises(IllegalMove) as error:
                next_state(state, role, act)
            assert error.value.allowed == allowed_acts(state, role)
            refused.append((role, act))
        else:
            assert not is_final(state), "a final promise accepted a move"
            state = next_state(state, role, act)
            applied.append((role, act))
            model = expected
        assert state == model
        assert replay(applied) == state
        assert (waiting_on(state) is None) == is_final(state)

    assert len(applied) + len(refused) == len(attempts) + 1
    if is_final(state):
        for role in Role:
            for act in API_ACTS:
                with pytest.raises(IllegalMove):
                    next_state(state, role, act)
    assert is_first_time_satisfaction(a for _, a in applied) == (
        state == State.fulfilled and (Role.customer, Act.declare_not_satisfied) not in applied
    )


# --- terms ---------------------------------------------------------------------------------------

_DUE = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_only_a_counter_and_not_satisfied_set_new_terms() -> None:
    from shared.domain.promises import TERM_SETTING_ACTS

    assert {Act.counter, Act.declare_not_satisfied} == TERM_SETTING_ACTS


@pytest.mark.parametrize(
    ("conditions", "due_at", "changed"),
    [
        (None, None, []),
        (["a", "b"], _DUE, []),
        (["a", "b"], _DUE.astimezone(timezone(timedelta(hours=9))), []),
        (["b", "a"], None, ["conditions"]),
        ([], None, ["conditions"]),
        (None, _DUE + timedelta(seconds=1), ["dueAt"]),
        (["a"], _DUE - timedelta(days=1), ["conditions", "dueAt"]),
    ],
)
def test_what_a_move_would_change(
    conditions: list[str] | None, due_at: datetime | None, changed: list[str]
) -> None:
    from shared.domain.promises import changed_terms

    assert changed_terms(["a", "b"], _DUE, conditions=conditions, due_at=due_at) == changed


def test_a_due_time_is_past_beyond_clock_skew_only() -> None:
    from shared.domain.promises import DUE_TIME_SKEW, is_past_due_time

    now = _DUE
    assert not is_past_due_time(now, now)
    assert not is_past_due_time(now - DUE_TIME_SKEW, now)
    assert is_past_due_time(now - DUE_TIME_SKEW - timedelta(seconds=1), now)
    assert is_past_due_time(datetime(2000, 1, 1, tzinfo=UTC), now)


# --- nudges ---------------------------------------------------------------------------------------


def test_a_promise_is_nudged_a_day_before_and_when_overdue() -> None:
    from datetime import UTC, datetime

    from shared.domain.nudges import Nudge, after, first_nudge, stage_at

    due = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
    first = first_nudge(due, datetime(2026, 12, 1, tzinfo=UTC))
    assert first == Nudge("due_soon", datetime(2026, 12, 9, 17, 0, tzinfo=UTC))
    assert after("due_soon", due) == Nudge("overdue", due)
    assert after("overdue", due) is None
    # Promised less than a day before it is due: only the overdue nudge.
    assert first_nudge(due, datetime(2026, 12, 10, 9, 0, tzinfo=UTC)) == Nudge("overdue", due)
    # The dispatcher sends the latest stage reached, once, after an outage.
    assert stage_at(due, datetime(2026, 12, 9, 17, 0, 30, tzinfo=UTC)) == "due_soon"
    assert stage_at(due, due) == "overdue"
    assert stage_at(due, datetime(2026, 12, 11, tzinfo=UTC)) == "overdue"
