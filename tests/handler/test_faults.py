"""DynamoDB faults on every write route (issue 13, "Faults").

A matrix generated from the route table: every POST/PUT/PATCH/DELETE of the mobile and partner
APIs has a case (`CASES`: how to make a valid request, nothing asserted per route), and for each
one a botocore `before-send` hook answers every HTTP attempt of the route's DynamoDB writes
(TransactWriteItems, PutItem, UpdateItem, DeleteItem, BatchWriteItem) with throttling
(`ProvisionedThroughputExceededException`, `ThrottlingException`, HTTP 400) or a 5xx
(`InternalServerError`, HTTP 500), as DynamoDB would. What must hold:

- the SDK retried with backoff (standard mode: 3 attempts, 2 sleeps, recorded instead of slept);
- the API answers 503 with `Retry-After` and a problem body, never 500;
- nothing was half-written: every item of the table is as it was. Idempotency records
  (`IDEMPOTENCY#...`, no `entity`: never exported nor logged for sync) are left out of that
  comparison when the request carried an `Idempotency-Key`: Powertools deletes its in-progress
  record when the route fails, and the id bound to the key (shared/api/idempotency.py) is kept on
  purpose, so that the retry creates with the same id;
- retried after the 503 with the same `Idempotency-Key` or app-made id, a create succeeds and
  makes exactly one thing (a third send changes nothing);
- a fault that passes (one throttled attempt) is absorbed by the SDK: the route succeeds and each
  write reached DynamoDB once.

Then the Lambda timeout in the middle of a keyed request: the idempotency record stays in
progress; the same key is a 409 with `Retry-After` until the record's in-progress expiry, then the
retry completes, and exactly one thing exists, whether the timeout struck before or after the
write committed.
"""

from __future__ import annotations

import datetime as real_dt
import importlib
import json
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from infra.local.template import load
from shared.api.route_table import API_ROUTES
from shared.domain.ids import new_id
from shared.domain.partners import SCOPES, token_scope
from shared.store import table
from shared.store import webhooks as webhook_store
from tests.handler.test_partners import grant, register
from tests.handler.test_plans import make
from tests.handler.test_promises import Person, moved, new_person, open_promise, opening_body
from tests.support.aws import REGION, Aws, Reply, http_event, invoke

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
WRITE_OPERATIONS = ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")

# (code, HTTP status) as DynamoDB answers them.
FAULTS = {
    "ProvisionedThroughputExceededException": 400,
    "ThrottlingException": 400,
    "InternalServerError": 500,
}

ROUTES = {r.route_key: r for r in load().routes()}
FUNCTIONS = {f.logical_id: f for f in load().functions()}
WRITE_ROUTES = sorted(f"{m} {p}" for m, p in API_ROUTES if m in WRITE_METHODS)


def _handler(route_key: str) -> Any:
    function = FUNCTIONS[ROUTES[route_key].function]
    return getattr(importlib.import_module(function.module), function.handler)


# --- the fault hook ----------------------------------------------------------------------------


def _dynamodb_error(url: str, code: str, status: int) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"})
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected"}
    return AWSResponse(url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]


class LambdaTimedOut(BaseException):
    """Lambda ending an invocation at its deadline: nothing in the function catches it."""


@dataclass
class Faults:
    """The one way from the code's DynamoDB client to moto, answering attempts with errors.

    moto answers through a `before-send` handler that every handler of that event runs beside
    (botocore takes the first answer, but calls them all): a fault answered by a hook of our own
    would still be applied. So the fixture takes moto's handler off the code's client and calls
    it from here for what is not faulted.

    `arm(code, times)` answers the next `times` HTTP attempts of the route's writes
    (TransactWriteItems, PutItem, UpdateItem, DeleteItem, BatchWriteItem) with `code`; a large
    `times` is persistent across the SDK's retries. `records=True` faults the idempotency records
    (`IDEMPOTENCY#...`) instead. `die_at(operation, after_commit)` ends the invocation like a
    Lambda timeout at that write, before it reaches DynamoDB or once it has been applied.
    Counts the answered attempts by operation, the writes that went through, and the SDK's
    backoff sleeps."""

    faulted: Counter[str] = field(default_factory=Counter)
    passed: list[tuple[str, bytes]] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    code: str = ""
    left: int = 0
    records: bool = False
    dying: tuple[str, bool] | None = None

    def arm(self, code: str, times: int = 1_000, *, records: bool = False) -> None:
        self.code, self.left, self.records = code, times, records
        self.faulted.clear()
        self.passed.clear()
        self.sleeps.clear()

    def disarm(self) -> None:
        self.left = 0

    def die_at(self, operation: str, *, after_commit: bool) -> None:
        self.dying = (operation, after_commit)

    def __call__(self, request: Any, event_name: str, **_: Any) -> Any:
        operation = event_name.rsplit(".", 1)[-1]
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        # Rate-limit counters (`RATE#`) are not the route's write: they fail open by design.
        eligible = (
            operation in WRITE_OPERATIONS
            and (b"IDEMPOTENCY#" in body) == self.records
            and b'"RATE#' not in body
        )
        if eligible and self.dying is not None and self.dying[0] == operation and b"IDEMPOTENCY#" not in body:
            after_commit = self.dying[1]
            self.dying = None
            if after_commit:
                botocore_stubber(request=request, event_name=event_name)
            raise LambdaTimedOut
        if eligible and self.left > 0:
            self.left -= 1
            self.faulted[operation] += 1
            return _dynamodb_error(request.url, self.code, FAULTS[self.code])
        if eligible:
            self.passed.append((operation, body))
        return botocore_stubber(request=request, event_name=event_name)


@pytest.fixture
def faults(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Faults:
    hook = Faults()
    events = table.dynamodb().meta.events
    events.unregister("before-send", botocore_stubber)  # type: ignore[arg-type]
    events.register("before-send", hook)
    # botocore sleeps between attempts in botocore.endpoint: record the delays instead.
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=hook.sleeps.append))
    return hook


# --- the cases: a valid request for every write route -------------------------------------------


@dataclass
class Call:
    """One request to a route: who sends it (a person, a partner, or nobody: a counterpart's link)."""

    route_key: str
    path: str
    body: Any = None
    person: Person | None = None
    partner: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    writes: bool = True  # False: the route writes nothing to DynamoDB (then `why_not`)
    why_not: str = ""

    def send(self, *, headers: dict[str, str] | None = None, body: Any = None) -> Reply:
        method = self.route_key.split(" ", 1)[0]
        sent = self.body if body is None else body
        event = http_event(
            method,
            self.path,
            user=self.person.sub if self.person else None,
            username=self.person.username if self.person else None,
            body=sent,
            headers={**self.headers, **(headers or {})},
            route_key=self.route_key,
        )
        if self.partner is not None:
            claims = {
                "sub": self.partner["appClientId"],
                "client_id": self.partner["appClientId"],
                "token_use": "access",
                "scope": " ".join(token_scope(s) for s in SCOPES),
            }
            event["requestContext"]["authorizer"] = {
                "jwt": {"claims": claims, "scopes": [token_scope(s) for s in SCOPES]}
            }
        return invoke(_handler(self.route_key), event)


NO_BODY = frozenset(
    {
        "POST /v1/me/calendar-feed",
        "POST /v1/me/promises/{promiseId}/counterpart-link",
        "POST /v1/me/plans/{planId}/suggestions/{suggestionId}/accept",
        "POST /partner/v1/webhook/rotate-secret",
        "POST /partner/v1/webhook/test",
        "POST /partner/v1/webhook/deliveries/{deliveryId}/redeliver",
    }
)


@dataclass
class World:
    """What a case sets up from: the mocked account, made lazily so each case pays for its own."""

    aws: Aws
    monkeypatch: pytest.MonkeyPatch
    _ana: Person | None = None
    _bea: Person | None = None

    @property
    def ana(self) -> Person:
        if self._ana is None:
            self._ana = new_person(self.aws, "ana")
        return self._ana

    @property
    def bea(self) -> Person:
        if self._bea is None:
            self._bea = new_person(self.aws, "bea")
        return self._bea

    def plan(self) -> dict[str, Any]:
        return make(self.ana, {"title": "Leading", "items": [{"kind": "practice", "title": "Listen first"}]})

    def partner(self, *scopes: str) -> tuple[dict[str, Any], str]:
        acme = register("Acme Coaching")
        client_id = str(grant(self.ana, acme, list(scopes or SCOPES))["clientId"])
        return acme, client_id

    def webhook(self, acme: dict[str, Any]) -> None:
        queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="webhooks")["QueueUrl"]
        self.monkeypatch.setenv("WEBHOOK_QUEUE_URL", queue)
        self.monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
        webhook_store.reset_clients()
        body = {"url": "http://127.0.0.1:9/hooks", "events": ["promise.moved"]}
        assert Call("PUT /partner/v1/webhook", "/partner/v1/webhook", body, partner=acme).send().status == 201

    def outside_link(self, opening: str) -> tuple[str, str]:
        """A promise of Ana's with someone outside, and the link's token."""
        pid = str(open_promise(self.ana, {"name": "Olga"}, opening)["promiseId"])
        if opening == "promise":
            moved(self.ana, pid, "report_completion")
        reply = self.ana("POST", f"/v1/me/promises/{pid}/counterpart-link")
        assert reply.status == 201, reply.body
        return pid, str(reply.body["url"]).rsplit("/", 1)[-1]

    def suggestion(self) -> tuple[str, str]:
        plan = self.plan()
        acme, client_id = self.partner("plans.read", "plans.suggest")
        seen = Call(
            "GET /partner/v1/clients/{clientId}/plans", f"/partner/v1/clients/{client_id}/plans", partner=acme
        ).send()
        path = f"/partner/v1/clients/{client_id}/plans/{seen.body['items'][0]['planId']}/suggestions"
        made = Call(
            "POST /partner/v1/clients/{clientId}/plans/{planId}/suggestions",
            path,
            {"kind": "reading", "title": "The Fifth Discipline"},
            partner=acme,
        ).send()
        assert made.status == 201, made.body
        mine = self.ana.plan("GET", f"/v1/me/plans/{plan['planId']}").body
        return str(plan["planId"]), str(mine["suggestions"][0]["suggestionId"])

    def partner_request(self, promised: bool = False) -> tuple[dict[str, Any], str, str]:
        acme, client_id = self.partner("requests.write")
        body = {"what": "Hold a retro", "dueAt": "2030-03-01T17:00:00Z", "coachName": "Maria"}
        made = Call(
            "POST /partner/v1/clients/{clientId}/requests",
            f"/partner/v1/clients/{client_id}/requests",
            body,
            partner=acme,
        ).send()
        assert made.status == 201, made.body
        if promised:
            (mine,) = self.ana("GET", "/v1/me/promises").body["items"]
            moved(self.ana, mine["promiseId"], "promise")
            moved(self.ana, mine["promiseId"], "report_completion")
        return acme, client_id, str(made.body["requestId"])


ASSESSMENT = {"value": 5, "enabled": "Hiring went faster"}
REMINDER = {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"}


def _profile_put(w: World) -> Call:
    body = {"displayName": "Ana", "handle": w.ana.handle, "currentLevel": "expert", "timeZone": "UTC"}
    return Call("PUT /v1/me", "/v1/me", body, w.ana)


def _device_delete(w: World) -> Call:
    made = w.ana.profile("POST", "/v1/me/devices", body={"platform": "ios", "pushToken": "token-000001"})
    return Call("DELETE /v1/me/devices/{deviceId}", f"/v1/me/devices/{made.body['deviceId']}", person=w.ana)


def _block_delete(w: World) -> Call:
    made = w.ana.profile("POST", "/v1/me/blocks", body={"handle": w.bea.handle})
    return Call("DELETE /v1/me/blocks/{blockId}", f"/v1/me/blocks/{made.body['blockId']}", person=w.ana)


def _care(w: World) -> str:
    made = w.ana.care("POST", "/v1/me/cares", body={"statement": "Growing people", "domain": "others"})
    return str(made.body["careId"])


def _requested(w: World) -> str:
    return str(open_promise(w.ana, w.bea)["promiseId"])


def _reported(w: World) -> str:
    pid = _requested(w)
    moved(w.bea, pid, "promise")
    moved(w.bea, pid, "report_completion")
    return pid


def _plan_reminder(w: World, on_item: bool, put: bool) -> Call:
    plan = w.plan()
    base = f"/v1/me/plans/{plan['planId']}"
    path = f"{base}/items/{plan['items'][0]['itemId']}/reminder" if on_item else f"{base}/reminder"
    template = (
        "/v1/me/plans/{planId}/items/{itemId}/reminder" if on_item else "/v1/me/plans/{planId}/reminder"
    )
    if not put:
        assert w.ana.plan("PUT", path, body=REMINDER).status == 201
    return Call(f"{'PUT' if put else 'DELETE'} {template}", path, REMINDER if put else None, w.ana)


def _obstacle(w: World) -> tuple[str, str]:
    pid = str(w.plan()["planId"])
    made = w.ana.plan("POST", f"/v1/me/plans/{pid}/obstacles", body={"kind": "dragon", "description": "Fear"})
    return pid, str(made.body["obstacleId"])


def _redeliver(w: World) -> Call:
    acme, _ = w.partner()
    w.webhook(acme)
    now = real_dt.datetime.now(real_dt.UTC)
    webhook_store.put_event(acme["partnerId"], "evt_1", "webhook.test", "{}", None, now)
    delivery = webhook_store.log_delivery(acme["partnerId"], {"eventId": "evt_1", "attempt": 1}, now)
    return Call(
        "POST /partner/v1/webhook/deliveries/{deliveryId}/redeliver",
        f"/partner/v1/webhook/deliveries/{delivery}/redeliver",
        partner=acme,
        writes=False,
        why_not="it only queues the kept event again (SQS)",
    )


def _partner_webhook(w: World, route_key: str, path: str, put_first: bool) -> Call:
    acme, _ = w.partner()
    if put_first:
        w.webhook(acme)
    else:
        w.monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
    body = (
        {"url": "http://127.0.0.1:9/hooks", "events": ["promise.moved"]}
        if route_key.startswith("PUT")
        else None
    )
    return Call(route_key, path, body, partner=acme)


def _partner_move(w: World) -> Call:
    acme, client_id, request_id = w.partner_request()
    path = f"/partner/v1/clients/{client_id}/requests/{request_id}/moves"
    return Call(
        "POST /partner/v1/clients/{clientId}/requests/{requestId}/moves",
        path,
        {"act": "withdraw"},
        partner=acme,
    )


def _partner_assessment(w: World) -> Call:
    acme, client_id, request_id = w.partner_request(promised=True)
    base = f"/partner/v1/clients/{client_id}/requests/{request_id}"
    satisfied = Call(
        "POST /partner/v1/clients/{clientId}/requests/{requestId}/moves",
        f"{base}/moves",
        {"act": "declare_satisfied"},
        partner=acme,
    ).send()
    assert satisfied.status == 200, satisfied.body
    return Call(
        "POST /partner/v1/clients/{clientId}/requests/{requestId}/assessment",
        f"{base}/assessment",
        {"value": 5, "enabled": "Retros of their own"},
        partner=acme,
    )


def _partner_suggestion(w: World) -> Call:
    w.plan()
    acme, client_id = w.partner("plans.read", "plans.suggest")
    seen = Call(
        "GET /partner/v1/clients/{clientId}/plans", f"/partner/v1/clients/{client_id}/plans", partner=acme
    ).send()
    path = f"/partner/v1/clients/{client_id}/plans/{seen.body['items'][0]['planId']}/suggestions"
    return Call(
        "POST /partner/v1/clients/{clientId}/plans/{planId}/suggestions",
        path,
        {"kind": "reading", "title": "The Fifth Discipline"},
        partner=acme,
    )


def _partner_request(w: World) -> Call:
    acme, client_id = w.partner("requests.write")
    body = {"what": "Hold a retro", "dueAt": "2030-03-01T17:00:00Z", "coachName": "Maria"}
    return Call(
        "POST /partner/v1/clients/{clientId}/requests",
        f"/partner/v1/clients/{client_id}/requests",
        body,
        partner=acme,
    )


def _suggestion_call(w: World, method: str) -> Call:
    plan_id, suggestion_id = w.suggestion()
    if method == "POST":
        return Call(
            "POST /v1/me/plans/{planId}/suggestions/{suggestionId}/accept",
            f"/v1/me/plans/{plan_id}/suggestions/{suggestion_id}/accept",
            person=w.ana,
        )
    return Call(
        "DELETE /v1/me/plans/{planId}/suggestions/{suggestionId}",
        f"/v1/me/plans/{plan_id}/suggestions/{suggestion_id}",
        person=w.ana,
    )


def _grant(w: World) -> Call:
    acme = register("Acme Coaching")
    body = {"partnerId": acme["partnerId"], "scopes": ["profile.read"]}
    return Call("POST /v1/me/grants", "/v1/me/grants", body, w.ana)


def _revoke(w: World) -> Call:
    acme, _ = w.partner("profile.read")
    return Call("DELETE /v1/me/grants/{partnerId}", f"/v1/me/grants/{acme['partnerId']}", person=w.ana)


def _calendar_delete(w: World) -> Call:
    assert Call("POST /v1/me/calendar-feed", "/v1/me/calendar-feed", person=w.ana).send().status == 201
    return Call("DELETE /v1/me/calendar-feed", "/v1/me/calendar-feed", person=w.ana)


def _counterpart(w: World, what: str) -> Call:
    if what == "moves":
        _, token = w.outside_link("request")
        body: dict[str, Any] = {"act": "promise"}
        return Call("POST /v1/counterpart/{token}/moves", f"/v1/counterpart/{token}/moves", body)
    _, token = w.outside_link("promise")
    return Call("POST /v1/counterpart/{token}/assessment", f"/v1/counterpart/{token}/assessment", ASSESSMENT)


def _link(w: World, method: str) -> Call:
    pid = str(open_promise(w.ana, {"name": "Olga"}, "request")["promiseId"])
    if method == "DELETE":
        assert w.ana("POST", f"/v1/me/promises/{pid}/counterpart-link").status == 201
    return Call(
        f"{method} /v1/me/promises/{{promiseId}}/counterpart-link",
        f"/v1/me/promises/{pid}/counterpart-link",
        person=w.ana,
    )


CASES: dict[str, Callable[[World], Call]] = {
    # profile
    "PUT /v1/me": _profile_put,
    "PATCH /v1/me": lambda w: Call("PATCH /v1/me", "/v1/me", {"displayName": "Ana Lima"}, w.ana),
    "DELETE /v1/me": lambda w: Call("DELETE /v1/me", "/v1/me", person=w.ana),
    "POST /v1/me/devices": lambda w: Call(
        "POST /v1/me/devices", "/v1/me/devices", {"platform": "ios", "pushToken": f"token-{new_id()}"}, w.ana
    ),
    "DELETE /v1/me/devices/{deviceId}": _device_delete,
    "POST /v1/me/blocks": lambda w: Call(
        "POST /v1/me/blocks", "/v1/me/blocks", {"handle": new_person(w.aws, "cai").handle}, w.ana
    ),
    "DELETE /v1/me/blocks/{blockId}": _block_delete,
    # care
    "POST /v1/me/reflections": lambda w: Call(
        "POST /v1/me/reflections",
        "/v1/me/reflections",
        {"questionSetVersion": 1, "answers": [{"questionId": "destination", "text": "Lead a team"}]},
        w.ana,
    ),
    "POST /v1/me/cares": lambda w: Call(
        "POST /v1/me/cares", "/v1/me/cares", {"statement": "Teaching", "domain": "others"}, w.ana
    ),
    "PATCH /v1/me/cares/{careId}": lambda w: Call(
        "PATCH /v1/me/cares/{careId}", f"/v1/me/cares/{_care(w)}", {"statement": "Coaching"}, w.ana
    ),
    "DELETE /v1/me/cares/{careId}": lambda w: Call(
        "DELETE /v1/me/cares/{careId}", f"/v1/me/cares/{_care(w)}", person=w.ana
    ),
    # promises
    "POST /v1/me/promises": lambda w: Call(
        "POST /v1/me/promises", "/v1/me/promises", opening_body(w.bea), w.ana
    ),
    "POST /v1/me/promises/{promiseId}/moves": lambda w: Call(
        "POST /v1/me/promises/{promiseId}/moves",
        f"/v1/me/promises/{_requested(w)}/moves",
        {"act": "promise"},
        w.bea,
    ),
    "POST /v1/me/promises/{promiseId}/assessment": lambda w: Call(
        "POST /v1/me/promises/{promiseId}/assessment",
        f"/v1/me/promises/{_reported(w)}/assessment",
        ASSESSMENT,
        w.ana,
    ),
    "POST /v1/me/promises/{promiseId}/self-assessment": lambda w: Call(
        "POST /v1/me/promises/{promiseId}/self-assessment",
        f"/v1/me/promises/{_reported(w)}/self-assessment",
        {"value": 4},
        w.bea,
    ),
    "POST /v1/me/promises/{promiseId}/counterpart-link": lambda w: _link(w, "POST"),
    "DELETE /v1/me/promises/{promiseId}/counterpart-link": lambda w: _link(w, "DELETE"),
    "POST /v1/counterpart/{token}/moves": lambda w: _counterpart(w, "moves"),
    "POST /v1/counterpart/{token}/assessment": lambda w: _counterpart(w, "assessment"),
    # plans
    "POST /v1/me/plans": lambda w: Call(
        "POST /v1/me/plans",
        "/v1/me/plans",
        {"title": "Leading", "items": [{"kind": "skill", "title": "Listening"}]},
        w.ana,
    ),
    "PATCH /v1/me/plans/{planId}": lambda w: Call(
        "PATCH /v1/me/plans/{planId}", f"/v1/me/plans/{w.plan()['planId']}", {"title": "Leading well"}, w.ana
    ),
    "DELETE /v1/me/plans/{planId}": lambda w: Call(
        "DELETE /v1/me/plans/{planId}", f"/v1/me/plans/{w.plan()['planId']}", person=w.ana
    ),
    "POST /v1/me/plans/{planId}/items": lambda w: Call(
        "POST /v1/me/plans/{planId}/items",
        f"/v1/me/plans/{w.plan()['planId']}/items",
        {"kind": "reading", "title": "Turn the Ship Around"},
        w.ana,
    ),
    "PATCH /v1/me/plans/{planId}/items/{itemId}": lambda w: (
        lambda plan: Call(
            "PATCH /v1/me/plans/{planId}/items/{itemId}",
            f"/v1/me/plans/{plan['planId']}/items/{plan['items'][0]['itemId']}",
            {"status": "done"},
            w.ana,
        )
    )(w.plan()),
    "DELETE /v1/me/plans/{planId}/items/{itemId}": lambda w: (
        lambda plan: Call(
            "DELETE /v1/me/plans/{planId}/items/{itemId}",
            f"/v1/me/plans/{plan['planId']}/items/{plan['items'][0]['itemId']}",
            person=w.ana,
        )
    )(w.plan()),
    "PUT /v1/me/plans/{planId}/reminder": lambda w: _plan_reminder(w, on_item=False, put=True),
    "DELETE /v1/me/plans/{planId}/reminder": lambda w: _plan_reminder(w, on_item=False, put=False),
    "PUT /v1/me/plans/{planId}/items/{itemId}/reminder": lambda w: _plan_reminder(w, on_item=True, put=True),
    "DELETE /v1/me/plans/{planId}/items/{itemId}/reminder": lambda w: _plan_reminder(
        w, on_item=True, put=False
    ),
    "POST /v1/me/plans/{planId}/obstacles": lambda w: Call(
        "POST /v1/me/plans/{planId}/obstacles",
        f"/v1/me/plans/{w.plan()['planId']}/obstacles",
        {"kind": "dragon", "description": "Fear of letting go"},
        w.ana,
    ),
    "PATCH /v1/me/plans/{planId}/obstacles/{obstacleId}": lambda w: (
        lambda ids: Call(
            "PATCH /v1/me/plans/{planId}/obstacles/{obstacleId}",
            f"/v1/me/plans/{ids[0]}/obstacles/{ids[1]}",
            {"response": "Hand over one task a week"},
            w.ana,
        )
    )(_obstacle(w)),
    "POST /v1/me/plans/{planId}/suggestions/{suggestionId}/accept": lambda w: _suggestion_call(w, "POST"),
    "DELETE /v1/me/plans/{planId}/suggestions/{suggestionId}": lambda w: _suggestion_call(w, "DELETE"),
    # consent
    "POST /v1/me/grants": _grant,
    "DELETE /v1/me/grants/{partnerId}": _revoke,
    # calendar
    "POST /v1/me/calendar-feed": lambda w: Call(
        "POST /v1/me/calendar-feed", "/v1/me/calendar-feed", person=w.ana
    ),
    "DELETE /v1/me/calendar-feed": _calendar_delete,
    # partners
    "POST /partner/v1/clients/{clientId}/requests": _partner_request,
    "POST /partner/v1/clients/{clientId}/requests/{requestId}/moves": _partner_move,
    "POST /partner/v1/clients/{clientId}/requests/{requestId}/assessment": _partner_assessment,
    "POST /partner/v1/clients/{clientId}/plans/{planId}/suggestions": _partner_suggestion,
    "PUT /partner/v1/webhook": lambda w: _partner_webhook(
        w, "PUT /partner/v1/webhook", "/partner/v1/webhook", False
    ),
    "POST /partner/v1/webhook/rotate-secret": lambda w: _partner_webhook(
        w, "POST /partner/v1/webhook/rotate-secret", "/partner/v1/webhook/rotate-secret", True
    ),
    "POST /partner/v1/webhook/test": lambda w: _partner_webhook(
        w, "POST /partner/v1/webhook/test", "/partner/v1/webhook/test", True
    ),
    "POST /partner/v1/webhook/deliveries/{deliveryId}/redeliver": _redeliver,
}


def test_every_write_route_has_a_case() -> None:
    """A new write route fails here until it has a case in CASES (and so its fault matrix)."""
    assert sorted(CASES) == WRITE_ROUTES


# --- the matrix ---------------------------------------------------------------------------------


def _snapshot(aws: Aws, *, without_records: bool) -> list[str]:
    # Rate-limit counters (`RATE#...`) count every request, failed or not: not data.
    items = [i for i in aws.all_items() if not str(i["SK"]).startswith("RATE#")]
    if without_records:
        # ...and the partner's access log, which records every request, a replay too.
        items = [
            i for i in items if not str(i["SK"]).startswith("IDEMPOTENCY#") and i.get("entity") != "access"
        ]
    return sorted(json.dumps(i, sort_keys=True, default=str) for i in items)


def _assert_unavailable(reply: Reply, why: str) -> None:
    assert reply.status == 503, f"{why}: {reply.status} {reply.body}"
    assert int(reply.headers["Retry-After"]) > 0, why
    problem = reply.problem
    assert (problem["status"], problem["type"]) == (503, "https://career-journey.app/problems/unavailable"), (
        why
    )


def attempts_per_call() -> int:
    """HTTP attempts the code's client makes per call: standard retry mode (shared/store/table.py),
    whose `max_attempts` botocore reads as the number of retries after the first attempt."""
    retries: dict[str, Any] = table.dynamodb().meta.config.retries  # type: ignore[attr-defined]
    assert retries["mode"] == "standard", retries
    if "total_max_attempts" in retries:
        return int(retries["total_max_attempts"])
    return 1 + int(retries["max_attempts"])


def _assert_retried_with_backoff(faults: Faults, why: str) -> None:
    attempts = attempts_per_call()
    assert sum(faults.faulted.values()) == attempts, f"{why}: one write, every attempt: {faults.faulted}"
    assert len(faults.sleeps) == attempts - 1, f"{why}: {faults.sleeps}"
    assert all(delay > 0 for delay in faults.sleeps), f"{why}: backoff between attempts {faults.sleeps}"


def _persistent_fault(aws: Aws, faults: Faults, call: Call, code: str, **send: Any) -> Reply:
    before = _snapshot(aws, without_records=bool(send.get("headers")))
    faults.arm(code)
    reply = call.send(**send)
    faults.disarm()
    why = f"{call.route_key} under {code}"
    _assert_unavailable(reply, why)
    _assert_retried_with_backoff(faults, why)
    assert _snapshot(aws, without_records=bool(send.get("headers"))) == before, f"{why}: half-written"
    return reply


def _exactly_once(aws: Aws, call: Call, **send: Any) -> None:
    """The request, sent again after its 503, succeeds; sent a third time it answers the same and
    changes nothing: one thing was made."""
    first = call.send(**send)
    assert 200 <= first.status < 300, f"{call.route_key} retried after the 503: {first.status} {first.body}"
    made = _snapshot(aws, without_records=True)
    again = call.send(**send)
    assert (again.status, again.body) == (first.status, first.body), f"{call.route_key}: the replay differs"
    assert _snapshot(aws, without_records=True) == made, f"{call.route_key}: the replay wrote something"


# The routes that make something and take an Idempotency-Key, with the app-made id their body
# may carry (shared/domain/replay.py), if any.
KEYED: dict[str, str | None] = {
    "POST /v1/me/devices": None,
    "POST /v1/me/blocks": None,
    "POST /v1/me/reflections": "reflectionId",
    "POST /v1/me/cares": "careId",
    "POST /v1/me/promises": "promiseId",
    "POST /v1/me/promises/{promiseId}/moves": "moveId",
    "POST /v1/me/promises/{promiseId}/assessment": None,
    "POST /v1/me/promises/{promiseId}/self-assessment": None,
    "POST /v1/counterpart/{token}/moves": "moveId",
    "POST /v1/counterpart/{token}/assessment": None,
    "POST /v1/me/plans": "planId",
    "POST /v1/me/plans/{planId}/items": "itemId",
    "POST /v1/me/plans/{planId}/obstacles": "obstacleId",
    "POST /v1/me/grants": None,
    # No app-made id in its body; with a key, the promise's id is bound to it all the same.
    "POST /partner/v1/clients/{clientId}/requests": "promiseId",
}
# Routes whose body takes no app-made id: only a key binds one (for the timeout cases).
BOUND_ONLY = {"POST /partner/v1/clients/{clientId}/requests"}


@pytest.mark.parametrize("route_key", WRITE_ROUTES)
def test_dynamodb_faults_on_a_write_route(
    route_key: str, aws: Aws, faults: Faults, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(aws, monkeypatch)
    call = CASES[route_key](world)
    assert call.route_key == route_key
    if not call.writes:
        faults.arm("InternalServerError")
        reply = call.send()
        assert not faults.faulted, f"{route_key} writes to DynamoDB now: give it a case that does"
        assert 200 <= reply.status < 300, reply.body
        return

    for code in FAULTS:
        _persistent_fault(aws, faults, call, code)

    # A fault the SDK's retry absorbs: the route succeeds, each write reached DynamoDB once.
    faults.arm("ThrottlingException", times=1)
    reply = call.send()
    assert 200 <= reply.status < 300, f"{route_key} after one throttled attempt: {reply.status} {reply.body}"
    assert sum(faults.faulted.values()) == 1
    bodies = [body for _, body in faults.passed]
    assert len(bodies) == len(set(bodies)), f"{route_key}: a write reached DynamoDB twice"

    # A create sent again after its 503, with the same Idempotency-Key or app-made id: one thing.
    # (Each variant on a fresh case of the same world: a new promise to move, a new plan...)
    if route_key not in KEYED:
        return
    variants: list[dict[str, Any]] = [{"headers": {"Idempotency-Key": f"key-{new_id()}"}}]
    id_field = KEYED[route_key]
    if id_field is not None and route_key not in BOUND_ONLY:
        variants.append({"id": id_field})
    for variant in variants:
        again = CASES[route_key](world)
        if "id" in variant:
            send: dict[str, Any] = {"body": {**again.body, variant["id"]: new_id()}}
        else:
            send = variant
        _persistent_fault(aws, faults, again, "ThrottlingException", **send)
        _exactly_once(aws, again, **send)


def test_a_fault_on_the_idempotency_record_is_a_503(
    aws: Aws, faults: Faults, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = CASES["POST /v1/me/cares"](World(aws, monkeypatch))
    before = _snapshot(aws, without_records=False)
    faults.arm("ThrottlingException", records=True)
    reply = call.send(headers={"Idempotency-Key": "record-busy"})
    faults.disarm()
    _assert_unavailable(reply, "the in-progress record throttled")
    _assert_retried_with_backoff(faults, "the in-progress record throttled")
    assert _snapshot(aws, without_records=False) == before


# --- a Lambda timeout in the middle of a keyed request ------------------------------------------


class _Later(real_dt.datetime):
    """Powertools' clock, moved on by `ahead`."""

    ahead = real_dt.timedelta(0)

    @classmethod
    def now(cls, tz: real_dt.tzinfo | None = None) -> Any:
        return real_dt.datetime.now(tz) + cls.ahead


@pytest.fixture
def powertools_clock(monkeypatch: pytest.MonkeyPatch) -> type[_Later]:
    from aws_lambda_powertools.utilities.idempotency import base
    from aws_lambda_powertools.utilities.idempotency.persistence import base as persistence
    from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb as persistence_dynamodb

    shim = types.SimpleNamespace(
        datetime=_Later, timedelta=real_dt.timedelta, date=real_dt.date, time=real_dt.time
    )
    monkeypatch.setattr(_Later, "ahead", real_dt.timedelta(0))
    for module in (base, persistence, persistence_dynamodb):
        monkeypatch.setattr(module, "dt", shim)
    return _Later


TIMED_OUT = [(k, after) for k, f in KEYED.items() if f for after in (False, True)]


@pytest.mark.parametrize(
    ("route_key", "after_commit"),
    TIMED_OUT,
    ids=[f"{k} {'after' if a else 'before'} the commit" for k, a in TIMED_OUT],
)
def test_a_lambda_timeout_mid_request_then_the_retry_completes_exactly_once(
    route_key: str,
    after_commit: bool,
    aws: Aws,
    faults: Faults,
    monkeypatch: pytest.MonkeyPatch,
    powertools_clock: type[_Later],
) -> None:
    call = CASES[route_key](World(aws, monkeypatch))
    headers = {"Idempotency-Key": f"key-{new_id()}"}
    before = _snapshot(aws, without_records=True)

    faults.die_at("TransactWriteItems", after_commit=after_commit)
    with pytest.raises(LambdaTimedOut):
        call.send(headers=headers)
    records = [i for i in aws.all_items() if str(i["SK"]).startswith("IDEMPOTENCY#") and "status" in i]
    assert [r["status"] for r in records] == ["INPROGRESS"], "the record outlives the invocation"
    deadline = int(records[0]["in_progress_expiration"])
    written = _snapshot(aws, without_records=True)
    assert (written != before) is after_commit

    busy = call.send(headers=headers)
    assert busy.status == 409, busy.body
    assert int(busy.headers["Retry-After"]) > 0
    assert busy.problem["type"] == "https://career-journey.app/problems/conflict"
    assert _snapshot(aws, without_records=True) == written

    # Past the invocation's deadline (the context's remaining time when the record was made).
    powertools_clock.ahead = real_dt.timedelta(
        milliseconds=deadline - real_dt.datetime.now().timestamp() * 1000 + 1000
    )
    done = call.send(headers=headers)
    assert 200 <= done.status < 300, done.body
    made = _snapshot(aws, without_records=True)
    if after_commit:
        assert made == written, "the retry found the first run's write: nothing more"
    new = [json.loads(i) for i in set(made) - set(before)]
    assert new, "something was made"
    again = call.send(headers=headers)
    assert (again.status, again.body) == (done.status, done.body)
    assert _snapshot(aws, without_records=True) == made
    # Exactly one thing: the body names the id the key is bound to, and no second one was made.
    id_field = str(KEYED[route_key])
    if id_field == "moveId":  # a move's id is kept on its `MOVEID#<moveId>` item
        made_ids = {str(i["SK"]).removeprefix("MOVEID#") for i in new if str(i["SK"]).startswith("MOVEID#")}
    else:
        made_ids = {str(i[id_field]) for i in new if i.get(id_field)}
    assert len(made_ids) == 1, made_ids
    if id_field == "moveId":
        assert len([i for i in new if str(i["SK"]).startswith("MOVE#")]) == 1, "one move"
