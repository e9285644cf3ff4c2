"""PUT, GET, PATCH /v1/me on moto: the profile as a person sees it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.handler.conftest import Caller, profile_body


def test_profile_is_404_until_created(me: Caller) -> None:
    reply = me("GET", "/v1/me")
    assert reply.status == 404
    assert reply.problem["status"] == 404


def test_put_creates_then_replaces_and_get_reads_it_back(me: Caller) -> None:
    created = me("PUT", "/v1/me", body=profile_body())
    assert created.status == 201
    assert created.body["handle"] == "ana_lima"
    assert created.body["notificationPrefs"] == {
        "reminders": True,
        "promiseUpdates": True,
        "quietHoursStart": None,
        "quietHoursEnd": None,
    }
    assert created.headers["ETag"] == '"v1"'

    replaced = me("PUT", "/v1/me", body=profile_body(displayName="Ana L.", targetLevel=None))
    assert replaced.status == 200
    assert replaced.headers["ETag"] == '"v2"'
    assert replaced.body["createdAt"] == created.body["createdAt"]

    read = me("GET", "/v1/me")
    assert read.status == 200
    assert read.body["displayName"] == "Ana L."
    assert read.body["targetLevel"] is None
    assert read.headers["ETag"] == '"v2"'


def test_handle_is_stored_lowercase(me: Caller) -> None:
    assert me("PUT", "/v1/me", body=profile_body(handle="Ana_Lima")).body["handle"] == "ana_lima"


def test_handle_is_unique_across_people(make_caller: Callable[[], Caller]) -> None:
    ana, bea = make_caller(), make_caller()
    assert ana("PUT", "/v1/me", body=profile_body(handle="taken")).status == 201
    clash = bea("PUT", "/v1/me", body=profile_body(handle="TAKEN"))
    assert clash.status == 409
    assert "handle" in clash.problem["detail"]
    assert bea("GET", "/v1/me").status == 404, "a refused create writes nothing"


def test_a_handle_given_up_is_held_for_its_owner_for_30_days(
    make_caller: Callable[[], Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    monkeypatch.setattr("functions.profile.app.utc_now", lambda: now)
    ana, bea, cai = make_caller(), make_caller(), make_caller()
    ana("PUT", "/v1/me", body=profile_body(handle="first"))
    assert ana("PATCH", "/v1/me", body={"handle": "second"}).status == 200
    # Nobody else may take it while it is held, however the request is made.
    assert bea("PUT", "/v1/me", body=profile_body(handle="first")).status == 409
    assert bea("PUT", "/v1/me", body=profile_body(handle="bea")).status == 201
    assert bea("PATCH", "/v1/me", body={"handle": "first"}).status == 409
    assert bea("PUT", "/v1/me", body=profile_body(handle="second")).status == 409, "active: taken"
    # Its owner may take it back at any time during the hold.
    assert ana("PATCH", "/v1/me", body={"handle": "first"}).status == 200
    assert ana("GET", "/v1/me").body["handle"] == "first"
    assert ana("PATCH", "/v1/me", body={"handle": "third"}).status == 200
    now += timedelta(days=29, hours=23)
    assert cai("PUT", "/v1/me", body=profile_body(handle="first")).status == 409, "still held"
    now += timedelta(hours=2)
    assert cai("PUT", "/v1/me", body=profile_body(handle="first")).status == 201, "free after 30 days"
    assert cai("GET", "/v1/me").body["handle"] == "first"
    assert ana("GET", "/v1/me").body["handle"] == "third"


def test_keeping_my_handle_on_replace_is_not_a_conflict(me: Caller) -> None:
    me("PUT", "/v1/me", body=profile_body(handle="mine"))
    assert me("PUT", "/v1/me", body=profile_body(handle="mine", displayName="Other")).status == 200


def test_if_match_guards_replace_patch(me: Caller) -> None:
    me("PUT", "/v1/me", body=profile_body())
    stale = '"v0"'
    assert me("PUT", "/v1/me", body=profile_body(), headers={"If-Match": stale}).status == 412
    assert me("PATCH", "/v1/me", body={"displayName": "X"}, headers={"If-Match": stale}).status == 412
    assert me("GET", "/v1/me").body["displayName"] == "Ana Lima", "a 412 changes nothing"
    ok = me("PATCH", "/v1/me", body={"displayName": "X"}, headers={"If-Match": '"v1"'})
    assert ok.status == 200
    assert ok.headers["ETag"] == '"v2"'


def test_if_none_match_star_only_creates(me: Caller) -> None:
    assert me("PUT", "/v1/me", body=profile_body(), headers={"If-None-Match": "*"}).status == 201
    assert me("PUT", "/v1/me", body=profile_body(), headers={"If-None-Match": "*"}).status == 412


def test_patch_merges_nested_and_null_removes_optional_fields(me: Caller) -> None:
    me("PUT", "/v1/me", body=profile_body(notificationPrefs={"reminders": False, "quietHoursStart": "22:00"}))
    reply = me(
        "PATCH",
        "/v1/me",
        body={"targetLevel": None, "notificationPrefs": {"quietHoursEnd": "07:00"}},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert reply.status == 200, reply.body
    assert reply.body["targetLevel"] is None
    assert reply.body["notificationPrefs"]["reminders"] is False
    assert reply.body["notificationPrefs"]["quietHoursStart"] == "22:00"
    assert reply.body["notificationPrefs"]["quietHoursEnd"] == "07:00"


def test_patch_cannot_remove_a_required_field(me: Caller) -> None:
    me("PUT", "/v1/me", body=profile_body())
    reply = me("PATCH", "/v1/me", body={"displayName": None})
    assert reply.status == 422
    assert [(e["location"], e["field"]) for e in reply.problem["errors"]] == [("body", "displayName")]
    assert me("GET", "/v1/me").body["displayName"] == "Ana Lima"


def test_patch_before_create_is_404(me: Caller) -> None:
    assert me("PATCH", "/v1/me", body={"displayName": "X"}).status == 404


def test_time_zone_must_be_iana(me: Caller) -> None:
    reply = me("PUT", "/v1/me", body=profile_body(timeZone="Mars/Olympus_Mons"))
    assert reply.status == 422
    (error,) = reply.problem["errors"]
    assert error["field"] == "timeZone"
    assert "Mars" not in str(reply.body), "the problem never echoes the input"
