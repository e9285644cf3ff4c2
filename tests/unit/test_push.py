"""shared.push: the payload each push service gets, and one failing device never stops the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from shared import push
from shared.config import settings
from shared.domain.errors import InvalidInput, ServiceUnavailable
from shared.store import devices

ARN = "arn:aws:sns:us-east-1:123456789012:endpoint/{platform}/app/{n}"
IOS_APP = "arn:aws:sns:us-east-1:123456789012:app/APNS/career-journey-ios-test"


def _endpoint(n: int, platform: str = "APNS") -> str:
    return ARN.format(platform=platform, n=n)


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """shared.push's SNS client, answering only what a test queued (no network, no moto)."""
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("IOS_PLATFORM_APPLICATION_ARN", IOS_APP)
    monkeypatch.delenv("ANDROID_PLATFORM_APPLICATION_ARN", raising=False)
    settings.cache_clear()
    client = boto3.client(
        "sns", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    monkeypatch.setattr(push, "_client", client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    settings.cache_clear()


def _devices(monkeypatch: pytest.MonkeyPatch, targets: list[dict[str, Any]]) -> None:
    monkeypatch.setattr(devices, "push_targets", lambda user_id: targets)


def _device(n: int, endpoint: str | None) -> dict[str, Any]:
    return {"deviceId": f"D{n}", "platform": "ios", "pushToken": f"token-{n}", "endpointArn": endpoint}


# ---------------------------------------------------------------- payloads


def test_the_message_has_a_payload_per_push_service_and_a_default() -> None:
    message = json.loads(push.build_message("Ana countered", "She proposes Friday.", {"promiseId": "P1"}))
    assert set(message) == {"default", "APNS", "APNS_SANDBOX", "GCM"}
    assert message["default"] == "She proposes Friday."
    apns = json.loads(message["APNS"])
    assert apns == {
        "aps": {"alert": {"title": "Ana countered", "body": "She proposes Friday."}, "sound": "default"},
        "data": {"promiseId": "P1"},
    }
    assert json.loads(message["APNS_SANDBOX"]) == apns
    fcm = json.loads(message["GCM"])["fcmV1Message"]["message"]
    assert fcm["notification"] == {"title": "Ana countered", "body": "She proposes Friday."}
    assert fcm["data"] == {"promiseId": "P1"}


def test_fcm_data_values_are_strings() -> None:
    data = {"promiseId": "P1", "count": 3, "flags": {"late": True}, "ids": ["a", "b"]}
    fcm = json.loads(json.loads(push.build_message("t", "b", data))["GCM"])["fcmV1Message"]["message"]
    assert fcm["data"] == {"promiseId": "P1", "count": "3", "flags": '{"late": true}', "ids": '["a", "b"]'}
    # APNs takes JSON as it is.
    apns = json.loads(json.loads(push.build_message("t", "b", data))["APNS"])
    assert apns["data"] == data


def test_long_text_is_clipped_for_the_push_and_stays_under_the_services_limit() -> None:
    title, body = "T" * 500, "\U0001f600" * 5000
    message = json.loads(push.build_message(title, body, {"promiseId": "P1"}))
    alert = json.loads(message["APNS"])["aps"]["alert"]
    assert len(alert["title"]) == push.MAX_TITLE_CHARS
    assert alert["title"].endswith("\u2026")
    assert len(alert["body"]) == push.MAX_BODY_CHARS
    for service in ("APNS", "GCM"):
        assert len(message[service].encode()) < 4096, service


def test_short_text_is_kept_as_is() -> None:
    alert = json.loads(json.loads(push.build_message("Hi", "There", {}))["APNS"])["aps"]["alert"]
    assert alert == {"title": "Hi", "body": "There"}


# ---------------------------------------------------------------- publishing


def test_every_device_gets_the_message(stubbed: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
    _devices(monkeypatch, [_device(1, _endpoint(1)), _device(2, _endpoint(2, "GCM"))])
    message = push.build_message("t", "b", {"k": "v"})
    for n, platform in ((1, "APNS"), (2, "GCM")):
        stubbed.add_response(
            "publish",
            {"MessageId": f"m{n}"},
            {"TargetArn": _endpoint(n, platform), "MessageStructure": "json", "Message": message},
        )
    report = push.push_to_person("ana", title="t", body="b", data={"k": "v"})
    assert report == push.PushReport(sent=2)


def test_a_failing_device_does_not_stop_the_others(stubbed: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
    _devices(monkeypatch, [_device(n, _endpoint(n)) for n in (1, 2, 3, 4)])
    stubbed.add_response("publish", {"MessageId": "m1"})
    stubbed.add_client_error("publish", "EndpointDisabled", "Endpoint is disabled", 400)
    stubbed.add_client_error("publish", "InvalidParameter", "Invalid parameter: TargetArn", 400)
    stubbed.add_response("publish", {"MessageId": "m4"})
    report = push.push_to_person("ana", title="t", body="b", data={})
    assert report.sent == 2
    assert report.failed == 2
    assert report.disabled_device_ids == ("D2",), "a disabled endpoint is named for the caller"


def test_a_network_failure_counts_as_a_failed_device(
    stubbed: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    _devices(monkeypatch, [_device(1, _endpoint(1)), _device(2, _endpoint(2))])
    calls: list[str] = []

    def unreachable_first(**kwargs: Any) -> None:
        if kwargs["event_name"] != "before-call.sns.Publish":
            return
        calls.append(kwargs["event_name"])
        if len(calls) == 1:
            raise EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com")

    # On the Stubber's own event pattern and ahead of it, so it runs before the stub answers:
    # the first publish never leaves, the second one is answered by the stub.
    push.sns().meta.events.register_first("before-call.*.*", unreachable_first)
    stubbed.add_response("publish", {"MessageId": "m2"})
    report = push.push_to_person("ana", title="t", body="b", data={})
    assert (report.sent, report.failed) == (1, 1)
    assert len(calls) == 2


def test_devices_without_an_endpoint_are_skipped(stubbed: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
    _devices(monkeypatch, [_device(1, None), _device(2, _endpoint(2))])
    stubbed.add_response("publish", {"MessageId": "m2"})
    report = push.push_to_person("ana", title="t", body="b", data={})
    assert report == push.PushReport(sent=1, without_endpoint=1)


def test_unreadable_devices_are_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def throttled(user_id: str) -> list[dict[str, Any]]:
        raise ServiceUnavailable("busy", retry_after_seconds=2)

    monkeypatch.setattr(devices, "push_targets", throttled)
    assert push.push_to_person("ana", title="t", body="b", data={}) == push.PushReport(devices_unread=True)


# ---------------------------------------------------------------- endpoints


def test_a_token_held_by_another_person_is_taken_over(stubbed: Stubber) -> None:
    existing = _endpoint(7)
    stubbed.add_client_error(
        "create_platform_endpoint",
        "InvalidParameter",
        f"Invalid parameter: Token Reason: Endpoint {existing} already exists with the same Token, "
        "but different attributes.",
        400,
    )
    stubbed.add_response(
        "get_endpoint_attributes",
        {"Attributes": {"Token": "token-7", "Enabled": "true", "CustomUserData": "bea"}},
        {"EndpointArn": existing},
    )
    stubbed.add_response(
        "set_endpoint_attributes",
        {},
        {
            "EndpointArn": existing,
            "Attributes": {"CustomUserData": "ana", "Token": "token-7", "Enabled": "true"},
        },
    )
    assert push.register_endpoint("ana", "ios", "token-7") == push.Endpoint(existing, previous_owner="bea")


def test_a_disabled_endpoint_of_mine_is_enabled_again(stubbed: Stubber) -> None:
    stubbed.add_response(
        "create_platform_endpoint",
        {"EndpointArn": _endpoint(1)},
        {
            "PlatformApplicationArn": IOS_APP,
            "Token": "token-1",
            "CustomUserData": "ana",
            "Attributes": {"CustomUserData": "ana"},
        },
    )
    stubbed.add_response(
        "get_endpoint_attributes",
        {"Attributes": {"Token": "token-1", "Enabled": "false", "CustomUserData": "ana"}},
    )
    stubbed.add_response("set_endpoint_attributes", {})
    assert push.register_endpoint("ana", "ios", "token-1") == push.Endpoint(_endpoint(1))


def test_a_token_the_push_service_refuses_is_a_422_on_push_token(stubbed: Stubber) -> None:
    stubbed.add_client_error(
        "create_platform_endpoint", "InvalidParameter", "Invalid parameter: Token Reason: malformed", 400
    )
    with pytest.raises(InvalidInput) as raised:
        push.register_endpoint("ana", "ios", "not-hex")
    assert [e.field for e in raised.value.errors] == ["pushToken"]


def test_sns_throttling_is_a_503(stubbed: Stubber) -> None:
    stubbed.add_client_error("create_platform_endpoint", "Throttling", "Rate exceeded", 400)
    with pytest.raises(ServiceUnavailable):
        push.register_endpoint("ana", "ios", "token-1")


def test_no_platform_application_means_no_endpoint(stubbed: Stubber) -> None:
    assert push.register_endpoint("ana", "android", "token-1") is None


def test_deleting_leaves_an_endpoint_someone_else_took_over(stubbed: Stubber) -> None:
    stubbed.add_response("get_endpoint_attributes", {"Attributes": {"CustomUserData": "bea"}})
    stubbed.add_response("get_endpoint_attributes", {"Attributes": {"CustomUserData": "ana"}})
    stubbed.add_response("delete_endpoint", {}, {"EndpointArn": _endpoint(2)})
    stubbed.add_client_error("get_endpoint_attributes", "NotFound", "Endpoint does not exist", 404)
    stubbed.add_client_error("get_endpoint_attributes", "AuthorizationError", "denied", 403)
    arns = [_endpoint(n) for n in (1, 2, 3, 4)]
    assert push.delete_endpoints("ana", arns) == 1, "only mine is deleted; errors are not raised"
