"""Partner OAuth2 in the local stack: the client-credentials token endpoint and its key.

In AWS, partners get access tokens from the user pool's Cognito domain (`/oauth2/token`); the
emulator has no such endpoint, so the local gateway serves one (`TokenEndpoint`). It answers as
Cognito does and as RFC 6749 (sections 2.3.1, 3.2, 4.4 and 5) says:

- `POST`, form-encoded body; `grant_type=client_credentials` only (`unsupported_grant_type`);
- the client authenticates with HTTP Basic (`client_id:client_secret`, each form-url-encoded) or
  with `client_id` and `client_secret` in the body, never both (`invalid_request`);
- the client must be an app client of the emulator's pool with that secret (`invalid_client`:
  401 with `WWW-Authenticate: Basic` when Basic was used, else 400 as Cognito answers) and be
  allowed the client-credentials flow (`unauthorized_client`, as RFC 6749 and Cognito both say
  for an authenticated client that may not use the grant);
- `scope` (space-separated, `partner/clients.read ...`) must be among the client's allowed
  scopes (`invalid_scope`, no token); without it the token carries every allowed scope.

The token is shaped like Cognito's client-credentials access token (`sub` = `client_id`,
`token_use: access`, `scope`, `auth_time`, `iss`, `exp`, `iat`, `version: 2`, `jti`) and signed
RS256 with a key made at stack start (`TokenKey`). moto signs user tokens with a key that ships
inside moto; this one exists only in the running stack's memory.

`template_authorizers` builds the gateway's JWT authorizers from the template: the partner one
(whose audience is the `PartnerClientIds` parameter in AWS) accepts tokens of this key whose
`client_id` is a client-credentials app client of the pool (`PartnerClients`, looked up and
cached); the others accept the pool's tokens (moto's key, and this key: in AWS one pool signs
both) for their listed audiences, so a partner token on a `/v1` route fails on its audience.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import jwt
from botocore.exceptions import ClientError, ParamValidationError
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from infra.local.auth import AudiencePredicate, JwtAuthorizer
from infra.local.template import Template, resolve

CLIENT_CREDENTIALS = "client_credentials"
# The template parameter that lists partners' app clients: the partner authorizer's audience.
PARTNER_AUDIENCE_PARAMETER = "PartnerClientIds"
RESOURCE_SERVER_TYPE = "AWS::Cognito::UserPoolResourceServer"
FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024
MAX_FORM_FIELDS = 32
# RFC 6749 appendix A.4: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
_VALIDITY_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
DEFAULT_ACCESS_TOKEN_SECONDS = 3600  # Cognito's default access token validity


# ---------------------------------------------------------------- the key


class TokenKey:
    """An RSA key (RS256) with a key id, made fresh for each stack start."""

    def __init__(self, private_key: rsa.RSAPrivateKey | None = None, kid: str | None = None) -> None:
        self.private_key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid or f"local-{secrets.token_hex(8)}"

    def jwks(self) -> dict[str, Any]:
        """The public half as a JWKS, as `/.well-known/jwks.json` would list it."""
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def sign(self, claims: Mapping[str, Any]) -> str:
        """A JWT of `claims`, RS256, naming this key."""
        return jwt.encode(dict(claims), self.private_key, algorithm="RS256", headers={"kid": self.kid})


# ---------------------------------------------------------------- app clients


def allows_client_credentials(client: Mapping[str, Any]) -> bool:
    """Whether an app client (DescribeUserPoolClient's `UserPoolClient`) may use the grant."""
    return bool(client.get("AllowedOAuthFlowsUserPoolClient")) and CLIENT_CREDENTIALS in (
        client.get("AllowedOAuthFlows") or []
    )


def access_token_seconds(client: Mapping[str, Any]) -> int:
    """The client's access token validity in seconds (`AccessTokenValidity` in its unit)."""
    validity = client.get("AccessTokenValidity")
    if not validity:
        return DEFAULT_ACCESS_TOKEN_SECONDS
    unit = (client.get("TokenValidityUnits") or {}).get("AccessToken", "hours")
    return int(validity) * _VALIDITY_UNITS.get(str(unit), 3600)


def describe_client(cognito: Any, user_pool_id: str, client_id: str) -> dict[str, Any] | None:
    """An app client of the pool, or None when there is no such client."""
    try:
        found = cognito.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)
    except (ClientError, ParamValidationError):
        # ResourceNotFound, and the validation errors a malformed id draws: no such client.
        return None
    return found["UserPoolClient"]  # type: ignore[no-any-return]


class PartnerClients:
    """The partner authorizer's audience: client-credentials app clients of the pool.

    In AWS the `PartnerClientIds` parameter lists them (kept by `python -m infra.partners`);
    here the pool is asked, so a partner registered while the stack runs is accepted at once.
    Answers are cached for `ttl_seconds`, as API Gateway does not re-read its configuration on
    every request either.
    """

    def __init__(
        self,
        cognito: Any,
        user_pool_id: str,
        *,
        ttl_seconds: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cognito = cognito
        self.user_pool_id = user_pool_id
        self.ttl = ttl_seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def __call__(self, client_id: str) -> bool:
        """Whether `client_id` is a partner's app client."""
        now = self.clock()
        with self._lock:
            cached = self._cache.get(client_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        client = describe_client(self.cognito, self.user_pool_id, client_id)
        allowed = client is not None and allows_client_credentials(client)
        with self._lock:
            if len(self._cache) > 10_000:  # forged ids must not grow it without bound
                self._cache.clear()
            self._cache[client_id] = (now, allowed)
        return allowed


# ---------------------------------------------------------------- the endpoint


class _OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def _json(body: Mapping[str, Any], status: int) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json;charset=UTF-8")
    # RFC 6749 5.1: token responses are never cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    """An RFC 6749 5.2 error response (`{error, error_description}`); a 401 (client
    authentication by HTTP Basic failed) names the scheme to use, as 5.2 requires."""
    response = _json({"error": error, "error_description": description}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="oauth2/token", charset="UTF-8"'
    return response


def _form(request: Request) -> dict[str, str]:
    if request.mimetype != FORM:
        raise _OAuthError("invalid_request", f"The request body must be {FORM}.")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_FORM_BYTES:
        raise _OAuthError("invalid_request", "The request body is too large.")
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise _OAuthError("invalid_request", "The request body is not a valid form.") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            # RFC 6749 3.2: no parameter more than once.
            raise _OAuthError("invalid_request", f"The parameter {name} is repeated.")
        form[name] = value
    # RFC 6749 3.1: a parameter without a value is as if it were not sent.
    return {name: value for name, value in form.items() if value != ""}


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise _OAuthError("invalid_client", "Only HTTP Basic client authentication is supported.", 401)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _OAuthError("invalid_client", "The Basic credentials are malformed.", 401) from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _OAuthError("invalid_client", "The Basic credentials are malformed.", 401)
    # RFC 6749 2.3.1: both halves are form-url-encoded before they are joined.
    return unquote_plus(client_id), unquote_plus(secret)


class TokenEndpoint:
    """`POST /oauth2/token` for the client-credentials grant, as a Cognito domain answers it."""

    def __init__(
        self,
        cognito: Any,
        user_pool_id: str,
        issuer: str,
        key: TokenKey,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cognito = cognito
        self.user_pool_id = user_pool_id
        self.issuer = issuer
        self.key = key
        self.clock = clock

    def __call__(self, request: Request) -> Response:
        """The token response, or an RFC 6749 error response."""
        if request.method != "POST":
            response = oauth_error("invalid_request", "The token endpoint takes POST.", 405)
            response.headers["Allow"] = "POST"
            return response
        try:
            return _json(self._grant(request), 200)
        except _OAuthError as exc:
            return oauth_error(exc.error, exc.description, exc.status)

    def _grant(self, request: Request) -> dict[str, Any]:
        form = _form(request)
        header = request.headers.get("Authorization")
        basic = header is not None and bool(header.strip())
        if basic and "client_secret" in form:
            raise _OAuthError("invalid_request", "Use one client authentication method, not two.")
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise _OAuthError("invalid_request", "grant_type is missing.")
        if grant_type != CLIENT_CREDENTIALS:
            raise _OAuthError("unsupported_grant_type", "Only the client_credentials grant is supported.")
        client = self._authenticate(form, header if basic else None)
        if not allows_client_credentials(client):
            raise _OAuthError("unauthorized_client", "The client may not use the client_credentials grant.")
        scopes = self._scopes(form.get("scope"), list(client.get("AllowedOAuthScopes") or []))
        lifetime = access_token_seconds(client)
        now = int(self.clock())
        claims = {
            "sub": client["ClientId"],
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": self.issuer,
            "exp": now + lifetime,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client["ClientId"],
        }
        return {"access_token": self.key.sign(claims), "token_type": "Bearer", "expires_in": lifetime}

    def _authenticate(self, form: Mapping[str, str], header: str | None) -> dict[str, Any]:
        if header is not None:
            client_id, secret = _basic_credentials(header)
            if "client_id" in form and form["client_id"] != client_id:
                raise _OAuthError("invalid_request", "client_id differs from the Basic credentials.")
        else:
            if "client_id" not in form or "client_secret" not in form:
                raise _OAuthError("invalid_client", "The client did not authenticate.")
            client_id, secret = form["client_id"], form["client_secret"]
        client = describe_client(self.cognito, self.user_pool_id, client_id) if client_id else None
        expected = str((client or {}).get("ClientSecret") or "")
        # Compare even when there is no such client, so timing tells nothing.
        matches = hmac.compare_digest(expected.encode(), secret.encode()) and bool(expected)
        if client is None or not matches:
            # RFC 6749 5.2: 401 when the client tried HTTP Basic; Cognito's 400 otherwise.
            raise _OAuthError("invalid_client", "Client authentication failed.", 401 if header else 400)
        return client

    @staticmethod
    def _scopes(requested: str | None, allowed: list[str]) -> list[str]:
        if requested is None:
            if not allowed:
                raise _OAuthError("invalid_scope", "The client is allowed no scope.")
            return allowed
        asked = list(dict.fromkeys(s for s in requested.split(" ") if s))
        if not asked or not all(_SCOPE_TOKEN.fullmatch(s) for s in asked):
            raise _OAuthError("invalid_scope", "The scope parameter is malformed.")
        if not set(asked) <= set(allowed):
            raise _OAuthError("invalid_scope", "A requested scope is not allowed for this client.")
        return asked


# ---------------------------------------------------------------- from the template


def create_resource_servers(cognito: Any, template: Template, refs: Mapping[str, str]) -> list[str]:
    """Create the template's resource servers in the emulator; answer their identifiers."""
    members = set(cognito.meta.service_model.operation_model("CreateResourceServer").input_shape.members)
    made = []
    for logical_id, res in template.resources_of_type(RESOURCE_SERVER_TYPE).items():
        props = res.get("Properties", {})
        unused = set(props) - members
        if unused:
            print(f"local stack: {logical_id}: not emulated: {', '.join(sorted(unused))}", file=sys.stderr)
        request = {k: resolve(v, dict(refs)) for k, v in props.items() if k in members}
        created = cognito.create_resource_server(**request)["ResourceServer"]
        made.append(str(created["Identifier"]))
    return made


def template_authorizers(
    template: Template,
    refs: Mapping[str, str],
    *,
    token_key: TokenKey,
    partner_clients: AudiencePredicate,
    jwks_url: str | None = None,
    jwks: Mapping[str, Any] | None = None,
) -> dict[str, JwtAuthorizer]:
    """The HttpApi's JWT authorizers by name, as the local gateway runs them.

    `jwks_url`/`jwks` are the pool's own keys (the emulator's); the partner authorizer trusts
    only `token_key`, the others trust both.
    """
    out: dict[str, JwtAuthorizer] = {}
    for name, definition in template.http_api_authorizers().items():
        jwt_config = definition.get("JwtConfiguration")
        if jwt_config is None:
            print(f"local stack: authorizer {name} is not a JWT authorizer: not emulated", file=sys.stderr)
            continue
        issuer = str(resolve(jwt_config["issuer"], dict(refs)))
        audience = jwt_config.get("audience", [])
        if audience == {"Ref": PARTNER_AUDIENCE_PARAMETER}:
            out[name] = JwtAuthorizer(issuer, partner_clients, jwks=token_key.jwks(), token_uses=("access",))
            continue
        values = audience if isinstance(audience, list) else [audience]
        keys = [*(jwks or {}).get("keys", []), *token_key.jwks()["keys"]]
        out[name] = JwtAuthorizer(
            issuer, [str(resolve(a, dict(refs))) for a in values], jwks_url, jwks={"keys": keys}
        )
    return out
