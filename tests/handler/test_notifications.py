"""The notification path on moto: device endpoints, push to a person's devices, the inbox."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import boto3

from shared import push
from shared.store import notifications
from tests.handler.conftest import Caller
from tests.support.aws import REGION, Aws

IOS_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"


def _sns() -> Any:
    return boto3.client("sns", region_name=REGION)


def _endpoints(platform: str = "ios") -> list[dict[str, Any]]:
    """Every endpoint of the platform's application, as SNS lists them."""
    env = "IOS_PLATFORM_APPLICATION_ARN" if platform == "ios" else "ANDROID_PLATFORM_APPLICATION_ARN"
    return list(
        _sns().list_endpoints_by_platform_application(PlatformApplicationArn=os.environ[env])["Endpoints"]
    )


def _register(caller: Caller, token: str, platform: str = "ios") -> dict[str, Any]:
    reply = caller("POST", "/v1/me/devices", body={"platform": platform, "pushToken": token})
    assert reply.status == 201, reply.body
    assert isinstance(reply.body, dict)
    return reply.body


# ---------------------------------------------------------------- endpoints


def test_registering_a_device_makes_an_endpoint_with_its_token(me: Caller) -> None:
    device = _register(me, IOS_TOKEN)
    (endpoint,) = _endpoints("ios")
    assert endpoint["Attributes"]["Token"] == IOS_TOKEN
    assert endpoint["Attributes"]["CustomUserData"] == me.sub
    assert endpoint["Attributes"]["Enabled"] == "true"
    assert _endpoints("android") == []
    # The endpoint is plumbing: neither the answer nor the list nor the export shows it.
    assert "endpointArn" not in device
    assert "endpointArn" not in json.dumps(me("GET", "/v1/me/devices").body)
    assert "endpointArn" not in json.dumps(me("GET", "/v1/me/export").body)
    assert endpoint["EndpointArn"] not in json.dumps(me("GET", "/v1/me/export").body)


def test_an_android_device_gets_an_endpoint_of_the_android_application(me: Caller) -> None:
    _register(me, "fcm-registration-token-0001", platform="android")
    assert [e["Attributes"]["Token"] for e in _endpoints("android")] == ["fcm-registration-token-0001"]
    assert _endpoints("ios") == []


def test_removing_a_device_deletes_its_endpoint(make_caller: Callable[[], Caller]) -> None:
    ana, bea = make_caller(), make_caller()
    device = _register(ana, "ana-token-0001")
    _register(bea, "bea-token-0001")
    assert ana("DELETE", f"/v1/me/devices/{device['deviceId']}").status == 204
    assert [e["Attributes"]["Token"] for e in _endpoints()] == ["bea-token-0001"]


def test_removing_a_device_whose_endpoint_is_gone_already_works(me: Caller) -> None:
    device = _register(me, "ana-token-0001")
    (endpoint,) = _endpoints()
    _sns().delete_endpoint(EndpointArn=endpoint["EndpointArn"])
    assert me("DELETE", f"/v1/me/devices/{device['deviceId']}").status == 204
    assert me("GET", "/v1/me/devices").body["items"] == []


def test_erasing_my_account_deletes_my_endpoints_only(make_caller: Callable[[], Caller]) -> None:
    ana, bea = make_caller(), make_caller()
    _register(ana, "ana-token-0001")
    _register(ana, "ana-token-0002", platform="android")
    _register(bea, "bea-token-0001")
    assert ana("DELETE", "/v1/me").status == 204
    assert [e["Attributes"]["Token"] for e in _endpoints("ios")] == ["bea-token-0001"]
    assert _endpoints("android") == []


def test_a_token_registered_by_someone_else_moves_to_them(
    make_caller: Callable[[], Caller], pushes: list[dict[str, Any]]
) -> None:
    """One phone, two people signing in on it in turn: pushes follow whoever registered last."""
    ana, bea = make_caller(), make_caller()
    _register(ana, IOS_TOKEN)
    _register(bea, IOS_TOKEN)
    (endpoint,) = _endpoints()
    assert endpoint["Attributes"]["CustomUserData"] == bea.sub
    assert ana("GET", "/v1/me/devices").body["items"] == [], "Ana's registration of that phone is gone"
    assert push.push_to_person(ana.sub, title="for Ana", body="b", data={}).sent == 0
    assert push.push_to_person(bea.sub, title="for Bea", body="b", data={}).sent == 1
    assert [p["message"]["aps"]["alert"]["title"] for p in pushes] == ["for Bea"]


# ---------------------------------------------------------------- push_to_person


def test_push_reaches_every_device_of_the_person_and_no_one_else(
    make_caller: Callable[[], Caller], pushes: list[dict[str, Any]]
) -> None:
    ana, bea = make_caller(), make_caller()
    _register(ana, "ana-ios-token-01")
    _register(ana, "ana-ios-token-02")
    _register(ana, "ana-android-token-01", platform="android")
    _register(bea, "bea-ios-token-01")
    ana_endpoints = {
        e["EndpointArn"]
        for p in ("ios", "android")
        for e in _endpoints(p)
        if e["Attributes"]["CustomUserData"] == ana.sub
    }
    assert len(ana_endpoints) == 3

    ana.aws.requests.clear()
    report = push.push_to_person(
        ana.sub, title="Bea answered", body="She promised.", data={"promiseId": "P1"}
    )

    assert report == push.PushReport(sent=3)
    assert ana.aws.requests.counts == {"Query": 1}, "one Query reads the devices"
    assert {p["endpoint"] for p in pushes} == ana_endpoints
    by_platform = {p["endpoint"].split(":endpoint/")[1].split("/")[0]: p["message"] for p in pushes}
    assert by_platform["APNS"]["aps"]["alert"] == {"title": "Bea answered", "body": "She promised."}
    assert by_platform["APNS"]["data"] == {"promiseId": "P1"}
    assert by_platform["GCM"]["fcmV1Message"]["message"]["data"] == {"promiseId": "P1"}
    assert all(p["sentAt"].endswith("Z") for p in pushes)


def test_a_disabled_endpoint_does_not_stop_the_others(me: Caller, pushes: list[dict[str, Any]]) -> None:
    first = _register(me, "ana-ios-token-01")
    _register(me, "ana-ios-token-02")
    _register(me, "ana-ios-token-03")
    disabled = next(e for e in _endpoints() if e["Attributes"]["Token"] == "ana-ios-token-01")
    _sns().set_endpoint_attributes(EndpointArn=disabled["EndpointArn"], Attributes={"Enabled": "false"})

    report = push.push_to_person(me.sub, title="t", body="b", data={})

    assert (report.sent, report.failed) == (2, 1)
    assert report.disabled_device_ids == (first["deviceId"],)
    assert disabled["EndpointArn"] not in {p["endpoint"] for p in pushes}, "a refused publish is not listed"


def test_re_registering_a_disabled_token_enables_its_endpoint(me: Caller) -> None:
    device = _register(me, "ana-ios-token-01")
    (endpoint,) = _endpoints()
    _sns().set_endpoint_attributes(EndpointArn=endpoint["EndpointArn"], Attributes={"Enabled": "false"})
    me("DELETE", f"/v1/me/devices/{device['deviceId']}")
    _register(me, "ana-ios-token-01")
    assert [e["Attributes"]["Enabled"] for e in _endpoints()] == ["true"]
    assert push.push_to_person(me.sub, title="t", body="b", data={}).sent == 1


def test_a_person_without_devices_gets_no_push(me: Caller) -> None:
    assert push.push_to_person(me.sub, title="t", body="b", data={}) == push.PushReport()


# ---------------------------------------------------------------- the inbox


def _send(aws: Aws, user_id: str, n: int) -> None:
    """What a sender does: the inbox item inside its own transaction."""
    item = notifications.inbox_put(
        user_id,
        kind="promise.moved",
        title=f"Move {n}",
        body=f"Body {n}",
        data={"promiseId": f"P{n}", "n": n},
        at=f"2026-11-27T09:00:{n:02d}Z",
    )
    aws.ddb().transact_write_items(TransactItems=[item])
    time.sleep(0.002)  # ids are time-ordered to the millisecond


def test_the_inbox_lists_newest_first_in_pages(me: Caller) -> None:
    for n in range(5):
        _send(me.aws, me.sub, n)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = me("GET", "/v1/me/notifications", query=query)
        assert page.status == 200, page.body
        seen += [n["title"] for n in page.body["items"]]
        cursor = page.body["nextCursor"]
        pages += 1
        if not cursor:
            break
    assert seen == ["Move 4", "Move 3", "Move 2", "Move 1", "Move 0"]
    assert pages == 3
    newest = me("GET", "/v1/me/notifications", query={"limit": "1"}).body["items"][0]
    assert newest == {
        "notificationId": newest["notificationId"],
        "kind": "promise.moved",
        "title": "Move 4",
        "body": "Body 4",
        "data": {"promiseId": "P4", "n": 4},
        "createdAt": "2026-11-27T09:00:04Z",
        "readAt": None,
    }


def test_inbox_items_expire_after_90_days_and_live_in_my_partition(me: Caller) -> None:
    _send(me.aws, me.sub, 0)
    (item,) = [i for i in me.aws.all_items() if i.get("entity") == "notification"]
    assert item["PK"] == f"USER#{me.sub}"
    assert item["SK"] == f"NOTIFICATION#{item['notificationId']}"
    # 2026-11-27T09:00:00Z + 90 days = 2027-02-25T09:00:00Z
    assert item["expiresAt"] == 1803546000
    assert "readAt" not in item


def test_another_persons_inbox_is_never_shown(make_caller: Callable[[], Caller]) -> None:
    ana, bea = make_caller(), make_caller()
    for n in range(3):
        _send(ana.aws, ana.sub, n)
    assert bea("GET", "/v1/me/notifications").body == {"items": [], "nextCursor": None}
    cursor = ana("GET", "/v1/me/notifications", query={"limit": "1"}).body["nextCursor"]
    foreign = bea("GET", "/v1/me/notifications", query={"cursor": cursor})
    assert foreign.status == 422
    assert foreign.problem["errors"][0]["field"] == "cursor"
    # A cursor of my devices list is no cursor of my inbox either.
    for n in range(2):
        _register(ana, f"ana-token-{n:04d}")
    devices_cursor = ana("GET", "/v1/me/devices", query={"limit": "1"}).body["nextCursor"]
    assert ana("GET", "/v1/me/notifications", query={"cursor": devices_cursor}).status == 422


def test_reading_the_inbox_is_one_query(me: Caller) -> None:
    for n in range(3):
        _send(me.aws, me.sub, n)
    me.aws.requests.clear()
    assert me("GET", "/v1/me/notifications").status == 200
    assert me.aws.requests.counts == {"Query": 1}


def test_erasure_removes_my_inbox(me: Caller) -> None:
    _send(me.aws, me.sub, 0)
    assert me("DELETE", "/v1/me").status == 204
    assert [i for i in me.aws.all_items() if i.get("entity") == "notification"] == []
