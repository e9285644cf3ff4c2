"""The promise log: open promises, make moves, assess them, and read the journey."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from shared.api.etag import check_if_match, current_on_stale, etag
from shared.api.idempotency import idempotent
from shared.api.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from shared.api.params import Cursor, IdempotencyKey, IfMatch, Limit, path_id
from shared.api.problems import problem_responses
from shared.api.ratelimit import limit_link
from shared.api.resolver import App, json_response, lambda_entry
from shared.domain.errors import FieldError, InvalidInput, NotFound
from shared.domain.promises import Role
from shared.domain.timeutil import parse_rfc3339, to_rfc3339, utc_now
from shared.logic import promises as log
from shared.models.common import Page
from shared.models.promise import (
    Assessment,
    AssessmentInput,
    CounterpartLink,
    CounterpartPromise,
    Journey,
    MoveInput,
    MoveRecord,
    Promise,
    PromiseInput,
    PromiseState,
    PromiseSummary,
    SelfAssessmentInput,
)
from shared.models.promise import Role as RoleName
from shared.observability import metrics
from shared.store import keys as store_keys
from shared.store import promises as store

app = App()

PromiseId = Annotated[str, path_id("promiseId")]
# Malformed and unknown tokens are both 404 (the logic checks the shape): no pattern here.
Token = Annotated[str, Path(alias="token", min_length=1)]
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_JOURNEY_MONTHS = 120


def _promise_response(view: dict[str, Any], version: int, status: int = 200) -> Response[Promise]:
    body = Promise.model_validate(view).model_dump(by_alias=True, mode="json")
    headers = {"ETag": etag(version)}
    if status == 201:
        headers["Location"] = f"/v1/me/promises/{view['promiseId']}"
    return json_response(status, body, headers)


@app.post(
    "/v1/me/promises",
    operation_id="openPromise",
    tags=["Promises"],
    summary="Open a promise: a request, an offer, or a promise already made (self-logged)",
    description=(
        "`promiseId` (optional) is a ULID the app made: replaying the same write (same id and body, "
        "by me) answers as the first time, with the promise as it is now, and changes nothing; the "
        "same id with another body, or an id someone else used, is a 409 of type `id-conflict`."
    ),
    responses={201: {"description": "Opened"}, **problem_responses(409)},
)
def open_promise(
    promise: Annotated[PromiseInput, Body()], idempotency_key: IdempotencyKey = None
) -> Response[Promise]:
    user_id = app.user.user_id
    payload = promise.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        opened = log.open_promise(user_id, payload, utc_now())
        metrics.add_metric(name="PromisesOpened", unit="Count", value=1)
        return _promise_response(opened.view, opened.version, 201)

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation="open_promise",
        key=idempotency_key,
        payload=payload,
        produce=produce,
        id_field="promiseId",
    )


@app.get(
    "/v1/me/promises",
    operation_id="listMyPromises",
    tags=["Promises"],
    summary="My promises as customer or performer, newest due first",
    description=(
        "Filters: `role`, `state`, both, or `careId` (with `role`/`state` narrowing that care's "
        "promises); `dueBefore` bounds the due time. A page filtered by more than one of them "
        "may hold fewer than `limit` promises (even none) and still have a `nextCursor`: "
        "follow it until it is null."
    ),
)
def list_my_promises(
    role: Annotated[RoleName | None, Query()] = None,
    state: Annotated[PromiseState | None, Query()] = None,
    care_id: Annotated[
        str | None, Query(alias="careId", min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")
    ] = None,
    due_before: Annotated[str | None, Query(alias="dueBefore", max_length=40)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[PromiseSummary]:
    user_id = app.user.user_id
    before = _due_before(due_before)
    list_name = f"promises:{role}:{state}:{care_id}:{before}"
    start = decode_cursor(cursor, user_id=user_id, list_name=list_name)
    items, last = store.list_promises(
        user_id, role=role, state=state, care_id=care_id, due_before=before, limit=limit, start=start
    )
    return Page[PromiseSummary](
        items=[PromiseSummary.model_validate(i) for i in items],
        next_cursor=encode_cursor(last, user_id=user_id, list_name=list_name),
    )


def _due_before(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        moment = parse_rfc3339(value)
    except ValueError:
        raise InvalidInput(
            "dueBefore is not a time.",
            [FieldError("query", "dueBefore", "datetime_parsing", "must be an RFC 3339 time with an offset")],
        ) from None
    # Due times are kept to the second: round a fraction up, so `dueKey < before` keeps what is due
    # before it (a promise due at :00 is before :00.5).
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return to_rfc3339(moment)


@app.get(
    "/v1/me/promises/<promiseId>",
    operation_id="getPromise",
    tags=["Promises"],
    summary="One of my promises, with its state, my role and the acts I may make",
    responses={200: {"description": "The promise"}, **problem_responses(404)},
)
def get_my_promise(promise_id: PromiseId) -> Response[Promise]:
    user_id = app.user.user_id
    promise = log.read_promise(user_id, promise_id)
    return _promise_response(log.promise_view(promise, user_id), int(promise["version"]))


@app.post(
    "/v1/me/promises/<promiseId>/moves",
    operation_id="makeMove",
    tags=["Promises"],
    summary="Make a move; an act my role may not make now is a 409 listing `allowedActs`",
    description=(
        "`moveId` (optional) is a ULID the app made: replaying the same move (same id and body) "
        "answers with the promise as it is now and changes nothing, even after later moves; the "
        "same id with another body is a 409 of type `id-conflict`. A stale `If-Match` is a 412 "
        "that carries the promise as I see it now (`current`) and its `etag`."
    ),
    responses={200: {"description": "The promise after the move"}, **problem_responses(404, 409, 412)},
)
def post_move(
    promise_id: PromiseId,
    move: Annotated[MoveInput, Body()],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[Promise]:
    user_id = app.user.user_id
    payload = move.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        with current_on_stale(
            lambda: log.read_promise(user_id, promise_id),
            lambda found: _promise_response(log.promise_view(found, user_id), int(found["version"])),
            Promise,
        ):
            updated, version = log.make_move(
                user_id, promise_id, payload, utc_now(), if_match=if_match, check_version=check_if_match
            )
        metrics.add_metric(name="PromiseMoves", unit="Count", value=1)
        return _promise_response(log.promise_view(updated, user_id), version)

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation=f"move:{promise_id}",
        key=idempotency_key,
        payload=payload,
        produce=produce,
        id_field="moveId",
    )


@app.get(
    "/v1/me/promises/<promiseId>/moves",
    operation_id="listMoves",
    tags=["Promises"],
    summary="The promise's append-only log, oldest first",
    responses={200: {"description": "Moves"}, **problem_responses(404)},
)
def list_moves(
    promise_id: PromiseId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[MoveRecord]:
    user_id = app.user.user_id
    list_name = f"moves:{promise_id}"
    start = decode_cursor(cursor, user_id=user_id, list_name=list_name)
    items, last = store.list_moves(user_id, promise_id, limit, start)
    if not items and start is None:
        raise NotFound("No such promise.")  # every promise has its opening move
    return Page[MoveRecord](
        items=[MoveRecord.model_validate(log.move_view(i, user_id)) for i in items],
        next_cursor=encode_cursor(last, user_id=user_id, list_name=list_name),
    )


def _assessment_response(kept: dict[str, Any]) -> Response[Assessment]:
    return json_response(201, Assessment.model_validate(kept).model_dump(by_alias=True, mode="json"))


def _assess_once(
    promise_id: str, payload: dict[str, Any], idempotency_key: str | None, *, self_assessment: bool
) -> Response[Assessment]:
    user_id = app.user.user_id

    def produce() -> Response[Any]:
        kept = log.assess(user_id, promise_id, payload, utc_now(), self_assessment=self_assessment)
        if not self_assessment:
            metrics.add_metric(name="PromisesAssessed", unit="Count", value=1)
        return _assessment_response(kept)

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation=f"{'self-assess' if self_assessment else 'assess'}:{promise_id}",
        key=idempotency_key,
        payload=payload,
        produce=produce,
    )


@app.post(
    "/v1/me/promises/<promiseId>/assessment",
    operation_id="assessPromise",
    tags=["Promises"],
    summary="As the customer: what the promise was worth to me (once, after completion is reported)",
    responses={201: {"description": "Kept"}, **problem_responses(404, 409)},
)
def assess(
    promise_id: PromiseId,
    assessment: Annotated[AssessmentInput, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[Assessment]:
    payload = assessment.model_dump(by_alias=True, mode="json", exclude_none=True)
    return _assess_once(promise_id, payload, idempotency_key, self_assessment=False)


@app.post(
    "/v1/me/promises/<promiseId>/self-assessment",
    operation_id="selfAssessPromise",
    tags=["Promises"],
    summary="As the performer: my own view of my delivery, kept apart from the customer's",
    responses={201: {"description": "Kept"}, **problem_responses(404, 409)},
)
def self_assess(
    promise_id: PromiseId,
    assessment: Annotated[SelfAssessmentInput, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[Assessment]:
    payload = assessment.model_dump(by_alias=True, mode="json", exclude_none=True)
    return _assess_once(promise_id, payload, idempotency_key, self_assessment=True)


@app.post(
    "/v1/me/promises/<promiseId>/counterpart-link",
    operation_id="createCounterpartLink",
    tags=["Promises"],
    summary="A link for my outside counterpart to act in their role (valid 14 days, replaces the last)",
    responses={201: {"description": "The link"}, **problem_responses(404, 409)},
)
def create_counterpart_link(promise_id: PromiseId) -> Response[CounterpartLink]:
    token, expires_at = log.create_counterpart_link(app.user.user_id, promise_id, utc_now())
    context = app.current_event.request_context
    host = context.domain_name
    scheme = "http" if host.startswith(("127.0.0.1", "localhost")) else "https"
    body = {"url": f"{scheme}://{host}/v1/counterpart/{token}", "expiresAt": expires_at}
    metrics.add_metric(name="CounterpartLinksCreated", unit="Count", value=1)
    return json_response(201, CounterpartLink.model_validate(body).model_dump(by_alias=True, mode="json"))


@app.delete(
    "/v1/me/promises/<promiseId>/counterpart-link",
    operation_id="revokeCounterpartLink",
    tags=["Promises"],
    summary="Revoke the link I made: it stops working at once",
    responses={204: {"description": "Revoked"}, **problem_responses(404)},
)
def revoke_counterpart_link(promise_id: PromiseId) -> Response[None]:
    log.revoke_counterpart_link(app.user.user_id, promise_id)
    return Response(status_code=204, body=None)


def _counterpart_response(promise: dict[str, Any], role: Role, version: int) -> Response[CounterpartPromise]:
    body = CounterpartPromise.model_validate(log.counterpart_view(promise, role)).model_dump(
        by_alias=True, mode="json"
    )
    return json_response(200, body, {"ETag": etag(version), "Cache-Control": "no-store"})


@app.get(
    "/v1/counterpart/<token>",
    operation_id="getCounterpartPromise",
    tags=["Counterpart"],
    summary="For an outside counterpart, without an account: the promise their link opens",
    responses={200: {"description": "The promise"}, **problem_responses(404)},
)
def counterpart_promise(token: Token) -> Response[CounterpartPromise]:
    promise, role = log.promise_for_token(token, utc_now())
    limit_link(str(promise["promiseId"]))
    return _counterpart_response(promise, role, int(promise["version"]))


def _count_link(token: str) -> None:
    """Count a write through a link against its rate limit once the token checked out (a
    GetItem first: a forged token is a 404 that leaves nothing, nor uses up the link's count)."""
    promise, _ = log.promise_for_token(token, utc_now())
    limit_link(str(promise["promiseId"]))


def _counterpart_once(
    token: str,
    operation: str,
    key: str | None,
    payload: dict[str, Any],
    produce: Callable[[], Response[Any]],
    id_field: str | None = None,
) -> Response[Any]:
    """Idempotency for a link's holder, who has no account: records go in the promise's own
    partition. The link is checked before any record is written, so a bad token never leaves
    one (a GetItem more, paid only by requests that carry a key)."""
    if key is None:
        return produce()
    promise, _ = log.promise_for_token(token, utc_now())
    return idempotent(
        context=app.lambda_context,
        partition=store_keys.promise_pk(str(promise["promiseId"])),
        operation=operation,
        key=key,
        payload=payload,
        produce=produce,
        id_field=id_field,
    )


@app.post(
    "/v1/counterpart/<token>/moves",
    operation_id="makeCounterpartMove",
    tags=["Counterpart"],
    summary="For an outside counterpart: make a move in their role",
    description=(
        "`moveId` and a stale `If-Match` as for `POST /v1/me/promises/{promiseId}/moves`; a 412's "
        "`current` is the promise as `GET /v1/counterpart/{token}` shows it."
    ),
    responses={200: {"description": "The promise after the move"}, **problem_responses(404, 409, 412)},
)
def counterpart_move(
    token: Token,
    move: Annotated[MoveInput, Body()],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[CounterpartPromise]:
    _count_link(token)
    payload = move.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        with current_on_stale(
            lambda: log.promise_for_token(token, utc_now()),
            lambda found: _counterpart_response(found[0], found[1], int(found[0]["version"])),
            CounterpartPromise,
        ):
            updated, role, version = log.counterpart_move(
                token, payload, utc_now(), if_match=if_match, check_version=check_if_match
            )
        metrics.add_metric(name="PromiseMoves", unit="Count", value=1)
        return _counterpart_response(updated, role, version)

    return _counterpart_once(token, "counterpart-move", idempotency_key, payload, produce, "moveId")


@app.post(
    "/v1/counterpart/<token>/assessment",
    operation_id="assessCounterpartPromise",
    tags=["Counterpart"],
    summary="For an outside customer: what the promise was worth to them (once, after completion)",
    responses={201: {"description": "Kept"}, **problem_responses(404, 409)},
)
def counterpart_assess(
    token: Token, assessment: Annotated[AssessmentInput, Body()], idempotency_key: IdempotencyKey = None
) -> Response[Assessment]:
    _count_link(token)
    payload = assessment.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        kept = log.counterpart_assess(token, payload, utc_now())
        metrics.add_metric(name="PromisesAssessed", unit="Count", value=1)
        return _assessment_response(kept)

    return _counterpart_once(token, "counterpart-assess", idempotency_key, payload, produce)


@app.get(
    "/v1/me/journey",
    operation_id="getJourney",
    tags=["Journey"],
    summary="My record as a performer, month by month (UTC)",
    description="Defaults to the twelve months up to this one; at most 120 months.",
    responses={200: {"description": "The journey"}, **problem_responses(422)},
)
def get_journey(
    from_month: Annotated[str | None, Query(alias="from", pattern=_MONTH, max_length=7)] = None,
    to_month: Annotated[str | None, Query(alias="to", pattern=_MONTH, max_length=7)] = None,
) -> Journey:
    now = utc_now()
    last = to_month or f"{now.year:04d}-{now.month:02d}"
    if from_month is None:
        year, month = int(last[:4]), int(last[5:7])
        year, month = (year - 1, month + 1) if month < 12 else (year, 1)
        first = f"{year:04d}-{month:02d}"
    else:
        first = from_month
    if first > last:
        raise InvalidInput(
            "from is after to.", [FieldError("query", "from", "after_to", "must not be after to")]
        )
    span = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7]) + 1
    if span > MAX_JOURNEY_MONTHS:
        raise InvalidInput(
            "The range is too long.",
            [FieldError("query", "from", "range_too_long", f"at most {MAX_JOURNEY_MONTHS} months")],
        )
    return Journey.model_validate(log.journey(app.user.user_id, first, last, now))


lambda_handler = lambda_entry(app)
