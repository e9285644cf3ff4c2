"""The resolver factory every function uses, and the Lambda entry point around it.

What every route gets from here: pydantic validation (camelCase, unknown fields refused),
RFC 9457 problems for every error, 413/415/400 checks before anything is parsed, 404/405
for unknown routes and methods, correlation ids in logs and Powertools metrics.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.api.auth import CurrentUser, NotSignedIn, current_user
from shared.api.problems import field_errors, from_domain_error, problem
from shared.domain.errors import DomainError
from shared.observability import logger, metrics

MAX_BODY_BYTES = 64 * 1024
JSON_TYPES = ("application/json", "application/merge-patch+json")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


class App(APIGatewayHttpResolver):
    """An HTTP API resolver with this project's conventions wired in."""

    def __init__(self, other_routes: Iterable[tuple[str, str]] = ()) -> None:
        # A response that breaks its own model is our bug: 500, never the client's 422.
        super().__init__(
            enable_validation=True, response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR
        )
        # Routes served by other functions: lets the catch-all answer 405 instead of 404.
        self._other_routes = [(m, _path_regex(p)) for m, p in other_routes]
        self.exception_handler(RequestValidationError)(self._on_invalid_request)
        self.exception_handler(ResponseValidationError)(self._on_unexpected)
        self.exception_handler(RequestUnsupportedContentType)(self._on_unsupported_type)
        self.exception_handler(DomainError)(self._on_domain_error)
        self.exception_handler(NotSignedIn)(self._on_not_signed_in)
        self.not_found(self._on_not_found)
        self.exception_handler(Exception)(self._on_unexpected)

    @property
    def user(self) -> CurrentUser:
        """The signed-in person making the current request."""
        return current_user(self.current_event.raw_event)

    def header(self, name: str) -> str | None:
        """A request header (names are case-insensitive)."""
        value = self.current_event.headers.get(name.lower())
        return str(value) if value is not None else None

    def allowed_methods(self, path: str) -> list[str]:
        """Methods some route accepts for `path`, here or in another function."""
        methods = {r.method for r in self._static_routes + self._dynamic_routes if r.rule.match(path)}
        methods |= {m for m, rx in self._other_routes if rx.match(path)}
        return sorted(methods)

    def _on_invalid_request(self, error: RequestValidationError) -> Response[str]:
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(400, "The body is not valid JSON.")
        return problem(422, "Some fields are invalid.", errors=field_errors(errors))

    def _on_unsupported_type(self, _: RequestUnsupportedContentType) -> Response[str]:
        return problem(415, "Send the body as application/json.")

    def _on_domain_error(self, error: DomainError) -> Response[str]:
        return from_domain_error(error, instance=self.current_event.path)

    def _on_not_signed_in(self, _: NotSignedIn) -> Response[str]:
        return problem(401, "Sign in first.", headers={"WWW-Authenticate": "Bearer"})

    def _on_not_found(self, _: NotFoundError) -> Response[str]:
        path = self.current_event.path
        allowed = self.allowed_methods(path)
        if allowed:
            return problem(
                405, "This resource does not accept that method.", headers={"Allow": ", ".join(allowed)}
            )
        return problem(404, "There is nothing at this address.")

    def _on_unexpected(self, error: Exception) -> Response[str]:
        # The one place a 500 comes from: our fault, logged with its stack, never shown.
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        metrics.add_metric(name="UnhandledErrors", unit="Count", value=1)
        return problem(500, "Something went wrong on our side.")


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    """A JSON response with a status and headers (ETag, Location) that routes can return."""
    return Response(status_code=status, content_type="application/json", body=body, headers=headers or {})


def _path_regex(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
    return re.compile(f"^{regex}$")


def guard_request(event: dict[str, Any]) -> dict[str, Any] | None:
    """Refuse what no route should parse: bodies over 64 KiB, non-JSON bodies, malformed JSON.

    Runs before routing and validation, so an oversize body is never decoded. Returns an API
    Gateway response, or None to go on. Rewrites `application/merge-patch+json` to JSON for the
    validator (a merge patch is a JSON document).
    """
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    body = event.get("body")
    if method not in _BODY_METHODS or body in (None, ""):
        return None
    if event.get("isBase64Encoded"):
        size = len(body) * 3 // 4 - (len(body) - len(body.rstrip("=")))
    else:
        size = len(body.encode())
    if size > MAX_BODY_BYTES:
        return _raw(problem(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB."))
    headers = event.get("headers") or {}
    content_type = str(headers.get("content-type", "")).split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        return _raw(problem(415, "Send the body as application/json."))
    try:
        text = base64.b64decode(body, validate=True).decode() if event.get("isBase64Encoded") else body
        json.loads(text)
    except (ValueError, binascii.Error):
        return _raw(problem(400, "The body is not valid JSON."))
    event["body"], event["isBase64Encoded"] = text, False
    headers["content-type"] = "application/json"
    return None


def _raw(response: Response[str]) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": response.content_type or "", **response.headers},
        "body": response.body,
        "isBase64Encoded": False,
    }


def lambda_entry(app: App) -> Handler:
    """The function's `lambda_handler`: logging context, metrics flush, guard, then routing."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return guard_request(event) or app.resolve(event, context)

    # ColdStart: one count per new execution environment, by function name (a dimension).
    return metrics.log_metrics(lambda_handler, capture_cold_start_metric=True)
