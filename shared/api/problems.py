"""RFC 9457 problem responses: the one place where errors become HTTP statuses."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from shared.domain.errors import (
    AccountErased,
    BadRequest,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Gone,
    IdConflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    TooManyRequests,
)
from shared.models.common import Problem, StaleProblem

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://career-journey.app/problems/"
# A body of thousands of bad fields would otherwise get an answer ten times its size.
MAX_LISTED_ERRORS = 20

_STATUS_BY_ERROR: dict[type[DomainError], int] = {
    BadRequest: 400,
    AccountErased: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PreconditionFailed: 412,
    PreconditionRequired: 428,
    InvalidInput: 422,
    TooManyRequests: 429,
    ServiceUnavailable: 503,
}

_SLUG = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "gone",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal",
    503: "unavailable",
}


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: Sequence[FieldError] = (),
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
    type_slug: str | None = None,
) -> Response[str]:
    """A problem+json response; `detail` is ours, never the client's input.

    Lists the first `MAX_LISTED_ERRORS` errors, and their number as `errorCount`. `type_slug`
    names a more specific problem type than the status's own (e.g. `id-conflict`).
    """
    body: dict[str, Any] = {
        "type": TYPE_BASE + (type_slug or _SLUG.get(status, str(status))),
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions or {})
    if errors:
        body["errors"] = [
            {"location": e.location, "field": e.field, "code": e.code, "message": e.message}
            for e in errors[:MAX_LISTED_ERRORS]
        ]
        body["errorCount"] = len(errors)
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(body, separators=(",", ":")),
        headers=dict(headers or {}),
    )


def from_domain_error(error: DomainError, instance: str | None = None) -> Response[str]:
    """Map a domain error to its status (the most specific class wins)."""
    for cls in type(error).__mro__:
        if cls in _STATUS_BY_ERROR:
            status = _STATUS_BY_ERROR[cls]
            break
    else:
        status = 400
    headers = {}
    # A dependency's failure (503), or a request whose first run still holds its key (409).
    retry_after = getattr(error, "retry_after_seconds", None)
    if isinstance(error, ServiceUnavailable) or retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, AccountErased):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    if isinstance(error, PreconditionFailed) and error.extensions:
        headers["ETag"] = str(error.etag)  # the current version's, as in the body's `etag`
    errors = error.errors if isinstance(error, InvalidInput) else ()
    return problem(
        status,
        error.detail,
        errors=errors,
        instance=instance,
        headers=headers,
        extensions=error.extensions,
        type_slug=IdConflict.problem_type if isinstance(error, IdConflict) else None,
    )


def field_errors(raw_errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """Pydantic/Powertools validation errors -> one FieldError per bad field, input never echoed."""
    out: list[FieldError] = []
    for err in raw_errors:
        loc = [str(part) for part in err.get("loc", ())]
        location = loc[0] if loc else "body"
        field = ".".join(loc[1:])[:120]
        code = str(err.get("type", "invalid"))
        message = str(err.get("msg", "invalid value"))
        if code.startswith("value_error"):
            message = message.removeprefix("Value error, ")
        out.append(FieldError(location=location, field=field, code=code, message=message))
    return out


def problem_responses(*statuses: int) -> dict[int, Any]:
    """OpenAPI `responses` entries for the given problem statuses (for route decorators); a 412's
    problem is a `StaleProblem`, which carries the resource as it is now."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"model": StaleProblem if status == 412 else Problem}},
        }
        for status in statuses
    }
