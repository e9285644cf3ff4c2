"""The push applications: the template's custom resource function, and the local stack's copy."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from functions.platform_apps import app as platform_apps
from infra.local import aws as local_aws
from infra.local.stack import base_refs, function_environment
from infra.local.template import evaluate_conditions, load
from tests.support.aws import REGION, Aws, LambdaContext

RESPONSE_URL = "https://cloudformation-custom-resource-response.example/stack?X-Amz-Signature=abc"


class Answers:
    """What the function PUT to CloudFormation's pre-signed URL."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.requests: list[Any] = []

    def __call__(self, request: Any, timeout: float) -> Any:
        self.requests.append(request)
        self.bodies.append(json.loads(request.data))
        return _Closed()

    @property
    def last(self) -> dict[str, Any]:
        return self.bodies[-1]


class _Closed:
    def __enter__(self) -> _Closed:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read(self) -> bytes:
        return b""


@pytest.fixture
def answers(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Answers]:
    recorded = Answers()
    monkeypatch.setattr(urllib.request, "urlopen", recorded)
    monkeypatch.setattr(platform_apps, "_client", None)
    monkeypatch.setattr(platform_apps, "_secrets_client", None)
    yield recorded
    platform_apps._client = None
    platform_apps._secrets_client = None


def _event(request_type: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": RESPONSE_URL,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/career-journey-dev/1",
        "RequestId": "req-1",
        "LogicalResourceId": "IosPlatformApplication",
        "ResourceType": "Custom::PlatformApplication",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", **properties},
        **extra,
    }


APNS_KEY = "-----BEGIN PRIVATE KEY-----secret"
APNS_ATTRIBUTES = {"ApplePlatformTeamID": "TEAM123456", "ApplePlatformBundleID": "com.example.journey"}
# As the template passes them: the credentials' secret, and which of its keys is which attribute.
APNS_SECRET_ATTRIBUTES = {"PlatformCredential": "signingKey", "PlatformPrincipal": "keyId"}


def _secret(name: str, value: str) -> str:
    return boto3.client("secretsmanager", region_name=REGION).create_secret(Name=name, SecretString=value)[
        "ARN"
    ]


def _put(arn: str, value: str) -> None:
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(SecretId=arn, SecretString=value)


@pytest.fixture
def ios(answers: Answers) -> dict[str, Any]:
    """The iOS application's properties, its key in a secret as an operator puts it there."""
    arn = _secret("apns", json.dumps({"signingKey": APNS_KEY, "keyId": "KEYID12345"}))
    return {
        "Name": "career-journey-ios-dev",
        "Platform": "APNS",
        "CredentialsSecretArn": arn,
        "SecretAttributes": APNS_SECRET_ATTRIBUTES,
        "Attributes": APNS_ATTRIBUTES,
        "Revision": "1",
    }


def _applications() -> dict[str, dict[str, str]]:
    sns = boto3.client("sns", region_name=REGION)
    return {
        a["PlatformApplicationArn"]: a["Attributes"]
        for a in sns.list_platform_applications()["PlatformApplications"]
    }


def test_create_update_delete(answers: Answers, ios: dict[str, Any]) -> None:
    before = set(_applications())
    platform_apps.lambda_handler(_event("Create", ios), LambdaContext())
    created = answers.last
    assert created["Status"] == "SUCCESS"
    arn = created["PhysicalResourceId"]
    assert arn.endswith(":app/APNS/career-journey-ios-dev")
    assert created["Data"] == {"Arn": arn}
    assert (created["StackId"], created["RequestId"], created["LogicalResourceId"]) == (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/career-journey-dev/1",
        "req-1",
        "IosPlatformApplication",
    )
    attributes = _applications()[arn]
    assert (attributes["PlatformPrincipal"], attributes["PlatformCredential"]) == ("KEYID12345", APNS_KEY)
    assert attributes["ApplePlatformTeamID"] == "TEAM123456"
    # S3 signed the URL without a content type: the answer must not send one.
    assert answers.requests[-1].get_method() == "PUT"
    assert answers.requests[-1].headers.get("Content-type") == ""

    # The operator puts a new key in the secret and deploys with a new PushCredentialsRevision.
    _put(ios["CredentialsSecretArn"], json.dumps({"signingKey": APNS_KEY + "2", "keyId": "NEWKEY6789"}))
    rotated = {**ios, "Revision": "2"}
    platform_apps.lambda_handler(
        _event("Update", rotated, PhysicalResourceId=arn, OldResourceProperties=ios), LambdaContext()
    )
    assert answers.last["Status"] == "SUCCESS"
    assert answers.last["PhysicalResourceId"] == arn, "new credentials keep the application"
    assert _applications()[arn]["PlatformPrincipal"] == "NEWKEY6789"
    assert _applications()[arn]["PlatformCredential"] == APNS_KEY + "2"

    platform_apps.lambda_handler(_event("Delete", rotated, PhysicalResourceId=arn), LambdaContext())
    assert answers.last["Status"] == "SUCCESS"
    assert set(_applications()) == before


def test_a_new_name_makes_a_new_application(answers: Answers, ios: dict[str, Any]) -> None:
    platform_apps.lambda_handler(_event("Create", ios), LambdaContext())
    old = answers.last["PhysicalResourceId"]
    renamed = {**ios, "Name": "career-journey-ios-prod"}
    platform_apps.lambda_handler(
        _event("Update", renamed, PhysicalResourceId=old, OldResourceProperties=ios), LambdaContext()
    )
    new = answers.last["PhysicalResourceId"]
    assert new != old
    assert new.endswith(":app/APNS/career-journey-ios-prod")


def test_a_failure_is_answered_without_the_secrets(answers: Answers, ios: dict[str, Any]) -> None:
    platform_apps.lambda_handler(
        _event("Create", {k: v for k, v in ios.items() if k != "Name"}), LambdaContext()
    )
    failed = answers.last
    assert failed["Status"] == "FAILED"
    assert "Name" in failed["Reason"]
    assert "secret" not in json.dumps(failed)
    # The rollback's Delete of what was never made succeeds.
    platform_apps.lambda_handler(
        _event("Delete", {}, PhysicalResourceId=failed["PhysicalResourceId"]), LambdaContext()
    )
    assert answers.last["Status"] == "SUCCESS"


def test_the_whole_secret_string_is_an_fcm_credential(answers: Answers) -> None:
    service_account = json.dumps({"type": "service_account", "private_key": "-----BEGIN secret"})
    android = {
        "Name": "career-journey-android-dev",
        "Platform": "GCM",
        "CredentialsSecretArn": _secret("fcm", service_account),
        "SecretAttributes": {"PlatformCredential": "$"},
    }
    platform_apps.lambda_handler(_event("Create", android), LambdaContext())
    assert answers.last["Status"] == "SUCCESS"
    assert _applications()[answers.last["PhysicalResourceId"]]["PlatformCredential"] == service_account


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not json -----BEGIN secret", "the credentials secret is not a JSON object"),
        (json.dumps({"signingKey": "-----BEGIN secret"}), "the credentials secret has no 'keyId' text"),
    ],
)
def test_a_secret_without_what_is_named_fails_the_resource_without_showing_it(
    answers: Answers, ios: dict[str, Any], value: str, reason: str
) -> None:
    _put(ios["CredentialsSecretArn"], value)
    platform_apps.lambda_handler(_event("Create", ios), LambdaContext())
    assert answers.last["Status"] == "FAILED"
    assert answers.last["Reason"] == reason
    assert not [arn for arn in _applications() if arn.endswith(":app/APNS/career-journey-ios-dev")]


def test_the_local_stack_creates_the_templates_applications(aws: Aws) -> None:
    """The template's own resources and conditions: the local stack turns push on."""
    template = load()
    refs = base_refs(template, REGION)
    created = local_aws.create_platform_applications(boto3.client("sns", region_name=REGION), template, refs)
    assert set(created) == {"IosPlatformApplication", "AndroidPlatformApplication"}
    assert created["IosPlatformApplication"].endswith(":app/APNS/career-journey-ios-local")
    assert created["AndroidPlatformApplication"].endswith(":app/GCM/career-journey-android-local")
    assert (
        refs["IosPlatformApplication"]
        == refs["IosPlatformApplication.Arn"]
        == created["IosPlatformApplication"]
    )
    env = function_environment(template, refs, "http://127.0.0.1:1", REGION)
    assert env["IOS_PLATFORM_APPLICATION_ARN"] == created["IosPlatformApplication"]
    assert env["ANDROID_PLATFORM_APPLICATION_ARN"] == created["AndroidPlatformApplication"]


def test_without_push_credentials_no_application_is_made_and_devices_get_none(aws: Aws) -> None:
    """A first deploy without the push parameters, as the template's conditions make it."""
    template = load()
    refs = base_refs(template, REGION)
    refs.update({"ApnsCredentialsSecretArn": "", "FcmCredentialsSecretArn": ""})
    conditions = evaluate_conditions(template, refs)
    assert (conditions["HasApns"], conditions["HasFcm"], conditions["HasPush"]) == (False, False, False)
    before = set(_applications())
    assert (
        local_aws.create_platform_applications(boto3.client("sns", region_name=REGION), template, refs) == {}
    )
    assert set(_applications()) == before
    env = function_environment(template, refs, "http://127.0.0.1:1", REGION)
    assert env["IOS_PLATFORM_APPLICATION_ARN"] == env["ANDROID_PLATFORM_APPLICATION_ARN"] == ""
