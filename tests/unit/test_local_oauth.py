"""The local token endpoint and the per-route authorizers, through the gateway in-process on moto.

Partners are registered as the operator's command does (`infra.partners.register_partner`);
the authorizers come from template.yaml (`CognitoUser`, `PartnerToken`); the routes are a small
set made here, shaped like the partner routes.
"""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.test import Client, TestResponse

from infra.local.gateway import Gateway, LocalFunction
from infra.local.oauth import (
    PartnerClients,
    TokenEndpoint,
    TokenKey,
    create_resource_servers,
    template_authorizers,
)
from infra.local.template import Route, Template, load
from infra.partners import register_partner
from shared.domain.partners import SCOPES, token_scope
from tests.support.aws import REGION, Aws
from tests.support.stack import forge_token

FORM = "application/x-www-form-urlencoded"
CLIENTS_READ = token_scope("clients.read")
PROFILE_READ = token_scope("profile.read")
CARES_READ = token_scope("cares.read")

ROUTES = [
    Route("GET", "/partner/v1/clients", "Partner", True, authorizer="PartnerToken", scopes=(CLIENTS_READ,)),
    Route(
        "GET",
        "/partner/v1/clients/{clientId}/cares",
        "Partner",
        True,
        authorizer="PartnerToken",
        scopes=(CARES_READ, PROFILE_READ),
    ),
    Route("GET", "/v1/me", "Me", True, authorizer="CognitoUser"),
    Route("GET", "/v1/health", "Edge", False),
]


class Recorder:
    """A handler that remembers its events."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return {"statusCode": 200, "body": "ok"}


def _moto_public_jwks() -> dict[str, Any]:
    from moto.utilities.utils import load_resource

    jwks: dict[str, Any] = load_resource("cognitoidp/resources/jwks-public.json")
    return jwks


@dataclass
class Local:
    """The pool, a registered partner, the token endpoint and the gateway in front of them."""

    aws: Aws
    cognito: Any
    issuer: str
    key: TokenKey
    partner: dict[str, Any]
    client: Client
    handlers: dict[str, Recorder]
    clock: list[float]

    def token(
        self,
        form: dict[str, str] | None = None,
        *,
        basic: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        content_type: str = FORM,
    ) -> TestResponse:
        """POST /oauth2/token with `form` (grant_type defaults to client_credentials)."""
        sent = dict(headers or {})
        if basic is not None:
            pair = f"{quote_plus(basic[0])}:{quote_plus(basic[1])}"
            sent["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        data = body if body is not None else urlencode({"grant_type": "client_credentials", **(form or {})})
        return self.client.post("/oauth2/token", data=data, headers=sent, content_type=content_type)

    def credentials(self) -> tuple[str, str]:
        return self.partner["clientId"], self.partner["clientSecret"]

    def access_token(self, scope: str | None = None) -> str:
        response = self.token({"scope": scope} if scope else {}, basic=self.credentials())
        assert response.status_code == 200, response.get_json()
        return str(response.get_json()["access_token"])

    def get(self, path: str, token: str) -> TestResponse:
        return self.client.get(path, headers={"Authorization": f"Bearer {token}"})

    def claims(self, token: str) -> dict[str, Any]:
        key = jwt.PyJWKSet.from_dict(self.key.jwks())[self.key.kid].key
        decoded: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], issuer=self.issuer)
        return decoded


@pytest.fixture
def local(aws: Aws) -> Local:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    refs = {"AWS::Region": REGION, "UserPool": aws.user_pool_id, "UserPoolClient": aws.client_id}
    assert create_resource_servers(cognito, load(), refs) == ["partner"]
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{aws.user_pool_id}"
    key = TokenKey()
    partner = register_partner(cognito, aws.user_pool_id, "Acme Coaching", ["clients.read", "profile.read"])
    clock = [time.time()]
    authorizers = template_authorizers(
        load(),
        refs,
        token_key=key,
        partner_clients=PartnerClients(cognito, aws.user_pool_id),
        jwks=_moto_public_jwks(),
    )
    assert set(authorizers) >= {"CognitoUser", "PartnerToken"}
    handlers = {name: Recorder() for name in ("Partner", "Me", "Edge")}
    functions = {
        name: LocalFunction(name, f"career-journey-{name.lower()}-local", "unused", handler=h)
        for name, h in handlers.items()
    }
    gateway = Gateway(
        ROUTES,
        functions,
        None,
        authorizers=authorizers,
        token_endpoint=TokenEndpoint(cognito, aws.user_pool_id, issuer, key, clock=lambda: clock[0]),
        log=io.StringIO(),
    )
    return Local(aws, cognito, issuer, key, partner, Client(gateway), handlers, clock)


def _assert_error(response: TestResponse, status: int, error: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    assert "access_token" not in body
    assert response.headers["Cache-Control"] == "no-store"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic ")
    else:
        assert "WWW-Authenticate" not in response.headers


# ---------------------------------------------------------------- the token endpoint


def test_basic_credentials_get_a_cognito_shaped_access_token(local: Local) -> None:
    response = local.token(basic=local.credentials())
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] == local.key.kid
    claims = local.claims(body["access_token"])
    client_id = local.partner["clientId"]
    assert set(claims) == {
        "sub", "token_use", "scope", "auth_time", "iss", "exp", "iat", "version", "jti", "client_id",
    }  # fmt: skip
    assert claims["sub"] == claims["client_id"] == client_id
    assert claims["token_use"] == "access"
    assert claims["iss"] == local.issuer
    assert claims["version"] == 2
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["auth_time"] == claims["iat"]
    # No scope asked: every scope the client is allowed.
    assert claims["scope"].split(" ") == [CLIENTS_READ, PROFILE_READ]
    assert local.claims(local.access_token())["jti"] != claims["jti"]


def test_body_credentials_get_a_token(local: Local) -> None:
    client_id, secret = local.credentials()
    response = local.token({"client_id": client_id, "client_secret": secret})
    assert response.status_code == 200
    assert local.claims(response.get_json()["access_token"])["client_id"] == client_id


def test_basic_credentials_are_form_url_decoded(local: Local) -> None:
    client_id, secret = local.credentials()
    # RFC 6749 2.3.1: each half is form-url-encoded; an encoded character is the character.
    pair = f"{client_id}:{''.join(f'%{b:02X}' for b in secret.encode())}"
    header = "Basic " + base64.b64encode(pair.encode()).decode()
    assert local.token(headers={"Authorization": header}).status_code == 200


def test_basic_with_a_matching_body_client_id_is_fine_but_not_a_second_secret(local: Local) -> None:
    client_id, secret = local.credentials()
    assert local.token({"client_id": client_id}, basic=(client_id, secret)).status_code == 200
    _assert_error(
        local.token({"client_id": "someone-else"}, basic=(client_id, secret)), 400, "invalid_request"
    )
    both = local.token({"client_id": client_id, "client_secret": secret}, basic=(client_id, secret))
    _assert_error(both, 400, "invalid_request")


@pytest.mark.parametrize("how", ["basic", "body"])
def test_a_wrong_secret_or_unknown_client_is_invalid_client(local: Local, how: str) -> None:
    client_id, secret = local.credentials()
    status = 401 if how == "basic" else 400
    for pair in (
        (client_id, secret + "x"),
        (client_id, ""),
        ("no-such-client", secret),
        (local.aws.client_id, "x"),  # the mobile client: no secret, no client credentials
        ("x" * 300, secret),
        ("ü:/%", secret),
    ):
        if how == "basic":
            response = local.token(basic=pair)
        else:
            response = local.token({"client_id": pair[0], "client_secret": pair[1]})
        _assert_error(response, status, "invalid_client")


def test_no_client_authentication_is_invalid_client(local: Local) -> None:
    _assert_error(local.token(), 400, "invalid_client")
    _assert_error(local.token({"client_id": local.partner["clientId"]}), 400, "invalid_client")


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Bearer abc.def.ghi",
    ],
)
def test_malformed_or_other_authorization_is_401_invalid_client(local: Local, header: str) -> None:
    _assert_error(local.token(headers={"Authorization": header}), 401, "invalid_client")


def test_only_the_client_credentials_grant(local: Local) -> None:
    creds = local.credentials()
    for grant in ("password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"):
        _assert_error(local.token({"grant_type": grant}, basic=creds), 400, "unsupported_grant_type")
    missing = local.token(body=urlencode({"scope": CLIENTS_READ}), basic=creds)
    _assert_error(missing, 400, "invalid_request")


def test_a_client_without_the_grant_is_unauthorized_client(local: Local) -> None:
    made = local.cognito.create_user_pool_client(
        UserPoolId=local.aws.user_pool_id, ClientName="server-side", GenerateSecret=True
    )["UserPoolClient"]
    response = local.token(basic=(made["ClientId"], made["ClientSecret"]))
    _assert_error(response, 400, "unauthorized_client")


def test_malformed_requests_are_invalid_request(local: Local) -> None:
    creds = local.credentials()
    as_json = local.token(
        body='{"grant_type": "client_credentials"}', basic=creds, content_type="application/json"
    )
    _assert_error(as_json, 400, "invalid_request")
    repeated = local.token(body="grant_type=client_credentials&grant_type=client_credentials", basic=creds)
    _assert_error(repeated, 400, "invalid_request")
    not_utf8 = local.token(body="grant_type=client_credentials&scope=%FF", basic=creds)
    _assert_error(not_utf8, 400, "invalid_request")
    get = local.client.get("/oauth2/token")
    assert get.status_code == 405
    assert get.headers["Allow"] == "POST"


def test_scopes_a_subset_is_granted_escalation_is_refused(local: Local) -> None:
    creds = local.credentials()
    subset = local.token({"scope": PROFILE_READ}, basic=creds)
    assert subset.status_code == 200
    assert local.claims(subset.get_json()["access_token"])["scope"] == PROFILE_READ
    # A scope the partner was not registered for: no token at all, not a smaller one.
    escalation = local.token({"scope": f"{CLIENTS_READ} {token_scope('webhooks.manage')}"}, basic=creds)
    _assert_error(escalation, 400, "invalid_scope")
    for bad in ("clients.read", "partner/unknown", "aws.cognito.signin.user.admin", "partner/clients.read\\"):
        _assert_error(local.token({"scope": bad}, basic=creds), 400, "invalid_scope")
    # RFC 6749 3.1: an empty parameter is an absent one, so every allowed scope.
    blank = local.token(body="grant_type=client_credentials&scope=", basic=creds)
    assert local.claims(blank.get_json()["access_token"])["scope"] == f"{CLIENTS_READ} {PROFILE_READ}"


# ---------------------------------------------------------------- partner routes


def test_a_partner_token_with_the_scope_reaches_the_function_with_its_claims(local: Local) -> None:
    token = local.access_token()
    response = local.get("/partner/v1/clients", token)
    assert response.status_code == 200
    (event,) = local.handlers["Partner"].events
    jwt_ctx = event["requestContext"]["authorizer"]["jwt"]
    assert jwt_ctx["scopes"] == [CLIENTS_READ, PROFILE_READ]
    assert jwt_ctx["claims"]["client_id"] == local.partner["clientId"]
    assert jwt_ctx["claims"]["token_use"] == "access"
    assert jwt_ctx["claims"]["version"] == "2"  # a string, as API Gateway passes claims


def test_a_token_without_the_route_scope_is_403(local: Local) -> None:
    token = local.access_token(PROFILE_READ)
    response = local.get("/partner/v1/clients", token)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json()["status"] == 403
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert CLIENTS_READ in challenge
    assert local.handlers["Partner"].events == []
    # One of a route's scopes is enough (here profile.read of cares.read or profile.read).
    assert local.get("/partner/v1/clients/c1/cares", token).status_code == 200


def test_an_expired_partner_token_is_401(local: Local) -> None:
    local.clock[0] = time.time() - 3601
    token = local.access_token()
    response = local.get("/partner/v1/clients", token)
    assert response.status_code == 401
    assert "expired" in response.get_json()["detail"]


def test_tokens_of_another_key_are_401(local: Local) -> None:
    claims = local.claims(local.access_token())
    other = TokenKey()  # another stack's key, another kid
    assert local.get("/partner/v1/clients", other.sign(claims)).status_code == 401
    same_kid = TokenKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid=local.key.kid)
    response = local.get("/partner/v1/clients", same_kid.sign(claims))
    assert response.status_code == 401
    assert "signature" in response.get_json()["detail"]
    # The control: the same claims with the stack's key pass.
    assert local.get("/partner/v1/clients", local.key.sign(claims)).status_code == 200


def test_a_user_token_on_a_partner_route_is_401(local: Local) -> None:
    now = int(time.time())
    user = forge_token(
        {
            "iss": local.issuer,
            "sub": "u-1",
            "client_id": local.aws.client_id,
            "token_use": "access",
            "scope": f"aws.cognito.signin.user.admin {CLIENTS_READ}",
            "iat": now,
            "exp": now + 600,
        }
    )
    assert local.get("/v1/me", user).status_code == 200  # the control: it is a good user token
    response = local.get("/partner/v1/clients", user)
    assert response.status_code == 401
    assert local.handlers["Partner"].events == []


def test_a_partner_token_on_a_user_route_is_401_for_its_audience(local: Local) -> None:
    response = local.get("/v1/me", local.access_token())
    assert response.status_code == 401
    assert "audience" in response.get_json()["detail"]
    assert local.handlers["Me"].events == []


def test_tokens_the_key_signed_for_no_partner_or_not_access_are_401(local: Local) -> None:
    claims = local.claims(local.access_token())
    mobile = {**claims, "sub": local.aws.client_id, "client_id": local.aws.client_id}
    response = local.get("/partner/v1/clients", local.key.sign(mobile))
    assert response.status_code == 401
    assert "audience" in response.get_json()["detail"]
    id_token = {**claims, "token_use": "id"}
    response = local.get("/partner/v1/clients", local.key.sign(id_token))
    assert response.status_code == 401
    assert "access token" in response.get_json()["detail"]
    foreign_issuer = {**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}
    assert local.get("/partner/v1/clients", local.key.sign(foreign_issuer)).status_code == 401


def test_a_deleted_partner_client_gets_no_token(local: Local) -> None:
    client_id, secret = local.credentials()
    local.cognito.delete_user_pool_client(UserPoolId=local.aws.user_pool_id, ClientId=client_id)
    _assert_error(local.token(basic=(client_id, secret)), 401, "invalid_client")


def test_the_resource_server_holds_every_partner_scope(local: Local) -> None:
    server = local.cognito.describe_resource_server(UserPoolId=local.aws.user_pool_id, Identifier="partner")
    assert [s["ScopeName"] for s in server["ResourceServer"]["Scopes"]] == list(SCOPES)


# ---------------------------------------------------------------- pieces


class CountingCognito:
    """A Cognito stand-in that answers DescribeUserPoolClient from a dict and counts calls."""

    def __init__(self, clients: dict[str, dict[str, Any]]) -> None:
        self.clients = clients
        self.calls = 0

    def describe_user_pool_client(self, UserPoolId: str, ClientId: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls += 1
        if ClientId not in self.clients:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "DescribeUserPoolClient")
        return {"UserPoolClient": {"ClientId": ClientId, **self.clients[ClientId]}}


def test_partner_clients_are_looked_up_once_per_ttl() -> None:
    cognito = CountingCognito(
        {
            "partner": {"AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthFlowsUserPoolClient": True},
            "mobile": {"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]},
        }
    )
    now = [100.0]
    clients = PartnerClients(cognito, "pool", ttl_seconds=30, clock=lambda: now[0])
    assert clients("partner")
    assert not clients("mobile")
    assert not clients("nobody")
    assert cognito.calls == 3
    assert clients("partner")
    assert not clients("nobody")
    assert cognito.calls == 3
    now[0] += 31
    assert clients("partner")
    assert cognito.calls == 4


def test_routes_carry_their_authorizer_and_scopes_as_sam_reads_them() -> None:
    def function(events: dict[str, Any]) -> dict[str, Any]:
        return {
            "Type": "AWS::Serverless::Function",
            "Properties": {"CodeUri": "functions/x/", "Handler": "app.lambda_handler", "Events": events},
        }

    def event(path: str, auth: dict[str, Any] | None = None) -> dict[str, Any]:
        props: dict[str, Any] = {"Path": path, "Method": "get"}
        if auth is not None:
            props["Auth"] = auth
        return {"Type": "HttpApi", "Properties": props}

    template = Template(
        {
            "Resources": {
                "Api": {
                    "Type": "AWS::Serverless::HttpApi",
                    "Properties": {
                        "Auth": {
                            "DefaultAuthorizer": "User",
                            "Authorizers": {
                                "User": {"JwtConfiguration": {"issuer": "i", "audience": ["a"]}},
                                "Partner": {
                                    "JwtConfiguration": {"issuer": "i", "audience": "b"},
                                    "AuthorizationScopes": ["partner/default"],
                                },
                            },
                        }
                    },
                },
                "Fn": function(
                    {
                        "Me": event("/v1/me"),
                        "Health": event("/v1/health", {"Authorizer": "NONE"}),
                        "Clients": event(
                            "/partner/v1/clients",
                            {"Authorizer": "Partner", "AuthorizationScopes": ["partner/clients.read"]},
                        ),
                        "Other": event("/partner/v1/other", {"Authorizer": "Partner"}),
                    }
                ),
            }
        }
    )
    routes = {r.path: r for r in template.routes()}
    assert (routes["/v1/me"].auth, routes["/v1/me"].authorizer, routes["/v1/me"].scopes) == (True, "User", ())
    assert (routes["/v1/health"].auth, routes["/v1/health"].authorizer) == (False, None)
    clients = routes["/partner/v1/clients"]
    assert (clients.authorizer, clients.scopes) == ("Partner", ("partner/clients.read",))
    assert routes["/partner/v1/other"].scopes == ("partner/default",)
    assert template.http_api_default_authorizer() == "User"
    assert set(template.http_api_authorizers()) == {"User", "Partner"}


def test_the_real_template_guards_partner_routes_with_the_partner_authorizer() -> None:
    for route in load().routes():
        if route.path.startswith("/partner/v1"):
            assert route.authorizer == "PartnerToken", route
            assert route.scopes, route
            assert all(s.startswith("partner/") for s in route.scopes), route
        elif route.auth:
            assert route.authorizer == "CognitoUser", route


def test_a_route_whose_authorizer_is_missing_is_refused() -> None:
    handler = Recorder()
    function = LocalFunction("Partner", "p", "unused", handler=handler)
    gateway = Gateway(ROUTES, {"Partner": function}, None, log=io.StringIO())
    response = Client(gateway).get("/partner/v1/clients", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401
    assert handler.events == []


def test_the_token_endpoint_is_only_there_when_configured() -> None:
    edge = Recorder()
    function = LocalFunction("Edge", "e", "unused", handler=edge)
    routes = [Route("ANY", "$default", "Edge", False)]
    response = Client(Gateway(routes, {"Edge": function}, None, log=io.StringIO())).post("/oauth2/token")
    assert response.status_code == 200
    assert len(edge.events) == 1
