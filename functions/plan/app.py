"""Learning plans: the templates for the classic transitions, my plans made from them or from
scratch, their items and obstacles, and the reminders of plans and items."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from shared.api.etag import check_if_match, current_on_stale, etag
from shared.api.idempotency import idempotent
from shared.api.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from shared.api.params import Cursor, IdempotencyKey, IfMatch, Limit, path_id
from shared.api.problems import problem_responses
from shared.api.resolver import App, json_response, lambda_entry
from shared.domain import recurrence
from shared.domain.errors import NotFound
from shared.domain.plan_templates import CURRENT_TEMPLATE_VERSION, template_set
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.logic import plans as logic
from shared.logic import reminders
from shared.models.common import ApiModel, Page, validate_document
from shared.models.plan import (
    NewObstacleInput,
    NewPlanItemInput,
    Obstacle,
    ObstacleInput,
    ObstaclePatch,
    Plan,
    PlanDocument,
    PlanInput,
    PlanItem,
    PlanItemInput,
    PlanItemPatch,
    PlanPatch,
    PlanSummary,
    Reminder,
    ReminderInput,
    TemplateSet,
)
from shared.observability import metrics
from shared.store import keys
from shared.store import plans as store

app = App()


@app.get(
    "/v1/learning/templates",
    operation_id="getPlanTemplates",
    tags=["Plans"],
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
    operation_id="createPlan",
    tags=["Plans"],
    summary="Make a plan from a template (its items copied) or from scratch",
    description=(
        "`planId` (optional) is a ULID the app made: replaying the same write (same id and body) "
        "answers as the first time, with the plan as it is now, and changes nothing; the same id "
        "with another body is a 409 of type `id-conflict`. The plan's items take ids the server "
        "makes, in the order given."
    ),
    responses={201: {"description": "Made"}, **problem_responses(409, 422)},
)
def make_plan(plan: Annotated[PlanInput, Body()], idempotency_key: IdempotencyKey = None) -> Response[Plan]:
    user_id = app.user.user_id
    payload = plan.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        made = logic.make_plan(user_id, payload, utc_now())
        if not made.replayed:
            metrics.add_metric(name="PlansMade", unit="Count", value=1)
        return _plan_response(made.data, made.version, 201)

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation="make_plan",
        key=idempotency_key,
        payload=payload,
        produce=produce,
        id_field="planId",
    )


@app.get("/v1/me/plans", operation_id="listMyPlans", tags=["Plans"], summary="My plans, newest first")
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
    operation_id="getPlan",
    tags=["Plans"],
    summary="One of my plans with its items and obstacles (one read)",
    responses={200: {"description": "The plan"}, **problem_responses(404)},
)
def get_my_plan(plan_id: PlanId) -> Response[Plan]:
    return _whole_plan(logic.read_plan(app.user.user_id, plan_id))


def _whole_plan(found: store.StoredPlan) -> Response[Plan]:
    whole = {
        **found.plan,
        "items": found.items,
        "obstacles": found.obstacles,
        "suggestions": found.suggestions,
    }
    return _plan_response(whole, found.version)


def _on_stale(
    plan_id: str, show: Callable[[store.StoredPlan], Response[Any] | None], model: type[ApiModel]
) -> AbstractContextManager[None]:
    """A 412 shows what `show` picks of the plan as it is now (the plan's read, or one more
    Query after a write's version condition failed), as `model`."""
    return current_on_stale(lambda: store.read_plan(app.user.user_id, plan_id), show, model)


def _item_shown(plan_id: str, item_id: str) -> Callable[[store.StoredPlan], Response[Any] | None]:
    def show(found: store.StoredPlan) -> Response[Any] | None:
        item = found.item(item_id)
        if item is None:
            return None
        return _child_response(
            PlanItem, logic.Changed(item, found.versions[keys.plan_item_sk(plan_id, item_id)])
        )

    return show


def _obstacle_shown(plan_id: str, obstacle_id: str) -> Callable[[store.StoredPlan], Response[Any] | None]:
    def show(found: store.StoredPlan) -> Response[Any] | None:
        obstacle = found.obstacle(obstacle_id)
        if obstacle is None:
            return None
        version = found.versions[keys.plan_obstacle_sk(plan_id, obstacle_id)]
        return _child_response(Obstacle, logic.Changed(obstacle, version))

    return show


def _reminder_shown(plan_id: str, item_id: str | None) -> Callable[[store.StoredPlan], Response[Any] | None]:
    def show(found: store.StoredPlan) -> Response[Any] | None:
        sk = keys.plan_reminder_sk(plan_id, item_id)
        if sk not in found.reminders:
            return None
        return _reminder_response((reminders.view(found.reminders[sk], utc_now()), found.versions[sk], False))

    return show


@app.delete(
    "/v1/me/plans/<planId>",
    operation_id="deletePlan",
    tags=["Plans"],
    summary="Delete one of my plans with its items and obstacles",
    responses={204: {"description": "Deleted"}, **problem_responses(404, 412)},
)
def delete_my_plan(plan_id: PlanId, if_match: IfMatch = None) -> Response[None]:
    user_id = app.user.user_id
    found = logic.read_plan(user_id, plan_id)
    with _on_stale(plan_id, _whole_plan, Plan):
        check_if_match(if_match, found.version, found)
        store.delete_plan(user_id, found, plan_id, to_rfc3339(utc_now()))
    return Response(status_code=204, body=None)


ItemId = Annotated[str, path_id("itemId")]
ObstacleId = Annotated[str, path_id("obstacleId")]


def _document(model: type[ApiModel]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A merged document validated as the client's input, back as camelCase JSON."""

    def validate(merged: dict[str, Any]) -> dict[str, Any]:
        return validate_document(model, merged).model_dump(by_alias=True, mode="json", exclude_none=True)

    return validate


def _child_response(model: type[ApiModel], changed: logic.Changed, status: int = 200) -> Response[Any]:
    body = model.model_validate(changed.data).model_dump(by_alias=True, mode="json", exclude_none=True)
    return json_response(status, body, {"ETag": etag(changed.version)})


@app.patch(
    "/v1/me/plans/<planId>",
    operation_id="updatePlan",
    tags=["Plans"],
    summary="Change my plan's own fields (JSON Merge Patch, RFC 7396)",
    responses={200: {"description": "The plan"}, **problem_responses(404, 409, 412, 422)},
)
def patch_my_plan(
    plan_id: PlanId, patch: Annotated[PlanPatch, Body()], if_match: IfMatch = None
) -> Response[Plan]:
    changes = patch.model_dump(by_alias=True, mode="json", exclude_unset=True)
    with _on_stale(plan_id, _whole_plan, Plan):
        plan, version = logic.patch_plan(
            app.user.user_id,
            plan_id,
            changes,
            utc_now(),
            if_match=if_match,
            check_version=check_if_match,
            validate=_document(PlanDocument),
        )
    return _plan_response(plan, version)


@app.post(
    "/v1/me/plans/<planId>/items",
    operation_id="addPlanItem",
    tags=["Plans"],
    summary="Add an item to my plan",
    description=(
        "`itemId` (optional) is a ULID the app made: replaying the same write (same id and body) "
        "answers as the first time, with the item as it is now, and changes nothing; the same id "
        "with another body is a 409 of type `id-conflict`. Items sort by id: one made offline "
        "takes its place by the time the app made its id."
    ),
    responses={201: {"description": "Added"}, **problem_responses(404, 409, 422)},
)
def add_item(
    plan_id: PlanId, item: Annotated[NewPlanItemInput, Body()], idempotency_key: IdempotencyKey = None
) -> Response[PlanItem]:
    user_id = app.user.user_id
    payload = item.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        return _child_response(PlanItem, logic.add_item(user_id, plan_id, payload, utc_now()), 201)

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation=f"add_item:{plan_id}",
        key=idempotency_key,
        payload=payload,
        produce=produce,
        id_field="itemId",
    )


@app.patch(
    "/v1/me/plans/<planId>/items/<itemId>",
    operation_id="updatePlanItem",
    tags=["Plans"],
    summary="Change an item of my plan (JSON Merge Patch, RFC 7396)",
    responses={200: {"description": "The item"}, **problem_responses(404, 409, 412, 422)},
)
def patch_item(
    plan_id: PlanId, item_id: ItemId, patch: Annotated[PlanItemPatch, Body()], if_match: IfMatch = None
) -> Response[PlanItem]:
    with _on_stale(plan_id, _item_shown(plan_id, item_id), PlanItem):
        changed = logic.patch_child(
            app.user.user_id,
            plan_id,
            item_id,
            patch.model_dump(by_alias=True, mode="json", exclude_unset=True),
            utc_now(),
            obstacle=False,
            if_match=if_match,
            check_version=check_if_match,
            validate=_document(PlanItemInput),
        )
    return _child_response(PlanItem, changed)


@app.delete(
    "/v1/me/plans/<planId>/items/<itemId>",
    operation_id="removePlanItem",
    tags=["Plans"],
    summary="Remove an item from my plan",
    responses={204: {"description": "Removed"}, **problem_responses(404, 409, 412)},
)
def delete_item(plan_id: PlanId, item_id: ItemId, if_match: IfMatch = None) -> Response[None]:
    with _on_stale(plan_id, _item_shown(plan_id, item_id), PlanItem):
        logic.delete_item(
            app.user.user_id, plan_id, item_id, utc_now(), if_match=if_match, check_version=check_if_match
        )
    return Response(status_code=204, body=None)


@app.post(
    "/v1/me/plans/<planId>/obstacles",
    operation_id="addObstacle",
    tags=["Plans"],
    summary="Name a cliff, barrier or dragon of my plan, and my response to it",
    description=(
        "`obstacleId` (optional) is a ULID the app made: replaying the same write (same id and "
        "body) answers as the first time, with the obstacle as it is now, and changes nothing; "
        "the same id with another body is a 409 of type `id-conflict`."
    ),
    responses={201: {"description": "Named"}, **problem_responses(404, 409, 422)},
)
def add_obstacle(
    plan_id: PlanId, obstacle: Annotated[NewObstacleInput, Body()], idempotency_key: IdempotencyKey = None
) -> Response[Obstacle]:
    user_id = app.user.user_id
    payload = obstacle.model_dump(by_alias=True, mode="json", exclude_none=True)

    def produce() -> Response[Any]:
        return _child_response(Obstacle, logic.add_obstacle(user_id, plan_id, payload, utc_now()), 201)

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation=f"add_obstacle:{plan_id}",
        key=idempotency_key,
        payload=payload,
        produce=produce,
        id_field="obstacleId",
    )


@app.get(
    "/v1/me/plans/<planId>/obstacles",
    operation_id="listObstacles",
    tags=["Plans"],
    summary="The obstacles named in my plan, oldest first (one read, with the plan)",
    responses={200: {"description": "Obstacles"}, **problem_responses(404)},
)
def list_obstacles(plan_id: PlanId) -> Page[Obstacle]:
    found = logic.read_plan(app.user.user_id, plan_id)
    return Page[Obstacle](items=[Obstacle.model_validate(o) for o in found.obstacles], next_cursor=None)


@app.patch(
    "/v1/me/plans/<planId>/obstacles/<obstacleId>",
    operation_id="updateObstacle",
    tags=["Plans"],
    summary="Change an obstacle of my plan, e.g. my response to it (JSON Merge Patch)",
    responses={200: {"description": "The obstacle"}, **problem_responses(404, 409, 412, 422)},
)
def patch_obstacle(
    plan_id: PlanId,
    obstacle_id: ObstacleId,
    patch: Annotated[ObstaclePatch, Body()],
    if_match: IfMatch = None,
) -> Response[Obstacle]:
    with _on_stale(plan_id, _obstacle_shown(plan_id, obstacle_id), Obstacle):
        changed = logic.patch_child(
            app.user.user_id,
            plan_id,
            obstacle_id,
            patch.model_dump(by_alias=True, mode="json", exclude_unset=True),
            utc_now(),
            obstacle=True,
            if_match=if_match,
            check_version=check_if_match,
            validate=_document(ObstacleInput),
        )
    return _child_response(Obstacle, changed)


def _reminder_response(found: tuple[dict[str, Any], int, bool]) -> Response[Reminder]:
    reminder, version, created = found
    body = Reminder.model_validate(reminder).model_dump(by_alias=True, mode="json", exclude_none=True)
    return json_response(201 if created else 200, body, {"ETag": etag(version)})


_REMINDER_ANSWERS = {
    200: {"description": "Replaced"},
    201: {"description": "Set"},
    **problem_responses(404, 409, 412, 422),
}


@app.put(
    "/v1/me/plans/<planId>/reminder",
    operation_id="setPlanReminder",
    tags=["Reminders"],
    summary="Set (or replace) my plan's reminder: an RFC 5545 rule in my own time",
    description=recurrence.SUPPORTED_DESCRIPTION,
    responses=_REMINDER_ANSWERS,
)
def set_plan_reminder(
    plan_id: PlanId, reminder: Annotated[ReminderInput, Body()], if_match: IfMatch = None
) -> Response[Reminder]:
    payload = reminder.model_dump(by_alias=True, mode="json", exclude_none=True)
    with _on_stale(plan_id, _reminder_shown(plan_id, None), Reminder):
        return _reminder_response(
            reminders.set_reminder(
                app.user.user_id,
                plan_id,
                None,
                payload,
                utc_now(),
                if_match=if_match,
                check_version=check_if_match,
            )
        )


@app.put(
    "/v1/me/plans/<planId>/items/<itemId>/reminder",
    operation_id="setItemReminder",
    tags=["Reminders"],
    summary="Set (or replace) the reminder of one item of my plan",
    description=recurrence.SUPPORTED_DESCRIPTION,
    responses=_REMINDER_ANSWERS,
)
def set_item_reminder(
    plan_id: PlanId, item_id: ItemId, reminder: Annotated[ReminderInput, Body()], if_match: IfMatch = None
) -> Response[Reminder]:
    payload = reminder.model_dump(by_alias=True, mode="json", exclude_none=True)
    with _on_stale(plan_id, _reminder_shown(plan_id, item_id), Reminder):
        return _reminder_response(
            reminders.set_reminder(
                app.user.user_id,
                plan_id,
                item_id,
                payload,
                utc_now(),
                if_match=if_match,
                check_version=check_if_match,
            )
        )


@app.delete(
    "/v1/me/plans/<planId>/reminder",
    operation_id="removePlanReminder",
    tags=["Reminders"],
    summary="Remove my plan's reminder",
    responses={204: {"description": "Removed"}, **problem_responses(404)},
)
def delete_plan_reminder(plan_id: PlanId) -> Response[None]:
    reminders.remove_reminder(app.user.user_id, plan_id, None)
    return Response(status_code=204, body=None)


@app.delete(
    "/v1/me/plans/<planId>/items/<itemId>/reminder",
    operation_id="removeItemReminder",
    tags=["Reminders"],
    summary="Remove an item's reminder",
    responses={204: {"description": "Removed"}, **problem_responses(404)},
)
def delete_item_reminder(plan_id: PlanId, item_id: ItemId) -> Response[None]:
    reminders.remove_reminder(app.user.user_id, plan_id, item_id)
    return Response(status_code=204, body=None)


SuggestionId = Annotated[str, path_id("suggestionId")]


@app.post(
    "/v1/me/plans/<planId>/suggestions/<suggestionId>/accept",
    operation_id="acceptSuggestion",
    tags=["Plans"],
    summary="Take a partner's suggestion: it becomes an item of my plan",
    responses={201: {"description": "The new item"}, **problem_responses(404, 409)},
)
def accept_suggestion(plan_id: PlanId, suggestion_id: SuggestionId) -> Response[PlanItem]:
    changed = logic.accept_suggestion(app.user.user_id, plan_id, suggestion_id, utc_now())
    metrics.add_metric(name="SuggestionsAccepted", unit="Count", value=1)
    response = _child_response(PlanItem, changed, 201)
    response.headers["Location"] = f"/v1/me/plans/{plan_id}/items/{changed.data['itemId']}"
    return response


@app.delete(
    "/v1/me/plans/<planId>/suggestions/<suggestionId>",
    operation_id="dismissSuggestion",
    tags=["Plans"],
    summary="Dismiss a partner's suggestion",
    responses={204: {"description": "Dismissed"}, **problem_responses(404, 409)},
)
def dismiss_suggestion(plan_id: PlanId, suggestion_id: SuggestionId) -> Response[None]:
    logic.dismiss_suggestion(app.user.user_id, plan_id, suggestion_id, utc_now())
    metrics.add_metric(name="SuggestionsDismissed", unit="Count", value=1)
    return Response(status_code=204, body=None)


lambda_handler = lambda_entry(app)
