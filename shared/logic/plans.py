"""Learning plans' use cases: make a plan from a template or from scratch, read, list, delete.

Items, obstacles, reminders and the journey's plan figures build on these (issue 10).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain.errors import FieldError, InvalidInput, NotFound
from shared.domain.ids import new_id, new_ids
from shared.domain.merge_patch import apply_merge_patch
from shared.domain.plan_templates import find_template
from shared.domain.timeutil import to_rfc3339
from shared.store import keys
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


# --- changes -----------------------------------------------------------------------------------
# Each reads the plan (one Query), checks If-Match against what it changes, and writes one
# transaction that also bumps the plan's version: a plan's ETag covers its items and obstacles.


@dataclass(frozen=True)
class Changed:
    """A child as it is after a write, with its version (its ETag)."""

    data: dict[str, Any]
    version: int


def _diff(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: tuple[str, ...]
) -> tuple[dict[str, Any], list[str]]:
    sets = {k: after[k] for k in fields if k in after and after[k] != before.get(k)}
    removes = [k for k in fields if k in before and k not in after]
    return sets, removes


def add_item(user_id: str, plan_id: str, item: Mapping[str, Any], now: datetime) -> Changed:
    """A new item at the end of the plan."""
    read_plan(user_id, plan_id)
    at = to_rfc3339(now)
    made = {"status": "todo", "progress": 0, **item, "itemId": new_id(), "createdAt": at, "updatedAt": at}
    store.add_child(user_id, plan_id, keys.plan_item_sk(plan_id, made["itemId"]), "plan-item", made, at)
    return Changed(made, 1)


def add_obstacle(user_id: str, plan_id: str, obstacle: Mapping[str, Any], now: datetime) -> Changed:
    """A cliff, barrier or dragon named in the plan."""
    read_plan(user_id, plan_id)
    at = to_rfc3339(now)
    made = {**obstacle, "obstacleId": new_id(), "createdAt": at, "updatedAt": at}
    store.add_child(
        user_id, plan_id, keys.plan_obstacle_sk(plan_id, made["obstacleId"]), "plan-obstacle", made, at
    )
    return Changed(made, 1)


def patch_child(
    user_id: str,
    plan_id: str,
    child_id: str,
    patch: Mapping[str, Any],
    now: datetime,
    *,
    obstacle: bool,
    if_match: str | None,
    check_version: Callable[[str | None, int], None],
    validate: Callable[[dict[str, Any]], dict[str, Any]],
) -> Changed:
    """Merge-patch an item or an obstacle; `validate` checks the merged document as a whole."""
    found = read_plan(user_id, plan_id)
    current = found.obstacle(child_id) if obstacle else found.item(child_id)
    if current is None:
        raise NotFound("No such obstacle in this plan." if obstacle else "No such item in this plan.")
    sk = keys.plan_obstacle_sk(plan_id, child_id) if obstacle else keys.plan_item_sk(plan_id, child_id)
    version = found.versions[sk]
    check_version(if_match, version)
    fixed = ("itemId", "obstacleId", "createdAt")
    fields = tuple(f for f in (store.OBSTACLE_FIELDS if obstacle else store.ITEM_FIELDS) if f not in fixed)
    editable = {k: v for k, v in current.items() if k in fields and k != "updatedAt"}
    at = to_rfc3339(now)
    after = {**validate(apply_merge_patch(editable, dict(patch))), "updatedAt": at}
    sets, removes = _diff(current, after, fields)
    store.update_child(user_id, plan_id, sk, sets, removes, version, at)
    kept = {k: v for k, v in current.items() if k in fixed}
    return Changed({**kept, **after}, version + 1)


def delete_item(
    user_id: str,
    plan_id: str,
    item_id: str,
    now: datetime,
    *,
    if_match: str | None,
    check_version: Callable[[str | None, int], None],
) -> None:
    """Remove an item from the plan."""
    found = read_plan(user_id, plan_id)
    if found.item(item_id) is None:
        raise NotFound("No such item in this plan.")
    sk = keys.plan_item_sk(plan_id, item_id)
    check_version(if_match, found.versions[sk])
    store.delete_child(user_id, plan_id, sk, found.versions[sk], to_rfc3339(now))


def patch_plan(
    user_id: str,
    plan_id: str,
    patch: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    check_version: Callable[[str | None, int], None],
    validate: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[dict[str, Any], int]:
    """Merge-patch the plan's own fields; answers the plan (with its items and obstacles) and its
    new version."""
    found = read_plan(user_id, plan_id)
    check_version(if_match, found.version)
    own = ("title", "transition", "careIds", "targetDate")
    editable = {k: found.plan[k] for k in own if k in found.plan}
    validated = validate(apply_merge_patch(editable, dict(patch)))
    after = {
        **{k: v for k, v in found.plan.items() if k not in own},
        **validated,
        "updatedAt": to_rfc3339(now),
    }
    sets, removes = _diff(found.plan, after, (*own, "updatedAt"))
    store.update_plan(user_id, after, sets, removes, found.version)
    return {**after, "items": found.items, "obstacles": found.obstacles}, found.version + 1
