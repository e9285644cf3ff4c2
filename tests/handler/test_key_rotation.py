"""The cursor keys' rotation (functions/key_rotation), run by Secrets Manager (moto) as AWS runs it,
and the cursors signed before and after it (shared.secrets, shared.api.pagination, sync cursors)."""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import moto.awslambda.utils
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from botocore.exceptions import ClientError, EndpointConnectionError

from functions.key_rotation import app as key_rotation
from functions.sync.app import lambda_handler as sync_handler
from infra.local import aws as local_aws
from infra.local.template import Template
from shared import secrets
from shared.api.pagination import decode_cursor, encode_cursor
from shared.config import ConfigurationError
from shared.domain.errors import InvalidInput
from shared.domain.sync import SyncCursor
from shared.domain.timeutil import parse_rfc3339
from shared.logic import sync as sync_logic
from shared.observability import logger
from shared.secrets import CursorKeys
from tests.support.aws import CURSOR_KEY, REGION, Aws, LambdaContext, http_event, invoke

ROTATION_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:career-journey-key-rotation-test"
USER = "user-ana"
LAST_KEY = {"PK": "USER#ana", "SK": "DEVICE#01ARZ3NDEKTSV4RRFFQ69G5FAW"}


class RotationFunction:
    """Stands in for moto's Lambda backend, which `RotateSecret` asks for the rotation function
    and invokes once per step (createSecret, setSecret, testSecret, finishSecret): here the
    invocation is `functions/key_rotation`'s handler, in this process."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.repeat: set[str] = set()  # steps run twice (a retried invocation)
        self.pending_after: dict[str, list[str]] = {}  # step -> the pending value after each run

    def get_function(self, arn: str) -> None:
        assert arn == ROTATION_FUNCTION_ARN

    def invoke(
        self, function_name: str, qualifier: Any, body: str, headers: Any, response_headers: Any
    ) -> None:
        event = json.loads(body)
        step = event["Step"]
        for _ in range(2 if step in self.repeat else 1):
            self.steps.append(step)
            key_rotation.lambda_handler(event, LambdaContext())  # type: ignore[arg-type]
            self.pending_after.setdefault(step, []).append(
                _pending_value(event["SecretId"], event["ClientRequestToken"])
            )
        if step == "finishSecret":
            # AWS lets a rotation end with AWSPENDING on the new current version (where AWS's
            # templates leave it) or on no version; moto refuses the next rotation in the first
            # case, so the test ends it in the second, which both accept.
            _sm().update_secret_version_stage(
                SecretId=event["SecretId"],
                VersionStage="AWSPENDING",
                RemoveFromVersionId=event["ClientRequestToken"],
            )


def _sm() -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


def _secret_id() -> str:
    return os.environ["CURSOR_KEY_SECRET"]


def _value() -> dict[str, Any]:
    """The secret's current value."""
    value: dict[str, Any] = json.loads(_sm().get_secret_value(SecretId=_secret_id())["SecretString"])
    return value


def _pending_value(secret_id: str, token: str) -> str:
    try:
        return str(_sm().get_secret_value(SecretId=secret_id, VersionId=token)["SecretString"])
    except _sm().exceptions.ResourceNotFoundException:
        return ""


@pytest.fixture
def rotation(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[RotationFunction]:
    function = RotationFunction()
    monkeypatch.setattr(moto.awslambda.utils, "get_backend", lambda account_id, region: function)
    key_rotation.reset_clients()
    yield function
    key_rotation.reset_clients()


def _rotate() -> str:
    """What Secrets Manager does on schedule: stage a new version AWSPENDING, run the four steps
    (moto enables rotation with the rules, as the template's RotationSchedule does)."""
    rotated = _sm().rotate_secret(
        SecretId=_secret_id(),
        RotationLambdaARN=ROTATION_FUNCTION_ARN,
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    return str(rotated["VersionId"])


class Reads:
    """The cursor key secret's reads from Secrets Manager (Powertools' get_secret, cache or not)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.forced = 0
        original = parameters.get_secret

        def spy(name: str, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("force_fetch"):
                self.forced += 1
            return original(name, *args, **kwargs)

        monkeypatch.setattr(parameters, "get_secret", spy)


def _list_cursor() -> str:
    cursor = encode_cursor(LAST_KEY, user_id=USER, list_name="devices")
    assert cursor is not None
    return cursor


def _sync_cursor() -> str:
    return sync_logic.encode_cursor(SyncCursor(7, 1_795_770_000), USER)


def _verifies(list_cursor: str, sync_cursor: str) -> bool:
    """Whether both cursors verify (each one is verified or refused, never half)."""
    results = []
    try:
        results.append(decode_cursor(list_cursor, user_id=USER, list_name="devices") == LAST_KEY)
    except InvalidInput:
        results.append(False)
    try:
        results.append(sync_logic.decode_cursor(sync_cursor, USER) == SyncCursor(7, 1_795_770_000))
    except InvalidInput:
        results.append(False)
    assert results[0] == results[1], results
    return results[0]


def _tampered(cursor: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


# --- the rotation ----------------------------------------------------------------------------


def test_a_rotation_makes_a_new_current_key_and_keeps_the_old_one_as_previous(
    rotation: RotationFunction,
) -> None:
    token = _rotate()

    assert rotation.steps == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    value = _value()
    assert set(value) == {"current", "previous", "rotatedAt"}
    assert value["previous"] == CURSOR_KEY
    assert value["current"] != CURSOR_KEY
    assert len(value["current"]) == 64
    assert value["current"].isalnum()
    assert abs(parse_rfc3339(value["rotatedAt"]) - secrets._clock()) < timedelta(minutes=1)
    assert value["rotatedAt"].endswith("Z")
    stages = _sm().describe_secret(SecretId=_secret_id())["VersionIdsToStages"]
    assert stages[token] == ["AWSCURRENT"]
    (previous,) = [v for v, s in stages.items() if "AWSPREVIOUS" in s]
    assert previous != token
    assert stages[previous] == ["AWSPREVIOUS"]


def test_a_second_rotation_drops_the_oldest_key(rotation: RotationFunction) -> None:
    _rotate()
    first = _value()
    _rotate()
    second = _value()
    assert second["previous"] == first["current"]
    assert CURSOR_KEY not in second.values()
    assert len({CURSOR_KEY, first["current"], second["current"]}) == 3


def test_a_retried_create_step_is_idempotent(rotation: RotationFunction) -> None:
    rotation.repeat = {"createSecret"}
    _rotate()

    first, again = rotation.pending_after["createSecret"]
    assert first, "the first run wrote the pending value"
    assert again == first, "the retry keeps the pending value it found"
    assert rotation.steps.count("createSecret") == 2
    assert json.loads(first) == _value()


def test_every_step_again_after_the_rotation_changes_nothing(rotation: RotationFunction) -> None:
    token = _rotate()
    value = _value()
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        event = {"SecretId": _secret_id(), "ClientRequestToken": token, "Step": step}
        key_rotation.lambda_handler(event, LambdaContext())  # type: ignore[arg-type]
    assert _value() == value


def test_a_token_that_is_no_pending_version_is_refused(rotation: RotationFunction) -> None:
    _rotate()
    value = _value()
    event = {"SecretId": _secret_id(), "ClientRequestToken": "0" * 32 + "-unknown", "Step": "createSecret"}
    with pytest.raises(ValueError, match="no version"):
        key_rotation.lambda_handler(event, LambdaContext())  # type: ignore[arg-type]
    assert _value() == value


def test_a_secret_not_enabled_for_rotation_is_refused(aws: Aws) -> None:
    key_rotation.reset_clients()
    versions = _sm().describe_secret(SecretId=_secret_id())["VersionIdsToStages"]
    (token,) = versions
    event = {"SecretId": _secret_id(), "ClientRequestToken": token, "Step": "createSecret"}
    with pytest.raises(ValueError, match="not enabled for rotation"):
        key_rotation.lambda_handler(event, LambdaContext())  # type: ignore[arg-type]
    key_rotation.reset_clients()


def test_an_unknown_step_is_refused(rotation: RotationFunction) -> None:
    event = {"SecretId": _secret_id(), "ClientRequestToken": "t", "Step": "dropSecret"}
    with pytest.raises(ValueError, match="unknown rotation step"):
        key_rotation.lambda_handler(event, LambdaContext())  # type: ignore[arg-type]


def test_the_rotation_never_logs_a_key(
    rotation: RotationFunction, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # The function's logger at every level (botocore's own DEBUG lines show request bodies, as
    # they would wherever botocore debug logging is switched on; Lambda's level here is INFO).
    caplog.set_level(logging.DEBUG, logger="career-journey")
    rotation.repeat = {"createSecret"}
    _rotate()
    _rotate()  # the second rotation reads the first one's key as its current

    value = _value()
    ours = [r for r in caplog.records if r.name == "career-journey"]
    # Each record as the function writes it (its JSON line), and everything the record holds.
    lines = [logger.registered_formatter.format(r) + repr(r.__dict__) for r in ours]
    out, err = capsys.readouterr()
    logged = out + err + "\n".join(lines)
    assert any("Pending version written" in line for line in lines), "the log lines were captured"
    for key in {CURSOR_KEY, value["current"], value["previous"]}:
        assert key not in logged


# --- cursors across a rotation ---------------------------------------------------------------


def test_cursors_signed_before_a_rotation_verify_for_a_day_after_it(
    rotation: RotationFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_cursor, sync_cursor = _list_cursor(), _sync_cursor()
    _rotate()
    secrets.reset_clients()  # a fresh execution environment: it reads the rotated secret

    assert secrets.cursor_keys().current != CURSOR_KEY.encode()
    assert _verifies(list_cursor, sync_cursor)
    rotated_at = parse_rfc3339(_value()["rotatedAt"])
    monkeypatch.setattr(secrets, "_clock", lambda: rotated_at + timedelta(days=1) - timedelta(seconds=1))
    assert _verifies(list_cursor, sync_cursor)
    monkeypatch.setattr(secrets, "_clock", lambda: rotated_at + timedelta(days=1))
    assert not _verifies(list_cursor, sync_cursor)


def test_new_cursors_are_signed_with_the_new_key(rotation: RotationFunction) -> None:
    _rotate()
    secrets.reset_clients()
    new = _value()["current"].encode()
    list_cursor = _list_cursor()
    keys = secrets.cursor_keys()
    assert (keys.current, keys.previous) == (new, CURSOR_KEY.encode())
    # Only the new key verifies it: with the old one alone it is refused.
    secrets.reset_clients()
    _sm().put_secret_value(SecretId=_secret_id(), SecretString=json.dumps({"current": CURSOR_KEY}))
    with pytest.raises(InvalidInput):
        decode_cursor(list_cursor, user_id=USER, list_name="devices")


def test_a_cursor_signed_with_a_key_this_process_has_not_read_yet_verifies(
    rotation: RotationFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(monkeypatch)
    assert secrets.cursor_keys().current == CURSOR_KEY.encode()  # cached: the old key
    _rotate()
    # Another execution environment read the rotated secret and signed with the new key.
    newer = CursorKeys.from_secret(_value())
    with monkeypatch.context() as other:
        other.setattr(secrets, "cursor_keys", lambda *, force_fetch=False: newer)
        list_cursor, sync_cursor = _list_cursor(), _sync_cursor()

    assert secrets.cursor_keys().current == CURSOR_KEY.encode(), "this process still has the old key"
    assert _verifies(list_cursor, sync_cursor)
    assert reads.forced == 1, "one read of the secret, then the new key is cached"
    assert secrets.cursor_keys().current == newer.current


def test_a_tampered_cursor_is_refused_and_reads_the_secret_at_most_once_a_minute(
    rotation: RotationFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(monkeypatch)
    list_cursor, sync_cursor = _list_cursor(), _sync_cursor()
    _rotate()
    for _ in range(5):
        with pytest.raises(InvalidInput):
            decode_cursor(_tampered(list_cursor), user_id=USER, list_name="devices")
        with pytest.raises(InvalidInput):
            sync_logic.decode_cursor(_tampered(sync_cursor), USER)
    assert reads.forced == 1, "forged cursors do not hammer Secrets Manager"
    # A minute later, a cursor no cached key verifies may read the secret again.
    last = secrets._last_forced_read
    assert last is not None
    monkeypatch.setattr(secrets, "_last_forced_read", last - secrets.CURSOR_KEY_REFRESH_SECONDS)
    with pytest.raises(InvalidInput):
        decode_cursor(_tampered(list_cursor), user_id=USER, list_name="devices")
    assert reads.forced == 2
    assert _verifies(list_cursor, sync_cursor), "the genuine ones still verify"


def test_the_sync_route_takes_a_cursor_from_before_a_rotation(rotation: RotationFunction) -> None:
    first = invoke(sync_handler, http_event("GET", "/v1/me/changes", user=USER))
    assert first.status == 200, first.body
    cursor = first.body["nextCursor"]
    _rotate()
    secrets.reset_clients()

    again = invoke(sync_handler, http_event("GET", "/v1/me/changes", user=USER, query={"cursor": cursor}))
    assert again.status == 200, again.body
    assert again.body["nextCursor"] != cursor, "signed with the new key"
    tampered = invoke(
        sync_handler, http_event("GET", "/v1/me/changes", user=USER, query={"cursor": _tampered(cursor)})
    )
    assert tampered.status == 422


# --- a missing or malformed secret -----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        json.dumps("a-string-key-0123456789abcdef0123456789"),
        json.dumps({}),
        json.dumps({"current": "short"}),
        json.dumps({"current": CURSOR_KEY, "previous": CURSOR_KEY[::-1]}),  # no rotatedAt
        json.dumps({"current": CURSOR_KEY, "previous": CURSOR_KEY[::-1], "rotatedAt": "yesterday"}),
    ],
)
def test_a_malformed_secret_is_a_deployment_fault(aws: Aws, value: str) -> None:
    _sm().put_secret_value(SecretId=_secret_id(), SecretString=value)
    secrets.reset_clients()
    with pytest.raises(ConfigurationError) as raised:
        _list_cursor()
    assert CURSOR_KEY not in str(raised.value)
    assert CURSOR_KEY[::-1] not in str(raised.value)


def test_a_missing_secret_is_a_deployment_fault(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURSOR_KEY_SECRET", "career-journey-test-no-such-secret")
    secrets.reset_clients()
    with pytest.raises(ConfigurationError, match="could not be read"):
        _list_cursor()
    monkeypatch.delenv("CURSOR_KEY_SECRET")
    with pytest.raises(ConfigurationError, match="CURSOR_KEY_SECRET"):
        _sync_cursor()


def test_a_route_answers_500_without_its_secret(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURSOR_KEY_SECRET", "career-journey-test-no-such-secret")
    secrets.reset_clients()
    reply = invoke(sync_handler, http_event("GET", "/v1/me/changes", user=USER))
    assert reply.status == 500


@pytest.mark.parametrize(
    "failure",
    [
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetSecretValue"),
        ClientError({"Error": {"Code": "InternalServiceError", "Message": "oops"}}, "GetSecretValue"),
        EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com"),
    ],
)
def test_secrets_manager_failing_for_a_while_is_a_503_with_retry_after(aws: Aws, failure: Exception) -> None:
    """Not a deployment fault: the request may succeed in a moment (as after a DynamoDB throttle)."""
    client = boto3.client("secretsmanager", region_name=REGION)

    def refuse(**_: Any) -> None:
        raise failure

    client.meta.events.register("before-send.secrets-manager.GetSecretValue", refuse)
    secrets.reset_clients()
    DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider(boto3_client=client)
    reply = invoke(sync_handler, http_event("GET", "/v1/me/changes", user=USER))
    assert reply.status == 503, reply.body
    assert reply.headers["Retry-After"] == "1"
    assert reply.body["type"].endswith("/unavailable")


# --- the local stack -------------------------------------------------------------------------


def test_the_local_stack_makes_the_secret_as_cloudformation_does(aws: Aws) -> None:
    template = Template(
        {
            "Resources": {
                "CursorSigningKey": {
                    "Type": "AWS::SecretsManager::Secret",
                    "Properties": {
                        "Name": "career-journey-local-cursor-key",
                        "GenerateSecretString": {
                            "SecretStringTemplate": "{}",
                            "GenerateStringKey": "current",
                            "PasswordLength": 64,
                            "ExcludePunctuation": True,
                        },
                    },
                }
            }
        }
    )
    refs: dict[str, str] = {}
    made = local_aws.create_secrets(_sm(), template, refs)
    assert refs["CursorSigningKey"] == made["CursorSigningKey"]
    value = json.loads(_sm().get_secret_value(SecretId=made["CursorSigningKey"])["SecretString"])
    assert set(value) == {"current"}
    assert len(value["current"]) == 64
    assert value["current"].isalnum()
    assert CursorKeys.from_secret(value).current == value["current"].encode()
    again = local_aws.create_secrets(_sm(), _renamed(template, "career-journey-local-cursor-key-2"), {})
    other = json.loads(_sm().get_secret_value(SecretId=again["CursorSigningKey"])["SecretString"])
    assert other["current"] != value["current"], "a fresh key each start"


def _renamed(template: Template, name: str) -> Template:
    raw = json.loads(json.dumps(template.raw))
    raw["Resources"]["CursorSigningKey"]["Properties"]["Name"] = name
    return Template(raw)
