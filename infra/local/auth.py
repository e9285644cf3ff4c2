"""The HTTP API JWT authorizer, as API Gateway runs it in front of the `/v1` routes.

API Gateway checks, in this order: a token is present; it is a JWT signed (RS256) by a key
of the issuer's JWKS; `iss` equals the configured issuer; `aud` (or, when the token has no
`aud`, `client_id`) is one of the configured audiences; `exp`, `nbf` and `iat` hold. We also
insist on Cognito's `token_use` being `access` or `id`, so a refresh token is never accepted.

An authorizer's audience is a fixed list (the mobile app client) or a predicate (partners'
app clients, which come and go while the stack runs: in AWS the `PartnerClientIds` parameter).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

ALLOWED_TOKEN_USES = ("access", "id")

# Whether a token's audience (its `aud`, else its `client_id`) is one the authorizer accepts.
AudiencePredicate = Callable[[str], bool]


class Unauthorized(Exception):
    """The request carries no usable token. `detail` is safe to show: it never holds the token."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Authorization:
    """What the authorizer hands to the integration: the claims and the access token's scopes."""

    claims: dict[str, Any]
    scopes: list[str] | None


def stringify_claim(value: Any) -> str:
    """A claim value as API Gateway passes it on: always a string, lists as `[a b]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + " ".join(stringify_claim(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{stringify_claim(v)}" for k, v in value.items()) + "]"
    return str(value)


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization` header; the `Bearer ` prefix is optional, as for API Gateway."""
    if header is None or not header.strip():
        raise Unauthorized("The request has no bearer token.")
    token = header.strip()
    scheme, _, rest = token.partition(" ")
    if rest and scheme.lower() == "bearer":
        token = rest.strip()
    if not token or " " in token:
        raise Unauthorized("The Authorization header is not a bearer token.")
    return token


class JwtAuthorizer:
    """Verify Cognito tokens against the pool's signing keys, issuer and app client ids."""

    def __init__(
        self,
        issuer: str,
        audiences: Sequence[str] | AudiencePredicate,
        jwks_url: str | None = None,
        *,
        jwks: Mapping[str, Any] | None = None,
        leeway_seconds: float = 0,
        token_uses: Sequence[str] = ALLOWED_TOKEN_USES,
    ) -> None:
        """`jwks_url` is fetched lazily (and again for an unknown `kid`); `jwks` pins a key set.

        Give either or both: with both, a `kid` of the pinned set is looked up there first (the
        local stack's pool signs with the emulator's key and with its own token key).
        """
        if jwks_url is None and jwks is None:
            raise ValueError("give jwks_url, jwks or both")
        self.issuer = issuer
        if callable(audiences):
            self.audiences: tuple[str, ...] = ()
            self._accepts: AudiencePredicate = audiences
        else:
            self.audiences = tuple(audiences)
            self._accepts = set(self.audiences).__contains__
        self.token_uses = tuple(token_uses)
        self.leeway = leeway_seconds
        self._client = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        self._static = jwt.PyJWKSet.from_dict(dict(jwks)) if jwks is not None else None

    def _signing_key(self, token: str) -> Any:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The bearer token is not a well-formed JWT.") from exc
        if header.get("alg") != "RS256":
            raise Unauthorized("The bearer token is not signed with RS256.")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("The bearer token names no signing key.")
        if self._static is not None and any(k.key_id == kid for k in self._static.keys):
            return self._static[kid].key
        try:
            if self._client is None:
                raise KeyError(kid)
            return self._client.get_signing_key(kid).key
        except (jwt.PyJWKClientError, KeyError) as exc:
            raise Unauthorized("The bearer token is signed by an unknown key.") from exc

    def authorize(self, authorization_header: str | None) -> Authorization:
        """Check the header's token; answer its claims or raise `Unauthorized`."""
        token = bearer_token(authorization_header)
        key = self._signing_key(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The bearer token has expired.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthorized("The bearer token is not valid yet.") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("The bearer token was issued by another issuer.") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthorized("The bearer token's signature does not verify.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The bearer token is invalid.") from exc
        self._check_audience(claims)
        self._check_times(claims)
        if claims.get("token_use") not in self.token_uses:
            if self.token_uses == ("access",):
                raise Unauthorized("The bearer token is not an access token.")
            raise Unauthorized("The bearer token is neither an access token nor an ID token.")
        scope = claims.get("scope")
        scopes = scope.split() if isinstance(scope, str) and scope.strip() else None
        return Authorization(claims=claims, scopes=scopes)

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        # API Gateway reads `aud` first and falls back to `client_id` only when `aud` is absent
        # (Cognito access tokens carry `client_id`, ID tokens `aud`).
        presented: list[Any]
        if "aud" in claims:
            aud = claims["aud"]
            presented = list(aud) if isinstance(aud, list) else [aud]
        elif "client_id" in claims:
            presented = [claims["client_id"]]
        else:
            raise Unauthorized("The bearer token names no audience.")
        if not any(isinstance(a, str) and self._accepts(a) for a in presented):
            raise Unauthorized("The bearer token is for another audience.")

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        # PyJWT already rejects a past `exp` and a future `iat`/`nbf`; this adds the sanity
        # check that the token was not issued after it expires.
        now = time.time()
        if not isinstance(claims["iat"], int | float) or claims["iat"] > claims["exp"]:
            raise Unauthorized("The bearer token's times are inconsistent.")
        if claims["exp"] <= now - self.leeway:
            raise Unauthorized("The bearer token has expired.")
