"""The promise state machine: the conversation for action (Winograd & Flores, 1986, fig. 5.1).

A promise is a conversation between a **customer** (A, who is served) and a **performer** (B, who
delivers). Its state is never edited: it is derived by replaying its append-only log of moves
(see DOMAIN.md, "Promises: the conversation for action"). This module holds the rules as tables,
so the API, the store and the journey metrics all read the same ones:

- `OPENINGS`: how a promise begins (the first move of every log).
- `TRANSITIONS`: every later move, as ``(state, role, act) -> next state``.

Openings. DOMAIN.md names three: a request (A opens, state 2 *requested*), a self-logged promise
(B records a promise already made; it opens straight in state 3 *promised*) and an offer (B opens
by offering). The offer has no number in the diagram, so it gets its own state, ``offered``: B has
proposed, A is to answer. From ``offered`` A accepts (-> promised), declines (-> declined) or
counters, and B may withdraw (-> withdrawn) as with a counter of theirs. DOMAIN.md says A's
counter goes "-> 6", but in state 6 (*countered*) it is A who must answer B, so A would be
answering A. We follow the diagram's own edge ``6 --A: counter --> 2`` instead: A's counter to an
offer is a request on A's conditions, and the promise moves to ``requested``, where B answers.

The diagram's state 8 covers two endings; they are kept apart as ``declined`` (the answering side
said no) and ``withdrawn`` (the side that asked took it back), because the journey counts healthy
declines separately.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from shared.domain.errors import Conflict


class State(StrEnum):
    """Where a promise's conversation stands (DOMAIN.md numbers in the comments)."""

    opening = "opening"  # 1: nothing said yet
    requested = "requested"  # 2: A asked, B to answer
    offered = "offered"  # B offered, A to answer (not numbered in DOMAIN.md)
    promised = "promised"  # 3: B promised, B to deliver
    reported = "reported"  # 4: B reported completion, A to assess
    fulfilled = "fulfilled"  # 5: A declared satisfaction (final)
    countered = "countered"  # 6: B counter-offered, A to answer
    revoked = "revoked"  # 7: B reneged (final)
    declined = "declined"  # 8: the answering side said no (final)
    withdrawn = "withdrawn"  # 8: the asking side took it back (final)
    cancelled = "cancelled"  # 9: A cancelled (final)


FINAL_STATES: frozenset[State] = frozenset(
    {State.fulfilled, State.revoked, State.declined, State.withdrawn, State.cancelled}
)


class Role(StrEnum):
    """The two sides of a promise: the customer (A) is served, the performer (B) delivers."""

    customer = "customer"
    performer = "performer"


class Act(StrEnum):
    """What a move says. The first ten are API moves; the last three open a promise."""

    promise = "promise"
    counter = "counter"
    decline = "decline"
    withdraw = "withdraw"
    accept = "accept"
    report_completion = "report_completion"
    revoke = "revoke"
    cancel = "cancel"
    declare_satisfied = "declare_satisfied"
    declare_not_satisfied = "declare_not_satisfied"
    # Opening acts: only ever the first move of a log (see `open_promise`).
    request = "request"
    offer = "offer"
    self_log = "self_log"


API_ACTS: tuple[Act, ...] = (
    Act.promise,
    Act.counter,
    Act.decline,
    Act.withdraw,
    Act.accept,
    Act.report_completion,
    Act.revoke,
    Act.cancel,
    Act.declare_satisfied,
    Act.declare_not_satisfied,
)
"""The acts a client may send as a move on an existing promise."""

OPENING_ACTS: tuple[Act, ...] = (Act.request, Act.offer, Act.self_log)
"""The acts that begin a promise; each log starts with exactly one of them."""


class Opening(StrEnum):
    """How a promise begins (the API field ``opening``)."""

    request = "request"
    offer = "offer"
    promise = "promise"  # self-logged: the performer records a promise already made


class OpeningRule(NamedTuple):
    """Who opens a promise of one kind, with which act, and the state it starts in."""

    role: Role
    act: Act
    state: State


OPENINGS: Mapping[Opening, OpeningRule] = MappingProxyType(
    {
        Opening.request: OpeningRule(Role.customer, Act.request, State.requested),
        Opening.offer: OpeningRule(Role.performer, Act.offer, State.offered),
        Opening.promise: OpeningRule(Role.performer, Act.self_log, State.promised),
    }
)

_C, _P = Role.customer, Role.performer

TRANSITIONS: Mapping[tuple[State, Role, Act], State] = MappingProxyType(
    {
        # 2 requested: B answers A's request, or A takes it back.
        (State.requested, _P, Act.promise): State.promised,
        (State.requested, _P, Act.counter): State.countered,
        (State.requested, _P, Act.decline): State.declined,
        (State.requested, _C, Act.withdraw): State.withdrawn,
        # offered: A answers B's offer, or B takes it back (see the module docstring).
        (State.offered, _C, Act.accept): State.promised,
        (State.offered, _C, Act.decline): State.declined,
        (State.offered, _C, Act.counter): State.requested,
        (State.offered, _P, Act.withdraw): State.withdrawn,
        # 6 countered: A answers B's counter, or B takes it back.
        (State.countered, _C, Act.accept): State.promised,
        (State.countered, _C, Act.counter): State.requested,
        (State.countered, _C, Act.decline): State.declined,
        (State.countered, _P, Act.withdraw): State.withdrawn,
        # 3 promised: B delivers or reneges; A may cancel.
        (State.promised, _P, Act.report_completion): State.reported,
        (State.promised, _P, Act.revoke): State.revoked,
        (State.promised, _C, Act.cancel): State.cancelled,
        # 4 reported: A assesses the delivery, or cancels.
        (State.reported, _C, Act.declare_satisfied): State.fulfilled,
        (State.reported, _C, Act.declare_not_satisfied): State.promised,
        (State.reported, _C, Act.cancel): State.cancelled,
    }
)
"""Every move on an open promise: ``(state, role, act) -> next state``. Nothing else is legal."""

_OPENING_MOVES: Mapping[tuple[Role, Act], State] = MappingProxyType(
    {(rule.role, rule.act): rule.state for rule in OPENINGS.values()}
)

_ALLOWED: Mapping[tuple[State, Role], tuple[Act, ...]] = MappingProxyType(
    {
        (state, role): tuple(sorted(act for (s, r, act) in TRANSITIONS if s is state and r is role))
        for state in State
        for role in Role
    }
)

_WAITING_ON: Mapping[State, Role] = MappingProxyType(
    {
        State.requested: Role.performer,
        State.offered: Role.customer,
        State.countered: Role.customer,
        State.promised: Role.performer,
        State.reported: Role.customer,
    }
)


TERM_SETTING_ACTS: frozenset[Act] = frozenset({Act.counter, Act.declare_not_satisfied})
"""The moves that may set new terms (what remains, its conditions, its due time).

The openings (request, offer, self-log) set the first terms. ``promise`` and ``accept`` take the
terms as they stand: new terms from them would bind the other side to something it never
agreed to. Anyone wanting other terms counters (the customer's counter to a counter is their new
request); the customer who is not satisfied may restate what remains and by when.
"""

# Clock skew between a phone and the server: a due time this little in the past is "now".
DUE_TIME_SKEW = timedelta(minutes=5)


def changed_terms(
    current_conditions: Iterable[str],
    current_due_at: datetime,
    *,
    conditions: Iterable[str] | None,
    due_at: datetime | None,
) -> list[str]:
    """Which terms a move would change (``conditions``, ``dueAt``): sending the terms as they
    stand changes nothing."""
    changed = []
    if conditions is not None and list(conditions) != list(current_conditions):
        changed.append("conditions")
    if due_at is not None and due_at != current_due_at:
        changed.append("dueAt")
    return changed


def is_past_due_time(due_at: datetime, now: datetime) -> bool:
    """Whether ``due_at`` cannot be a new due time: it is in the past (beyond clock skew)."""
    return due_at < now - DUE_TIME_SKEW


class Outcome(StrEnum):
    """How a promise ended, as the journey counts it (``open`` while it has not)."""

    open = "open"
    fulfilled = "fulfilled"
    revoked = "revoked"
    declined = "declined"  # declined or withdrawn: a "no" before any promise was made
    cancelled = "cancelled"


_OUTCOMES: Mapping[State, Outcome] = MappingProxyType(
    {
        State.fulfilled: Outcome.fulfilled,
        State.revoked: Outcome.revoked,
        State.declined: Outcome.declined,
        State.withdrawn: Outcome.declined,
        State.cancelled: Outcome.cancelled,
    }
)


class IllegalMove(Conflict):
    """A move the rules do not allow for this role in this state (the API answers 409).

    ``allowed`` lists the acts this role could make instead (empty when the promise is final or
    the other side is to answer), so the API can tell the client what it may do.
    """

    def __init__(self, state: State, role: Role, act: Act, allowed: tuple[Act, ...]) -> None:
        if allowed:
            hint = "allowed: " + ", ".join(allowed)
        elif state in FINAL_STATES:
            hint = f"the promise is {state} and takes no more moves"
        else:
            hint = f"the {role} has no move in this state"
        super().__init__(f"The {role} cannot '{act}' a promise that is {state} ({hint}).")
        self.state = state
        self.role = role
        self.act = act
        self.allowed = allowed

    @property
    def extensions(self) -> dict[str, object]:
        """The problem tells the client what it may do instead."""
        return {"allowedActs": [str(a) for a in self.allowed]}


def is_final(state: State) -> bool:
    """True when the conversation has ended and the promise takes no more moves."""
    return state in FINAL_STATES


def allowed_acts(state: State, role: Role) -> tuple[Act, ...]:
    """The API acts ``role`` may make on a promise in ``state``, sorted by name."""
    return _ALLOWED[(state, role)]


def waiting_on(state: State) -> Role | None:
    """Whose answer the promise waits for; None once final (and before it has opened)."""
    return _WAITING_ON.get(state)


def next_state(state: State, role: Role, act: Act) -> State:
    """The state after ``role`` makes ``act`` on a promise in ``state``; raises IllegalMove."""
    try:
        return TRANSITIONS[(state, role, act)]
    except KeyError:
        raise IllegalMove(state, role, act, allowed_acts(state, role)) from None


def apply(state: State, role: Role, act: Act) -> State:
    """Like `next_state`, but also takes an opening act on an ``opening`` promise.

    This is the step `replay` folds over a log: from ``opening`` only the opening act of the
    right role is legal; afterwards only `TRANSITIONS` are.
    """
    if state == State.opening:
        try:
            return _OPENING_MOVES[(role, act)]
        except KeyError:
            allowed = tuple(sorted(a for (r, a) in _OPENING_MOVES if r is role))
            raise IllegalMove(state, role, act, allowed) from None
    return next_state(state, role, act)


@dataclass(frozen=True, kw_only=True)
class Move:
    """One entry of a promise's log: who said what, when, and the state it led to.

    ``conditions`` and ``due_at`` are set when the move revises the terms (a counter, or a
    "not satisfied" restating what remains: `TERM_SETTING_ACTS`); None leaves them as they were.
    """

    act: Act
    role: Role
    actor: str | None
    at: datetime
    note: str | None = None
    conditions: tuple[str, ...] | None = None
    due_at: datetime | None = None
    state: State
    """The state the promise is in after this move."""


def open_promise(
    opening: Opening,
    *,
    at: datetime,
    actor: str | None = None,
    note: str | None = None,
    conditions: tuple[str, ...] | None = None,
    due_at: datetime | None = None,
) -> Move:
    """The first move of a new promise: the opening's act by its role, and the state it opens in."""
    rule = OPENINGS[opening]
    return Move(
        act=rule.act,
        role=rule.role,
        actor=actor,
        at=at,
        note=note,
        conditions=conditions,
        due_at=due_at,
        state=rule.state,
    )


def make_move(
    state: State,
    role: Role,
    act: Act,
    *,
    at: datetime,
    actor: str | None = None,
    note: str | None = None,
    conditions: tuple[str, ...] | None = None,
    due_at: datetime | None = None,
) -> Move:
    """A checked move on a promise in ``state``, ready to append to its log; raises IllegalMove."""
    return Move(
        act=act,
        role=role,
        actor=actor,
        at=at,
        note=note,
        conditions=conditions,
        due_at=due_at,
        state=next_state(state, role, act),
    )


def replay(moves: Iterable[Move | tuple[Role, Act]]) -> State:
    """The state a log leads to, replayed from ``opening``; raises IllegalMove on a bad log.

    The first move must be an opening act (request, offer, self_log) and no later one may be.
    An empty log leaves the promise in ``opening``. A `Move`'s stored ``state`` is not trusted:
    the state is derived from the acts alone.
    """
    state = State.opening
    for entry in moves:
        role, act = (entry.role, entry.act) if isinstance(entry, Move) else entry
        state = apply(state, role, act)
    return state


def is_first_time_satisfaction(acts_in_order: Iterable[Act]) -> bool:
    """True when the promise was fulfilled (4 -> 5) without ever going back from 4 to 3."""
    acts = list(acts_in_order)
    return bool(acts) and acts[-1] == Act.declare_satisfied and Act.declare_not_satisfied not in acts


def outcome(state: State) -> Outcome:
    """How the journey counts a promise in ``state``: open, or the way it ended."""
    return _OUTCOMES.get(state, Outcome.open)
