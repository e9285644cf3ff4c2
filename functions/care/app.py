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
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.logic import cares as logic
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
    return QuestionSet.model_validate(logic.questions(version))


# --- Reflections -------------------------------------------------------------------------------


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
    payload = reflection.model_dump(by_alias=True, mode="json", exclude_none=True)
    logic.check_answers(payload)  # before the Idempotency-Key is recorded: a refusal costs nothing

    def produce() -> Response[Any]:
        # `payload` carries the app's reflectionId, or the one bound to the Idempotency-Key.
        kept = logic.write_reflection(user_id, payload, utc_now())
        if not kept.replayed:
            metrics.add_metric(name="ReflectionsWritten", unit="Count", value=1)
        return json_response(201, kept.item, {"Location": _reflection_url(kept.item)})

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
    return Reflection.model_validate(logic.read_reflection(app.user.user_id, reflection_id))


# --- Cares -------------------------------------------------------------------------------------


def _care_response(
    care: dict[str, Any], status: int = 200, extra: dict[str, str] | None = None
) -> Response[Care]:
    body = Care.model_validate(cares.public(care)).model_dump(by_alias=True, mode="json", exclude_none=True)
    return json_response(status, body, {"ETag": etag(int(care["revision"])), **(extra or {})})


def _care_url(care_id: str) -> dict[str, str]:
    return {"Location": f"/v1/me/cares/{care_id}"}


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
        # `payload` carries the app's careId, or the one bound to the Idempotency-Key.
        kept = logic.create_care(user_id, payload, utc_now())
        if not kept.replayed:
            metrics.add_metric(name="CaresCreated", unit="Count", value=1)
        return _care_response(kept.item, 201, _care_url(str(kept.item["careId"])))

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
    after = tuple(start.get("after", ())) if start is not None else None
    page, next_after = logic.list_cares(user_id, status, limit, after)
    return Page[Care](
        items=[Care.model_validate(cares.public(c)) for c in page],
        next_cursor=encode_cursor(
            {"after": next_after} if next_after is not None else None,
            user_id=user_id,
            list_name=f"cares-{status}",
        ),
    )


@app.get(
    "/v1/me/cares/<careId>",
    operation_id="getCare",
    tags=["Cares"],
    summary="One of my cares",
    responses={200: {"description": "The care"}, **problem_responses(404)},
)
def get_my_care(care_id: CareId) -> Response[Care]:
    return _care_response(logic.read_care(app.user.user_id, care_id))


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
        changed = logic.change_care(
            app.user.user_id,
            care_id,
            changes,
            utc_now(),
            if_match=if_match,
            check_version=check_if_match,
            validate=_care_document,
        )
    return _care_response(changed)


def _care_document(merged: dict[str, Any]) -> dict[str, Any]:
    """A care's editable fields after a merge patch, validated as a whole."""
    return validate_document(CareDocument, merged).model_dump(by_alias=True, mode="json", exclude_none=True)


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
        logic.archive_care(
            app.user.user_id,
            care_id,
            utc_now(),
            if_match=if_match,
            check_version=check_if_match,
            validate=_care_document,
        )
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
    items, last = logic.care_history(user_id, care_id, limit, start)
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
    entries = logic.care_map(app.user.user_id, now)
    return CareMap(items=[CareMapEntry.model_validate(e) for e in entries], generated_at=to_rfc3339(now))


lambda_handler = lambda_entry(app)
