"""A local stand-in for the HTTP API: routes from template.yaml, the JWT authorizer, payload 2.0.

Each request is matched to a route of the template, authorized as API Gateway would, turned
into the payload format 2.0 event and handed to the function's `lambda_handler` in this
process. The dict the handler returns becomes the HTTP response. Besides the API it serves
`/docs` (Swagger UI, from files on disk, no CDN), the local-only `/_local` routes and, standing
in for the user pool's Cognito domain, `POST /oauth2/token` (`infra.local.oauth`).

Each route is authorized by its own authorizer (the template's `DefaultAuthorizer` or the one
its event names); a route with `AuthorizationScopes` then needs a token carrying at least one
of them, else 403, as API Gateway's JWT authorizer does.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from infra.local import push
from infra.local.auth import Authorization, Unauthorized, stringify_claim
from infra.local.scheduler import parse_time, scheduled_event
from infra.local.template import ROOT, Route, Template

ACCOUNT_ID = "123456789012"
API_ID = "local"
# One invocation at a time in this process. Lambda runs one request per execution environment;
# here every function shares one interpreter, and Powertools keeps the current event and
# context on class attributes (`BaseRouter.current_event`) and the logger's keys and the metrics
# on module-level objects, so two requests run at once in threads could read each other's event
# or identity. The emulator serialises DynamoDB anyway; this costs little and keeps them apart.
_INVOCATION = threading.Lock()
PROBLEM_JSON = "application/problem+json"
# API Gateway's HTTP API refuses bodies over 10 MB before anything runs.
MAX_BODY_BYTES = 10 * 1024 * 1024
# Where a Cognito domain answers the client-credentials grant (served here when configured).
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a secret

Handler = Callable[[dict[str, Any], Any], Any]


class Authorizer(Protocol):
    """What the gateway needs of an authorizer (see `infra.local.auth.JwtAuthorizer`)."""

    def authorize(self, authorization_header: str | None) -> Authorization: ...


# ---------------------------------------------------------------- functions


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float = field(repr=False)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout, never negative."""
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    """One Lambda function, imported lazily (a failing import is an invocation error, as in Lambda)."""

    logical_id: str
    function_name: str
    module: str
    handler_name: str = "lambda_handler"
    memory_mb: int = 128
    timeout_seconds: float = 3
    handler: Handler | None = None
    log_file: FunctionLogFile | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load(self) -> Handler:
        """The handler, importing its module on first use."""
        with self._lock:
            if self.handler is None:
                module = importlib.import_module(self.module)
                self.handler = getattr(module, self.handler_name)
                if self.log_file is not None:
                    self.log_file.attach()  # the functions' logger exists once one is imported
            return self.handler

    def context(self) -> LambdaContext:
        """A fresh context for one invocation."""
        today = datetime.now(UTC).strftime("%Y/%m/%d")
        return LambdaContext(
            function_name=self.function_name,
            function_version="$LATEST",
            invoked_function_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}",
            memory_limit_in_mb=self.memory_mb,
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{self.function_name}",
            log_stream_name=f"{today}/[$LATEST]{uuid.uuid4().hex}",
            deadline=time.monotonic() + self.timeout_seconds,
        )

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler on `event`; its exceptions propagate."""
        handler = self.load()
        with _INVOCATION:
            running = _RUNNING_FUNCTION.set(self.logical_id)
            try:
                started = time.monotonic()
                result = handler(event, self.context())
                elapsed = time.monotonic() - started
            finally:
                _RUNNING_FUNCTION.reset(running)
        if elapsed > self.timeout_seconds:
            # We cannot kill a thread; say loudly that Lambda would have.
            print(
                f"local stack: {self.logical_id} ran {elapsed:.1f}s, over its {self.timeout_seconds}s"
                " timeout: Lambda would have killed it",
                file=sys.stderr,
            )
        return result


# ---------------------------------------------------------------- function logs

FUNCTION_LOG_NAME = "functions.log"
# The function whose handler runs now (on this thread), to name it on each log record.
_RUNNING_FUNCTION: ContextVar[str] = ContextVar("local_function", default="-")


class FunctionLogFile(logging.Handler):
    """Every record the functions' logger emits, at the level deployed functions log at, one line
    each (`<LogicalId> <the JSON Lambda would ship to CloudWatch>`), appended to a file.

    All functions share this process and so one Powertools logger (named by
    `POWERTOOLS_SERVICE_NAME`). The stack keeps its console at WARNING; records between the
    deployed level and that go to this file only: the console handler keeps the level it had.
    """

    def __init__(self, path: Path, level: int | str = logging.INFO) -> None:
        super().__init__(logging.getLevelName(level) if isinstance(level, str) else level)
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._stream = path.open("a", encoding="utf-8")
        self._attached = False

    def attach(self) -> None:
        """Join the functions' logger (once), with its formatter, without changing its console."""
        if self._attached:
            return
        target = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))
        console: logging.Handler | None = getattr(target, "powertools_handler", None)
        if console is None:
            return  # no Powertools logger yet
        self.setFormatter(console.formatter)
        console.setLevel(max(console.level, target.getEffectiveLevel()))
        target.setLevel(min(target.getEffectiveLevel(), self.level))
        target.addHandler(self)
        self._attached = True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record).replace("\n", " ")
            self._stream.write(f"{_RUNNING_FUNCTION.get()} {line}\n")
            self._stream.flush()
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self._stream.close()
        super().close()


def function_log_path() -> Path:
    """`$LOCAL_STATE_DIR/functions.log`, the state dir as the stack resolves it."""
    state = Path(os.environ.get("LOCAL_STATE_DIR", ".local"))
    return (state if state.is_absolute() else ROOT / state) / FUNCTION_LOG_NAME


def local_functions(
    template: Template, refs: Mapping[str, str], *, log_path: Path | None = None
) -> dict[str, LocalFunction]:
    """Every function of the template, named and sized as it would be deployed; their log
    records go to `log_path` (default `function_log_path()`) as well, at the template's level."""
    from infra.local.template import resolve

    levels = {str(fn.environment.get("POWERTOOLS_LOG_LEVEL", "INFO")).upper() for fn in template.functions()}
    level = min(logging.getLevelName(name) for name in levels) if levels else logging.INFO
    log_file = FunctionLogFile(log_path or function_log_path(), level)
    out = {}
    for fn in template.functions():
        props = template.function_properties(fn.logical_id)
        out[fn.logical_id] = LocalFunction(
            logical_id=fn.logical_id,
            function_name=str(resolve(props.get("FunctionName", fn.logical_id), dict(refs))),
            module=fn.module,
            handler_name=fn.handler,
            memory_mb=int(props.get("MemorySize", 128)),
            timeout_seconds=float(props.get("Timeout", 3)),
            log_file=log_file,
        )
    return out


# ---------------------------------------------------------------- routing


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick: the most specific path and method, `$default` last."""
    best: tuple[tuple[int, ...], Route, dict[str, str]] | None = None
    default = None
    for route in routes:
        if route.is_default:
            if route.method in ("ANY", method):
                default = route
            continue
        if route.method not in ("ANY", method):
            continue
        found = route.pattern().match(path)
        if not found:
            continue
        # Literal segments beat `{param}`, which beats `{proxy+}`; an exact method beats ANY.
        literal = len(re.sub(r"\{[^}]+\}", "", route.path))
        rank = (int("+}" in route.path), len(found.groupdict()), -literal, int(route.method == "ANY"))
        if best is None or rank < best[0]:
            best = (rank, route, found.groupdict())
    if best is not None:
        return best[1], best[2]
    if default is not None:
        return default, {}
    return None


# ---------------------------------------------------------------- the event


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def build_event(
    request: Request,
    route: Route,
    path_parameters: Mapping[str, str],
    authorization: Authorization | None,
    *,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload format 2.0 event for one request.

    Keys API Gateway leaves out when empty (cookies, queryStringParameters, pathParameters,
    body) are left out here too, so handlers meet the same shapes as in AWS.
    """
    moment = now or datetime.now(UTC)
    request_id = request_id or base64.b32encode(uuid.uuid4().bytes)[:16].decode().rstrip("=")
    headers = _joined([(k.lower(), v) for k, v in request.headers.items()])
    cookie_header = headers.pop("cookie", None)
    host = request.host
    raw_query = request.query_string.decode("latin-1")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": raw_query,
        "headers": headers,
    }
    if cookie_header:
        event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
    if request.args:
        event["queryStringParameters"] = _joined(list(request.args.items(multi=True)))
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["stageVariables"] = None
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "sourceIp": request.remote_addr or "127.0.0.1",
            "userAgent": request.headers.get("User-Agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(moment.timestamp() * 1000),
    }
    if authorization is not None:
        context["authorizer"] = {
            "jwt": {
                "claims": {k: stringify_claim(v) for k, v in authorization.claims.items()},
                "scopes": authorization.scopes,
            }
        }
    event["requestContext"] = context
    raw_body = request.get_data(cache=True)
    if raw_body:
        try:
            event["body"] = raw_body.decode("utf-8")
            event["isBase64Encoded"] = False
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(raw_body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def to_response(result: Any) -> Response:
    """The HTTP response API Gateway makes of a payload 2.0 handler result.

    A dict with `statusCode` is taken field by field; anything else is, as API Gateway does
    for format 2.0, sent as a JSON body with status 200.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        return Response(json.dumps(result), status=200, content_type="application/json")
    headers = Headers()
    for name, value in (result.get("headers") or {}).items():
        headers.add(name, str(value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        headers.add("Set-Cookie", cookie)
    body = result.get("body")
    data: bytes
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
    response = Response(data, status=int(result["statusCode"]), headers=headers)
    if "content-type" not in {k.lower() for k in (result.get("headers") or {})}:
        # werkzeug adds text/plain by default; API Gateway adds nothing for format 2.0
        # structured responses (and application/json only when it made the body itself).
        response.headers.pop("Content-Type", None)
    return response


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    """An RFC 9457 problem details response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(json.dumps(body), status=status, content_type=PROBLEM_JSON)


# ---------------------------------------------------------------- the app


_SWAGGER_DIR = "aws_lambda_powertools/event_handler/openapi/swagger_ui"

_DOCS_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>API docs (local)</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui">Loading...</div>
<script src="/docs/swagger-ui.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/docs/openapi.json", dom_id: "#swagger-ui"});
</script></body></html>
"""

_MINIMAL_DOCS_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>API docs (local)</title></head>
<body><h1>API docs</h1><p>Swagger UI's assets are not installed; the document is at
<a href="/docs/openapi.json">/docs/openapi.json</a>.</p></body></html>
"""


def swagger_ui_dir() -> Path | None:
    """Where the Swagger UI assets shipped with Powertools are, if they are."""
    for entry in sys.path:
        candidate = Path(entry) / _SWAGGER_DIR
        if (candidate / "swagger-ui-bundle.min.js").is_file():
            return candidate
    return None


_LOGGED_PATH = "local.logged_path"  # the path the request line shows, when not the request's own
_SCHEDULE_RUN = re.compile(r"^/_local/schedules/(?P<function>[^/]+)/run$")


class Gateway:
    """The WSGI application: route, authorize, invoke, translate, and log one line per request."""

    def __init__(
        self,
        routes: list[Route],
        functions: Mapping[str, LocalFunction],
        authorizer: Authorizer | None,
        *,
        authorizers: Mapping[str, Authorizer] | None = None,
        token_endpoint: Callable[[Request], Response] | None = None,
        region: str = "us-east-1",
        openapi_path: Path | None = None,
        log: TextIO | None = None,
    ) -> None:
        """Routes whose `auth` is set are guarded by the authorizer they name, from `authorizers`
        (by the template's name), or by `authorizer` when they name none; a route whose
        authorizer is missing is refused. `token_endpoint` answers `TOKEN_PATH` when given.
        """
        self.routes = routes
        self.functions = functions
        self.authorizer = authorizer
        self.authorizers = dict(authorizers or {})
        self.token_endpoint = token_endpoint
        self.region = region
        self.openapi_path = openapi_path
        self.log = log

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """WSGI entry point."""
        request = Request(environ)
        started = time.perf_counter()
        response = self.dispatch(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        out = self.log if self.log is not None else sys.stdout
        path = request.environ.get(_LOGGED_PATH) or request.path
        query = request.query_string.decode("latin-1")
        full_path = f"{path}?{query}" if query else path
        # One line per request, written whole so concurrent requests do not interleave.
        out.write(f"{request.method} {full_path} {response.status_code} {elapsed_ms:.0f}ms\n")
        out.flush()
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        """The response to one request (no logging)."""
        path = request.path
        if path == "/docs" or path.startswith("/docs/"):
            return self._docs(request)
        if path.startswith("/_local/"):
            return self._local(request)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return problem(413, "Content Too Large", "The request body is over 10 MB.")
        if path == TOKEN_PATH and self.token_endpoint is not None:
            return self.token_endpoint(request)
        matched = match_route(self.routes, request.method, path)
        if matched is None:
            return problem(404, "Not Found", "No route matches the request.")
        route, params = matched
        if params and not route.auth:
            # A public route's path parameters are its credentials (a counterpart link's token, a
            # calendar feed's secret): the request line names the route, as API Gateway's access
            # log does (`$context.routeKey`), never the secret.
            request.environ[_LOGGED_PATH] = route.path
        authorization = None
        if route.auth:
            try:
                authorizer = self._authorizer_for(route)
                if authorizer is None:
                    raise Unauthorized("No authorizer is configured for this route.")
                authorization = authorizer.authorize(request.headers.get("Authorization"))
            except Unauthorized as exc:
                response = problem(401, "Unauthorized", exc.detail)
                # RFC 6750: no error code when the request simply had no token.
                has_token = bool(request.headers.get("Authorization", "").strip())
                response.headers["WWW-Authenticate"] = (
                    'Bearer error="invalid_token"' if has_token else "Bearer"
                )
                return response
            if route.scopes and not set(route.scopes) & set(authorization.scopes or ()):
                # API Gateway: a valid token without any of the route's scopes is a 403.
                response = problem(403, "Forbidden", "The token carries none of the scopes this route needs.")
                response.headers["WWW-Authenticate"] = (
                    f'Bearer error="insufficient_scope", scope="{" ".join(route.scopes)}"'
                )
                return response
        event = build_event(request, route, params, authorization)
        return self._invoke(route.function, lambda fn: to_response(fn.invoke(event)))

    def _authorizer_for(self, route: Route) -> Authorizer | None:
        if route.authorizer is None:
            return self.authorizer
        return self.authorizers.get(route.authorizer)

    def _invoke(self, logical_id: str, call: Callable[[LocalFunction], Response]) -> Response:
        function = self.functions.get(logical_id)
        if function is None:
            return problem(404, "Not Found", f"No function {logical_id} in the template.")
        try:
            return call(function)
        except Exception:  # any handler failure is API Gateway's 500, as in AWS
            print(f"local stack: {logical_id} failed:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            return problem(500, "Internal Server Error")

    # -------------------------------------------------------------- /docs

    def _docs(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return problem(405, "Method Not Allowed")
        assets = swagger_ui_dir()
        if request.path == "/docs/openapi.json":
            if self.openapi_path is None or not self.openapi_path.is_file():
                return problem(404, "Not Found", "docs/openapi.json has not been generated yet.")
            return Response(self.openapi_path.read_bytes(), content_type="application/json")
        if request.path in ("/docs", "/docs/"):
            return Response(_DOCS_PAGE if assets else _MINIMAL_DOCS_PAGE, content_type="text/html")
        files = {
            "/docs/swagger-ui.js": "swagger-ui-bundle.min.js",
            "/docs/swagger-ui.css": "swagger-ui.min.css",
        }
        if assets and request.path in files:
            kind = "text/javascript" if request.path.endswith(".js") else "text/css"
            return Response((assets / files[request.path]).read_bytes(), content_type=kind)
        return problem(404, "Not Found")

    # -------------------------------------------------------------- /_local

    def _local(self, request: Request) -> Response:
        if request.path == "/_local/push":
            if request.method != "GET":
                return problem(405, "Method Not Allowed")
            return Response(json.dumps({"items": push.items()}), content_type="application/json")
        found = _SCHEDULE_RUN.match(request.path)
        if found:
            if request.method != "POST":
                return problem(405, "Method Not Allowed")
            return self._run_schedule(found.group("function"), request)
        return problem(404, "Not Found", "No such local route.")

    def _run_schedule(self, logical_id: str, request: Request) -> Response:
        if logical_id not in self.functions:
            return problem(404, "Not Found", f"No function {logical_id} in the template.")
        moment = datetime.now(UTC)
        raw = request.get_data()
        if raw.strip():
            try:
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise TypeError("not an object")
                if "time" in body:
                    moment = parse_time(str(body["time"]))
            # RecursionError: json.loads recurses, and a few KiB of brackets exhaust its stack.
            except (ValueError, TypeError, RecursionError):
                return problem(
                    422,
                    "Unprocessable Content",
                    'The body must be {"time": "<RFC 3339 with offset>"}.',
                    errors=[{"location": "body", "field": "time", "code": "invalid", "message": "RFC 3339"}],
                )
        event = scheduled_event(moment, self.region)

        def call(fn: LocalFunction) -> Response:
            result = fn.invoke(event)
            body = json.dumps({"invoked": logical_id, "result": result}, default=str)
            return Response(body, content_type="application/json")

        return self._invoke(logical_id, call)
