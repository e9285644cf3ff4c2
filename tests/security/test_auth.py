"""The `/v1` authorizer over HTTP: only a token the pool signed, for our client, in date, passes.

Bad tokens are forged with the emulator's own signing key, changing exactly one property of a
real token at a time, so each test isolates one check. A control test re-signs the real token
unchanged and expects it to pass, which shows the forging itself breaks nothing.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.stack import Person, forge_token, unverified_claims

TARGET = "/v1/me"


def _get(stack: dict[str, Any], headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(stack["apiUrl"] + TARGET, headers=headers or {}, timeout=30)


def _assert_unauthorized(response: requests.Response, token: str | None = None) -> None:
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert {"type", "title", "detail"} <= set(body)
    if token:
        text = response.text
        # Neither the token nor any of its three parts comes back.
        assert token not in text
        for part in token.split("."):
            if len(part) > 8:
                assert part not in text


def test_no_token_is_401(local_stack: dict[str, Any]) -> None:
    _assert_unauthorized(_get(local_stack))


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer eyJhbGciOi.x.y"],
)
def test_malformed_token_is_401(local_stack: dict[str, Any], header: str) -> None:
    response = _get(local_stack, {"Authorization": header})
    _assert_unauthorized(response, header.removeprefix("Bearer ").removeprefix("Basic "))


def test_resigned_real_token_passes(local_stack: dict[str, Any], person: Person) -> None:
    """The control: forging with the pool's key and unchanged claims yields a valid token."""
    token = forge_token(unverified_claims(person.access_token))
    assert _get(local_stack, {"Authorization": f"Bearer {token}"}).status_code != 401


def test_token_signed_by_another_key_with_the_same_kid_is_401(
    local_stack: dict[str, Any], person: Person
) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = forge_token(unverified_claims(person.access_token), key=other_key)
    _assert_unauthorized(_get(local_stack, {"Authorization": f"Bearer {token}"}), token)


def test_tampered_payload_is_401(local_stack: dict[str, Any], person: Person) -> None:
    header, _payload, signature = person.access_token.split(".")
    other = forge_token({**unverified_claims(person.access_token), "sub": "someone-else"})
    token = f"{header}.{other.split('.')[1]}.{signature}"
    _assert_unauthorized(_get(local_stack, {"Authorization": f"Bearer {token}"}), token)


def test_unsigned_token_is_401(local_stack: dict[str, Any], person: Person) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": "dummy"}).encode()).rstrip(b"=")
    token = f"{header.decode()}.{person.access_token.split('.')[1]}."
    _assert_unauthorized(_get(local_stack, {"Authorization": f"Bearer {token}"}), token)


def _expired(c: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {**c, "iat": now - 7200, "auth_time": now - 7200, "exp": now - 3600}


def _not_yet_valid(c: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {**c, "nbf": now + 3600}


def _issued_in_future(c: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {**c, "iat": now + 3600, "exp": now + 7200}


def _no_exp(c: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in c.items() if k != "exp"}


ACCESS_FORGERIES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "expired": _expired,
    "not yet valid (nbf)": _not_yet_valid,
    "issued in the future": _issued_in_future,
    "without exp": _no_exp,
    "wrong client_id": lambda c: {**c, "client_id": "someone-elses-client"},
    "wrong aud next to the right client_id": lambda c: {**c, "aud": "someone-elses-client"},
    "without client_id or aud": lambda c: {k: v for k, v in c.items() if k != "client_id"},
    "wrong issuer": lambda c: {**c, "iss": c["iss"].replace("us-east-1_", "us-east-1_other")},
    "issuer of another region": lambda c: {
        **c,
        "iss": c["iss"].replace("cognito-idp.us-east-1", "cognito-idp.eu-west-1"),
    },
    "token_use refresh": lambda c: {**c, "token_use": "refresh"},
    "without token_use": lambda c: {k: v for k, v in c.items() if k != "token_use"},
}


@pytest.mark.parametrize("change", sorted(ACCESS_FORGERIES))
def test_access_token_with_one_bad_property_is_401(
    local_stack: dict[str, Any], person: Person, change: str
) -> None:
    token = forge_token(ACCESS_FORGERIES[change](unverified_claims(person.access_token)))
    _assert_unauthorized(_get(local_stack, {"Authorization": f"Bearer {token}"}), token)


def test_id_token_for_another_audience_is_401(local_stack: dict[str, Any], person: Person) -> None:
    token = forge_token({**unverified_claims(person.id_token), "aud": "someone-elses-client"})
    _assert_unauthorized(_get(local_stack, {"Authorization": f"Bearer {token}"}), token)


def test_token_with_an_unknown_kid_is_401(local_stack: dict[str, Any], person: Person) -> None:
    token = forge_token(unverified_claims(person.access_token), kid="unknown-kid")
    _assert_unauthorized(_get(local_stack, {"Authorization": f"Bearer {token}"}), token)


def test_valid_access_token_passes_the_authorizer(local_stack: dict[str, Any], person: Person) -> None:
    response = _get(local_stack, {"Authorization": f"Bearer {person.access_token}"})
    assert response.status_code != 401


def test_valid_id_token_passes_the_authorizer(local_stack: dict[str, Any], person: Person) -> None:
    response = _get(local_stack, {"Authorization": f"Bearer {person.id_token}"})
    assert response.status_code != 401


def test_person_api_session_sends_the_token(person: Person) -> None:
    assert person.api.get(TARGET).status_code != 401


def test_health_needs_no_token(local_stack: dict[str, Any]) -> None:
    assert _get_path(local_stack, "/v1/health").status_code != 401


def test_unknown_routes_need_no_token(local_stack: dict[str, Any]) -> None:
    # $default has no authorizer: the edge function answers 404/405 problems itself.
    assert _get_path(local_stack, "/v1/no-such-route").status_code != 401


def _get_path(stack: dict[str, Any], path: str) -> requests.Response:
    return requests.get(stack["apiUrl"] + path, timeout=30)
