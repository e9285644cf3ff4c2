"""An erased account stays erased (issue 9, part 1).

A token outlives its account by up to its lifetime, and the gateway cannot know about the
erasure. So every signed-in route refuses an erased person's token (401), and every write for a
person checks, inside its own transaction, that their account still stands: a write that read
its state before the erasure and commits after it stores nothing.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from infra.local.template import Route, load
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.logic.accounts import erase_account
from shared.store import identity, table
from tests.handler.test_promises import Person, new_person, open_promise
from tests.support.aws import Aws, fail_next, http_event, invoke

# The people's routes (partner routes take a partner's token, not a person's).
SIGNED_IN_ROUTES = [r for r in load().routes() if r.auth and r.authorizer != "PartnerToken"]
HANDLERS = {
    f.logical_id: importlib.import_module(f.module).lambda_handler
    for f in load().functions()
    if f.logical_id in {r.function for r in SIGNED_IN_ROUTES}
}
AN_ID = "01JAAAAAAAAAAAAAAAAAAAAAAA"


def _call(route: Route, person: Person, body: Any = None) -> Any:
    path = route.path
    for name in ("promiseId", "careId", "deviceId", "reflectionId", "blockId", "planId"):
        path = path.replace("{" + name + "}", AN_ID)
    event = http_event(
        route.method,
        path,
        user=person.sub,
        username=person.username,
        body=body if body is not None else ({} if route.method in ("POST", "PUT", "PATCH") else None),
        route_key=route.route_key,
    )
    return invoke(HANDLERS[route.function], event)


def _naming(aws: Aws, *needles: str) -> list[dict[str, Any]]:
    return [i for i in aws.data_items() if any(n in json.dumps(i, default=str) for n in needles)]


def _erase(person: Person) -> None:
    assert person.profile("DELETE", "/v1/me").status == 204


@pytest.fixture
def make_person(aws: Aws) -> Callable[[str], Person]:
    def make(name: str = "p") -> Person:
        return new_person(aws, name)

    return make


@pytest.mark.parametrize(
    "route", [r for r in SIGNED_IN_ROUTES if r.route_key != "DELETE /v1/me"], ids=lambda r: r.route_key
)
def test_every_signed_in_route_refuses_an_erased_persons_token(
    route: Route, aws: Aws, make_person: Callable[[str], Person]
) -> None:
    ana = make_person("ana")
    _erase(ana)
    reply = _call(route, ana)
    assert reply.status == 401, reply.body
    assert reply.problem["detail"] == "This account has been erased; sign in again."
    assert reply.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert _naming(aws, ana.sub) == []


def test_a_retried_erasure_still_finishes(aws: Aws, make_person: Callable[[str], Person]) -> None:
    ana = make_person("ana")
    _erase(ana)
    assert ana.profile("DELETE", "/v1/me").status == 204, "the erasure itself is not refused"


def test_writes_with_the_token_of_an_erased_account_store_nothing(
    aws: Aws, make_person: Callable[[str], Person]
) -> None:
    """What the issue saw: after DELETE /v1/me, the same token took the handle back and wrote
    cares, reflections, a promise (which pushed a request to someone) and a device."""
    ana, bea = make_person("ana"), make_person("bea")
    handle = ana.handle
    _erase(ana)
    inbox_before = bea.profile("GET", "/v1/me/notifications").body["items"]
    profile = {"displayName": "Ana", "handle": handle, "currentLevel": "expert", "timeZone": "UTC"}
    due = to_rfc3339(utc_now() + timedelta(days=3))
    replies = [
        ana.profile("PUT", "/v1/me", body=profile),
        ana.care("POST", "/v1/me/cares", body={"statement": "Teaching", "domain": "others"}),
        ana.care(
            "POST",
            "/v1/me/reflections",
            body={
                "questionSetVersion": 1,
                "answers": [{"questionId": "destination", "text": "x"}],
            },
        ),
        ana(
            "POST",
            "/v1/me/promises",
            body={
                "opening": "request",
                "counterpart": {"handle": bea.handle},
                "what": "Review",
                "dueAt": due,
            },
        ),
        ana.profile("POST", "/v1/me/devices", body={"platform": "ios", "pushToken": "ana-phone-token"}),
    ]
    assert [r.status for r in replies] == [401] * 5
    assert _naming(aws, ana.sub, f"HANDLE#{handle}") == []
    assert bea.profile("GET", "/v1/me/notifications").body["items"] == inbox_before, "nothing was pushed"
    assert bea.profile("PATCH", "/v1/me", body={"handle": handle}).status == 200, "the handle is free"


def test_sign_out_everywhere_comes_before_the_sign_in_user_goes(
    aws: Aws, make_person: Callable[[str], Person]
) -> None:
    ana = make_person("ana")
    calls: list[str] = []
    identity.cognito().meta.events.register(
        "before-send.cognito-idp", lambda **kw: calls.append(kw["event_name"].rsplit(".", 1)[-1])
    )
    _erase(ana)
    assert calls == ["AdminUserGlobalSignOut", "AdminDeleteUser"]
    assert not aws.user_exists(ana.username)


# --- a write in flight while the erasure runs ------------------------------------------------


# The write each case is held back at: its transaction, or its one conditional Put.
_HELD_AT = ("TransactWriteItems", "PutItem")


@pytest.fixture
def erasure_before_the_write(aws: Aws) -> Iterator[Callable[[Person, str], None]]:
    """Arm it for a person and an operation: the next such write of the code under test is held
    back until that person's whole erasure has run (the write read its state before the
    erasure began, and commits after the erasure's deletion has passed it by)."""
    armed: list[tuple[Person, str]] = []

    def hook(event_name: str, **_: Any) -> None:
        if armed and event_name.endswith(f".{armed[-1][1]}"):
            person, _operation = armed.pop()
            erase_account(person.sub, person.username, utc_now())

    events = table.dynamodb().meta.events
    for operation in _HELD_AT:
        events.register(f"before-call.dynamodb.{operation}", hook)
    yield lambda person, operation: armed.append((person, operation))
    for operation in _HELD_AT:
        events.unregister(f"before-call.dynamodb.{operation}", hook)


def _text() -> str:
    return f"unique-{uuid.uuid4().hex}"


WRITES: dict[str, Callable[[Person, Person, str], Any]] = {
    "create the profile": lambda me, other, text: me.profile(
        "PUT",
        "/v1/me",
        body={"displayName": text, "handle": f"h{text[-12:]}", "currentLevel": "expert", "timeZone": "UTC"},
    ),
    "change the handle": lambda me, other, text: me.profile(
        "PATCH", "/v1/me", body={"handle": f"h{text[-12:]}"}
    ),
    "change the display name (one Put)": lambda me, other, text: me.profile(
        "PATCH", "/v1/me", body={"displayName": text}
    ),
    "register a device": lambda me, other, text: me.profile(
        "POST", "/v1/me/devices", body={"platform": "android", "pushToken": text}
    ),
    "write a reflection": lambda me, other, text: me.care(
        "POST",
        "/v1/me/reflections",
        body={"questionSetVersion": 1, "answers": [{"questionId": "destination", "text": text}]},
    ),
    "name a care (with an Idempotency-Key)": lambda me, other, text: me.care(
        "POST", "/v1/me/cares", body={"statement": text, "domain": "self"}, headers={"Idempotency-Key": text}
    ),
    "ask someone outside": lambda me, other, text: me(
        "POST",
        "/v1/me/promises",
        body={
            "opening": "request",
            "counterpart": {"name": "Outside"},
            "what": text,
            "dueAt": to_rfc3339(utc_now() + timedelta(days=3)),
        },
    ),
    "ask an app user": lambda me, other, text: me(
        "POST",
        "/v1/me/promises",
        body={
            "opening": "request",
            "counterpart": {"handle": other.handle},
            "what": text,
            "dueAt": to_rfc3339(utc_now() + timedelta(days=3)),
        },
    ),
    "block someone": lambda me, other, text: me.profile(
        "POST", "/v1/me/blocks", body={"handle": other.handle}
    ),
}


@pytest.mark.parametrize("write", WRITES, ids=str)
def test_a_write_in_flight_while_the_account_is_erased_leaves_nothing_behind(
    write: str,
    aws: Aws,
    make_person: Callable[[str], Person],
    erasure_before_the_write: Callable[[Person, str], None],
) -> None:
    ana, bea = make_person("ana"), make_person("bea")
    if write == "create the profile":
        aws.ddb().delete_item(TableName="career-journey-test", Key=table.key(f"USER#{ana.sub}", "PROFILE"))
    inbox_before = bea.profile("GET", "/v1/me/notifications").body["items"]
    text = _text()
    erasure_before_the_write(ana, "PutItem" if "(one Put)" in write else "TransactWriteItems")
    reply = WRITES[write](ana, bea, text)
    assert reply.status == 401, reply.body
    assert _naming(aws, ana.sub, text, text[-12:]) == []
    assert bea.profile("GET", "/v1/me/notifications").body["items"] == inbox_before
    assert not [e for e in _endpoints() if ana.sub in json.dumps(e)], "no push endpoint left for her"


def _endpoints() -> list[Any]:
    sns = boto3.client("sns", region_name="us-east-1")
    return [
        endpoint
        for app in sns.list_platform_applications()["PlatformApplications"]
        for endpoint in sns.list_endpoints_by_platform_application(
            PlatformApplicationArn=app["PlatformApplicationArn"]
        )["Endpoints"]
    ]


def test_an_assessment_in_flight_while_the_customer_is_erased_is_not_kept(
    aws: Aws, make_person: Callable[[str], Person], erasure_before_the_write: Callable[[Person, str], None]
) -> None:
    """The shared promise stays with the performer, anonymised; the erased customer's assessment,
    which read the promise before the erasure, must not land on it afterwards."""
    ana, bea = make_person("ana"), make_person("bea")
    promise_id = open_promise(ana, bea)["promiseId"]
    for act in ("promise", "report_completion"):
        assert bea("POST", f"/v1/me/promises/{promise_id}/moves", body={"act": act}).status == 200
    inbox_before = bea.profile("GET", "/v1/me/notifications").body["items"]
    text = _text()
    erasure_before_the_write(ana, "TransactWriteItems")
    reply = ana("POST", f"/v1/me/promises/{promise_id}/assessment", body={"value": 5, "enabled": text})
    assert reply.status == 401, reply.body
    assert _naming(aws, ana.sub, text) == []
    assert bea("GET", f"/v1/me/promises/{promise_id}").body["assessment"] is None
    assert bea.profile("GET", "/v1/me/notifications").body["items"] == inbox_before


def test_the_marker_names_only_the_opaque_id_and_expires(
    aws: Aws, make_person: Callable[[str], Person]
) -> None:
    ana = make_person("ana")
    _erase(ana)
    (marker,) = [i for i in aws.all_items() if i["PK"] == f"ERASED#{ana.sub}"]
    assert sorted(marker) == ["PK", "SK", "erasedAt", "expiresAt"]
    days = (marker["expiresAt"] - utc_now().timestamp()) / 86400
    assert 6.9 < days <= 7, "kept past the longest a token can live (a day), then removed by TTL"
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    assert cognito.list_users(UserPoolId=aws.user_pool_id)["Users"] == []


def test_a_throttled_account_check_is_a_503_with_retry_after(
    aws: Aws, make_person: Callable[[str], Person]
) -> None:
    ana = make_person("ana")
    # Answered before the SDK could retry: as if its retries had all been throttled too.
    fail_next(table.dynamodb(), "GetItem", "ThrottlingException")
    reply = ana.profile("GET", "/v1/me")
    assert reply.status == 503, reply.body
    assert reply.headers["Retry-After"] == "2"
    assert ana.profile("GET", "/v1/me").status == 200
