"""Pytest plugin: the local stack as a session fixture, and people signed up through it.

Register with `pytest_plugins = ["tests.support.stack"]`. Tests that use `local_stack` (or
`person`, `make_person`) are marked `local` automatically.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the running stack with `local`: those whose fixtures, however
    indirectly, start it (handler tests have fixtures of the same names, on moto)."""
    for item in items:
        if "local_stack_process" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.local)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StackProcess:
    """The stack subprocess with what it wrote: stack.json's content and its console log."""

    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    log_path: Path

    def log_text(self) -> str:
        """Everything the stack printed on stdout so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _wait_until_up(process: subprocess.Popen[bytes], state_file: Path, log_dir: Path) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last = "no stack.json yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = (log_dir / "stderr.log").read_text(errors="replace")[-4000:]
            raise RuntimeError(f"local stack exited with {process.returncode}:\n{err}")
        if state_file.is_file():
            info: dict[str, Any] = json.loads(state_file.read_text(encoding="utf-8"))
            try:
                # Health is the edge function's: up means routing, import and invocation work.
                health = requests.get(info["apiUrl"] + "/v1/health", timeout=5)
                if health.status_code == 200:
                    return info
                last = f"/v1/health answered {health.status_code}: {health.text[:500]}"
            except requests.RequestException as exc:
                last = repr(exc)
        time.sleep(0.1)
    raise TimeoutError(f"local stack not up within {START_TIMEOUT_SECONDS}s: {last}")


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
        raise


@pytest.fixture(scope="session")
def local_stack_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """`python -m infra.local.stack` on free ports with its own state dir; stopped at the end."""
    state_dir = tmp_path_factory.mktemp("local-stack")
    env = {
        **os.environ,
        "API_PORT": str(free_port()),
        "AWS_PORT": str(free_port()),
        "LOCAL_STATE_DIR": str(state_dir),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = state_dir / "stdout.log"
    with log_path.open("wb") as out, (state_dir / "stderr.log").open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.stack"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, so teardown reaches every child
        )
    try:
        info = _wait_until_up(process, state_dir / "stack.json", state_dir)
    except BaseException:
        _stop(process)
        raise
    yield StackProcess(process, info, log_path)
    code = _stop(process)
    assert code == 0, f"local stack exited with {code}"
    assert not (state_dir / "stack.json").exists(), "stack.json left behind after shutdown"


@pytest.fixture(scope="session")
def local_stack(local_stack_process: StackProcess) -> dict[str, Any]:
    """The running stack's stack.json, as a dict."""
    return local_stack_process.info


@pytest.fixture(scope="session")
def local_stack_log(local_stack_process: StackProcess) -> Path:
    """The file the stack's stdout (its request log) goes to."""
    return local_stack_process.log_path


@pytest.fixture(scope="session")
def cognito(local_stack: dict[str, Any]) -> Any:
    """A Cognito client for the local pool (fake credentials: it is the emulator)."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=local_stack["awsEndpointUrl"],
        region_name=local_stack["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class ApiSession(requests.Session):
    """A requests session on the local API: paths are relative to apiUrl, the token is sent."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send a request; a path starting with `/` goes to the local API."""
        if isinstance(url, str) and url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


@dataclass
class Person:
    """Someone signed up and signed in through the local Cognito.

    `username` is Cognito's username for them (with email sign-in, their `sub`), `email` is
    what they sign in with.
    """

    email: str
    password: str
    username: str
    sub: str
    access_token: str
    id_token: str
    refresh_token: str
    api: ApiSession


def sign_in(cognito: Any, client_id: str, email: str, password: str) -> dict[str, Any]:
    """InitiateAuth USER_PASSWORD_AUTH, as the app does; answers the AuthenticationResult."""
    response = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return response["AuthenticationResult"]  # type: ignore[no-any-return]


def partner_token(stack: dict[str, Any], scope: str | None = None) -> str:
    """A client-credentials access token of the stack's demo partner, from its `tokenUrl` (all
    its scopes, or only `scope`)."""
    partner = stack["partners"][0]
    form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
    reply = requests.post(
        stack["tokenUrl"], data=form, auth=(partner["clientId"], partner["clientSecret"]), timeout=10
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access_token"])


def new_person(stack: dict[str, Any], cognito: Any, *, prefix: str = "person") -> Person:
    """Sign a new, unique person up (SignUp + AdminConfirmSignUp) and sign them in."""
    email = f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"
    password = f"Pw-{uuid.uuid4().hex[:16]}Aa1"
    cognito.sign_up(
        ClientId=stack["userPoolClientId"],
        Username=email,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    cognito.admin_confirm_sign_up(UserPoolId=stack["userPoolId"], Username=email)
    tokens = sign_in(cognito, stack["userPoolClientId"], email, password)
    access = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})
    identity = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    return Person(
        email=email,
        password=password,
        username=str(access.get("username", identity["sub"])),
        sub=str(identity["sub"]),
        access_token=tokens["AccessToken"],
        id_token=tokens["IdToken"],
        refresh_token=tokens.get("RefreshToken", ""),
        api=ApiSession(stack["apiUrl"], tokens["AccessToken"]),
    )


@pytest.fixture
def make_person(local_stack: dict[str, Any], cognito: Any) -> Iterator[Callable[[], Person]]:
    """A factory of new people, for tests that need more than one."""
    sessions: list[ApiSession] = []

    def make() -> Person:
        made = new_person(local_stack, cognito)
        sessions.append(made.api)
        return made

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def person(make_person: Callable[[], Person]) -> Person:
    """One new person, signed in; `person.api.get("/v1/me")` calls the API as them."""
    return make_person()


# ---------------------------------------------------------------- forged tokens


def moto_signing_jwk() -> dict[str, Any]:
    """The private JWK the emulator signs its tokens with (it ships inside moto)."""
    from moto.utilities.utils import load_resource

    jwk: dict[str, Any] = load_resource("cognitoidp/resources/jwks-private.json")
    return jwk


def forge_token(claims: dict[str, Any], *, key: Any = None, kid: str | None = None) -> str:
    """Sign `claims` as the local pool would (or with `key`), to change one property at a time."""
    jwk = moto_signing_jwk()
    signing_key = key if key is not None else jwt.PyJWK(jwk).key
    return jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": kid or jwk["kid"]})


def unverified_claims(token: str) -> dict[str, Any]:
    """A token's claims without checking anything (to copy and alter them)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims
