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

from shared import lifecycle
from shared.api.auth import CurrentUser, NotSignedIn, current_user
from shared.api.problems import field_errors, from_domain_error, problem
from shared.domain.errors import AccountErased, DomainError
from shared.observability import logger, metrics

MAX_BODY_BYTES = 64 * 1024
# The deepest nesting of objects and arrays any request body's schema allows (a reflection: the
# body, its `answers`, one answer). Deeper JSON is refused before it is parsed: json.loads
# recurses, and a few KiB of brackets exhaust its stack. tests/contract/test_json_depth.py
# keeps this equal to what docs/openapi.json allows.
MAX_JSON_DEPTH = 3
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
    """Refuse what no route should parse: bodies over 64 KiB, non-JSON bodies, malformed JSON,
    nesting deeper than any request needs, a name twice in one object, NaN and Infinity (400).

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
    except (ValueError, binascii.Error):
        return _raw(problem(400, "The body is not valid JSON."))
    if _nesting_exceeds(text, MAX_JSON_DEPTH):
        return _raw(problem(400, f"The body nests objects and arrays deeper than {MAX_JSON_DEPTH} levels."))
    try:
        json.loads(text, object_pairs_hook=_unique_names, parse_constant=_no_constant)
    except _NameTwice:
        return _raw(problem(400, "The body names a field twice in one object."))
    except ValueError:
        return _raw(problem(400, "The body is not valid JSON."))
    event["body"], event["isBase64Encoded"] = text, False
    headers["content-type"] = "application/json"
    return None


# A JSON string (escapes and all), or one bracket outside strings. Every character is read once:
# the quantifiers are possessive (no backtracking), and a string without its closing quote runs
# to the end of the text (else each escaped quote in it would start another scan to the end).
_JSON_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.DOTALL)


def _nesting_exceeds(text: str, limit: int) -> bool:
    """Whether the JSON text nests objects and arrays deeper than `limit`; no parsing, no recursion.

    Brackets inside strings are text. Malformed JSON is left for the parser to refuse.
    """
    depth = 0
    for token in _JSON_STRING_OR_BRACKET.finditer(text):
        bracket = token[0]
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in ("]", "}"):
            depth -= 1
    return False


class _NameTwice(ValueError):
    pass


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Which of two values of one name counts is up to each parser (Python keeps the last): the
    # client may not mean what we store.
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _NameTwice
    return document


def _no_constant(name: str) -> Any:
    # NaN, Infinity and -Infinity are not JSON, though Python reads them.
    raise ValueError(name)


def _raw(response: Response[str]) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": response.content_type or "", **response.headers},
        "body": response.body,
        "isBase64Encoded": False,
    }


def refuse_erased(event: dict[str, Any], allow_erased: frozenset[str]) -> dict[str, Any] | None:
    """401 when the signed-in person's account was erased; None to go on (also when no one is
    signed in: public routes have their own credential, or none).

    The gateway checked the token's signature and expiry, but cannot know that the account
    behind it is gone. `allow_erased` names route keys that still serve an erased person (the
    erasure itself, so that a retried erasure finishes).
    """
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    sub = (claims or {}).get("sub")
    if not sub or event.get("routeKey") in allow_erased:
        return None
    # Imported here: the edge function (health, 404s) has no table and never gets this far.
    from shared.store.accounts import is_erased

    if not is_erased(str(sub)):
        return None
    return _raw(
        from_domain_error(
            AccountErased("This account has been erased; sign in again."),
            instance=str(event.get("rawPath") or ""),
        )
    )


def _no_store(response: dict[str, Any]) -> dict[str, Any]:
    # Personal data must not sit in a shared cache or a device's HTTP cache (RFC 9111).
    headers = response.setdefault("headers", {})
    if not any(name.lower() == "cache-control" for name in headers):
        headers["Cache-Control"] = "no-store"
    return response


def lambda_entry(
    app: App, *, personal: bool = True, allow_erased: Iterable[str] = (), users: bool = True
) -> Handler:
    """The function's `lambda_handler`: logging context, metrics flush, the erased-account
    check, the body guard, then routing.

    `personal`: every answer carries `Cache-Control: no-store` unless the route set its own.
    `allow_erased`: route keys (`"DELETE /v1/me"`) that an erased person may still call.
    `users`: the callers are people (their erasure is checked); False for partners, whose
    token's subject is their client (each route checks the person it acts for).
    """
    exempt = frozenset(allow_erased)
    lifecycle.init()  # at import: the DynamoDB client is made during Lambda's initialisation

    def checked(event: dict[str, Any]) -> dict[str, Any] | None:
        # Before routing, so the App's error handlers are not in place yet: the same answers here.
        try:
            return refuse_erased(event, exempt)
        except DomainError as error:  # throttled after retries: 503 with Retry-After
            return _raw(from_domain_error(error, instance=str(event.get("rawPath") or "")))
        except Exception as error:  # our fault: logged and counted, as the App does
            return _raw(app._on_unexpected(error))

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        refused = checked(event) if users else None
        response = refused or guard_request(event) or app.resolve(event, context)
        return _no_store(response) if personal else response

    # ColdStart: one count per new execution environment, by function name (a dimension).
    return metrics.log_metrics(lambda_handler, capture_cold_start_metric=True)
