"""Learning plans: the templates for the classic transitions, and my plans made from them or
from scratch (items' and obstacles' own routes, and reminders, come next: issue 10)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from shared.api.etag import check_if_match, etag
from shared.api.idempotency import idempotent
from shared.api.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from shared.api.params import Cursor, IdempotencyKey, IfMatch, Limit, path_id
from shared.api.problems import problem_responses
from shared.api.resolver import App, json_response, lambda_entry
from shared.domain.errors import NotFound
from shared.domain.plan_templates import CURRENT_TEMPLATE_VERSION, template_set
from shared.domain.timeutil import utc_now
from shared.logic import plans as logic
from shared.models.common import Page
from shared.models.plan import Plan, PlanInput, PlanSummary, TemplateSet
from shared.observability import metrics
from shared.store import plans as store

app = App()


@app.get(
    "/v1/learning/templates",
    summary="Plan templates for the classic transitions (the current set, or an earlier version)",
    description=(
        "One template per transition (expert -> team_lead -> manager -> executive -> leader): "
        "starting items and prompts for the transition's cliffs, barriers and dragons. A plan made "
        "from a template keeps the version it came from; every published version stays readable."
    ),
    responses={200: {"description": "The templates"}, **problem_responses(404)},
)
def get_templates(version: Annotated[int | None, Query(ge=1, le=10_000)] = None) -> TemplateSet:
    found = template_set(version)
    if found is None:
        raise NotFound("No template set has that version.")
    number = version or CURRENT_TEMPLATE_VERSION
    return TemplateSet.model_validate(
        {
            "version": number,
            "current": number == CURRENT_TEMPLATE_VERSION,
            "templates": [
                {
                    "templateId": t.id,
                    "version": t.version,
                    "transition": {"from": t.from_level, "to": t.to_level},
                    "title": t.title,
                    "summary": t.summary,
                    "items": [asdict(i) for i in t.items],
                    "obstaclePrompts": [asdict(p) for p in t.obstacle_prompts],
                }
                for t in found
            ],
        }
    )


PlanId = Annotated[str, path_id("planId")]


def _plan_response(plan: dict[str, Any], version: int, status: int = 200) -> Response[Plan]:
    body = Plan.model_validate(plan).model_dump(by_alias=True, mode="json", exclude_none=True)
    headers = {"ETag": etag(version)}
    if status == 201:
        headers["Location"] = f"/v1/me/plans/{plan['planId']}"
    return json_response(status, body, headers)


@app.post(
    "/v1/me/plans",
    summary="Make a plan from a template (its items copied) or from scratch",
    responses={201: {"description": "Made"}, **problem_responses(409, 422)},
)
def make_plan(plan: Annotated[PlanInput, Body()], idempotency_key: IdempotencyKey = None) -> Response[Plan]:
    user_id = app.user.user_id
    payload = plan.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        made = logic.make_plan(user_id, payload, utc_now())
        metrics.add_metric(name="PlansMade", unit="Count", value=1)
        return _plan_response(made, 1, 201)

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation="make_plan",
        key=idempotency_key,
        payload=payload,
        produce=produce,
    )


@app.get("/v1/me/plans", summary="My plans, newest first")
def list_my_plans(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[PlanSummary]:
    user_id = app.user.user_id
    start = decode_cursor(cursor, user_id=user_id, list_name="plans")
    items, last = store.list_plans(user_id, limit, start)
    return Page[PlanSummary](
        items=[PlanSummary.model_validate(i) for i in items],
        next_cursor=encode_cursor(last, user_id=user_id, list_name="plans"),
    )


@app.get(
    "/v1/me/plans/<planId>",
    summary="One of my plans with its items and obstacles (one read)",
    responses={200: {"description": "The plan"}, **problem_responses(404)},
)
def get_my_plan(plan_id: PlanId) -> Response[Plan]:
    found = logic.read_plan(app.user.user_id, plan_id)
    return _plan_response({**found.plan, "items": found.items, "obstacles": found.obstacles}, found.version)


@app.delete(
    "/v1/me/plans/<planId>",
    summary="Delete one of my plans with its items and obstacles",
    responses={204: {"description": "Deleted"}, **problem_responses(404, 412)},
)
def delete_my_plan(plan_id: PlanId, if_match: IfMatch = None) -> Response[None]:
    user_id = app.user.user_id
    found = logic.read_plan(user_id, plan_id)
    check_if_match(if_match, found.version)
    store.delete_plan(user_id, found, plan_id)
    return Response(status_code=204, body=None)


lambda_handler = lambda_entry(app)
