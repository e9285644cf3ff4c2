"""The promise log's use cases: open a promise, move it, assess it, read it and the journey.

Each write is one read and one transaction (`shared.store.transaction`): the promise, its move,
both sides' memberships, their care links, the performer's journey month and an inbox item for
the side the promise now waits on. The push to that person's devices is the notifier's
(`functions/notifier`, from the table's stream): a move never waits on SNS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain import journey as journey_rules
from shared.domain import nudges as nudge_rules
from shared.domain.cares import LinkKind, LinkStatus
from shared.domain.errors import Conflict, FieldError, IdConflict, InvalidInput, NotFound, PreconditionFailed
from shared.domain.ids import new_id
from shared.domain.promises import (
    OPENINGS,
    TERM_SETTING_ACTS,
    Act,
    Opening,
    Role,
    State,
    allowed_acts,
    changed_terms,
    is_final,
    is_past_due_time,
    next_state,
    waiting_on,
)
from shared.domain.replay import REFUSALS, request_hash
from shared.domain.timeutil import parse_rfc3339, to_rfc3339
from shared.store import blocks, care_links, facts, nudges, profiles
from shared.store import keys as store_keys
from shared.store import practice as practice_store
from shared.store import promises as store
from shared.store.notifications import inbox_put
from shared.store.table import key
from shared.store.transaction import Transaction, TransactionCancelled

_LINKED: LinkKind = "promise"
# The transaction label of the check on the other side's account (a 409: the promise changed hands).
_OTHER_ACCOUNT = "counterpart-account"


def link_status(state: State) -> LinkStatus:
    """How the care map counts a promise in `state`."""
    if state == State.fulfilled:
        return "fulfilled"
    return "closed" if is_final(state) else "open"


# --- views -------------------------------------------------------------------------------------


def my_role(promise: Mapping[str, Any], user_id: str) -> Role | None:
    """My side of the promise, or None when it is not mine (which the API answers as 404)."""
    for role in (Role.customer, Role.performer):
        party = promise[role.value]
        if party.get("kind") == "user" and party.get("userId") == user_id:
            return role
    return None


def party_view(party: Mapping[str, Any], user_id: str | None) -> dict[str, Any]:
    """A side as the API shows it: never the internal user id."""
    view: dict[str, Any] = {
        "kind": party["kind"],
        "isMe": party.get("userId") == user_id and user_id is not None,
    }
    for name in ("handle", "name", "email", "partnerName"):
        if party.get(name) is not None:
            view[name] = party[name]
    return view


def care_ids_of(promise: Mapping[str, Any], role: Role) -> list[str]:
    """The cares the side in `role` named for this promise."""
    return list(promise.get(f"{role.value}CareIds", []))


def promise_view(promise: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """The promise as one side sees it (`myRole`, `allowedActs`; the self-assessment only for
    the performer)."""
    role = my_role(promise, user_id)
    if role is None:
        raise NotFound("No such promise.")
    state = State(promise["state"])
    waiting = waiting_on(state)
    view = {
        "promiseId": promise["promiseId"],
        "opening": promise["opening"],
        "what": promise["what"],
        "conditions": promise.get("conditions", []),
        "dueAt": promise["dueAt"],
        "size": promise["size"],
        "customer": party_view(promise["customer"], user_id),
        "performer": party_view(promise["performer"], user_id),
        "state": state.value,
        "myRole": role.value,
        "allowedActs": [a.value for a in allowed_acts(state, role)],
        "waitingOn": waiting.value if waiting else None,
        "careIds": care_ids_of(promise, role),
        "assessment": promise.get("assessment"),
        "createdAt": promise["createdAt"],
        "updatedAt": promise["updatedAt"],
    }
    if role == Role.performer:
        view["selfAssessment"] = promise.get("selfAssessment")
    return view


def move_view(move: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """One move of the log as a side sees it: who made it by handle (`isMe` for mine), never
    the internal id behind it."""
    view = {k: v for k, v in move.items() if k in store.MOVE_FIELDS and k not in ("by", "actorId")}
    view["by"] = {**move["by"], "isMe": move.get("actorId") == user_id}
    return view


def summary_for(promise: Mapping[str, Any], role: Role) -> dict[str, Any]:
    """What the lists of the side in `role` show (membership and care links carry it)."""
    other = promise[(Role.performer if role == Role.customer else Role.customer).value]
    return {
        "promiseId": promise["promiseId"],
        "what": promise["what"],
        "myRole": role.value,
        "state": promise["state"],
        "dueAt": promise["dueAt"],
        "counterpart": party_view(other, None),
        "careIds": care_ids_of(promise, role),
        "updatedAt": promise["updatedAt"],
    }


def _user_sides(promise: Mapping[str, Any]) -> list[tuple[Role, str]]:
    return [
        (role, str(promise[role.value]["userId"]))
        for role in (Role.customer, Role.performer)
        if promise[role.value].get("kind") == "user"
    ]


def _owner(promise: Mapping[str, Any]) -> str | None:
    """The one app user of a promise with an outside counterpart (erasure finds it by owner)."""
    sides = _user_sides(promise)
    return sides[0][1] if len(sides) == 1 else None


# --- notifications -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """Someone to tell about a move: an inbox item in the move's transaction (then a push)."""

    user_id: str
    title: str
    body: str
    data: dict[str, Any]


_TITLES = {
    State.requested: "You have a request",
    State.offered: "You have an offer",
    State.countered: "You have a counter-offer",
    State.promised: "A promise to keep",
    State.reported: "Completion reported: is it done to your satisfaction?",
}


def _notice(promise: Mapping[str, Any], actor_id: str, act: str, opening: bool) -> Notice | None:
    """The other app-user side to tell: on an opening, and whenever the promise waits on them."""
    state = State(promise["state"])
    waiting = waiting_on(state)
    for role, user_id in _user_sides(promise):
        if user_id == actor_id:
            continue
        if opening or role == waiting or is_final(state):
            title = (
                _TITLES.get(state, f"Promise {state.value}") if role == waiting else f"Promise {state.value}"
            )
            return Notice(
                user_id,
                title,
                str(promise["what"])[:120],
                {"promiseId": promise["promiseId"], "state": state.value, "act": act},
            )
    return None


def _inbox(notice: Notice | None, at: str) -> list[dict[str, Any]]:
    if notice is None:
        return []
    return [
        inbox_put(
            notice.user_id, kind="promise", title=notice.title, body=notice.body, data=notice.data, at=at
        )
    ]


# --- opening -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """A new promise as its opener sees it, with its version (the ETag)."""

    view: dict[str, Any]
    version: int


def open_promise(user_id: str, request: Mapping[str, Any], now: datetime) -> Opened:
    """Open a promise (a request, an offer, or a self-logged promise) with its first move.

    `request` is the validated `PromiseInput` as camelCase JSON. With `promiseId` (a ULID the
    app made offline) a replay of the same write answers as the first time, with the promise as
    it is now; the id of another write, or of someone else's promise, is an IdConflict. A
    replay is told apart only when the write is refused (its promise exists: the Put's
    condition fails; or a rule refuses it now, e.g. its due time has passed): one GetItem then.
    """
    promise_id = request.get("promiseId")
    if promise_id is None:
        return _open(user_id, request, now, new_id(), None)
    hashed = request_hash(user_id, request, "promiseId")
    try:
        return _open(user_id, request, now, str(promise_id), hashed)
    except REFUSALS:
        stored, kept = store.get_promise_and_hash(str(promise_id))
        if stored is None:
            raise
        if kept != hashed or my_role(stored, user_id) is None:
            raise IdConflict() from None  # never tell whose, or what
        return Opened(promise_view(stored, user_id), int(stored["version"]))


def _open(
    user_id: str, request: Mapping[str, Any], now: datetime, promise_id: str, hashed: str | None
) -> Opened:
    counterpart = request["counterpart"]
    handle = counterpart.get("handle")
    due = parse_rfc3339(request["dueAt"])
    if is_past_due_time(due, now):
        raise _due_in_past()
    other_id, my_profile = store.handle_owner_and_profile(handle, user_id)
    if handle is not None and other_id is None:
        raise _no_such_handle()
    if other_id == user_id:
        raise InvalidInput(
            "A promise needs someone else.",
            [FieldError("body", "counterpart.handle", "is_me", "must be someone else's handle")],
        )
    rule = OPENINGS[Opening(request["opening"])]
    at = to_rfc3339(now)
    me = {"kind": "user", "userId": user_id, "handle": (my_profile or {}).get("handle")}
    other = (
        {"kind": "user", "userId": other_id, "handle": str(handle).lower()}
        if other_id
        else {"kind": "outside", "name": counterpart["name"], "email": counterpart.get("email")}
    )
    my = rule.role
    due_at = to_rfc3339(due)
    promise: dict[str, Any] = {
        "promiseId": promise_id,
        "opening": request["opening"],
        "what": request["what"],
        "conditions": list(request.get("conditions", [])),
        "dueAt": due_at,
        "size": request["size"],
        "customer": me if my == Role.customer else other,
        "performer": me if my == Role.performer else other,
        "state": rule.state.value,
        "version": 1,
        "moveCount": 1,
        f"{my.value}CareIds": list(request.get("careIds", [])),
        "participants": [user_id, *([other_id] if other_id else [])],
        "createdAt": at,
        "updatedAt": at,
    }
    move = {
        "seq": 1,
        "act": rule.act.value,
        "role": my.value,
        "by": party_view(me, None),
        "actorId": user_id,
        "at": at,
        "note": request.get("note"),
        "conditions": promise["conditions"],
        "dueAt": due_at,
        "state": rule.state.value,
    }
    owner = _owner(promise)
    tx = Transaction()
    tx.add("promise", [store.new_promise(promise, owner, hashed)])
    tx.add("move", [store.new_move(promise_id, move, promise["participants"], owner)])
    for role, side in _user_sides(promise):
        tx.add("membership", [store.new_membership(side, summary_for(promise, role))])
    links_at = _add_links(tx, promise, my, user_id, before=None)
    _add_journey(tx, promise, Act(rule.act), my, State.opening, rule.state, now)
    _add_nudge(tx, promise, None, now)
    notice = _notice(promise, user_id, rule.act.value, opening=True)
    tx.add("inbox", _inbox(notice, at))
    tx.require_account(user_id)
    # The handle I am shown by is the one my profile has when this commits (a rename meanwhile
    # would otherwise leave this promise showing the old one: the follower may have run already).
    tx.add("me", [profiles.handle_unchanged_check(user_id, me["handle"])])
    if other_id is not None:
        # At commit time the handle is still theirs, their account stands and they have not
        # blocked me; otherwise, to me, no one has that handle (a block is never revealed).
        tx.add("reach", [profiles.active_handle_check(str(handle), other_id)])
        tx.add("reach", [blocks.not_blocked_check(other_id, user_id)])
        tx.require_account(other_id, label="reach")
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        if cancelled.failed_on("reach"):
            raise _no_such_handle() from cancelled
        invalid = care_links.unknown_cares(cancelled.codes, links_at, promise[f"{my.value}CareIds"])
        if invalid is not None:
            raise invalid from cancelled
        raise Conflict("The promise could not be opened; retry.") from cancelled
    return Opened(promise_view(promise, user_id), 1)


def _no_such_handle() -> InvalidInput:
    return InvalidInput(
        "No one in the app has that handle.",
        [FieldError("body", "counterpart.handle", "not_found", "must be the handle of an app user")],
    )


def _due_in_past() -> InvalidInput:
    return InvalidInput(
        "A new due time cannot be in the past.",
        [FieldError("body", "dueAt", "due_in_past", "must not be in the past")],
    )


def _add_nudge(tx: Transaction, promise: Mapping[str, Any], before: State | None, now: datetime) -> None:
    """The performer's nudges (`shared.domain.nudges`): scheduled by the move that makes the
    promise `promised` (again, with the terms as they now stand), gone with the move that takes
    it out of `promised`. Only an app user is nudged."""
    performer = promise["performer"]
    if performer.get("kind") != "user":
        return
    performer_id = str(performer["userId"])
    if State(promise["state"]) == State.promised:
        nudge = nudge_rules.first_nudge(parse_rfc3339(str(promise["dueAt"])), now)
        tx.add("nudge", [nudges.nudge_put(performer_id, dict(promise), nudge)])
    elif before == State.promised:
        tx.add("nudge", [nudges.nudge_delete(performer_id, str(promise["promiseId"]))])


def _add_links(
    tx: Transaction, promise: Mapping[str, Any], role: Role, user_id: str, before: State | None
) -> int:
    """Care-link items of one side (a new link when `before` is None); answers their first index."""
    care_ids = care_ids_of(promise, role)
    summary = summary_for(promise, role)

    def extra(care_id: str) -> dict[str, Any]:
        return {
            "listAll": store_keys.promise_list(user_id, care_id=care_id),
            **store.care_list_attributes(user_id, summary),
        }

    thing = care_links.Linked(_LINKED, promise["promiseId"])
    after = link_status(State(promise["state"]))
    if before is None:
        items = care_links.link(user_id, care_ids, thing, after, promise["updatedAt"], extra)
    else:
        items = care_links.change_status(
            user_id, care_ids, thing, link_status(before), after, promise["updatedAt"], extra
        )
    return tx.add(f"links:{role.value}", items)


def _add_journey(
    tx: Transaction,
    promise: Mapping[str, Any],
    act: Act,
    role: Role,
    before: State,
    after: State,
    now: datetime,
) -> None:
    performer = promise["performer"]
    if performer.get("kind") != "user":
        return
    reported = promise.get("reportedAt")
    facts = journey_rules.MoveFacts(
        act=act,
        role=role,
        before=before,
        after=after,
        at=now,
        due_at=parse_rfc3339(promise["dueAt"]),
        reported_at=parse_rfc3339(reported) if reported else None,
        ever_not_satisfied=bool(promise.get("notSatisfied")),
    )
    deltas = journey_rules.move_deltas(facts)
    if not deltas:
        return
    if deltas.get("made"):
        deltas |= journey_rules.size_deltas(promise["size"])
    tx.add("journey", [store.journey_update(str(performer["userId"]), journey_rules.month_of(now), deltas)])


# --- moves -------------------------------------------------------------------------------------


def read_promise(user_id: str, promise_id: str) -> dict[str, Any]:
    """The stored promise if I am one of its sides; otherwise NotFound (never reveal it exists)."""
    promise = store.get_promise(promise_id)
    if promise is None or my_role(promise, user_id) is None:
        raise NotFound("No such promise.")
    return promise


CheckVersion = Callable[[str | None, int, Any], None]  # (If-Match, version read, what was read)


def make_move(
    user_id: str,
    promise_id: str,
    move: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    check_version: CheckVersion,
) -> tuple[dict[str, Any], int]:
    """Append one move by me; answers the promise as I now see it and its version.

    An act my role may not make in this state is an IllegalMove (409 listing `allowedActs`).
    With `moveId` (a ULID the app made) a replay answers with the promise as it is now, even
    when later moves have made the act illegal or the `If-Match` stale (`_replayable`).
    """
    promise = read_promise(user_id, promise_id)
    role = my_role(promise, user_id)
    assert role is not None  # read_promise checked it

    def append() -> tuple[dict[str, Any], int]:
        version = int(promise["version"])
        check_version(if_match, version, promise)
        act = Act(move["act"])
        before = State(promise["state"])
        after = next_state(before, role, act)
        _check_terms(act, move, promise, now)
        return _append(promise, role, act, user_id, move, before, after, now, if_match, actor=user_id)

    return _replayable(promise_id, move, user_id, append)


def _actor(actor_id: str, role: Role) -> str:
    """Who makes a move, for telling replays apart: the app user, or the outside side (a link's
    holder or a partner's coach; the promise has one)."""
    return actor_id or f"outside:{role.value}"


def _replayable(
    promise_id: str,
    move: Mapping[str, Any],
    actor: str,
    append: Callable[[], tuple[dict[str, Any], int]],
) -> tuple[dict[str, Any], int]:
    """Run `append`; when it is refused and the move carries the app's `moveId`, one read (the
    id's lookup and the promise, one BatchGetItem) tells a replay (answered with the promise
    as it is now and its version), another write's id (IdConflict) and a new move (the
    refusal stands) apart. A first write costs nothing more: its lookup is a Put in its
    transaction."""
    move_id = move.get("moveId")
    try:
        return append()
    except REFUSALS:
        if move_id is None:
            raise
        kept, current = store.move_replay(promise_id, str(move_id))
        if kept is None or current is None:
            raise
        if kept != request_hash(actor, move, "moveId"):
            raise IdConflict() from None
        return current, int(current["version"])


def _check_terms(act: Act, move: Mapping[str, Any], promise: Mapping[str, Any], now: datetime) -> None:
    """Only a counter or a "not satisfied" may change the terms, and never to a past due time.

    A move that repeats the terms as they stand changes nothing and is fine (an app may send
    what it shows); a change from any other act is a 422 naming each field it would change.
    """
    due = parse_rfc3339(move["dueAt"]) if move.get("dueAt") is not None else None
    changed = changed_terms(
        promise.get("conditions", []),
        parse_rfc3339(promise["dueAt"]),
        conditions=move.get("conditions"),
        due_at=due,
    )
    if changed and act not in TERM_SETTING_ACTS:
        raise InvalidInput(
            f"'{act}' takes the terms as they stand; propose new ones with 'counter'.",
            [
                FieldError(
                    "body",
                    name,
                    "terms_not_changeable",
                    "only counter and declare_not_satisfied change the terms",
                )
                for name in changed
            ],
        )
    if "dueAt" in changed and due is not None and is_past_due_time(due, now):
        raise _due_in_past()


def _require_accounts(tx: Transaction, promise: Mapping[str, Any], actor_id: str) -> None:
    """Nothing is stored for a side whose account is erased by the time this commits: my own
    erasure is a 401, the other side's a conflict (the promise changes hands meanwhile)."""
    for _, side in _user_sides(promise):
        if side == actor_id:
            tx.require_account(side)
        else:
            tx.require_account(side, label=_OTHER_ACCOUNT)


def _append(
    promise: dict[str, Any],
    role: Role,
    act: Act,
    actor_id: str,
    move: Mapping[str, Any],
    before: State,
    after: State,
    now: datetime,
    if_match: str | None,
    *,
    actor: str,
) -> tuple[dict[str, Any], int]:
    at = to_rfc3339(now)
    version = int(promise["version"])
    seq = int(promise.get("moveCount", version)) + 1
    changes: dict[str, Any] = {"state": after.value, "updatedAt": at, "moveCount": seq}
    if move.get("conditions") is not None:
        changes["conditions"] = list(move["conditions"])
    if move.get("dueAt") is not None:
        changes["dueAt"] = to_rfc3339(parse_rfc3339(move["dueAt"]))
    if act == Act.report_completion:
        changes["reportedAt"] = at
    if act == Act.declare_not_satisfied:
        changes["notSatisfied"] = True
    journey_view = dict(promise)  # the journey judges on-time against the due time before this move
    updated = {**promise, **changes, "version": version + 1}
    actor_party = promise[role.value]
    record = {
        "seq": seq,
        "act": act.value,
        "role": role.value,
        "by": party_view(actor_party, None),
        "actorId": actor_id,
        "at": at,
        "note": move.get("note"),
        "conditions": changes.get("conditions"),
        "dueAt": changes.get("dueAt"),
        "state": after.value,
    }
    owner = _owner(promise)
    tx = Transaction()
    tx.add("promise", [store.promise_update(promise["promiseId"], version, changes)])
    tx.add("move", [store.new_move(promise["promiseId"], record, list(promise["participants"]), owner)])
    if move.get("moveId") is not None:
        hashed = request_hash(actor, move, "moveId")
        tx.add("move-id", [store.move_id_put(promise["promiseId"], str(move["moveId"]), seq, hashed)])
    for side_role, side in _user_sides(updated):
        tx.add("membership", [store.membership_update(side, summary_for(updated, side_role))])
        if care_ids_of(updated, side_role):
            _add_links(tx, updated, side_role, side, before=before)
    if act == Act.report_completion:
        journey_view["reportedAt"] = at
    _add_journey(tx, journey_view, act, role, before, after, now)
    performer = updated["performer"]
    if after == State.fulfilled and performer.get("kind") == "user":
        reported = journey_view.get("reportedAt")
        on_time = reported is not None and parse_rfc3339(str(reported)) <= parse_rfc3339(
            str(journey_view["dueAt"])
        )
        fields = {"promiseId": updated["promiseId"], "what": updated["what"], "onTime": on_time}
        tx.add("facts", [facts.fact_put(str(performer["userId"]), "promise-fulfilled", now, fields)])
    if before == State.promised or after == State.promised:
        _add_nudge(tx, updated, before, now)
    notice = _notice(updated, actor_id, act.value, opening=False)
    tx.add("inbox", _inbox(notice, at))
    _require_accounts(tx, updated, actor_id)
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        if if_match is not None and (cancelled.failed_on("promise") or cancelled.failed_on("move")):
            raise PreconditionFailed("The promise moved since you read it; read it again.") from cancelled
        raise Conflict("The promise moved meanwhile; read it again and retry.") from cancelled
    return updated, version + 1


# --- assessments -------------------------------------------------------------------------------


def assess(
    user_id: str, promise_id: str, assessment: Mapping[str, Any], now: datetime, *, self_assessment: bool
) -> dict[str, Any]:
    """The customer's assessment (or the performer's own, kept apart), once per promise.

    It needs a completion report first (the customer assesses what was delivered). The customer's
    value counts in the performer's journey for the month it is given.
    """
    promise = read_promise(user_id, promise_id)
    role = my_role(promise, user_id)
    wanted = Role.performer if self_assessment else Role.customer
    if role != wanted:
        raise Conflict(
            "Only the performer assesses their own delivery here; the customer posts /assessment."
            if self_assessment
            else "Only the customer assesses a promise; the performer posts /self-assessment."
        )
    return _assess(promise, wanted, assessment, now, self_assessment=self_assessment, actor_id=user_id)


def _assess(
    promise: Mapping[str, Any],
    wanted: Role,
    assessment: Mapping[str, Any],
    now: datetime,
    *,
    self_assessment: bool,
    actor_id: str,
) -> dict[str, Any]:
    promise_id = str(promise["promiseId"])
    if not promise.get("reportedAt") and not (self_assessment and is_final(State(promise["state"]))):
        raise Conflict("The performer has not reported completion yet.")
    at = to_rfc3339(now)
    kept = {k: v for k, v in assessment.items() if v is not None} | {"assessedAt": at}
    attribute = "selfAssessment" if self_assessment else "assessment"
    owner = _owner(promise)
    tx = Transaction()
    tx.add("assessment", [store.new_assessment(promise_id, wanted.value, kept, owner)])
    tx.add("promise", [store.assessment_update(promise_id, attribute, kept, at)])
    notice = None
    performer = promise["performer"]
    if not self_assessment and performer.get("kind") == "user":
        month = journey_rules.month_of(now)
        deltas = journey_rules.assessment_deltas(int(assessment["value"]))
        tx.add("journey", [store.journey_update(str(performer["userId"]), month, deltas)])
        fields = {"promiseId": promise_id, "what": promise["what"], "value": int(assessment["value"])}
        tx.add("facts", [facts.fact_put(str(performer["userId"]), "promise-assessed", now, fields)])
        notice = Notice(
            str(performer["userId"]),
            "Your promise was assessed",
            str(promise["what"])[:120],
            {"promiseId": promise_id, "value": int(assessment["value"])},
        )
        tx.add("inbox", _inbox(notice, at))
    _require_accounts(tx, promise, actor_id)
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        if cancelled.failed_on("assessment"):
            raise Conflict("This promise has been assessed already.") from cancelled
        raise Conflict("The promise changed meanwhile; retry.") from cancelled
    return kept


# --- outside counterparts ---------------------------------------------------------------------

COUNTERPART_LINK_TTL = timedelta(days=14)
_TOKEN_SECRET_BYTES = 32  # 256 bits of entropy


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _other(role: Role) -> Role:
    return Role.performer if role == Role.customer else Role.customer


def create_counterpart_link(user_id: str, promise_id: str, now: datetime) -> tuple[str, str]:
    """A new link for the outside side of my promise: answers (token, expiresAt).

    The token is `<promiseId>.<secret>`; only the secret's SHA-256 is stored (on the promise, so
    checking a token is one GetItem). A new link replaces the previous one.
    """
    promise = read_promise(user_id, promise_id)
    role = my_role(promise, user_id)
    assert role is not None
    outside = _other(role)
    if promise[outside.value].get("kind") != "outside":
        raise Conflict("The counterpart is an app user: they act in the app, not through a link.")
    secret = secrets.token_urlsafe(_TOKEN_SECRET_BYTES)
    expires_at = to_rfc3339(now + COUNTERPART_LINK_TTL)
    link = {"hash": _digest(secret), "role": outside.value, "expiresAt": expires_at, "createdBy": user_id}
    store.set_counterpart_link(promise_id, link)
    return f"{promise_id}.{secret}", expires_at


def revoke_counterpart_link(user_id: str, promise_id: str) -> None:
    """Revoke the link I made for this promise; NotFound when there is none of mine."""
    if not store.remove_counterpart_link(promise_id, user_id):
        raise NotFound("No link of yours for this promise.")


def promise_for_token(token: str, now: datetime) -> tuple[dict[str, Any], Role]:
    """The promise a counterpart link opens, and the role its holder acts in.

    Unknown, revoked, expired and malformed tokens are all NotFound, alike.
    """
    promise_id, _, secret = token.partition(".")
    unknown = NotFound("This link is not valid (it may have expired or been revoked).")
    if not promise_id.isalnum() or len(promise_id) > 64 or not 32 <= len(secret) <= 128:
        raise unknown
    promise = store.get_promise(promise_id)
    link = (promise or {}).get("counterpartLink")
    if not promise or not link or not hmac.compare_digest(str(link["hash"]), _digest(secret)):
        raise unknown
    if parse_rfc3339(str(link["expiresAt"])) <= now:
        raise unknown
    return promise, Role(link["role"])


def can_assess(promise: Mapping[str, Any], role: Role) -> bool:
    """Whether the side in `role` may post the customer's assessment now."""
    return role == Role.customer and bool(promise.get("reportedAt")) and not promise.get("assessment")


def counterpart_view(promise: Mapping[str, Any], role: Role) -> dict[str, Any]:
    """What the link's holder sees: the promise's terms and state, the app user's handle only."""
    state = State(promise["state"])
    waiting = waiting_on(state)
    app_side = promise[_other(role).value]
    return {
        "what": promise["what"],
        "conditions": promise.get("conditions", []),
        "dueAt": promise["dueAt"],
        "state": state.value,
        "myRole": role.value,
        "allowedActs": [a.value for a in allowed_acts(state, role)],
        "canAssess": can_assess(promise, role),
        "waitingOn": waiting.value if waiting else None,
        "counterpart": {"kind": "user", "handle": app_side.get("handle")},
        "assessment": promise.get("assessment") if role == Role.customer else None,
    }


def counterpart_move(
    token: str,
    move: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    check_version: CheckVersion,
) -> tuple[dict[str, Any], Role, int]:
    """A move by the outside side, through their link (a replay of a `moveId` as `make_move`)."""
    promise, role = promise_for_token(token, now)

    def append() -> tuple[dict[str, Any], int]:
        check_version(if_match, int(promise["version"]), (promise, role))
        act = Act(move["act"])
        before = State(promise["state"])
        after = next_state(before, role, act)
        _check_terms(act, move, promise, now)
        return _append(promise, role, act, "", move, before, after, now, if_match, actor=_actor("", role))

    updated, version = _replayable(str(promise["promiseId"]), move, _actor("", role), append)
    return updated, role, version


def counterpart_assess(token: str, assessment: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The outside customer's assessment, through their link."""
    promise, role = promise_for_token(token, now)
    if role != Role.customer:
        raise Conflict("Only the customer assesses a promise.")
    return _assess(promise, role, assessment, now, self_assessment=False, actor_id="")


# --- partners' requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerRequester:
    """A coach asking through a partner: the promise's outside customer."""

    partner_id: str
    partner_name: str
    coach_name: str


def open_for_partner(
    user_id: str,
    coach: PartnerRequester,
    request: Mapping[str, Any],
    now: datetime,
    *,
    promise_id: str,
    extra: Sequence[dict[str, Any]],
    request_hash: str | None = None,
) -> dict[str, Any]:
    """A coach asks `user_id` for a promise: it opens in `requested` with the coach as an outside
    customer, and the person is told (their inbox, then a push). `extra` are the partner's own
    items for the same transaction (its request record). Answers the promise as stored.

    `request_hash` (with a `promise_id` bound to the partner's Idempotency-Key): a run after a
    timeout that struck once the first had committed is refused, then answered as that first
    request (the promise as it is now), not opened twice; another body under the key is an
    IdConflict.
    """
    if request_hash is None:
        return _open_for_partner(user_id, coach, request, now, promise_id, extra, None)
    try:
        return _open_for_partner(user_id, coach, request, now, promise_id, extra, request_hash)
    except REFUSALS:
        stored, kept = store.get_promise_and_hash(promise_id)
        if stored is None:
            raise
        if kept != request_hash:
            raise IdConflict() from None
        return stored


def _open_for_partner(
    user_id: str,
    coach: PartnerRequester,
    request: Mapping[str, Any],
    now: datetime,
    promise_id: str,
    extra: Sequence[dict[str, Any]],
    request_hash: str | None,
) -> dict[str, Any]:
    due = parse_rfc3339(request["dueAt"])
    if is_past_due_time(due, now):
        raise _due_in_past()
    at = to_rfc3339(now)
    customer = {
        "kind": "outside",
        "name": coach.coach_name,
        "partnerId": coach.partner_id,
        "partnerName": coach.partner_name,
    }
    performer = {"kind": "user", "userId": user_id, "handle": None}
    promise: dict[str, Any] = {
        "promiseId": promise_id,
        "opening": "request",
        "what": request["what"],
        "conditions": list(request.get("conditions", [])),
        "dueAt": to_rfc3339(due),
        "size": request.get("size")
        or {"people": 1, "horizonDays": max(1, (due - now).days), "scope": "self"},
        "customer": customer,
        "performer": performer,
        "state": State.requested.value,
        "version": 1,
        "moveCount": 1,
        "participants": [user_id],
        "createdAt": at,
        "updatedAt": at,
    }
    profile = profiles.get_profile(user_id)
    performer["handle"] = (profile.data if profile else {}).get("handle")
    move = {
        "seq": 1,
        "act": Act.request.value,
        "role": Role.customer.value,
        "by": party_view(customer, None),
        "actorId": "",
        "at": at,
        "note": request.get("note"),
        "conditions": promise["conditions"],
        "dueAt": promise["dueAt"],
        "state": State.requested.value,
    }
    tx = Transaction()
    tx.add("promise", [store.new_promise(promise, user_id, request_hash)])
    tx.add("move", [store.new_move(promise["promiseId"], move, promise["participants"], user_id)])
    tx.add("membership", [store.new_membership(user_id, summary_for(promise, Role.performer))])
    tx.add("inbox", _inbox(_notice(promise, "", Act.request.value, opening=True), at))
    tx.add("partner", list(extra))
    tx.require_account(user_id, label=_OTHER_ACCOUNT)
    try:
        tx.commit()
    except TransactionCancelled as cancelled:
        if cancelled.failed_on(_OTHER_ACCOUNT):
            raise NotFound("No client with that id has granted you access.") from cancelled
        raise Conflict("The request could not be made; retry.") from cancelled
    return promise


def partner_move(
    promise: dict[str, Any],
    move: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    check_version: CheckVersion,
) -> tuple[dict[str, Any], int]:
    """A move by the coach, the outside customer of a promise a partner's request opened (a
    replay of a `moveId` as `make_move`)."""
    actor = _actor("", Role.customer)

    def append() -> tuple[dict[str, Any], int]:
        check_version(if_match, int(promise["version"]), promise)
        act = Act(move["act"])
        before = State(promise["state"])
        after = next_state(before, Role.customer, act)
        _check_terms(act, move, promise, now)
        return _append(promise, Role.customer, act, "", move, before, after, now, if_match, actor=actor)

    return _replayable(str(promise["promiseId"]), move, actor, append)


def partner_assess(promise: dict[str, Any], assessment: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The coach's assessment, as the customer."""
    return _assess(promise, Role.customer, assessment, now, self_assessment=False, actor_id="")


def partner_view(
    promise: Mapping[str, Any], moves: Sequence[Mapping[str, Any]], request_id: str
) -> dict[str, Any]:
    """A partner's request as the partner sees it: the terms, state, what the coach may do next,
    and the moves (the person named only as `performer`)."""
    state = State(promise["state"])
    return {
        "requestId": request_id,
        "what": promise["what"],
        "conditions": promise.get("conditions", []),
        "dueAt": promise["dueAt"],
        "state": state.value,
        "allowedActs": [a.value for a in allowed_acts(state, Role.customer)],
        "canAssess": can_assess(promise, Role.customer),
        "assessment": promise.get("assessment"),
        "moves": [
            {
                k: m[k]
                for k in ("seq", "act", "role", "at", "note", "conditions", "dueAt", "state")
                if m.get(k) is not None
            }
            for m in moves
        ],
        "createdAt": promise["createdAt"],
        "updatedAt": promise["updatedAt"],
    }


# --- journey -----------------------------------------------------------------------------------


def journey(user_id: str, first: str, last: str, now: datetime) -> dict[str, Any]:
    """Every month from `first` to `last` (one Query) with its promise counters (UTC months) and
    plan figures (local months), months without activity as zeros, and my practice streaks
    (one more request: my streak state and my time zone, for what "today" is)."""
    promise_months, plan_months = store.journey_months(user_id, first, last)
    zone, streak = practice_store.zone_and_streak(user_id)
    today = now.astimezone(ZoneInfo(zone)).date()
    return {
        "from": first,
        "to": last,
        "months": [
            {
                **journey_rules.summarize(month, promise_months.get(month, {})),
                "plan": journey_rules.summarize_plan(plan_months.get(month, {})),
            }
            for month in journey_rules.months_between(first, last)
        ],
        "practice": {
            "currentStreak": streak.current(today),
            "longestStreak": streak.longest,
            "lastPracticeDay": streak.last_day.isoformat() if streak.last_day else None,
            "timeZone": zone,
        },
    }


# --- export ----------------------------------------------------------------------------------

# A person's promises live in their own partitions: one Query each, a few at a time.
_EXPORT_READERS = 8


def promises_as_i_see_them(user_id: str, promise_ids: Sequence[str]) -> list[dict[str, Any]]:
    """These promises of mine (my memberships name them) with their whole logs, as I see them.

    One Query per promise, run `_EXPORT_READERS` at a time: export is rare, and the person's
    promises are in their own partitions by design (each is shared with the other side).
    """
    ids = list(promise_ids)
    with ThreadPoolExecutor(max_workers=_EXPORT_READERS) as pool:
        partitions = list(pool.map(store.promise_partition, ids))
    out = []
    for items in partitions:
        promise = next((i for i in items if i["SK"] == store_keys.PROMISE_SK), None)
        if promise is None or my_role(promise, user_id) is None:
            continue  # anonymised away from me meanwhile, or gone
        moves = sorted(
            (i for i in items if str(i["SK"]).startswith(store_keys.MOVE_PREFIX)), key=lambda m: int(m["seq"])
        )
        view = promise_view({k: promise[k] for k in store.PROMISE_FIELDS if k in promise}, user_id)
        out.append({**view, "moves": [move_view(m, user_id) for m in moves]})
    return out


# --- handles ---------------------------------------------------------------------------------


def follow_handle(user_id: str) -> int:
    """Show this person's current handle wherever a promise of theirs shows them: the promise
    (both sides and a link's holder read it there), the moves they made, and the other app
    user's membership and care links. Answers how many items changed.

    Run after their profile changed (the table's stream, `functions/handle_follower`). It reads
    the handle from the profile now, not from the event, so retries and reordered events end
    in the same place; every write is conditioned on what it replaces, so a second run changes
    nothing. The promise item goes first and bumps its version, so a move in flight that read
    the old handle fails and is retried on the new one; its moves are read after that.
    A person whose profile is gone (erased) is left alone: erasure deals with their promises.
    """
    current = profiles.get_profile(user_id)
    if current is None:
        return 0
    handle = current.handle
    changed = 0
    for membership in store.my_memberships(user_id):
        promise_id = str(membership["promiseId"])
        role = str(membership["myRole"])
        changed += store.rename_party(promise_id, role, user_id, handle)
        items = store.promise_partition(promise_id)
        promise = next((i for i in items if i["SK"] == store_keys.PROMISE_SK), None)
        if promise is None or my_role(promise, user_id) is None:
            continue
        for item in items:
            mine = str(item["SK"]).startswith(store_keys.MOVE_PREFIX) and item.get("actorId") == user_id
            if mine and (item.get("by") or {}).get("handle") != handle:
                changed += store.rename_mover(promise_id, int(item["seq"]), user_id, handle)
        for other_role, other_id in _user_sides(promise):
            if other_id == user_id:
                continue
            changed += store.rename_counterpart(
                other_id, store_keys.membership_sk(promise_id), in_summary=False, handle=handle
            )
            for care_id in care_ids_of(promise, other_role):
                link = store_keys.care_link_sk(care_id, _LINKED, promise_id)
                changed += store.rename_counterpart(other_id, link, in_summary=True, handle=handle)
    return changed


# --- erasure -----------------------------------------------------------------------------------


@dataclass
class Forgotten:
    """What `forget_person` did: promises anonymised, and the keys of the promises that were mine
    alone (an outside counterpart), for erasure to delete with the rest of my items."""

    anonymised: int = 0
    keys_to_delete: list[dict[str, Any]] = field(default_factory=list)


def forget_person(user_id: str) -> Forgotten:
    """Before an account is erased: take the person out of promises shared with another app user.

    Those promises stay in the other person's log, with the erased person shown as an anonymous
    outside counterpart: their side becomes "Former member", their notes, self-assessment, cares
    and assessment texts go, the acts and times stay. The promise then belongs to the other
    person (`owner`), so its items are erased with that person's account later. Promises whose
    other side is outside the app are mine alone: every item of their partition comes back in
    `keys_to_delete` (read consistently from my memberships, so a promise opened a moment before
    the erasure is not missed while the ByOwner index catches up). Idempotent: an erasure that
    stopped half-way is simply run again.
    """
    forgotten = Forgotten()
    for membership in store.my_memberships(user_id):
        promise_id = str(membership["promiseId"])
        items = store.promise_partition(promise_id)
        promise = next((i for i in items if i["SK"] == store_keys.PROMISE_SK), None)
        if promise is None:
            continue
        role = my_role(promise, user_id)
        if role is None:
            continue
        others = [(r, u) for r, u in _user_sides(promise) if u != user_id]
        if not others:
            forgotten.keys_to_delete += [key(str(i["PK"]), str(i["SK"])) for i in items]
            continue
        other_role, other_id = others[0]
        _anonymise(promise, items, role, user_id, other_role, other_id)
        forgotten.anonymised += 1
    return forgotten


def _anonymise(
    promise: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    role: Role,
    user_id: str,
    other_role: Role,
    other_id: str,
) -> None:
    pk = store_keys.promise_pk(str(promise["promiseId"]))
    anonymous = party_view(store.FORMER_MEMBER, None)
    for item in items:
        sk = str(item["SK"])
        if sk == store_keys.PROMISE_SK:
            removes = [f"{role.value}CareIds"]
            if role == Role.performer:
                removes.append("selfAssessment")
            elif item.get("assessment"):
                removes += ["assessment.enabled", "assessment.evidence"]
            if (item.get("counterpartLink") or {}).get("createdBy") == user_id:
                removes.append("counterpartLink")
            if item.get("requestHash") is not None:
                removes.append("requestHash")  # of the write that opened it, perhaps theirs
            store.update_item(
                pk,
                sk,
                {role.value: store.FORMER_MEMBER, "participants": [other_id], "owner": other_id},
                tuple(removes),
            )
        elif sk.startswith(store_keys.MOVE_PREFIX):
            mine = item.get("actorId") == user_id
            store.update_item(
                pk,
                sk,
                {"participants": [other_id], "owner": other_id, **({"by": anonymous} if mine else {})},
                ("actorId", "note") if mine else (),
            )
        elif sk == f"{store_keys.ASSESSMENT_PREFIX}{role.value}":
            if role == Role.performer:
                store.delete_item(pk, sk)  # the performer's own view goes with them
            else:
                store.update_item(pk, sk, {"owner": other_id}, ("enabled", "evidence"))
        elif sk.startswith(store_keys.ASSESSMENT_PREFIX):
            store.update_item(pk, sk, {"owner": other_id})
    # The other side's lists show the counterpart: rewrite their membership and care links.
    summary_counterpart = party_view(store.FORMER_MEMBER, None)
    store.update_item(
        store_keys.user_pk(other_id),
        store_keys.membership_sk(str(promise["promiseId"])),
        {"counterpart": summary_counterpart},
    )
    for care_id in care_ids_of(promise, other_role):
        store.update_item(
            store_keys.user_pk(other_id),
            store_keys.care_link_sk(care_id, _LINKED, str(promise["promiseId"])),
            {"summary.counterpart": summary_counterpart},
        )
