"""Consent: the partner directory, my grants to partners, and the log of what they did."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from shared.api.idempotency import idempotent
from shared.api.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from shared.api.params import Cursor, IdempotencyKey, Limit, path_id
from shared.api.problems import problem_responses
from shared.api.resolver import App, json_response, lambda_entry
from shared.domain.timeutil import utc_now
from shared.logic import partners as logic
from shared.models.common import Page
from shared.models.partner import AccessEntry, Grant, GrantInput, Partner
from shared.observability import metrics
from shared.store import grants, partners

app = App()

PartnerId = Annotated[str, path_id("partnerId")]


@app.get(
    "/v1/partners",
    operation_id="listPartners",
    tags=["Consent"],
    summary="The partner directory: coaching companies and what they may ask for",
)
def list_partners(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[Partner]:
    # Everyone sees the same directory: the cursor is bound to the list, not to me.
    start = decode_cursor(cursor, user_id="*", list_name="partners")
    found, last = partners.directory(limit, start)
    return Page[Partner](
        items=[Partner.model_validate(p) for p in found],
        next_cursor=encode_cursor(last, user_id="*", list_name="partners"),
    )


@app.post(
    "/v1/me/grants",
    operation_id="grantPartner",
    tags=["Consent"],
    summary="Grant a partner some of its scopes (again: replace the grant)",
    responses={
        201: {"description": "Granted"},
        200: {"description": "Replaced"},
        **problem_responses(409, 422),
    },
)
def grant(request: Annotated[GrantInput, Body()], idempotency_key: IdempotencyKey = None) -> Response[Grant]:
    user_id = app.user.user_id
    payload = request.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        made, new = logic.grant(user_id, payload, utc_now())
        metrics.add_metric(name="GrantsMade", unit="Count", value=1)
        body = Grant.model_validate(made).model_dump(by_alias=True, mode="json", exclude_none=True)
        return json_response(201 if new else 200, body, {"Location": f"/v1/me/grants/{made['partnerId']}"})

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation="grant",
        key=idempotency_key,
        payload=payload,
        produce=produce,
    )


@app.get("/v1/me/grants", operation_id="listMyGrants", tags=["Consent"], summary="My grants to partners")
def list_grants(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[Grant]:
    user_id = app.user.user_id
    start = decode_cursor(cursor, user_id=user_id, list_name="grants")
    found, last = grants.my_grants(user_id, limit, start)
    now = utc_now()
    return Page[Grant](
        items=[Grant.model_validate(logic.grant_view(g, now)) for g in found],
        next_cursor=encode_cursor(last, user_id=user_id, list_name="grants"),
    )


@app.delete(
    "/v1/me/grants/<partnerId>",
    operation_id="revokeGrant",
    tags=["Consent"],
    summary="Revoke my grant to a partner: its very next request for me is refused",
    responses={204: {"description": "Revoked"}, **problem_responses(404)},
)
def revoke(partner_id: PartnerId) -> Response[None]:
    logic.revoke(app.user.user_id, partner_id)
    metrics.add_metric(name="GrantsRevoked", unit="Count", value=1)
    return Response(status_code=204, body=None)


@app.get(
    "/v1/me/access-log",
    operation_id="listAccessLog",
    tags=["Consent"],
    summary="Every read or write of my data by a partner, newest first",
)
def access_log(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[AccessEntry]:
    user_id = app.user.user_id
    start = decode_cursor(cursor, user_id=user_id, list_name="access-log")
    found, last = grants.access_log(user_id, limit, start)
    return Page[AccessEntry](
        items=[AccessEntry.model_validate(e) for e in found],
        next_cursor=encode_cursor(last, user_id=user_id, list_name="access-log"),
    )


lambda_handler = lambda_entry(app)
