"""The partner API (`/partner/v1`): coaching companies read what their clients granted them.

API Gateway's `PartnerToken` authorizer checked the client-credentials access token (issuer,
audience: a registered partner's app client, and one of the route's scopes). Here the token's
`client_id` names the partner (the registry, cached briefly), and each client route checks the
person's grant (active, with the scope) on every request and records the access before
answering.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import Field

from shared.api.etag import check_if_match, current_on_stale, etag
from shared.api.idempotency import idempotent
from shared.api.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from shared.api.params import Cursor, IdempotencyKey, IfMatch, Limit, QueryTime, path_id
from shared.api.problems import problem_responses
from shared.api.resolver import App, json_response, lambda_entry
from shared.domain import xapi
from shared.domain.errors import Forbidden, NotFound
from shared.domain.ids import new_id
from shared.domain.partners import bare_scope
from shared.domain.replay import request_hash
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.logic import partners as logic
from shared.logic import plans as plan_logic
from shared.logic import promises as promise_logic
from shared.logic import webhooks as webhook_logic
from shared.models.common import ApiModel, Page
from shared.models.partner import (
    Client,
    ClientCare,
    ClientPlan,
    ClientProfile,
    ClientPromise,
    Delivery,
    PartnerRequest,
    RequestInput,
    Webhook,
    WebhookInput,
)
from shared.models.plan import SuggestionInput
from shared.models.promise import Assessment, AssessmentInput, MoveInput
from shared.observability import metrics
from shared.store import cares, facts, partners, profiles
from shared.store import plans as plan_store
from shared.store import promises as promise_store
from shared.store import webhooks as webhook_store

app = App()

ClientId = Annotated[str, path_id("clientId")]
# How long a warm function trusts what it read of the registry (a partner's name and id).
_REGISTRY_SECONDS = 60.0
_registry: dict[str, tuple[float, str, str]] = {}


def caller() -> logic.Caller:
    """The partner calling, from the token API Gateway checked."""
    authorizer = app.current_event.raw_event.get("requestContext", {}).get("authorizer", {}) or {}
    jwt = authorizer.get("jwt") or {}
    claims = jwt.get("claims") or {}
    app_client = str(claims.get("client_id") or "")
    scopes = jwt.get("scopes") or str(claims.get("scope") or "").split()
    if not app_client:
        raise Forbidden("The access token names no client.")
    now = time.monotonic()
    cached = _registry.get(app_client)
    if cached is None or now - cached[0] > _REGISTRY_SECONDS:
        partner_id = partners.partner_of_app_client(app_client)
        partner = partners.get_partner(partner_id) if partner_id else None
        if partner is None:
            raise Forbidden("The access token's client is not a registered partner.")
        cached = (now, str(partner["partnerId"]), str(partner["name"]))
        _registry[app_client] = cached
    bare = frozenset(b for s in scopes if (b := bare_scope(str(s))) is not None)
    return logic.Caller(partner_id=cached[1], partner_name=cached[2], token_scopes=bare)


def _only(model: type[ApiModel], data: dict[str, Any]) -> dict[str, Any]:
    """The members of `data` that `model` shows (by their camelCase names): what a partner reads
    is what the model lists, never more."""
    names = {f.alias or name for name, f in model.model_fields.items()}
    return {k: v for k, v in data.items() if k in names}


class Items(ApiModel):
    """A whole list (small enough to need no pages)."""

    items: list[ClientCare]


@app.get(
    "/partner/v1/clients",
    operation_id="listPartnerClients",
    tags=["Partner"],
    summary="People who granted me access (scope clients.read)",
)
def list_clients(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[Client]:
    who = caller()
    start = decode_cursor(cursor, user_id=who.partner_id, list_name="partner-clients")
    found, last = logic.clients(who, utc_now(), limit, start)
    return Page[Client](
        items=[Client.model_validate(c) for c in found],
        next_cursor=encode_cursor(last, user_id=who.partner_id, list_name="partner-clients"),
    )


@app.get(
    "/partner/v1/clients/<clientId>/profile",
    operation_id="getClientProfile",
    tags=["Partner"],
    summary="A client's profile (scope profile.read)",
    responses={200: {"description": "The profile"}, **problem_responses(403, 404)},
)
def client_profile(client_id: ClientId) -> ClientProfile:
    now = utc_now()
    access = logic.client_for(caller(), client_id, "profile.read", now)
    stored = profiles.get_profile(access.user_id)
    if stored is None:
        raise NotFound("The client has no profile yet.")
    logic.record(access, "profile", now)
    return ClientProfile.model_validate(_only(ClientProfile, stored.data))


@app.get(
    "/partner/v1/clients/<clientId>/cares",
    operation_id="listClientCares",
    tags=["Partner"],
    summary="A client's cares, active first by rank (scope cares.read)",
    responses={200: {"description": "The cares"}, **problem_responses(403, 404)},
)
def client_cares(client_id: ClientId) -> Items:
    now = utc_now()
    access = logic.client_for(caller(), client_id, "cares.read", now)
    found = cares.load_cares(access.user_id)
    order = {care_id: i for i, care_id in enumerate(found.active_order())}
    shown = sorted(found.cares, key=lambda c: (order.get(c["careId"], len(order)), str(c["createdAt"])))
    logic.record(access, "cares", now)
    return Items(
        items=[
            ClientCare.model_validate(
                _only(ClientCare, {**c, "careId": access.ref("care", str(c["careId"]))})
            )
            for c in shown
        ]
    )


@app.get(
    "/partner/v1/clients/<clientId>/promises",
    operation_id="listClientPromises",
    tags=["Partner"],
    summary="A client's promises, latest due first (scope promises.read)",
    responses={200: {"description": "The promises"}, **problem_responses(403, 404)},
)
def client_promises(
    client_id: ClientId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[ClientPromise]:
    now = utc_now()
    who = caller()
    access = logic.client_for(who, client_id, "promises.read", now)
    list_name = f"partner-promises:{client_id}"
    start = decode_cursor(cursor, user_id=who.partner_id, list_name=list_name)
    found, last = promise_store.list_promises(
        access.user_id, role=None, state=None, care_id=None, due_before=None, limit=limit, start=start
    )
    logic.record(access, "promises", now)
    return Page[ClientPromise](
        items=[
            ClientPromise.model_validate(
                {
                    "promiseId": access.ref("promise", str(p["promiseId"])),
                    "what": p["what"],
                    "dueAt": p["dueAt"],
                    "state": p["state"],
                    "role": p["myRole"],
                    "counterpartKind": (p.get("counterpart") or {}).get("kind", "outside"),
                    "updatedAt": p["updatedAt"],
                }
            )
            for p in found
        ],
        next_cursor=encode_cursor(last, user_id=who.partner_id, list_name=list_name),
    )


@app.get(
    "/partner/v1/clients/<clientId>/plans",
    operation_id="listClientPlans",
    tags=["Partner"],
    summary="A client's learning plans with their items, newest first (scope plans.read)",
    responses={200: {"description": "The plans"}, **problem_responses(403, 404)},
)
def client_plans(client_id: ClientId, limit: Limit = 10, cursor: Cursor = None) -> Page[ClientPlan]:
    now = utc_now()
    who = caller()
    access = logic.client_for(who, client_id, "plans.read", now)
    list_name = f"partner-plans:{client_id}"
    start = decode_cursor(cursor, user_id=who.partner_id, list_name=list_name)
    summaries, last = plan_store.list_plans(access.user_id, limit, start)
    whole = []
    for summary in summaries:
        found = plan_store.read_plan(access.user_id, str(summary["planId"]))
        if found is not None:
            whole.append({**found.plan, "items": found.items})
    logic.record(access, "plans", now)
    return Page[ClientPlan](
        items=[ClientPlan.model_validate(p) for p in logic.plan_views(access, whole)],
        next_cursor=encode_cursor(last, user_id=who.partner_id, list_name=list_name),
    )


# --- requests: a coach asks a client for a promise ------------------------------------------------

RequestId = Annotated[str, path_id("requestId")]


def _request_response(
    promise: dict[str, Any], request_id: str, status: int = 200
) -> Response[PartnerRequest]:
    moves = [
        m
        for m in promise_store.promise_partition(str(promise["promiseId"]))
        if m.get("entity") == "promise-move"
    ]
    body = PartnerRequest.model_validate(promise_logic.partner_view(promise, moves, request_id))
    headers = {"ETag": etag(int(promise["version"]))}
    if status == 201:
        headers["Location"] = f"{app.current_event.path}/{request_id}"
    return json_response(status, body.model_dump(by_alias=True, mode="json", exclude_none=True), headers)


def _requested(access: logic.ClientAccess, request_id: str) -> dict[str, Any]:
    """The promise behind one of my requests to this client, or 404."""
    record = partners.get_request(access.caller.partner_id, request_id)
    if record is None or record.get("clientId") != access.client_id:
        raise NotFound("No such request for this client.")
    promise = promise_store.get_promise(str(record["promiseId"]))
    if promise is None:
        raise NotFound("No such request for this client.")
    return promise


@app.post(
    "/partner/v1/clients/<clientId>/requests",
    operation_id="requestPromise",
    tags=["Partner"],
    summary="Ask a client for a promise (scope requests.write): it opens as a request they answer in the app",
    responses={201: {"description": "Requested"}, **problem_responses(403, 404, 409, 422)},
)
def make_request(
    client_id: ClientId, request: Annotated[RequestInput, Body()], idempotency_key: IdempotencyKey = None
) -> Response[PartnerRequest]:
    now = utc_now()
    who = caller()
    access = logic.client_for(who, client_id, "requests.write", now)
    payload = request.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        # With an Idempotency-Key the promise's id is bound to the key (`id_field`): a run after
        # a timeout that struck once the first had committed is answered as the first.
        bound = payload.pop("promiseId", None)
        promise_id = str(bound) if bound else new_id()
        hashed = (
            request_hash(f"partner:{who.partner_id}:{client_id}", payload, "promiseId") if bound else None
        )
        # The partner's id for the promise, as its statements and webhook events name it.
        request_id = access.ref("promise", promise_id)
        coach = promise_logic.PartnerRequester(who.partner_id, who.partner_name, str(payload["coachName"]))
        record = partners.request_put(
            who.partner_id, request_id, promise_id, client_id, access.user_id, to_rfc3339(now)
        )
        promise = promise_logic.open_for_partner(
            access.user_id, coach, payload, now, promise_id=promise_id, extra=[record], request_hash=hashed
        )
        metrics.add_metric(name="PartnerRequests", unit="Count", value=1)
        return _request_response(promise, request_id, 201)

    logic.record(access, "requests", now)
    return idempotent(
        context=app.lambda_context,
        partition=partners.partner_pk(who.partner_id),
        operation=f"partner-request:{client_id}",
        key=idempotency_key,
        payload=payload,
        produce=produce,
        id_field="promiseId",
    )


@app.get(
    "/partner/v1/clients/<clientId>/requests/<requestId>",
    operation_id="getRequest",
    tags=["Partner"],
    summary="One of my requests to a client, with its moves (scope requests.write)",
    responses={200: {"description": "The request"}, **problem_responses(403, 404)},
)
def get_request(client_id: ClientId, request_id: RequestId) -> Response[PartnerRequest]:
    now = utc_now()
    access = logic.client_for(caller(), client_id, "requests.write", now)
    promise = _requested(access, request_id)
    logic.record(access, "requests", now)
    return _request_response(promise, request_id)


@app.post(
    "/partner/v1/clients/<clientId>/requests/<requestId>/moves",
    operation_id="makeRequestMove",
    tags=["Partner"],
    summary="The coach's move as the customer: accept, withdraw, cancel, declare satisfaction or not",
    responses={200: {"description": "Moved"}, **problem_responses(403, 404, 409, 412, 422)},
)
def move_request(
    client_id: ClientId, request_id: RequestId, move: Annotated[MoveInput, Body()], if_match: IfMatch = None
) -> Response[PartnerRequest]:
    now = utc_now()
    access = logic.client_for(caller(), client_id, "requests.write", now)
    promise = _requested(access, request_id)
    payload = move.model_dump(by_alias=True, mode="json", exclude_none=True)
    # A 412 shows the request as its GET does now (without logging a second access).
    with current_on_stale(
        lambda: _requested(access, request_id),
        lambda found: _request_response(found, request_id),
        PartnerRequest,
    ):
        updated, _ = promise_logic.partner_move(
            promise, payload, now, if_match=if_match, check_version=check_if_match
        )
    logic.record(access, "requests", now)
    return _request_response(updated, request_id)


@app.post(
    "/partner/v1/clients/<clientId>/requests/<requestId>/assessment",
    operation_id="assessRequest",
    tags=["Partner"],
    summary="The coach's assessment as the customer, once the client reported completion",
    responses={201: {"description": "Assessed"}, **problem_responses(403, 404, 409, 422)},
)
def assess_request(
    client_id: ClientId, request_id: RequestId, assessment: Annotated[AssessmentInput, Body()]
) -> Response[Assessment]:
    now = utc_now()
    access = logic.client_for(caller(), client_id, "requests.write", now)
    promise = _requested(access, request_id)
    payload = assessment.model_dump(by_alias=True, mode="json", exclude_none=True)
    kept = promise_logic.partner_assess(promise, payload, now)
    logic.record(access, "requests", now)
    return json_response(
        201, Assessment.model_validate(kept).model_dump(by_alias=True, mode="json", exclude_none=True)
    )


# --- suggestions --------------------------------------------------------------------------------

PlanRef = Annotated[str, path_id("planId")]


class SuggestionView(ApiModel):
    """A suggestion as the partner made it: it waits until the client accepts or dismisses it."""

    suggestion_id: str
    status: str = "pending"
    kind: str
    title: str
    detail: str | None = None
    created_at: str


@app.post(
    "/partner/v1/clients/<clientId>/plans/<planId>/suggestions",
    operation_id="suggestPlanItem",
    tags=["Partner"],
    summary="Suggest an item for a client's plan (scope plans.suggest); it waits for the client",
    responses={201: {"description": "Suggested"}, **problem_responses(403, 404, 409, 422)},
)
def suggest(
    client_id: ClientId, plan_id: PlanRef, suggestion: Annotated[SuggestionInput, Body()]
) -> Response[SuggestionView]:
    now = utc_now()
    who = caller()
    access = logic.client_for(who, client_id, "plans.suggest", now)
    real = logic.plan_of_ref(access, plan_id)
    if real is None:
        raise NotFound("The client has no such plan.")
    payload = suggestion.model_dump(by_alias=True, mode="json", exclude_none=True)
    made = plan_logic.suggest(
        access.user_id, real, payload, {"partnerId": who.partner_id, "partnerName": who.partner_name}, now
    )
    logic.record(access, "plans", now)
    metrics.add_metric(name="PlanSuggestions", unit="Count", value=1)
    shown = {**made, "suggestionId": access.ref("suggestion", str(made["suggestionId"]))}
    body = SuggestionView.model_validate(_only(SuggestionView, shown)).model_dump(
        by_alias=True, mode="json", exclude_none=True
    )
    return json_response(201, body)


# --- xAPI statements -------------------------------------------------------------------------------


class StatementResult(ApiModel):
    """xAPI 1.0.3 StatementResult: the statements, and `more`, the URL of the next page ("" on
    the last)."""

    statements: list[dict[str, Any]] = Field(description="xAPI 1.0.3 statements, oldest first")
    more: str


@app.get(
    "/partner/v1/clients/<clientId>/statements",
    operation_id="listClientStatements",
    tags=["Partner"],
    summary="A client's learning record as xAPI statements (scope plans.read or promises.read)",
    description=(
        "Plan items completed and practices (with plans.read), promises fulfilled and assessed "
        "(with promises.read), oldest first, from `since` on. Statement ids are stable: a "
        "statement read again has the same id."
    ),
    responses={200: {"description": "The statements"}, **problem_responses(403, 404)},
)
def statements(
    client_id: ClientId,
    since: Annotated[QueryTime | None, Query(description="RFC 3339: statements from then on")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> StatementResult:
    now = utc_now()
    who = caller()
    granted = logic.client_for_any(who, client_id, ("plans.read", "promises.read"), now)
    access = granted[0]
    shown = {a.scope for a in granted}
    list_name = f"partner-statements:{client_id}:{since.isoformat() if since else ''}"
    start = decode_cursor(cursor, user_id=who.partner_id, list_name=list_name)
    found, last = facts.facts_since(access.user_id, since, limit, start)
    made = [
        xapi.statement(f, partner_id=who.partner_id, client_id=client_id, ref=access.ref)
        for f in found
        if xapi.FACT_SCOPES.get(str(f.get("kind"))) in shown
    ]
    for one in granted:
        logic.record(one, "statements", now)
    following = encode_cursor(last, user_id=who.partner_id, list_name=list_name)
    more = ""
    if following:
        query = {"cursor": following, "limit": str(limit)} | ({"since": since.isoformat()} if since else {})
        more = f"/partner/v1/clients/{client_id}/statements?{urlencode(query)}"
    return StatementResult(statements=made, more=more)


# --- webhook ---------------------------------------------------------------------------------------


def _manager() -> logic.Caller:
    who = caller()
    if "webhooks.manage" not in who.token_scopes:
        raise Forbidden("The access token does not carry the scope webhooks.manage.")
    return who


def _webhook_response(view: dict[str, Any], status: int = 200) -> Response[Webhook]:
    body = Webhook.model_validate(view).model_dump(by_alias=True, mode="json", exclude_none=True)
    return json_response(status, body)


@app.put(
    "/partner/v1/webhook",
    operation_id="setWebhook",
    tags=["Webhooks"],
    summary="Where to send which events (scope webhooks.manage); the first answer shows the secret",
    responses={
        201: {"description": "Made"},
        200: {"description": "Changed"},
        **problem_responses(403, 412, 422),
    },
)
def put_webhook(webhook: Annotated[WebhookInput, Body()]) -> Response[Webhook]:
    who = _manager()
    payload = webhook.model_dump(by_alias=True, mode="json")
    view, new = webhook_logic.configure(who.partner_id, payload, utc_now())
    return _webhook_response(view, 201 if new else 200)


@app.get(
    "/partner/v1/webhook",
    operation_id="getWebhook",
    tags=["Webhooks"],
    summary="My webhook (scope webhooks.manage)",
    responses={200: {"description": "The webhook"}, **problem_responses(403, 404)},
)
def get_webhook() -> Response[Webhook]:
    who = _manager()
    hook = webhook_store.get_webhook(who.partner_id)
    if hook is None:
        raise NotFound("You have no webhook; PUT /partner/v1/webhook first.")
    return _webhook_response(webhook_logic.view(hook))


@app.post(
    "/partner/v1/webhook/rotate-secret",
    operation_id="rotateWebhookSecret",
    tags=["Webhooks"],
    summary="A new secret (shown once); the previous one still signs for 24 hours",
    responses={200: {"description": "Rotated"}, **problem_responses(403, 404, 412)},
)
def rotate_secret() -> Response[Webhook]:
    who = _manager()
    return _webhook_response(webhook_logic.rotate_secret(who.partner_id, utc_now()))


class Queued(ApiModel):
    """An event on its way to my webhook."""

    event_id: str


@app.post(
    "/partner/v1/webhook/test",
    operation_id="testWebhook",
    tags=["Webhooks"],
    summary="Send a `webhook.test` event to my webhook now",
    responses={202: {"description": "Queued"}, **problem_responses(403, 404)},
)
def test_webhook() -> Response[Queued]:
    who = _manager()
    if webhook_store.get_webhook(who.partner_id) is None:
        raise NotFound("You have no webhook; PUT /partner/v1/webhook first.")
    now = utc_now()
    event_id = "evt_" + new_id().lower()
    body = {"type": "webhook.test", "eventId": event_id, "occurredAt": to_rfc3339(now), "data": {}}
    webhook_store.put_event(who.partner_id, event_id, "webhook.test", json.dumps(body), None, now)
    webhook_store.queue_event(who.partner_id, event_id)
    return json_response(202, {"eventId": event_id})


@app.get(
    "/partner/v1/webhook/deliveries",
    operation_id="listWebhookDeliveries",
    tags=["Webhooks"],
    summary="Every delivery attempt, newest first (scope webhooks.manage)",
)
def list_deliveries(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[Delivery]:
    who = _manager()
    start = decode_cursor(cursor, user_id=who.partner_id, list_name="deliveries")
    found, last = webhook_store.deliveries(who.partner_id, limit, start)
    return Page[Delivery](
        items=[Delivery.model_validate(d) for d in found],
        next_cursor=encode_cursor(last, user_id=who.partner_id, list_name="deliveries"),
    )


DeliveryId = Annotated[str, path_id("deliveryId")]


@app.post(
    "/partner/v1/webhook/deliveries/<deliveryId>/redeliver",
    operation_id="redeliverEvent",
    tags=["Webhooks"],
    summary="Send a delivery's event again (events are kept 30 days)",
    responses={202: {"description": "Queued"}, **problem_responses(403, 404)},
)
def redeliver(delivery_id: DeliveryId) -> Response[Queued]:
    who = _manager()
    delivery = webhook_store.get_delivery(who.partner_id, delivery_id)
    if webhook_store.get_event(who.partner_id, str(delivery["eventId"])) is None:
        raise NotFound("That event is older than 30 days.")
    webhook_store.queue_event(who.partner_id, str(delivery["eventId"]))
    return json_response(202, {"eventId": delivery["eventId"]})


lambda_handler = lambda_entry(app, users=False)
