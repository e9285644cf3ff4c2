"""Care discovery: the generative questions, my reflections, my cares, their history, the care map."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from shared.api.etag import check_if_match, current_on_stale, etag
from shared.api.idempotency import idempotent
from shared.api.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from shared.api.params import Cursor, IdempotencyKey, IfMatch, Limit, path_id
from shared.api.problems import problem_responses
from shared.api.resolver import App, json_response, lambda_entry
from shared.domain import cares as rules
from shared.domain.errors import Conflict, FieldError, IdConflict, InvalidInput, NotFound
from shared.domain.ids import new_id
from shared.domain.merge_patch import apply_merge_patch
from shared.domain.questions import CURRENT_VERSION, question_set
from shared.domain.replay import request_hash
from shared.domain.timeutil import parse_rfc3339, to_rfc3339, utc_now
from shared.models.care import (
    Care,
    CareDocument,
    CareInput,
    CareMap,
    CareMapEntry,
    CarePatch,
    CareRevision,
    CareStatus,
    QuestionSet,
    Reflection,
    ReflectionInput,
)
from shared.models.common import Page, validate_document
from shared.observability import metrics
from shared.store import cares, reflections
from shared.store.cares import CareSet, CareWrite

app = App()

ReflectionId = Annotated[str, path_id("reflectionId")]
CareId = Annotated[str, path_id("careId")]


@app.get(
    "/v1/care/questions",
    operation_id="getCareQuestions",
    tags=["Reflections"],
    summary="The generative questions (the current set, or an earlier version)",
    responses={200: {"description": "The question set"}, **problem_responses(404)},
)
def get_questions(version: Annotated[int | None, Query(ge=1, le=10_000)] = None) -> QuestionSet:
    found = question_set(version)
    if found is None:
        raise NotFound("No question set has that version.")
    return QuestionSet.model_validate(
        {
            "version": found.version,
            "current": found.version == CURRENT_VERSION,
            "questions": [{"id": q.id, "text": q.text, "theme": q.theme} for q in found.questions],
        }
    )


# --- Reflections -------------------------------------------------------------------------------


def _check_answers(reflection: ReflectionInput) -> None:
    found = question_set(reflection.question_set_version)
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
    for i, answer in enumerate(reflection.answers):
        if answer.question_id not in known:
            errors.append(
                FieldError(
                    "body",
                    f"answers.{i}.questionId",
                    "unknown_question",
                    f"must be a question of version {found.version}",
                )
            )
        elif answer.question_id in seen:
            errors.append(FieldError("body", f"answers.{i}.questionId", "duplicate", "answered twice"))
        seen.add(answer.question_id)
    if errors:
        raise InvalidInput("Some answers do not fit the question set.", errors)


def _reflection_url(reflection: dict[str, Any]) -> str:
    return f"/v1/me/reflections/{reflection['reflectionId']}"


@app.post(
    "/v1/me/reflections",
    operation_id="writeReflection",
    tags=["Reflections"],
    summary="Write a reflection: answers to the generative questions, kept as written",
    description=(
        "`reflectionId` (optional) is a ULID the app made: replaying the same write (same id and "
        "body) answers as the first time and changes nothing; the same id with another body is a "
        "409 of type `id-conflict`."
    ),
    responses={201: {"description": "Kept"}, **problem_responses(409)},
)
def write_reflection(
    reflection: Annotated[ReflectionInput, Body()], idempotency_key: IdempotencyKey = None
) -> Response[Reflection]:
    user_id = app.user.user_id
    _check_answers(reflection)
    payload = reflection.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        app_id = payload.get("reflectionId")  # the app's, or the one bound to the Idempotency-Key
        hashed = request_hash(user_id, payload, "reflectionId") if app_id is not None else None
        fields = {k: v for k, v in payload.items() if k != "reflectionId"}
        made = {"reflectionId": app_id or new_id(), **fields, "createdAt": to_rfc3339(utc_now())}
        try:
            kept = reflections.add_reflection(user_id, made, request_hash=hashed)
        except reflections.ReflectionIdTaken:
            # A replay (kept as written: it answers as the first time) or another write's id:
            # one read tells, on this failure path only.
            found = reflections.find_reflection(user_id, str(app_id)) if hashed is not None else None
            if found is None:
                raise
            if found[1] != hashed:
                raise IdConflict() from None
            kept = found[0]
            return json_response(201, kept, {"Location": _reflection_url(kept)})
        metrics.add_metric(name="ReflectionsWritten", unit="Count", value=1)
        return json_response(201, kept, {"Location": _reflection_url(kept)})

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation="write_reflection",
        key=idempotency_key,
        payload=payload,
        produce=produce,
        id_field="reflectionId",
    )


@app.get(
    "/v1/me/reflections",
    operation_id="listMyReflections",
    tags=["Reflections"],
    summary="My reflections, newest first",
)
def list_my_reflections(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[Reflection]:
    user_id = app.user.user_id
    start = decode_cursor(cursor, user_id=user_id, list_name="reflections")
    items, last = reflections.list_reflections(user_id, limit, start)
    return Page[Reflection](
        items=[Reflection.model_validate(i) for i in items],
        next_cursor=encode_cursor(last, user_id=user_id, list_name="reflections"),
    )


@app.get(
    "/v1/me/reflections/<reflectionId>",
    operation_id="getReflection",
    tags=["Reflections"],
    summary="One of my reflections",
    responses={200: {"description": "The reflection"}, **problem_responses(404)},
)
def get_my_reflection(reflection_id: ReflectionId) -> Reflection:
    found = reflections.get_reflection(app.user.user_id, reflection_id)
    if found is None:
        raise NotFound("No such reflection.")
    return Reflection.model_validate(found)


# --- Cares -------------------------------------------------------------------------------------


def _care_response(
    care: dict[str, Any], status: int = 200, extra: dict[str, str] | None = None
) -> Response[Care]:
    body = Care.model_validate(cares.public(care)).model_dump(by_alias=True, mode="json", exclude_none=True)
    return json_response(status, body, {"ETag": etag(int(care["revision"])), **(extra or {})})


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


def _care_url(care_id: str) -> dict[str, str]:
    return {"Location": f"/v1/me/cares/{care_id}"}


def _replayed_care(found: dict[str, Any] | None, hashed: str) -> Response[Care] | None:
    """The answer to a replay of a create (201, the care as it is now), a 409 when the id was
    used for another write, or None when no care has the id."""
    if found is None:
        return None
    if found.get("requestHash") != hashed:
        raise IdConflict()
    return _care_response(found, 201, _care_url(str(found["careId"])))


@app.post(
    "/v1/me/cares",
    operation_id="createCare",
    tags=["Cares"],
    summary="Name something I care about",
    description=(
        "`careId` (optional) is a ULID the app made: replaying the same write (same id and body) "
        "answers as the first time and changes nothing; the same id with another body is a 409 "
        "of type `id-conflict`."
    ),
    responses={201: {"description": "Created"}, **problem_responses(409)},
)
def create_care(care: Annotated[CareInput, Body()], idempotency_key: IdempotencyKey = None) -> Response[Care]:
    user_id = app.user.user_id
    payload = care.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        app_id = payload.get("careId")  # the app's, or the one bound to the Idempotency-Key
        hashed = request_hash(user_id, payload, "careId") if app_id is not None else None
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
        after = rules.place(before, care_id, care.rank)
        now = to_rfc3339(utc_now())
        by = _person(user_id)
        fields = {
            **{k: v for k, v in payload.items() if k not in ("rank", "careId")},
            "careId": care_id,
            "rank": after.index(care_id) + 1,
            "status": "active",
            "createdAt": now,
            "updatedAt": now,
        }
        created = CareWrite(
            care_id=care_id,
            expected_revision=None,
            fields=fields,
            revision=_revision("created", rules.changes({}, fields), now, by),
            request_hash=hashed,
        )
        try:
            cares.save_cares(
                user_id,
                [created, *_rerank_writes(current, before, after, care_id, now, by)],
                ranking_version=current.ranking_version,
                source_reflection_id=care.source_reflection_id,
            )
        except cares.CareIdTaken:
            # Made meanwhile (a replay racing its first write) or someone's id: one read tells.
            replayed = _replayed_care(cares.find_care(user_id, care_id), str(hashed))
            if replayed is None:
                raise
            return replayed
        metrics.add_metric(name="CaresCreated", unit="Count", value=1)
        stored = {**fields, "revision": 1}
        return _care_response(stored, 201, _care_url(care_id))

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation="create_care",
        key=idempotency_key,
        payload=payload,
        produce=produce,
        id_field="careId",
    )


@app.get(
    "/v1/me/cares",
    operation_id="listMyCares",
    tags=["Cares"],
    summary="My cares: active ones in rank order, or archived ones, last archived first",
)
def list_my_cares(
    status: Annotated[CareStatus, Query()] = "active",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Care]:
    user_id = app.user.user_id
    start = decode_cursor(cursor, user_id=user_id, list_name=f"cares-{status}")
    current = cares.load_cares(user_id)
    # Active cares by rank; archived ones last archived first.
    newest_first = status == "archived"
    listed = [c for c in current.cares if c.get("status") == status]
    ordered = sorted(listed, key=lambda c: _sort_key(c, status), reverse=newest_first)
    # The whole list is one Query; the cursor holds the sort key of the last care shown, so the
    # next page starts after it even if that care moved or was archived meanwhile.
    offset = 0
    if start is not None:
        after = tuple(start.get("after", ()))
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
    return Page[Care](
        items=[Care.model_validate(cares.public(c)) for c in page],
        next_cursor=encode_cursor(
            {"after": list(_sort_key(page[-1], status))} if more and page else None,
            user_id=user_id,
            list_name=f"cares-{status}",
        ),
    )


def _sort_key(care: dict[str, Any], status: str) -> tuple[str, str]:
    """Where a care sits in its list: its rank (active) or when it was archived, then its id."""
    if status == "active":
        return (f"{int(care.get('rank') or 0):06d}", str(care["careId"]))
    return (str(care.get("archivedAt", "")), str(care["careId"]))


@app.get(
    "/v1/me/cares/<careId>",
    operation_id="getCare",
    tags=["Cares"],
    summary="One of my cares",
    responses={200: {"description": "The care"}, **problem_responses(404)},
)
def get_my_care(care_id: CareId) -> Response[Care]:
    found = cares.get_care(app.user.user_id, care_id)
    if found is None:
        raise NotFound("No such care.")
    return _care_response(found)


def _change_care(user_id: str, care_id: str, if_match: str | None, patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a merge patch to one care (re-ranking the others when needed) in one transaction."""
    current = cares.load_cares(user_id)
    care = current.find(care_id)
    if care is None:
        raise NotFound("No such care.")
    check_if_match(if_match, int(care["revision"]), found=care)
    editable = {k: care[k] for k in (*rules.EDITABLE_FIELDS, "rank", "status") if care.get(k) is not None}
    nulled = [f for f in ("status", "rank") if f in patch and patch[f] is None]
    if nulled:
        raise InvalidInput(
            "These fields cannot be cleared.",
            [FieldError("body", f, "not_nullable", "cannot be null") for f in nulled],
        )
    merged = apply_merge_patch(editable, patch)
    if merged.get("status") == "archived" and "rank" in patch and patch["rank"] is not None:
        raise InvalidInput(
            "An archived care has no rank.",
            [FieldError("body", "rank", "archived", "restore the care (status: active) to rank it")],
        )
    document = validate_document(CareDocument, merged)
    wanted = document.model_dump(by_alias=True, mode="json", exclude_none=True)

    before = current.active_order()
    if wanted["status"] == "active":
        if care["status"] == "archived" and len(before) >= rules.MAX_ACTIVE_CARES:
            raise Conflict(f"You have {rules.MAX_ACTIVE_CARES} active cares; archive one first.")
        moving = "rank" in patch or care["status"] == "archived"
        after = rules.place(before, care_id, wanted.get("rank")) if moving else before
    else:
        after = rules.remove(before, care_id)
    new_rank = after.index(care_id) + 1 if care_id in after else None

    now = to_rfc3339(utc_now())
    target = {k: v for k, v in wanted.items() if k != "rank"}
    target["rank"] = new_rank
    if wanted["status"] == "archived":
        target["archivedAt"] = care.get("archivedAt") if care["status"] == "archived" else now
    # Only what a patch can change is compared (a care keeps its source reflection for good).
    found = rules.changes(care, target, fields=(*rules.EDITABLE_FIELDS, "rank", "status"))
    if not found:
        return care  # nothing to change: no write, no revision
    by = _person(user_id)
    fields = {k: v for k, v in target.items() if v is not None}
    fields["updatedAt"] = now
    cleared = tuple(
        k for k in (*rules.EDITABLE_FIELDS, "rank", "archivedAt") if target.get(k) is None and k in care
    )
    write = CareWrite(
        care_id=care_id,
        expected_revision=int(care["revision"]),
        fields=fields,
        revision=_revision(rules.revision_action(found), found, now, by),
        remove=cleared,
    )
    reranked = _rerank_writes(current, before, after, care_id, now, by)
    cares.save_cares(
        user_id,
        [write, *reranked],
        ranking_version=current.ranking_version if before != after else None,
        if_match_on=care_id if if_match is not None else None,
    )
    updated = {k: v for k, v in {**care, **fields}.items() if k not in cleared}
    updated["revision"] = int(care["revision"]) + 1
    return updated


@app.patch(
    "/v1/me/cares/<careId>",
    operation_id="updateCare",
    tags=["Cares"],
    summary="Refine one of my cares (JSON Merge Patch); `rank` re-ranks, `status` archives or restores",
    responses={200: {"description": "The changed care"}, **problem_responses(404, 409, 412)},
)
def patch_my_care(
    care_id: CareId, patch: Annotated[CarePatch, Body()], if_match: IfMatch = None
) -> Response[Care]:
    changes = patch.model_dump(by_alias=True, mode="json", exclude_unset=True)
    with _current_on_stale(care_id):
        return _care_response(_change_care(app.user.user_id, care_id, if_match, changes))


def _current_on_stale(care_id: str) -> AbstractContextManager[None]:
    """A 412 shows the care as GET does now."""
    return current_on_stale(lambda: cares.get_care(app.user.user_id, care_id), _care_response, Care)


@app.delete(
    "/v1/me/cares/<careId>",
    operation_id="archiveCare",
    tags=["Cares"],
    summary="Archive one of my cares: it leaves the ranking, and stays in history and in links",
    responses={204: {"description": "Archived"}, **problem_responses(404, 409, 412)},
)
def archive_my_care(care_id: CareId, if_match: IfMatch = None) -> Response[None]:
    with _current_on_stale(care_id):
        _change_care(app.user.user_id, care_id, if_match, {"status": "archived"})
    return Response(status_code=204, body=None)


@app.get(
    "/v1/me/cares/<careId>/history",
    operation_id="listCareRevisions",
    tags=["Cares"],
    summary="Every revision of one of my cares, oldest first",
    responses={200: {"description": "Revisions"}, **problem_responses(404)},
)
def care_history(care_id: CareId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[CareRevision]:
    user_id = app.user.user_id
    list_name = f"care-history-{care_id}"
    start = decode_cursor(cursor, user_id=user_id, list_name=list_name)
    items, last = cares.list_revisions(user_id, care_id, limit, start)
    if not items and start is None:
        raise NotFound("No such care.")  # every care has at least its "created" revision
    return Page[CareRevision](
        items=[CareRevision.model_validate(i) for i in items],
        next_cursor=encode_cursor(last, user_id=user_id, list_name=list_name),
    )


@app.get(
    "/v1/me/care-map",
    operation_id="getCareMap",
    tags=["Cares"],
    summary="My cares with their linked promises and plan items; neglected ones flagged",
)
def care_map() -> CareMap:
    now = utc_now()
    current = cares.load_cares(app.user.user_id)
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
            CareMapEntry.model_validate(
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
        )
    return CareMap(items=entries, generated_at=to_rfc3339(now))


lambda_handler = lambda_entry(app)
