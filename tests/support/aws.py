"""Handler-test support: moto with the table and user pool of template.yaml, events, counters."""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.moto_dynamodb import install as install_dynamodb_corrections
from infra.local.template import load
from shared import push, secrets
from shared.config import settings
from shared.store import identity, table

TABLE_NAME = "career-journey-test"
REGION = "us-east-1"
CURSOR_KEY_SECRET_NAME = "career-journey-test-cursor-key"
# The cursor key secret's value as the template's GenerateSecretString makes it (no rotation yet).
CURSOR_KEY = "test-cursor-key-" + "0123456789abcdef" * 3


def table_spec_from_template(name: str = TABLE_NAME) -> dict[str, Any]:
    """CreateTable arguments for the table exactly as template.yaml declares it."""
    props = load().table_properties
    spec: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props["BillingMode"],
    }
    if "GlobalSecondaryIndexes" in props:
        spec["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if "StreamSpecification" in props:
        spec["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return spec


@dataclass
class RequestLog:
    """DynamoDB operations sent by the code under test, counted by a botocore hook.

    The erased-account check every signed-in request makes (a GetItem of `ERASED#<sub>`) is
    counted apart, in `account_checks`, so that each route's own budget reads as before and
    the check is asserted on its own.
    """

    operations: list[str] = field(default_factory=list)
    account_checks: int = 0

    def __call__(self, **kwargs: Any) -> None:
        # event name: before-send.dynamodb.<Operation>
        operation = kwargs["event_name"].rsplit(".", 1)[-1]
        if operation == "GetItem" and _reads_erasure_marker(kwargs["request"].body):
            self.account_checks += 1
            return
        self.operations.append(operation)

    def clear(self) -> None:
        self.operations.clear()
        self.account_checks = 0

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.operations)


def _reads_erasure_marker(body: bytes | str | None) -> bool:
    if not body:
        return False
    params = json.loads(body)
    return str(params.get("Key", {}).get("PK", {}).get("S", "")).startswith("ERASED#")


@dataclass
class Aws:
    """The mocked account: table, user pool and a counter on the code's DynamoDB client."""

    user_pool_id: str
    client_id: str
    requests: RequestLog

    def ddb(self) -> Any:
        return boto3.client("dynamodb", region_name=REGION)

    def all_items(self) -> list[dict[str, Any]]:
        """Every item of the table (a Scan: tests only)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": TABLE_NAME}
        while True:
            page = self.ddb().scan(**kwargs)
            items += [table.deserialize(i) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def data_items(self) -> list[dict[str, Any]]:
        """Every item but erasure markers, which name an erased person on purpose for a few days
        (tests/handler/test_account.py asserts what a marker holds)."""
        return [i for i in self.all_items() if not str(i["PK"]).startswith("ERASED#")]

    def create_user(self, email: str | None = None) -> tuple[str, str]:
        """A confirmed Cognito user; returns (sub, username)."""
        cognito = boto3.client("cognito-idp", region_name=REGION)
        email = email or f"{uuid.uuid4().hex[:10]}@example.com"
        user = cognito.admin_create_user(
            UserPoolId=self.user_pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}],
            MessageAction="SUPPRESS",
        )["User"]
        sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
        return sub, user["Username"]

    def user_exists(self, username: str) -> bool:
        cognito = boto3.client("cognito-idp", region_name=REGION)
        try:
            cognito.admin_get_user(UserPoolId=self.user_pool_id, Username=username)
        except cognito.exceptions.UserNotFoundException:
            return False
        return True


def _one_cognito_signing_key() -> None:
    """moto's user pools all sign with one key from a file, imported again (~0.15 s of RSA
    checks) for every pool: most tests make a pool, so import it once per process."""
    from joserfc import jwk  # what moto's user pools import their key with

    rsa: Any = jwk.RSAKey
    if getattr(rsa, "_imported_once", False):
        return
    original = rsa.import_key
    imported: dict[str, Any] = {}

    def import_key(value: Any, *args: Any, **kwargs: Any) -> Any:
        name = json.dumps(value, sort_keys=True) if isinstance(value, dict) else repr(value)
        if args or kwargs:
            return original(value, *args, **kwargs)
        if name not in imported:
            imported[name] = original(value)
        return imported[name]

    rsa.import_key = import_key
    rsa._imported_once = True


_one_cognito_signing_key()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """A fresh mocked AWS with the template's table and user pool, wired into shared.store."""
    with mocked_aws(monkeypatch) as made:
        yield made


@dataclass(frozen=True)
class _SetupClients:
    dynamodb: Any
    cognito: Any
    sns: Any
    secretsmanager: Any


@cache
def _setup_clients() -> _SetupClients:
    """The clients `mocked_aws` makes its resources with, once per process: a botocore client
    costs about 45 ms to make, and moto's hook (in every client made after moto's import)
    sends each call to whichever mock is active. Nothing registers hooks on these; the code
    under test makes its own clients for each case (`reset_clients`)."""
    return _SetupClients(
        dynamodb=boto3.client("dynamodb", region_name=REGION),
        cognito=boto3.client("cognito-idp", region_name=REGION),
        sns=boto3.client("sns", region_name=REGION),
        secretsmanager=boto3.client("secretsmanager", region_name=REGION),
    )


@contextmanager
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """The `aws` fixture's body, for fixtures of a wider scope (with their own MonkeyPatch)."""
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TABLE_NAME": TABLE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": "CareerJourney",
        "POWERTOOLS_SERVICE_NAME": "career-journey",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    install_dynamodb_corrections()  # as the local emulator: ClientRequestToken, per-item backups
    # boto3's default session is kept across cases (moto would make a new one each time): a new
    # session loads every service's model again, 0.1 s for each client the code makes.
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        setup = _setup_clients()
        setup.dynamodb.create_table(**table_spec_from_template())
        cognito = setup.cognito
        pool = cognito.create_user_pool(PoolName="test", UsernameAttributes=["email"])["UserPool"]
        client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="test")["UserPoolClient"]
        monkeypatch.setenv("USER_POOL_ID", pool["Id"])
        # Devices register an SNS endpoint with these, as in a deployed stack.
        sns = setup.sns
        for env, platform in (
            ("IOS_PLATFORM_APPLICATION_ARN", "APNS"),
            ("ANDROID_PLATFORM_APPLICATION_ARN", "GCM"),
        ):
            app = sns.create_platform_application(Name=f"test-{platform}", Platform=platform, Attributes={})
            monkeypatch.setenv(env, app["PlatformApplicationArn"])
        # The key of partner-specific client ids, as the template's secret holds it.
        secret = setup.secretsmanager.create_secret(
            Name="career-journey-test-client-id-key", SecretString="test-client-id-key-" + "0" * 40
        )
        monkeypatch.setenv("CLIENT_ID_KEY_SECRET", secret["ARN"])
        # The cursor keys, as the template's secret holds them before its first rotation.
        cursor_keys = setup.secretsmanager.create_secret(
            Name=CURSOR_KEY_SECRET_NAME, SecretString=json.dumps({"current": CURSOR_KEY})
        )
        monkeypatch.setenv("CURSOR_KEY_SECRET", cursor_keys["ARN"])
        secrets.reset_clients()  # a cached key, and a client, would outlive this mock
        settings.cache_clear()
        table.reset_clients()
        identity.reset_clients()
        push.reset_clients()
        log = RequestLog()
        table.dynamodb().meta.events.register("before-send.dynamodb", log)
        yield Aws(pool["Id"], client["ClientId"], log)
        secrets.reset_clients()
        table.reset_clients()
        identity.reset_clients()
        push.reset_clients()
        settings.cache_clear()


class LambdaContext:
    """What Lambda passes as context, enough for Powertools."""

    function_name = "test-function"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_event(
    method: str,
    path: str,
    *,
    user: str | None = None,
    username: str | None = None,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    route_key: str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as the JWT authorizer passes it on."""
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    hdrs = {"content-type": "application/json"} if text is not None else {}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    if base64_body and text is not None:
        text = base64.b64encode(text.encode()).decode()
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.com",
        "domainPrefix": "api",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "t",
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key or f"{method} {path}",
        "stage": "$default",
        "time": "27/Nov/2026:09:00:00 +0000",
        "timeEpoch": 1795770000000,
    }
    if user is not None:
        request_context["authorizer"] = {
            "jwt": {
                "claims": {"sub": user, "username": username or user, "token_use": "access"},
                "scopes": None,
            }
        }
    query = query or {}
    return {
        "version": "2.0",
        "routeKey": request_context["routeKey"],
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in query.items()),
        "headers": hdrs,
        "queryStringParameters": query or None,
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": base64_body,
    }


@dataclass
class Reply:
    """A handler's answer, decoded."""

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def problem(self) -> dict[str, Any]:
        assert self.headers.get("Content-Type") == "application/problem+json", self.headers
        assert isinstance(self.body, dict)
        return self.body


def invoke(handler: Any, event: dict[str, Any]) -> Reply:
    """Call a lambda_handler and decode its response."""
    result = handler(event, LambdaContext())
    raw = result.get("body")
    body = json.loads(raw) if raw else None
    return Reply(result["statusCode"], result.get("headers") or {}, body)


def fail_next(
    client: Any, operation: str, code: str, *, reasons: list[str] | None = None, times: int = 1
) -> None:
    """Make the next `times` calls of `operation` on `client` fail with `code` before they reach
    moto (which cannot produce throttling or transaction conflicts), as DynamoDB answers them;
    `reasons` are a cancelled transaction's per-item codes. The answer comes before the SDK's
    own retries, so one failed call stands for all of its attempts."""
    left = [times]

    def answer(**_: Any) -> Any:
        if left[0] <= 0:
            return None
        left[0] -= 1
        parsed: dict[str, Any] = {
            "Error": {"Code": code, "Message": "injected by the test"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        if reasons is not None:
            parsed["CancellationReasons"] = [{"Code": r} for r in reasons]
        return _InjectedHttp(), parsed

    client.meta.events.register(f"before-call.dynamodb.{operation}", answer)


class _InjectedHttp:
    status_code = 400
    headers: dict[str, str] = {}
    content = b""
