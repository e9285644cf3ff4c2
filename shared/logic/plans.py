"""Learning plans' use cases: make a plan from a template or from scratch, read, list, delete.

Items, obstacles, reminders and the journey's plan figures build on these (issue 10).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.domain.errors import FieldError, InvalidInput, NotFound
from shared.domain.ids import new_id, new_ids
from shared.domain.plan_templates import find_template
from shared.domain.timeutil import to_rfc3339
from shared.store import plans as store


def make_plan(user_id: str, request: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A new plan with its items; `request` is the validated `PlanInput` as camelCase JSON.

    From a template: its title and transition unless given, its items first (the person's own
    from then on), and the template's id and version kept. From scratch: a title is needed.
    """
    at = to_rfc3339(now)
    template = None
    if request.get("templateId") is not None:
        template = find_template(request["templateId"], request.get("templateVersion"))
        if template is None:
            raise InvalidInput(
                "No published template has that id and version.",
                [
                    FieldError(
                        "body", "templateId", "not_found", "must be a template of GET /v1/learning/templates"
                    )
                ],
            )
    elif request.get("templateVersion") is not None:
        raise InvalidInput(
            "A template version needs a template.",
            [FieldError("body", "templateVersion", "without_template", "give templateId too")],
        )
    elif request.get("title") is None:
        raise InvalidInput(
            "A plan from scratch needs a title.",
            [FieldError("body", "title", "missing", "required without templateId")],
        )
    starting = (
        [{"kind": i.kind, "title": i.title, "detail": i.detail} for i in template.items] if template else []
    )
    wanted = [*starting, *request.get("items", [])]
    if len(wanted) > store.MAX_CHILDREN:
        raise InvalidInput(
            f"A plan holds at most {store.MAX_CHILDREN} items.",
            [FieldError("body", "items", "too_many", f"at most {store.MAX_CHILDREN} with the template's")],
        )
    # Ids in the order given, so the plan reads back in that order (items sort by id).
    items = [
        {"status": "todo", "progress": 0, **item, "itemId": item_id, "createdAt": at, "updatedAt": at}
        for item, item_id in zip(wanted, new_ids(len(wanted)), strict=True)
    ]
    transition = request.get("transition") or (
        {"from": template.from_level, "to": template.to_level} if template else None
    )
    plan = {
        "planId": new_id(),
        "title": request.get("title") or (template.title if template else ""),
        "transition": transition,
        "templateId": template.id if template else None,
        "templateVersion": template.version if template else None,
        "targetDate": request.get("targetDate"),
        "careIds": list(request.get("careIds", [])),
        "createdAt": at,
        "updatedAt": at,
    }
    plan = {k: v for k, v in plan.items() if v is not None}
    store.create_plan(user_id, plan, items)
    return {**plan, "items": items, "obstacles": []}


def read_plan(user_id: str, plan_id: str) -> store.StoredPlan:
    """My plan with its items and obstacles (one Query); NotFound when it is not mine."""
    found = store.read_plan(user_id, plan_id)
    if found is None:
        raise NotFound("No such plan.")
    return found


def plans_from_items(
    plans: list[dict[str, Any]], items: list[dict[str, Any]], obstacles: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Plans as the API shows them, from their items as a Query of my partition read them."""

    def pick(found: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
        return {k: found[k] for k in fields if k in found}

    return [
        {
            **pick(plan, store.PLAN_FIELDS),
            "items": [pick(i, store.ITEM_FIELDS) for i in items if i.get("planId") == plan["planId"]],
            "obstacles": [
                pick(o, store.OBSTACLE_FIELDS) for o in obstacles if o.get("planId") == plan["planId"]
            ],
        }
        for plan in plans
    ]
