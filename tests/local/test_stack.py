"""The local stack: its parts in-process (no server), then the running stack over HTTP."""

from __future__ import annotations

import base64
import io
import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

from infra.local import push
from infra.local.auth import Authorization, JwtAuthorizer
from infra.local.aws import table_request
from infra.local.gateway import Gateway, LocalFunction, build_event, match_route, to_response
from infra.local.scheduler import parse_rate, timers_for
from infra.local.template import Route, load
from tests.support.stack import Person, forge_token, sign_in

CONTRACT_KEYS = {
    "apiUrl", "awsEndpointUrl", "region", "userPoolId", "userPoolClientId", "tableName",
    "tokenUrl", "partners", "demoUser",
}  # fmt: skip

# ---------------------------------------------------------------- in-process parts


class Recorder:
    """A throwaway handler that remembers its events and answers a fixed result."""

    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.result = result if result is not None else {"statusCode": 200, "body": "ok"}
        self.error = error

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        if self.error is not None:
            raise self.error
        return self.result


def _function(handler: Recorder, logical_id: str = "Fn") -> LocalFunction:
    return LocalFunction(logical_id, f"career-journey-{logical_id.lower()}-local", "unused", handler=handler)


ROUTES = [
    Route("GET", "/v1/me", "Me", auth=True),
    Route("DELETE", "/v1/me/devices/{deviceId}", "Me", auth=True),
    Route("GET", "/v1/me/devices/current", "Literal", auth=True),
    Route("GET", "/v1/health", "Edge", auth=False),
    Route("ANY", "$default", "Edge", auth=False),
]


def _moto_public_jwks() -> dict[str, Any]:
    from moto.utilities.utils import load_resource

    jwks: dict[str, Any] = load_resource("cognitoidp/resources/jwks-public.json")
    return jwks


ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "0f1e2d3c",
        "client_id": "client-1",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin profile",
        "iat": now,
        "exp": now + 600,
        "username": "0f1e2d3c",
    }
    claims.update(changes)
    return claims


def _gateway(handlers: dict[str, Recorder]) -> Gateway:
    authorizer = JwtAuthorizer(ISSUER, ["client-1"], jwks=_moto_public_jwks())
    functions = {name: _function(h, name) for name, h in handlers.items()}
    return Gateway(ROUTES, functions, authorizer, log=io.StringIO())


def test_rate_expressions_parse_to_seconds_and_bad_ones_are_refused() -> None:
    assert parse_rate("rate(1 minute)") == 60
    assert parse_rate("rate(5 minutes)") == 300
    assert parse_rate("rate(2 hours)") == 7200
    assert parse_rate("rate(1 day)") == 86400
    for bad in (
        "rate(5 minute)",
        "rate(1 minutes)",
        "rate(0 minutes)",
        "cron(0 9 * * ? *)",
        "rate(5 seconds)",
    ):
        with pytest.raises(ValueError, match="rate"):
            parse_rate(bad)


def test_only_enabled_rate_schedules_get_timers() -> None:
    schedules = (
        {"name": "Every5", "Schedule": "rate(5 minutes)"},
        {"name": "Off", "Schedule": "rate(1 hour)", "Enabled": False},
        {"name": "V2", "ScheduleExpression": "rate(1 day)", "State": "ENABLED"},
        {"name": "Cron", "Schedule": "cron(0 9 * * ? *)"},
    )
    timers = timers_for("Reminders", schedules)
    assert [(t.name, t.every_seconds) for t in timers] == [("Every5", 300), ("V2", 86400)]


def test_event_builder_makes_a_faithful_payload_v2() -> None:
    builder = EnvironBuilder(
        method="DELETE",
        path="/v1/me/devices/dev-1",
        query_string="tag=a&tag=b&limit=5",
        headers=[
            ("Cookie", "session=abc; theme=dark"),
            ("X-Mixed-Case", "kept"),
            ("User-Agent", "app/1.0"),
            ("Content-Type", "application/json"),
        ],
        data=b'{"reason": "lost"}',
    )
    request = Request(builder.get_environ())
    route = ROUTES[1]
    auth = Authorization(
        claims={"sub": "u1", "cognito:groups": ["admin", "users"], "exp": 1700000000, "email_verified": True},
        scopes=["profile", "email"],
    )
    now = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
    event = build_event(request, route, {"deviceId": "dev-1"}, auth, request_id="req-1", now=now)

    assert event["version"] == "2.0"
    assert event["routeKey"] == "DELETE /v1/me/devices/{deviceId}"
    assert event["rawPath"] == "/v1/me/devices/dev-1"
    assert event["rawQueryString"] == "tag=a&tag=b&limit=5"
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert "cookie" not in event["headers"]
    # (Repeated headers reach us already joined by the WSGI server; werkzeug's uses ",".)
    assert event["headers"]["x-mixed-case"] == "kept"
    assert event["headers"]["user-agent"] == "app/1.0"
    assert all(name == name.lower() for name in event["headers"])
    assert event["queryStringParameters"] == {"tag": "a,b", "limit": "5"}
    assert event["pathParameters"] == {"deviceId": "dev-1"}
    assert event["stageVariables"] is None
    assert event["body"] == '{"reason": "lost"}'
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "DELETE",
        "path": "/v1/me/devices/dev-1",
        "protocol": "HTTP/1.1",
        "sourceIp": ctx["http"]["sourceIp"],
        "userAgent": "app/1.0",
    }
    assert ctx["routeKey"] == event["routeKey"]
    assert ctx["stage"] == "$default"
    assert ctx["requestId"] == "req-1"
    assert ctx["time"] == "27/Nov/2026:09:00:00 +0000"
    assert ctx["timeEpoch"] == int(now.timestamp() * 1000)
    assert {"accountId", "apiId", "domainName", "domainPrefix"} <= set(ctx)
    assert ctx["authorizer"]["jwt"]["claims"] == {
        "sub": "u1",
        "cognito:groups": "[admin users]",
        "exp": "1700000000",
        "email_verified": "true",
    }
    assert ctx["authorizer"]["jwt"]["scopes"] == ["profile", "email"]


def test_event_leaves_out_what_api_gateway_leaves_out_and_base64s_binary_bodies() -> None:
    request = Request(
        EnvironBuilder(method="POST", path="/anything", data=b"\xff\xfe\x00binary").get_environ()
    )
    event = build_event(request, ROUTES[-1], {}, None)
    assert event["routeKey"] == "$default"
    assert event["requestContext"]["routeKey"] == "$default"
    assert "authorizer" not in event["requestContext"]
    for absent in ("cookies", "queryStringParameters", "pathParameters"):
        assert absent not in event
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00binary"


def test_routes_match_most_specific_first_and_default_last() -> None:
    assert match_route(ROUTES, "GET", "/v1/me") == (ROUTES[0], {})
    assert match_route(ROUTES, "DELETE", "/v1/me/devices/x1") == (ROUTES[1], {"deviceId": "x1"})
    assert match_route(ROUTES, "GET", "/v1/me/devices/current") == (ROUTES[2], {})
    # A known path with an unknown method goes to $default, as in HTTP APIs.
    assert match_route(ROUTES, "POST", "/v1/health") == (ROUTES[-1], {})
    assert match_route(ROUTES, "GET", "/v1/nothing/here") == (ROUTES[-1], {})


def test_results_translate_to_http_as_api_gateway_does() -> None:
    response = to_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "image/png", "ETag": '"v1"'},
            "multiValueHeaders": {"X-Trace": ["a", "b"]},
            "cookies": ["a=1; HttpOnly", "b=2"],
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status_code == 201
    assert response.get_data() == b"\x89PNG"
    assert response.headers.getlist("Set-Cookie") == ["a=1; HttpOnly", "b=2"]
    assert response.headers.getlist("X-Trace") == ["a", "b"]
    assert response.headers["ETag"] == '"v1"'
    bare = to_response({"hello": "world"})
    assert bare.status_code == 200
    assert bare.content_type == "application/json"
    assert json.loads(bare.get_data()) == {"hello": "world"}


def test_handler_exception_is_a_bare_500_problem_and_the_traceback_goes_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    edge = Recorder(error=RuntimeError("secret internals"))
    client = Client(_gateway({"Edge": edge}))
    response = client.get("/v1/health")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json()
    assert body["title"] == "Internal Server Error"
    assert body["status"] == 500
    assert "secret internals" not in response.get_data(as_text=True)
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "secret internals" in err


def test_auth_routes_refuse_before_the_handler_runs_and_pass_claims_when_valid() -> None:
    me = Recorder()
    client = Client(_gateway({"Me": me, "Edge": Recorder()}))
    refused = client.get("/v1/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert refused.status_code == 401
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "not.a.jwt" not in refused.get_data(as_text=True)
    assert me.events == []

    token = forge_token(_claims())
    accepted = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert accepted.status_code == 200
    (event,) = me.events
    jwt_ctx = event["requestContext"]["authorizer"]["jwt"]
    assert jwt_ctx["claims"]["sub"] == "0f1e2d3c"
    assert jwt_ctx["claims"]["iat"].isdigit()  # numbers arrive as strings, as from API Gateway
    assert jwt_ctx["scopes"] == ["aws.cognito.signin.user.admin", "profile"]
    # The token itself reaches the function in the Authorization header, as in AWS.
    assert event["headers"]["authorization"] == f"Bearer {token}"
    context = me.contexts[0]
    assert context.function_name == "career-journey-me-local"
    assert context.invoked_function_arn.endswith(":function:career-journey-me-local")
    assert 0 < context.get_remaining_time_in_millis() <= 3000
    assert context.aws_request_id


def test_id_tokens_pass_with_their_audience_and_have_no_scopes() -> None:
    me = Recorder()
    client = Client(_gateway({"Me": me}))
    claims = _claims(token_use="id", aud="client-1", email="a@example.com")
    del claims["client_id"], claims["scope"]
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {forge_token(claims)}"}).status_code == 200
    assert me.events[0]["requestContext"]["authorizer"]["jwt"]["scopes"] is None


def test_scheduled_run_sends_an_eventbridge_event_with_the_given_time() -> None:
    job = Recorder(result={"sent": 2})
    client = Client(_gateway({"Reminders": job}))
    response = client.post("/_local/schedules/Reminders/run", json={"time": "2026-11-27T10:00:00+01:00"})
    assert response.status_code == 200
    assert response.get_json() == {"invoked": "Reminders", "result": {"sent": 2}}
    (event,) = job.events
    assert event["time"] == "2026-11-27T09:00:00Z"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert {"version", "id", "account", "region", "resources", "detail"} <= set(event)

    bad = client.post("/_local/schedules/Reminders/run", json={"time": "next tuesday"})
    assert bad.status_code == 422
    assert bad.headers["Content-Type"] == "application/problem+json"
    assert len(job.events) == 1


def test_push_registry_lists_messages_oldest_first() -> None:
    push.clear()
    try:
        push.record("arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/1", {"title": "first"})
        push.record("arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/1", {"title": "second"})
        response = Client(_gateway({})).get("/_local/push")
        items = response.get_json()["items"]
        assert [i["message"]["title"] for i in items] == ["first", "second"]
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", i["sentAt"]) for i in items)
    finally:
        push.clear()


def test_a_function_module_is_imported_lazily_and_a_failing_import_is_a_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "throwaway_fn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(
        "def lambda_handler(event, context):\n"
        "    return {'statusCode': 200, 'body': event['rawPath'] + ' ' + context.function_name}\n"
    )
    (package / "broken.py").write_text("raise ImportError('no such dependency')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    good = LocalFunction("Edge", "edge-local", "throwaway_fn.app")
    broken = LocalFunction("Me", "me-local", "throwaway_fn.broken")
    gateway = Gateway(ROUTES, {"Edge": good, "Me": broken}, None, log=io.StringIO())
    assert Client(gateway).get("/v1/health").get_data(as_text=True) == "/v1/health edge-local"
    assert Client(gateway).get("/_local/schedules/Me/run").status_code == 405
    assert Client(gateway).post("/_local/schedules/Me/run").status_code == 500


def test_table_request_carries_every_template_property() -> None:
    props = load().table_properties
    request = table_request(props, {"Stage": "local"})
    assert request["TableName"] == "career-journey-local"
    assert request["KeySchema"] == props["KeySchema"]
    assert request["AttributeDefinitions"] == props["AttributeDefinitions"]
    assert request["GlobalSecondaryIndexes"] == props["GlobalSecondaryIndexes"]
    assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert request["SSESpecification"] == {"Enabled": True}
    assert request["BillingMode"] == "PAY_PER_REQUEST"


# ---------------------------------------------------------------- the running stack


def _client(stack: dict[str, Any], service: str) -> Any:
    make: Any = boto3.client  # the stubs only type literal service names
    return make(
        service,
        endpoint_url=stack["awsEndpointUrl"],
        region_name=stack["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_stack_json_has_the_contract_keys_on_loopback(local_stack: dict[str, Any]) -> None:
    assert set(local_stack) == CONTRACT_KEYS
    for key in ("apiUrl", "awsEndpointUrl", "tokenUrl"):
        assert local_stack[key].startswith("http://127.0.0.1:")
    assert local_stack["tokenUrl"] == local_stack["apiUrl"] + "/oauth2/token"
    assert local_stack["region"] == "us-east-1"
    assert [set(p) for p in local_stack["partners"]] == [{"partnerId", "clientId", "clientSecret"}]
    assert set(local_stack["demoUser"]) == {"username", "password"}


def test_the_demo_partner_gets_a_token_with_every_scope_from_the_token_url(
    local_stack: dict[str, Any],
) -> None:
    from shared.domain.partners import SCOPES, token_scope

    (partner,) = local_stack["partners"]
    body_credentials = {"client_id": partner["clientId"], "client_secret": partner["clientSecret"]}
    response = requests.post(
        local_stack["tokenUrl"], data={"grant_type": "client_credentials", **body_credentials}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert sorted(claims["scope"].split(" ")) == sorted(token_scope(s) for s in SCOPES)
    assert claims["client_id"] == claims["sub"] == partner["clientId"]
    assert claims["token_use"] == "access"
    pool_issuer = f"https://cognito-idp.{local_stack['region']}.amazonaws.com/{local_stack['userPoolId']}"
    assert claims["iss"] == pool_issuer

    # HTTP Basic works as well, for fewer scopes; a wrong secret is refused as RFC 6749 says.
    basic = (partner["clientId"], partner["clientSecret"])
    one = requests.post(
        local_stack["tokenUrl"],
        data={"grant_type": "client_credentials", "scope": token_scope("clients.read")},
        auth=basic,
        timeout=10,
    )
    assert one.status_code == 200, one.text
    one_claims = jwt.decode(one.json()["access_token"], options={"verify_signature": False})
    assert one_claims["scope"] == token_scope("clients.read")
    wrong = requests.post(
        local_stack["tokenUrl"],
        data={"grant_type": "client_credentials"},
        auth=(basic[0], "wrong"),
        timeout=10,
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")

    # A partner token is not a user's: the /v1 routes refuse it.
    me = requests.get(
        local_stack["apiUrl"] + "/v1/me",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert me.status_code == 401


def test_table_matches_the_template(local_stack: dict[str, Any]) -> None:
    props = load().table_properties
    dynamodb = _client(local_stack, "dynamodb")
    table = dynamodb.describe_table(TableName=local_stack["tableName"])["Table"]
    assert local_stack["tableName"] == "career-journey-local"
    assert table["KeySchema"] == props["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(props["AttributeDefinitions"], key=str)
    made = {g["IndexName"]: g for g in table["GlobalSecondaryIndexes"]}
    declared = {g["IndexName"]: g for g in props["GlobalSecondaryIndexes"]}
    assert set(made) == set(declared)
    for name, expected in declared.items():
        assert made[name]["KeySchema"] == expected["KeySchema"], name
        assert made[name]["Projection"] == expected["Projection"], name
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    ttl = dynamodb.describe_time_to_live(TableName=local_stack["tableName"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    backups = dynamodb.describe_continuous_backups(TableName=local_stack["tableName"])
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_user_pool_and_client_match_the_template(local_stack: dict[str, Any]) -> None:
    template = load()
    pool_props = template.resource("UserPool")["Properties"]
    client_props = template.resource("UserPoolClient")["Properties"]
    cognito = _client(local_stack, "cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=local_stack["userPoolId"])["UserPool"]
    assert pool["Name"] == "career-journey-local"
    assert pool["UsernameAttributes"] == pool_props["UsernameAttributes"]
    assert pool["AutoVerifiedAttributes"] == pool_props["AutoVerifiedAttributes"]
    for key, value in pool_props["Policies"]["PasswordPolicy"].items():
        assert pool["Policies"]["PasswordPolicy"][key] == value
    client = cognito.describe_user_pool_client(
        UserPoolId=local_stack["userPoolId"], ClientId=local_stack["userPoolClientId"]
    )["UserPoolClient"]
    assert client["ClientName"] == "career-journey-mobile-local"
    assert sorted(client["ExplicitAuthFlows"]) == sorted(client_props["ExplicitAuthFlows"])
    for key in ("AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits"):
        assert client[key] == client_props[key]
    assert "ClientSecret" not in client


def test_the_password_policy_is_enforced(local_stack: dict[str, Any]) -> None:
    cognito = _client(local_stack, "cognito-idp")
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.sign_up(
            ClientId=local_stack["userPoolClientId"],
            Username=f"{uuid.uuid4().hex}@example.com",
            Password="short",
        )


def test_sign_up_and_sign_in_give_tokens_the_pool_signed(local_stack: dict[str, Any], person: Person) -> None:
    jwks = requests.get(
        f"{local_stack['awsEndpointUrl']}/{local_stack['userPoolId']}/.well-known/jwks.json", timeout=5
    ).json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(person.id_token)["kid"]].key
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{local_stack['userPoolId']}"
    claims = jwt.decode(
        person.id_token, key, algorithms=["RS256"], audience=local_stack["userPoolClientId"], issuer=issuer
    )
    assert claims["email"] == person.email
    assert claims["sub"] == person.sub
    assert claims["token_use"] == "id"
    access = jwt.decode(person.access_token, key, algorithms=["RS256"], issuer=issuer)
    assert access["client_id"] == local_stack["userPoolClientId"]
    assert access["sub"] == person.sub


def test_two_people_are_distinct(make_person: Callable[[], Person]) -> None:
    first, second = make_person(), make_person()
    assert first.sub != second.sub
    assert first.email != second.email


def test_the_demo_user_can_sign_in(local_stack: dict[str, Any]) -> None:
    demo = local_stack["demoUser"]
    cognito = _client(local_stack, "cognito-idp")
    tokens = sign_in(cognito, local_stack["userPoolClientId"], demo["username"], demo["password"])
    assert tokens["AccessToken"]


def test_each_request_logs_one_line_with_method_path_status_and_ms(
    local_stack: dict[str, Any], local_stack_log: Path
) -> None:
    probes = [uuid.uuid4().hex for _ in range(3)]
    for probe in probes:
        response = requests.delete(f"{local_stack['apiUrl']}/v1/me/devices/{probe}", timeout=10)
        assert response.status_code == 401
    deadline = time.monotonic() + 5
    while True:
        log = local_stack_log.read_text(encoding="utf-8")
        if all(p in log for p in probes) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for probe in probes:
        lines = [line for line in log.splitlines() if probe in line]
        assert len(lines) == 1, lines
        assert re.fullmatch(rf"DELETE /v1/me/devices/{probe} 401 \d+ms", lines[0]), lines[0]


def test_unknown_function_schedule_run_is_a_404_problem(local_stack: dict[str, Any]) -> None:
    response = requests.post(f"{local_stack['apiUrl']}/_local/schedules/NoSuchFunction/run", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert {"type", "title", "detail"} <= set(body)


def test_docs_and_push_are_served_locally(local_stack: dict[str, Any]) -> None:
    docs = requests.get(f"{local_stack['apiUrl']}/docs", timeout=10)
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert "https://" not in docs.text  # offline: no CDN
    assets = requests.get(f"{local_stack['apiUrl']}/docs/swagger-ui.js", timeout=10)
    assert assets.status_code == 200
    assert "SwaggerUIBundle" in assets.text
    pushed = requests.get(f"{local_stack['apiUrl']}/_local/push", timeout=10)
    assert pushed.status_code == 200
    # The stack is shared by the session: other tests' pushes may be listed, in this shape
    # (what a push holds is asserted in tests/local/test_promise_http.py).
    items = pushed.json()["items"]
    assert isinstance(items, list)
    for item in items:
        assert set(item) == {"endpoint", "message", "sentAt"}
