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
from infra.local.template import Template
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
    yield recorded
    platform_apps._client = None


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


APNS_ATTRIBUTES = {
    "PlatformCredential": "-----BEGIN PRIVATE KEY-----secret",
    "PlatformPrincipal": "KEYID12345",
    "ApplePlatformTeamID": "TEAM123456",
    "ApplePlatformBundleID": "com.example.journey",
}
IOS: dict[str, Any] = {"Name": "career-journey-ios-dev", "Platform": "APNS", "Attributes": APNS_ATTRIBUTES}


def _applications() -> dict[str, dict[str, str]]:
    sns = boto3.client("sns", region_name=REGION)
    return {
        a["PlatformApplicationArn"]: a["Attributes"]
        for a in sns.list_platform_applications()["PlatformApplications"]
    }


def test_create_update_delete(answers: Answers) -> None:
    before = set(_applications())
    platform_apps.lambda_handler(_event("Create", IOS), LambdaContext())
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
    assert _applications()[arn]["PlatformPrincipal"] == "KEYID12345"
    # S3 signed the URL without a content type: the answer must not send one.
    assert answers.requests[-1].get_method() == "PUT"
    assert answers.requests[-1].headers.get("Content-type") == ""

    rotated = {**IOS, "Attributes": {**APNS_ATTRIBUTES, "PlatformPrincipal": "NEWKEY6789"}}
    platform_apps.lambda_handler(
        _event("Update", rotated, PhysicalResourceId=arn, OldResourceProperties=IOS), LambdaContext()
    )
    assert answers.last["Status"] == "SUCCESS"
    assert answers.last["PhysicalResourceId"] == arn, "new credentials keep the application"
    assert _applications()[arn]["PlatformPrincipal"] == "NEWKEY6789"

    platform_apps.lambda_handler(_event("Delete", rotated, PhysicalResourceId=arn), LambdaContext())
    assert answers.last["Status"] == "SUCCESS"
    assert set(_applications()) == before


def test_a_new_name_makes_a_new_application(answers: Answers) -> None:
    platform_apps.lambda_handler(_event("Create", IOS), LambdaContext())
    old = answers.last["PhysicalResourceId"]
    renamed = {**IOS, "Name": "career-journey-ios-prod"}
    platform_apps.lambda_handler(
        _event("Update", renamed, PhysicalResourceId=old, OldResourceProperties=IOS), LambdaContext()
    )
    new = answers.last["PhysicalResourceId"]
    assert new != old
    assert new.endswith(":app/APNS/career-journey-ios-prod")


def test_a_failure_is_answered_without_the_secrets(answers: Answers) -> None:
    platform_apps.lambda_handler(
        _event("Create", {"Platform": "APNS", "Attributes": APNS_ATTRIBUTES}), LambdaContext()
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


def test_the_local_stack_creates_the_templates_applications(aws: Aws) -> None:
    """The same properties the custom resource gets, resolved like every other template value."""
    template = Template(
        {
            "Parameters": {"ApnsPlatform": {"Type": "String", "Default": "APNS"}},
            "Resources": {
                "IosPlatformApplication": {
                    "Type": "Custom::PlatformApplication",
                    "Properties": {
                        "ServiceToken": {"Fn::GetAtt": ["PlatformApplicationsFunction", "Arn"]},
                        "ServiceTimeout": 120,
                        "Name": {"Fn::Sub": "career-journey-ios-${Stage}"},
                        "Platform": {"Ref": "ApnsPlatform"},
                        "Attributes": {"PlatformCredential": {"Ref": "ApnsSigningKey"}},
                    },
                },
                "AndroidPlatformApplication": {
                    "Type": "Custom::PlatformApplication",
                    "Properties": {
                        "Name": {"Fn::Sub": "career-journey-android-${Stage}"},
                        "Platform": "GCM",
                        "Attributes": {"PlatformCredential": {"Ref": "FcmServiceJson"}},
                    },
                },
            },
        }
    )
    refs = {"Stage": "local", "ApnsPlatform": "APNS"}
    created = local_aws.create_platform_applications(boto3.client("sns", region_name=REGION), template, refs)
    assert set(created) == {"IosPlatformApplication", "AndroidPlatformApplication"}
    assert created["IosPlatformApplication"].endswith(":app/APNS/career-journey-ios-local")
    assert created["AndroidPlatformApplication"].endswith(":app/GCM/career-journey-android-local")
    assert (
        refs["IosPlatformApplication"]
        == refs["IosPlatformApplication.Arn"]
        == created["IosPlatformApplication"]
    )
    assert _applications()[created["AndroidPlatformApplication"]]["PlatformCredential"] == "FcmServiceJson"
