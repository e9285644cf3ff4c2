"""Care discovery's use cases: the question sets, reflections, cares and their ranking, history
and the care map.

Every care write is one read (`shared.store.cares.load_cares`: all my cares and the ranking's
version) and one transaction: the care it changes, a revision per changed care, the other cares
whose rank moved and the ranking's version when ranks move (so two concurrent re-rankings cannot
both win). Requests come as the validated models' camelCase JSON; the routes answer them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain import cares as rules
from shared.domain.errors import Conflict, FieldError, IdConflict, InvalidInput, NotFound
from shared.domain.ids import new_id
from shared.domain.merge_patch import apply_merge_patch
from shared.domain.questions import CURRENT_VERSION, question_set
from shared.domain.replay import request_hash
from shared.domain.timeutil import parse_rfc3339, to_rfc3339
from shared.store import cares, reflections
from shared.store.cares import CareSet, CareWrite

CheckVersion = Callable[[str | None, int, Any], None]  # (If-Match, version read, what was read)
Validate = Callable[[dict[str, Any]], dict[str, Any]]  # a merged document, checked as a whole


@dataclass(frozen=True)
class Kept:
    """What a create answers: the item as it is now, and whether this was a replay of an earlier
    write (which changed nothing)."""

    item: dict[str, Any]
    replayed: bool = False


# --- questions and reflections -----------------------------------------------------------------


def questions(version: int | None) -> dict[str, Any]:
    """A question set (the current one when `version` is None) as the API shows it."""
    found = question_set(version)
    if found is None:
        raise NotFound("No question set has that version.")
    return {
        "version": found.version,
        "current": found.version == CURRENT_VERSION,
        "questions": [{"id": q.id, "text": q.text, "theme": q.theme} for q in found.questions],
    }


def check_answers(reflection: Mapping[str, Any]) -> None:
    """Refuse answers that do not fit their question set (422 naming each answer)."""
    found = question_set(reflection["questionSetVersion"])
    if found is None:
        raise InvalidInput(
            "That question set version does not exist.",
            [
                FieldError(
                    "body",
                    "questionSetVersion",
                    "unknown_version",
                    "must be a published question set version",
                )
            ],
        )
    known = found.question_ids()
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, answer in enumerate(reflection["answers"]):
        question_id = answer["questionId"]
        if question_id not in known:
            errors.append(
                FieldError(
                    "body",
                    f"answers.{i}.questionId",
                    "unknown_question",
                    f"must be a question of version {found.version}",
                )
            )
        elif question_id in seen:
            errors.append(FieldError("body", f"answers.{i}.questionId", "duplicate", "answered twice"))
        seen.add(question_id)
    if errors:
        raise InvalidInput("Some answers do not fit the question set.", errors)


def write_reflection(user_id: str, reflection: Mapping[str, Any], now: datetime) -> Kept:
    """Keep a reflection as written (`check_answers` has passed); `reflection` is the validated
    `ReflectionInput` as camelCase JSON.

    With `reflectionId` (the app's, or the one bound to the Idempotency-Key) replaying the same
    write answers as the first time; the id of another write is an IdConflict. A replay is told
    apart only when the write is refused: one read then.
    """
    app_id = reflection.get("reflectionId")
    hashed = request_hash(user_id, reflection, "reflectionId") if app_id is not None else None
    fields = {k: v for k, v in reflection.items() if k != "reflectionId"}
    made = {"reflectionId": app_id or new_id(), **fields, "createdAt": to_rfc3339(now)}
    try:
        return Kept(reflections.add_reflection(user_id, made, request_hash=hashed))
    except reflections.ReflectionIdTaken:
        # A replay (kept as written: it answers as the first time) or another write's id:
        # one read tells, on this failure path only.
        found = reflections.find_reflection(user_id, str(app_id)) if hashed is not None else None
        if found is None:
            raise
        if found[1] != hashed:
            raise IdConflict() from None
        return Kept(found[0], replayed=True)


def read_reflection(user_id: str, reflection_id: str) -> dict[str, Any]:
    """One of my reflections; NotFound when it is not mine."""
    found = reflections.get_reflection(user_id, reflection_id)
    if found is None:
        raise NotFound("No such reflection.")
    return found


# --- cares -------------------------------------------------------------------------------------


def _person(user_id: str) -> dict[str, Any]:
    return {"kind": "person", "id": user_id}


def _revision(action: str, found: list[rules.Change], at: str, by: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": action,
        "changedAt": at,
        "changedBy": by,
        "changes": [{"field": c.field, "before": c.before, "after": c.after} for c in found],
    }


def _rerank_writes(
    current: CareSet, before: list[str], after: list[str], skip: str, at: str, by: dict[str, Any]
) -> list[CareWrite]:
    """Writes for the other cares whose rank an insert, move or archive shifted."""
    writes = []
    for care_id, (old, new) in sorted(rules.rank_moves(before, after).items()):
        if care_id == skip:
            continue
        care = current.find(care_id)
        if care is None:  # the order came from these cares; a missing one is a bug
            raise RuntimeError(f"ranked care {care_id} not loaded")
        writes.append(
            CareWrite(
                care_id=care_id,
                expected_revision=int(care["revision"]),
                fields={"rank": new, "updatedAt": at},
                revision=_revision("reranked", [rules.Change("rank", old, new)], at, by),
            )
        )
    return writes


def _replayed_care(found: dict[str, Any] | None, hashed: str) -> Kept | None:
    """The answer to a replay of a create (the care as it is now), an IdConflict when the id was
    used for another write, or None when no care has the id."""
    if found is None:
        return None
    if found.get("requestHash") != hashed:
        raise IdConflict()
    return Kept(found, replayed=True)


def create_care(user_id: str, care: Mapping[str, Any], now: datetime) -> Kept:
    """Name a care of mine, placed at its `rank` (last when absent), the others re-ranked;
    `care` is the validated `CareInput` as camelCase JSON. Answers the stored care.

    With `careId` (the app's, or the one bound to the Idempotency-Key) replaying the same write
    answers with the care as it is now; the id of another write is an IdConflict.
    """
    app_id = care.get("careId")
    hashed = request_hash(user_id, care, "careId") if app_id is not None else None
    current = cares.load_cares(user_id)
    if app_id is not None and hashed is not None:
        # The read holds every care of mine: a replay is told apart at no cost.
        replayed = _replayed_care(current.find(app_id), hashed)
        if replayed is not None:
            return replayed
    before = current.active_order()
    if len(before) >= rules.MAX_ACTIVE_CARES:
        raise Conflict(f"You have {rules.MAX_ACTIVE_CARES} active cares; archive one first.")
    care_id = app_id or new_id()
    after = rules.place(before, care_id, care.get("rank"))
    at = to_rfc3339(now)
    by = _person(user_id)
    fields = {
        **{k: v for k, v in care.items() if k not in ("rank", "careId")},
        "careId": care_id,
        "rank": after.index(care_id) + 1,
        "status": "active",
        "createdAt": at,
        "updatedAt": at,
    }
    created = CareWrite(
        care_id=care_id,
        expected_revision=None,
        fields=fields,
        revision=_revision("created", rules.changes({}, fields), at, by),
        request_hash=hashed,
    )
    try:
        cares.save_cares(
            user_id,
            [created, *_rerank_writes(current, before, after, care_id, at, by)],
            ranking_version=current.ranking_version,
            source_reflection_id=care.get("sourceReflectionId"),
        )
    except cares.CareIdTaken:
        # Made meanwhile (a replay racing its first write) or someone's id: one read tells.
        replayed = _replayed_care(cares.find_care(user_id, care_id), str(hashed))
        if replayed is None:
            raise
        return replayed
    return Kept({**fields, "revision": 1})


def _sort_key(care: Mapping[str, Any], status: str) -> tuple[str, str]:
    """Where a care sits in its list: its rank (active) or when it was archived, then its id."""
    if status == "active":
        return (f"{int(care.get('rank') or 0):06d}", str(care["careId"]))
    return (str(care.get("archivedAt", "")), str(care["careId"]))


def list_cares(
    user_id: str, status: str, limit: int, after: tuple[str, ...] | None
) -> tuple[list[dict[str, Any]], list[str] | None]:
    """One page of my cares in `status`: active ones by rank, archived ones last archived first.

    The whole list is one Query; `after` is the sort key of the last care shown before (the
    cursor holds it), so the next page starts after it even if that care moved or was archived
    meanwhile. Answers the page and the sort key to continue after (None on the last page).
    """
    current = cares.load_cares(user_id)
    newest_first = status == "archived"
    listed = [c for c in current.cares if c.get("status") == status]
    ordered = sorted(listed, key=lambda c: _sort_key(c, status), reverse=newest_first)
    offset = 0
    if after is not None:
        offset = next(
            (
                i
                for i, c in enumerate(ordered)
                if (_sort_key(c, status) < after if newest_first else _sort_key(c, status) > after)
            ),
            len(ordered),
        )
    page = ordered[offset : offset + limit]
    more = offset + limit < len(ordered)
    return page, list(_sort_key(page[-1], status)) if more and page else None


def read_care(user_id: str, care_id: str) -> dict[str, Any]:
    """One of my cares; NotFound when it is not mine."""
    found = cares.get_care(user_id, care_id)
    if found is None:
        raise NotFound("No such care.")
    return found


def change_care(
    user_id: str,
    care_id: str,
    patch: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    check_version: CheckVersion,
    validate: Validate,
) -> dict[str, Any]:
    """Apply a merge patch to one care (re-ranking the others when needed) in one transaction;
    answers the care as it now is. `validate` checks the merged `CareDocument` as a whole.

    `rank` moves it among my active cares, `status` archives or restores it (last in rank unless
    `rank` says otherwise). A patch that changes nothing writes nothing.
    """
    current = cares.load_cares(user_id)
    care = current.find(care_id)
    if care is None:
        raise NotFound("No such care.")
    check_version(if_match, int(care["revision"]), care)
    editable = {k: care[k] for k in (*rules.EDITABLE_FIELDS, "rank", "status") if care.get(k) is not None}
    nulled = [f for f in ("status", "rank") if f in patch and patch[f] is None]
    if nulled:
        raise InvalidInput(
            "These fields cannot be cleared.",
            [FieldError("body", f, "not_nullable", "cannot be null") for f in nulled],
        )
    merged = apply_merge_patch(editable, dict(patch))
    if merged.get("status") == "archived" and "rank" in patch and patch["rank"] is not None:
        raise InvalidInput(
            "An archived care has no rank.",
            [FieldError("body", "rank", "archived", "restore the care (status: active) to rank it")],
        )
    wanted = validate(merged)

    before = current.active_order()
    if wanted["status"] == "active":
        if care["status"] == "archived" and len(before) >= rules.MAX_ACTIVE_CARES:
            raise Conflict(f"You have {rules.MAX_ACTIVE_CARES} active cares; archive one first.")
        moving = "rank" in patch or care["status"] == "archived"
        after = rules.place(before, care_id, wanted.get("rank")) if moving else before
    else:
        after = rules.remove(before, care_id)
    new_rank = after.index(care_id) + 1 if care_id in after else None

    at = to_rfc3339(now)
    target = {k: v for k, v in wanted.items() if k != "rank"}
    target["rank"] = new_rank
    if wanted["status"] == "archived":
        target["archivedAt"] = care.get("archivedAt") if care["status"] == "archived" else at
    # Only what a patch can change is compared (a care keeps its source reflection for good).
    found = rules.changes(care, target, fields=(*rules.EDITABLE_FIELDS, "rank", "status"))
    if not found:
        return care  # nothing to change: no write, no revision
    by = _person(user_id)
    fields = {k: v for k, v in target.items() if v is not None}
    fields["updatedAt"] = at
    cleared = tuple(
        k for k in (*rules.EDITABLE_FIELDS, "rank", "archivedAt") if target.get(k) is None and k in care
    )
    write = CareWrite(
        care_id=care_id,
        expected_revision=int(care["revision"]),
        fields=fields,
        revision=_revision(rules.revision_action(found), found, at, by),
        remove=cleared,
    )
    reranked = _rerank_writes(current, before, after, care_id, at, by)
    cares.save_cares(
        user_id,
        [write, *reranked],
        ranking_version=current.ranking_version if before != after else None,
        if_match_on=care_id if if_match is not None else None,
    )
    updated = {k: v for k, v in {**care, **fields}.items() if k not in cleared}
    updated["revision"] = int(care["revision"]) + 1
    return updated


def archive_care(
    user_id: str,
    care_id: str,
    now: datetime,
    *,
    if_match: str | None,
    check_version: CheckVersion,
    validate: Validate,
) -> None:
    """Archive one of my cares: it leaves the ranking, and stays in history and in links."""
    change_care(
        user_id,
        care_id,
        {"status": "archived"},
        now,
        if_match=if_match,
        check_version=check_version,
        validate=validate,
    )


def care_history(
    user_id: str, care_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of the revisions of one of my cares, oldest first; NotFound when it is not mine."""
    items, last = cares.list_revisions(user_id, care_id, limit, start)
    if not items and start is None:
        raise NotFound("No such care.")  # every care has at least its "created" revision
    return items, last


def care_map(user_id: str, now: datetime) -> list[dict[str, Any]]:
    """My cares (active ones by rank, then archived ones, first archived first) with the counts
    of their linked promises and plan items, neglected ones flagged; one Query."""
    current = cares.load_cares(user_id)
    active = current.active_order()
    archived = sorted(
        (c for c in current.cares if c.get("status") == "archived"),
        key=lambda c: str(c.get("archivedAt", "")),
    )
    by_id = {c["careId"]: c for c in current.cares}
    entries = []
    for care in [*(by_id[i] for i in active), *archived]:
        last = care.get("lastActivityAt")
        entries.append(
            {
                "careId": care["careId"],
                "statement": care["statement"],
                "domain": care["domain"],
                "status": care["status"],
                "rank": care.get("rank"),
                "promises": {
                    "open": care.get("promisesOpen", 0),
                    "fulfilled": care.get("promisesFulfilled", 0),
                },
                "planItems": {"open": care.get("planItemsOpen", 0), "done": care.get("planItemsDone", 0)},
                "lastActivityAt": last,
                "neglected": rules.is_neglected(
                    status=str(care["status"]),
                    last_activity=parse_rfc3339(last) if last else None,
                    created=parse_rfc3339(str(care["createdAt"])),
                    now=now,
                ),
            }
        )
    return entries
