"""Delta sync: each person's change log, written from the table's stream and read by the app.

`changes_of` turns one stream record into the changes it makes to the logs of the people who see
the item (the owner of a `USER#` item; each app-user side of a promise for its items), each with
the representation the API's GET shows that person. `log_changes` writes them (see
`shared.store.sync`: a per-person sequence, compacted, tombstones). `pull` reads one page.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.domain.errors import AccountErased, FieldError, Gone, InvalidInput
from shared.domain.sync import SYNCED_TYPES, Change, Op, SyncCursor, latest_per_ref
from shared.logic.promises import move_view, promise_view
from shared.models.care import Care, CareRevision, Reflection
from shared.models.export import REMINDER_FIELDS, ReminderExport
from shared.models.notification import Notification
from shared.models.plan import Obstacle, PlanItem, PlanSuggestion
from shared.models.profile import Profile
from shared.models.promise import MoveRecord, Promise
from shared.observability import logger, metrics
from shared.secrets import CURSOR_MAC_BYTES, cursor_mac, cursor_mac_valid
from shared.store import cares, keys, notifications, plans, profiles, reflections
from shared.store import promises as promise_store
from shared.store import sync as store
from shared.store.table import deserialize


def _pick(item: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {k: item[k] for k in fields if k in item}


def _dump(model: Any) -> dict[str, Any]:
    return dict(model.model_dump(by_alias=True, mode="json", exclude_none=True))


def _child(model: Any, item: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """A plan's child as the plan shows it, with the plan it belongs to."""
    return {**_dump(model.model_validate(_pick(item, fields))), "planId": item["planId"]}


# entity -> (the id the app knows it by, the representation for one viewer)
_Id = Callable[[Mapping[str, Any]], str]
_View = Callable[[Mapping[str, Any], str], dict[str, Any]]
_VIEWS: dict[str, tuple[_Id, _View]] = {
    "profile": (lambda i: "me", lambda i, u: _dump(Profile.model_validate(_pick(i, profiles.PUBLIC_FIELDS)))),
    "reflection": (
        lambda i: str(i["reflectionId"]),
        lambda i, u: _dump(Reflection.model_validate(reflections.public(dict(i)))),
    ),
    "care": (lambda i: str(i["careId"]), lambda i, u: _dump(Care.model_validate(cares.public(dict(i))))),
    "care-revision": (
        lambda i: f"{i['careId']}.{i['revision']}",
        lambda i, u: _dump(CareRevision.model_validate(_pick(i, cares.REVISION_FIELDS))),
    ),
    "promise": (
        lambda i: str(i["promiseId"]),
        lambda i, u: _dump(Promise.model_validate(promise_view(_pick(i, promise_store.PROMISE_FIELDS), u))),
    ),
    "promise-move": (
        lambda i: f"{i['promiseId']}.{i['seq']}",
        lambda i, u: {**_dump(MoveRecord.model_validate(move_view(i, u))), "promiseId": i["promiseId"]},
    ),
    "plan": (
        lambda i: str(i["planId"]),
        lambda i, u: _pick(i, plans.PLAN_FIELDS),
    ),
    "plan-item": (lambda i: str(i["itemId"]), lambda i, u: _child(PlanItem, i, plans.ITEM_FIELDS)),
    "plan-obstacle": (
        lambda i: str(i["obstacleId"]),
        lambda i, u: _child(Obstacle, i, plans.OBSTACLE_FIELDS),
    ),
    "plan-suggestion": (
        lambda i: str(i["suggestionId"]),
        lambda i, u: _child(PlanSuggestion, i, plans.SUGGESTION_FIELDS),
    ),
    "plan-reminder": (
        lambda i: ".".join(str(i[k]) for k in ("planId", "itemId") if i.get(k)),
        lambda i, u: _dump(ReminderExport.model_validate(_pick(i, REMINDER_FIELDS))),
    ),
    "notification": (
        lambda i: str(i["notificationId"]),
        lambda i, u: _dump(Notification.model_validate(notifications.public(dict(i)))),
    ),
}
# What each kind's ETag is made of (things written once are version 1 for ever).
_VERSION_FIELD = {
    "profile": "version",
    "care": "revision",
    "promise": "version",
    "plan": "version",
    "plan-item": "version",
    "plan-obstacle": "version",
    "plan-suggestion": "version",
    "plan-reminder": "version",
}
assert set(_VIEWS) == set(SYNCED_TYPES)


def _viewers(item: Mapping[str, Any]) -> list[str]:
    """Whose log an item's changes go to: the owner of a `USER#` item, each app-user side of a
    promise for the items of its partition."""
    pk = str(item.get("PK", ""))
    if pk.startswith("USER#"):
        return [pk.removeprefix("USER#")]
    return [str(u) for u in item.get("participants", [])]


def _ref(item: Mapping[str, Any], user_id: str) -> str:
    """The item, named within one person's view: its sort key in their own partition, its
    partition and sort key elsewhere."""
    pk, sk = str(item["PK"]), str(item["SK"])
    return sk if pk == keys.user_pk(user_id) else f"{pk}#{sk}"


def changes_of(record: Mapping[str, Any]) -> list[Change]:
    """The changes one stream record makes to the logs of the people who see its item.

    A modification that leaves what a person sees unchanged (a care map counter, an index key,
    a copy kept for the dispatcher) is no change for them.
    """
    stream = record["dynamodb"]
    new = deserialize(stream.get("NewImage", {}))
    old = deserialize(stream.get("OldImage", {}))
    entity = str((new or old).get("entity", ""))
    if entity not in _VIEWS:
        return []
    ident, view = _VIEWS[entity]
    src = int(stream.get("SequenceNumber") or 0)
    created = stream.get("ApproximateCreationDateTime")
    at = (
        (datetime.fromtimestamp(float(created), UTC) if created is not None else datetime.now(UTC))
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )
    version_field = _VERSION_FIELD.get(entity)
    out: list[Change] = []
    seeing_now = _viewers(new) if new else []
    for user_id in seeing_now:
        data = view(new, user_id)
        if old and user_id in _viewers(old) and view(old, user_id) == data:
            continue
        version = int(new.get(version_field, 1)) if version_field else 1
        out.append(_change(user_id, new, entity, ident(new), "upsert", version, at, data, src))
    if old:
        for user_id in _viewers(old):
            if user_id not in seeing_now:
                version = int(old.get(version_field, 1)) if version_field else 1
                out.append(_change(user_id, old, entity, ident(old), "delete", version, at, None, src))
    return out


def _change(
    user_id: str,
    item: Mapping[str, Any],
    entity: str,
    ident: str,
    op: Op,
    version: int,
    at: str,
    data: dict[str, Any] | None,
    src: int,
) -> Change:
    return Change(user_id, _ref(item, user_id), SYNCED_TYPES[entity], ident, op, version, at, data, src)


@dataclass(frozen=True)
class Logged:
    """What a write to the logs did: entries written, replays skipped, people erased meanwhile."""

    written: int = 0
    replays: int = 0
    erased: int = 0


# An invocation stops waiting for another writer this long before its deadline (the stream
# delivers the records again).
_GIVE_UP_BEFORE_DEADLINE_SECONDS = 5.0
# With no deadline given: the longest a Lambda invocation can run.
_LONGEST_INVOCATION_SECONDS = 900


def log_changes(
    user_id: str, changes: Sequence[Change], now: datetime, deadline: float | None = None
) -> Logged:
    """Append one person's changes to their log (in chunks of one lease each, see
    `shared.store.sync`), skipping stream records older than what the log holds. Waits while
    another writer holds the log, until `deadline` (epoch seconds: when this invocation must
    end) is near. A person erased meanwhile gets nothing."""
    deadline = deadline if deadline is not None else time.time() + _LONGEST_INVOCATION_SECONDS
    written = replays = 0
    latest = latest_per_ref(list(changes))
    for start in range(0, len(latest), store.MAX_CHANGES_PER_WRITE):
        chunk = latest[start : start + store.MAX_CHANGES_PER_WRITE]
        try:
            fresh = _write_chunk(user_id, chunk, now, deadline)
        except AccountErased:
            return Logged(written, replays, erased=1)
        written += len(fresh)
        replays += len(chunk) - len(fresh)
    return Logged(written, replays)


def _write_chunk(user_id: str, chunk: Sequence[Change], now: datetime, deadline: float) -> list[Change]:
    """Claim the log, write what it does not hold yet, publish; answers what was written."""
    pause = 0.02
    while True:
        state = store.read_state(user_id, [c.ref for c in chunk])
        if state.erased:
            raise AccountErased("This account has been erased.")
        fresh = [c for c in chunk if c.ref not in state.refs or state.refs[c.ref][1] < c.src]
        if not fresh:
            return []
        if not state.held(datetime.now(UTC)):
            try:
                lease = store.claim(
                    user_id, state, len(fresh), datetime.now(UTC), store.lease_until(deadline)
                )
            except store.Raced:
                pass  # another writer claimed it since our read
            else:
                _write_under(user_id, lease, fresh, state, now)
                return fresh
        if time.time() + pause > deadline - _GIVE_UP_BEFORE_DEADLINE_SECONDS:
            raise store.Busy("Another writer held this change log until this invocation's end.")
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def _write_under(
    user_id: str, lease: store.Lease, fresh: Sequence[Change], state: store.LogState, now: datetime
) -> None:
    """Write and publish; a failed write still publishes what it wrote and lets go of the log."""
    try:
        store.write(user_id, lease, fresh, state, now)
    except BaseException:
        with contextlib.suppress(Exception):
            store.release(user_id, lease)
        raise
    try:
        store.release(user_id, lease)
    except store.LeaseLost:  # only if this writer outlived its invocation's deadline
        logger.warning("A change log lease ran out before its writer published")
        metrics.add_metric(name="ChangeLogLeasesLost", unit="Count", value=1)


def log_records(
    records: Sequence[Mapping[str, Any]], now: datetime, deadline: float | None = None
) -> str | None:
    """Write the changes of a batch of stream records, person by person. Answers the sequence
    number of the earliest record of a person whose log could not be written (the stream
    resumes from it; what was logged after it is skipped as a replay), or None."""
    by_person: dict[str, list[Change]] = defaultdict(list)
    first_record: dict[str, int] = {}
    for index, record in enumerate(records):
        for change in changes_of(record):
            by_person[change.user_id].append(change)
            first_record.setdefault(change.user_id, index)
    failed: list[int] = []
    written = replays = 0
    for user_id, changes in by_person.items():
        try:
            done = log_changes(user_id, changes, now, deadline)
        except Exception:  # reported by record: the stream delivers it again
            logger.exception("A change log could not be written", extra={"changes": len(changes)})
            failed.append(first_record[user_id])
            continue
        written += done.written
        replays += done.replays
    if written:
        metrics.add_metric(name="ChangesLogged", unit="Count", value=written)
    if replays:
        metrics.add_metric(name="ChangeReplaysSkipped", unit="Count", value=replays)
    if not failed:
        return None
    metrics.add_metric(name="ChangeLogFailures", unit="Count", value=len(failed))
    return str(records[min(failed)]["dynamodb"]["SequenceNumber"])


# --- reading ---------------------------------------------------------------------------------

_CURSOR_INVALID = InvalidInput(
    "The cursor is not valid for this log.",
    [FieldError("query", "cursor", "cursor_invalid", "not a cursor this log issued")],
)


# Domain separation: a list cursor's MAC never verifies a sync cursor.
_MAC_DOMAIN = b"sync:"


def encode_cursor(cursor: SyncCursor, user_id: str) -> str:
    """Opaque and tamper-proof: the sequence and the caught-up time, signed, bound to me."""
    payload = json.dumps({"s": cursor.seq, "t": cursor.caught_up_at, "u": user_id}, separators=(",", ":"))
    raw = cursor_mac(_MAC_DOMAIN + payload.encode()) + payload.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, user_id: str) -> SyncCursor:
    """A cursor this log issued to me; anything else is a 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:
        raise _CURSOR_INVALID from None
    signature, payload = raw[:CURSOR_MAC_BYTES], raw[CURSOR_MAC_BYTES:]
    if not cursor_mac_valid(signature, _MAC_DOMAIN + payload):
        raise _CURSOR_INVALID
    data = json.loads(payload)
    if data.get("u") != user_id:
        raise _CURSOR_INVALID
    return SyncCursor(seq=int(data["s"]), caught_up_at=int(data["t"]))


@dataclass(frozen=True)
class ChangePage:
    """One page of my log, the cursor to come back with, and whether more is waiting now."""

    items: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


def pull(user_id: str, cursor: str | None, limit: int, now: datetime) -> ChangePage:
    """My changes after the cursor (without one: the whole log, a snapshot), one Query.

    A cursor whose tombstones may be gone is a 410: the app must resync without a cursor.
    """
    position = decode_cursor(cursor, user_id) if cursor else SyncCursor(0, int(now.timestamp()))
    if position.expired(now):
        raise Gone("This cursor is older than the deletions the server keeps; sync again without a cursor.")
    entries, more = store.read_changes(user_id, position.seq, limit)
    last = int(entries[-1]["seq"]) if entries else position.seq
    # Caught up now: every entry not yet read will be written after this moment.
    caught_up = position.caught_up_at if more else int(now.timestamp())
    items = [
        {
            "type": e["type"],
            "id": e["id"],
            "op": e["op"],
            "version": e["version"],
            "at": e["at"],
            **({"data": e["data"]} if "data" in e else {}),
        }
        for e in entries
    ]
    return ChangePage(items, encode_cursor(SyncCursor(last, caught_up), user_id), more)
