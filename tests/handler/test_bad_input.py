"""Bad input gets the right 4xx problem and writes nothing; never a 500."""

from __future__ import annotations

import json

import pytest

from tests.handler.conftest import Caller, profile_body
from tests.support.aws import Reply


def _assert_problem(reply: Reply, status: int) -> None:
    assert reply.status == status, reply.body
    assert reply.problem["status"] == status
    assert reply.problem["title"]
    assert reply.problem["type"].startswith("https://")


def _nothing_written(me: Caller) -> None:
    assert me.aws.all_items() == []


def test_malformed_json_is_400(me: Caller) -> None:
    _assert_problem(me("PUT", "/v1/me", raw_body='{"displayName": '), 400)
    _nothing_written(me)


def test_non_json_content_type_is_415(me: Caller) -> None:
    reply = me(
        "PUT",
        "/v1/me",
        raw_body="displayName=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    _assert_problem(reply, 415)
    _nothing_written(me)


def test_oversize_body_is_413(me: Caller) -> None:
    big = profile_body(displayName="x" * (70 * 1024))
    _assert_problem(me("PUT", "/v1/me", body=big), 413)
    _nothing_written(me)


def test_unknown_fields_are_refused_not_stored(me: Caller) -> None:
    reply = me("PUT", "/v1/me", body=profile_body(isAdmin=True))
    _assert_problem(reply, 422)
    assert reply.problem["errors"] == [
        {
            "location": "body",
            "field": "isAdmin",
            "code": "extra_forbidden",
            "message": "Extra inputs are not permitted",
        }
    ]
    _nothing_written(me)


def test_one_entry_per_bad_field_and_no_echo(me: Caller) -> None:
    secret = "s3cr3t-value-never-echoed"
    body = profile_body(displayName=12, currentLevel=secret, timeZone=secret, handle=None)
    reply = me("PUT", "/v1/me", body=body)
    _assert_problem(reply, 422)
    fields = sorted(e["field"] for e in reply.problem["errors"])
    assert fields == ["currentLevel", "displayName", "handle", "timeZone"]
    assert secret not in json.dumps(reply.body)
    _nothing_written(me)


@pytest.mark.parametrize("body", [[], "text", 42, None])
def test_non_object_bodies_are_422(me: Caller, body: object) -> None:
    reply = me("PUT", "/v1/me", raw_body=json.dumps(body))
    _assert_problem(reply, 422)
    _nothing_written(me)


def test_empty_body_is_422(me: Caller) -> None:
    _assert_problem(me("PUT", "/v1/me", raw_body="", headers={"content-type": "application/json"}), 422)


def test_wrong_method_is_405_with_allow(me: Caller) -> None:
    reply = me("POST", "/v1/me", body={})
    _assert_problem(reply, 405)
    assert reply.headers["Allow"] == "DELETE, GET, PATCH, PUT"


def test_no_identity_is_401_not_500(me: Caller) -> None:
    # Only reachable if a route were deployed without the authorizer: still no 500.
    from functions.profile.app import lambda_handler
    from tests.support.aws import http_event, invoke

    _assert_problem(invoke(lambda_handler, http_event("GET", "/v1/me")), 401)


def test_bad_device_input(me: Caller) -> None:
    reply = me("POST", "/v1/me/devices", body={"platform": "windows", "pushToken": "x"})
    _assert_problem(reply, 422)
    assert sorted(e["field"] for e in reply.problem["errors"]) == ["platform", "pushToken"]
    _nothing_written(me)


def test_bad_device_id_is_422_not_500(me: Caller) -> None:
    _assert_problem(me("DELETE", "/v1/me/devices/..%2F..%2Fetc"), 422)
