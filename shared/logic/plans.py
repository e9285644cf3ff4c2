"""Learning plans' use cases: make a plan from a template or from scratch, read, list, delete.

Items, obstacles, reminders and the journey's plan figures build on these (issue 10).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain import practice as practice_rules
from shared.domain.cares import counter_deltas, plan_item_counts, plan_item_link_status
from shared.domain.errors import Conflict, FieldError, IdConflict, InvalidInput, NotFound
from shared.domain.ids import new_id, new_ids
from shared.domain.merge_patch import apply_merge_patch
from shared.domain.plan_templates import find_template
from shared.domain.replay import REFUSALS, request_hash
from shared.domain.timeutil import to_rfc3339
from shared.store import care_links, facts, keys
from shared.store import plans as store
from shared.store import practice as practice_store
from shared.store.notifications import inbox_put

# A change that races with another one on what it carries along (the streak state, a reminder's
# copies) reads again and retries this many times before answering 409.
_ATTEMPTS = 3


def make_plan(user_id: str, request: Mapping[str, Any], now: datetime) -> Changed:
    """A new plan with its items, and its version; `request` is the validated `PlanInput` as
    camelCase JSON.

    From a template: its title and transition unless given, its items first (the person's own
    from then on), and the template's id and version kept. From scratch: a title is needed.

    With `planId` (a ULID the app made offline; the items still take ids made here, in order) a
    replay of the same write answers as the first time, with the plan as it is now; the id of
    another write is an IdConflict. A replay is told apart only when the write is refused (the
    plan exists: the Put's condition fails; or a rule refuses it now, e.g. a care it serves was
    archived since): one Query of the plan then. Ids are each person's: plans live in their
    partition.
    """
    plan_id = request.get("planId")
    if plan_id is None:
        return _make_plan(user_id, request, now, new_id(), None)
    hashed = request_hash(user_id, request, "planId")
    try:
        return _make_plan(user_id, request, now, str(plan_id), hashed)
    except REFUSALS:
        found = store.read_plan(user_id, str(plan_id))
        if found is None:
            raise
        if found.request_hashes.get(keys.plan_sk(str(plan_id))) != hashed:
            raise IdConflict() from None
        whole = {
            **found.plan,
            "items": found.items,
            "obstacles": found.obstacles,
            "suggestions": found.suggestions,
        }
        return Changed(whole, found.version, replayed=True)


def _make_plan(
    user_id: str, request: Mapping[str, Any], now: datetime, plan_id: str, hashed: str | None
) -> Changed:
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
        "planId": plan_id,
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
    store.create_plan(user_id, plan, items, request_hash=hashed)
    return Changed({**plan, "items": items, "obstacles": []}, 1)


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
    """A plan or a child as it is after a write, with its version (its ETag); `replayed` when
    the write was a replay of a create (it changed nothing)."""

    data: dict[str, Any]
    version: int
    replayed: bool = False


def _diff(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: tuple[str, ...]
) -> tuple[dict[str, Any], list[str]]:
    sets = {k: after[k] for k in fields if k in after and after[k] != before.get(k)}
    removes = [k for k in fields if k in before and k not in after]
    return sets, removes


def add_item(user_id: str, plan_id: str, item: Mapping[str, Any], now: datetime) -> Changed:
    """A new item at the end of the plan; it counts for the cares the plan serves.

    With `itemId` (a ULID the app made offline; items sort by id, so it takes its place by the
    time it was made) a replay of the same write answers as the first time, with the item as it
    is now: the plan's read holds its items, so that costs nothing; a replay racing its first
    write is told apart by one GetItem after the Put's condition failed. The id of another
    write is an IdConflict. Ids are the plan's: the same id in another plan is another item.
    """
    found = read_plan(user_id, plan_id)
    item_id = item.get("itemId")
    hashed = request_hash(user_id, item, "itemId") if item_id is not None else None
    if item_id is not None and hashed is not None:
        sk = keys.plan_item_sk(plan_id, str(item_id))
        existing = found.item(str(item_id))
        if existing is not None:
            return _replayed_child(existing, found.versions[sk], found.request_hashes.get(sk), hashed)
    at = to_rfc3339(now)
    fields = {k: v for k, v in item.items() if k != "itemId"}
    made = {
        "status": "todo",
        "progress": 0,
        **fields,
        "itemId": str(item_id) if item_id is not None else new_id(),
        "createdAt": at,
        "updatedAt": at,
    }
    counts = plan_item_counts([str(made["status"])])
    cares = care_links.count_for_cares(user_id, found.plan.get("careIds", []), counts, at)
    sk = keys.plan_item_sk(plan_id, made["itemId"])
    try:
        store.add_child(user_id, plan_id, sk, "plan-item", made, at, [("cares", cares)], request_hash=hashed)
    except store.ChildIdTaken:
        got = store.get_item(user_id, plan_id, str(made["itemId"])) if hashed is not None else None
        if got is None or hashed is None:
            raise
        return _replayed_child(*got, hashed)
    return Changed(made, 1)


def _replayed_child(child: dict[str, Any], version: int, kept: str | None, hashed: str) -> Changed:
    """A replay of an item's or an obstacle's create answers with it as it is now; another
    write's id is a 409 (`IdConflict`)."""
    if kept != hashed:
        raise IdConflict()
    return Changed(child, version, replayed=True)


def add_obstacle(user_id: str, plan_id: str, obstacle: Mapping[str, Any], now: datetime) -> Changed:
    """A cliff, barrier or dragon named in the plan.

    With `obstacleId` (a ULID the app made offline) a replay of the same write answers as the
    first time, with the obstacle as it is now, as `add_item` does: told apart from the plan's
    read, or by one GetItem after the Put's condition failed (a replay racing its first write).
    """
    found = read_plan(user_id, plan_id)
    obstacle_id = obstacle.get("obstacleId")
    hashed = request_hash(user_id, obstacle, "obstacleId") if obstacle_id is not None else None
    if obstacle_id is not None and hashed is not None:
        sk = keys.plan_obstacle_sk(plan_id, str(obstacle_id))
        existing = found.obstacle(str(obstacle_id))
        if existing is not None:
            return _replayed_child(existing, found.versions[sk], found.request_hashes.get(sk), hashed)
    at = to_rfc3339(now)
    made = {
        **{k: v for k, v in obstacle.items() if k != "obstacleId"},
        "obstacleId": str(obstacle_id) if obstacle_id is not None else new_id(),
        "createdAt": at,
        "updatedAt": at,
    }
    sk = keys.plan_obstacle_sk(plan_id, made["obstacleId"])
    try:
        store.add_child(user_id, plan_id, sk, "plan-obstacle", made, at, request_hash=hashed)
    except store.ChildIdTaken:
        got = store.get_obstacle(user_id, plan_id, str(made["obstacleId"])) if hashed is not None else None
        if got is None or hashed is None:
            raise
        return _replayed_child(*got, hashed)
    return Changed(made, 1)


def settled(item: Mapping[str, Any]) -> bool:
    """Nothing is left to remind of: an item other than a practice that is done or skipped (a
    practice is done again on other days)."""
    return item.get("kind") != "practice" and item.get("status") in ("done", "skipped")


def _item_effects(
    user_id: str,
    found: store.StoredPlan,
    plan_id: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    patch: Mapping[str, Any],
    at: str,
    now: datetime,
) -> tuple[bool, list[tuple[str, list[dict[str, Any]]]]]:
    """What a change to an item carries along: (done now?, extra transaction items).

    An item other than a practice is done when its status becomes `done`: it counts in the
    journey's month (the person's own time zone). A practice is practised whenever a change sets
    its status to `done` (again, on another day): that local day counts in the journey's practice
    days and streaks. Either way the plan and the item keep `lastDoneAt`, and the reminders of
    the item and the plan keep copies (`title`, `settled`, `lastDoneAt`), so the dispatcher
    decides `onlyIfNotDone` from the due index alone.
    """
    practised = after.get("kind") == "practice" and patch.get("status") == "done"
    finished = after.get("kind") != "practice" and after.get("status") == "done" != before.get("status")
    done = practised or finished
    extra: list[tuple[str, list[dict[str, Any]]]] = []
    if done:
        context = practice_store.context(user_id)
        day = practice_rules.practice_day(now, ZoneInfo(context.zone))
        month = practice_rules.month_key(day)
        extra.append(
            (
                "journey",
                [
                    practice_store.month_update(
                        user_id, month, items_done=1 if finished else 0, day=day if practised else None
                    )
                ],
            )
        )
        if practised:
            state = practice_rules.add_practice_day(context.streak, day)
            if state is None:  # a day before the last: only the days can tell
                months = practice_store.all_practice_months(user_id)
                months[month] = months.get(month, 0) | practice_rules.month_bits([day], month)
                state = practice_rules.state_from_months(months)
            if state != context.streak:
                extra.append(("streak", [practice_store.streak_put(user_id, state, context.streak_version)]))
    # The plan's cares count its items by status, and any move of one (a status, progress, a
    # practice) is activity: a care whose items move is not neglected.
    was, now_is = (plan_item_link_status(str(i.get("status", "todo"))) for i in (before, after))
    if done or any(after.get(f) != before.get(f) for f in ("status", "progress")):
        deltas = counter_deltas("plan_item", was, now_is)
        cares = care_links.count_for_cares(user_id, found.plan.get("careIds", []), deltas, at)
        extra.append(("cares", cares))
    if done:  # the learning record partners read as xAPI statements
        fields = {
            "planId": plan_id,
            "itemId": before["itemId"],
            "title": after.get("title"),
            "itemKind": after.get("kind"),
        }
        extra.append(
            (
                "facts",
                [facts.fact_put(user_id, "practice" if practised else "plan-item-completed", now, fields)],
            )
        )
    item_reminder = keys.plan_reminder_sk(plan_id, str(before["itemId"]))
    if item_reminder in found.reminders:
        copies: dict[str, Any] = {}
        if after.get("title") != before.get("title"):
            copies["title"] = after["title"]
        if settled(after) != settled(before):
            copies["settled"] = settled(after)
        if done:
            copies["lastDoneAt"] = at
        if copies:
            extra.append(("reminder", [store.reminder_follow(user_id, item_reminder, copies)]))
    plan_reminder = keys.plan_reminder_sk(plan_id)
    if done and plan_reminder in found.reminders:
        extra.append(("reminder", [store.reminder_follow(user_id, plan_reminder, {"lastDoneAt": at})]))
    return done, extra


def patch_child(
    user_id: str,
    plan_id: str,
    child_id: str,
    patch: Mapping[str, Any],
    now: datetime,
    *,
    obstacle: bool,
    if_match: str | None,
    check_version: Callable[[str | None, int, Any], None],
    validate: Callable[[dict[str, Any]], dict[str, Any]],
) -> Changed:
    """Merge-patch an item or an obstacle; `validate` checks the merged document as a whole."""
    for _ in range(_ATTEMPTS):
        try:
            return _patch_child_once(
                user_id,
                plan_id,
                child_id,
                patch,
                now,
                obstacle=obstacle,
                if_match=if_match,
                check_version=check_version,
                validate=validate,
            )
        except store.Raced:
            continue
    raise Conflict("The plan is being changed by another request; retry.")


def _patch_child_once(
    user_id: str,
    plan_id: str,
    child_id: str,
    patch: Mapping[str, Any],
    now: datetime,
    *,
    obstacle: bool,
    if_match: str | None,
    check_version: Callable[[str | None, int, Any], None],
    validate: Callable[[dict[str, Any]], dict[str, Any]],
) -> Changed:
    found = read_plan(user_id, plan_id)
    current = found.obstacle(child_id) if obstacle else found.item(child_id)
    if current is None:
        raise NotFound("No such obstacle in this plan." if obstacle else "No such item in this plan.")
    sk = keys.plan_obstacle_sk(plan_id, child_id) if obstacle else keys.plan_item_sk(plan_id, child_id)
    version = found.versions[sk]
    check_version(if_match, version, found)
    fixed = ("itemId", "obstacleId", "createdAt", "lastDoneAt")
    fields = tuple(f for f in (store.OBSTACLE_FIELDS if obstacle else store.ITEM_FIELDS) if f not in fixed)
    editable = {k: v for k, v in current.items() if k in fields and k != "updatedAt"}
    at = to_rfc3339(now)
    after = {**validate(apply_merge_patch(editable, dict(patch))), "updatedAt": at}
    sets, removes = _diff(current, after, fields)
    done, extra = (
        (False, []) if obstacle else _item_effects(user_id, found, plan_id, current, after, patch, at, now)
    )
    kept = {k: v for k, v in current.items() if k in fixed}
    if done:
        sets["lastDoneAt"] = kept["lastDoneAt"] = at
    store.update_child(user_id, plan_id, sk, sets, removes, version, at, done=done, extra=extra)
    return Changed({**kept, **after}, version + 1)


def delete_item(
    user_id: str,
    plan_id: str,
    item_id: str,
    now: datetime,
    *,
    if_match: str | None,
    check_version: Callable[[str | None, int, Any], None],
) -> None:
    """Remove an item (and its reminder) from the plan, and its count from the plan's cares."""
    for _ in range(_ATTEMPTS):
        found = read_plan(user_id, plan_id)
        item = found.item(item_id)
        if item is None:
            raise NotFound("No such item in this plan.")
        sk = keys.plan_item_sk(plan_id, item_id)
        check_version(if_match, found.versions[sk], found)
        at = to_rfc3339(now)
        counts = plan_item_counts([str(item.get("status", "todo"))], -1)
        cares = care_links.count_for_cares(user_id, found.plan.get("careIds", []), counts, at)
        had_reminder = keys.plan_reminder_sk(plan_id, item_id) in found.reminders
        try:
            store.delete_child(
                user_id,
                plan_id,
                sk,
                found.versions[sk],
                at,
                had_reminder=had_reminder,
                extra=[("cares", cares)],
            )
        except store.Raced:
            continue
        return
    raise Conflict("The plan is being changed by another request; retry.")


def patch_plan(
    user_id: str,
    plan_id: str,
    patch: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    check_version: Callable[[str | None, int, Any], None],
    validate: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[dict[str, Any], int]:
    """Merge-patch the plan's own fields; answers the plan (with its items and obstacles) and its
    new version. A new title reaches the plan's reminder (what its push says) in the same write."""
    for _ in range(_ATTEMPTS):
        found = read_plan(user_id, plan_id)
        check_version(if_match, found.version, found)
        own = ("title", "transition", "careIds", "targetDate")
        editable = {k: found.plan[k] for k in own if k in found.plan}
        validated = validate(apply_merge_patch(editable, dict(patch)))
        after = {
            **{k: v for k, v in found.plan.items() if k not in own},
            **validated,
            "updatedAt": to_rfc3339(now),
        }
        sets, removes = _diff(found.plan, after, (*own, "updatedAt"))
        reminder = keys.plan_reminder_sk(plan_id)
        extra = []
        if "title" in sets and reminder in found.reminders:
            extra.append(("reminder", [store.reminder_follow(user_id, reminder, {"title": sets["title"]})]))
        try:
            store.update_plan(user_id, after, sets, removes, found, to_rfc3339(now), extra)
        except store.Raced:
            continue
        return {**after, "items": found.items, "obstacles": found.obstacles}, found.version + 1
    raise Conflict("The plan is being changed by another request; retry.")


# --- suggestions from partners -------------------------------------------------------------------


def suggest(
    user_id: str, plan_id: str, suggestion: Mapping[str, Any], partner: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """A partner suggests an item for my plan: it waits in the plan (counted among its children)
    until I accept or dismiss it, and I am told (my inbox, then a push)."""
    read_plan(user_id, plan_id)
    at = to_rfc3339(now)
    made = {
        **{
            k: suggestion[k]
            for k in ("kind", "title", "detail", "coachName")
            if suggestion.get(k) is not None
        },
        "suggestionId": new_id(),
        "partnerId": partner["partnerId"],
        "partnerName": partner["partnerName"],
        "createdAt": at,
    }
    who = suggestion.get("coachName") or partner["partnerName"]
    inbox = inbox_put(
        user_id,
        kind="plan",
        title=f"{who} suggests an item for your plan"[:120],
        body=str(made["title"]),
        data={"planId": plan_id, "suggestionId": made["suggestionId"]},
        at=at,
    )
    sk = keys.plan_suggestion_sk(plan_id, made["suggestionId"])
    store.add_child(user_id, plan_id, sk, "plan-suggestion", made, at, [("inbox", [inbox])])
    return made


def accept_suggestion(user_id: str, plan_id: str, suggestion_id: str, now: datetime) -> Changed:
    """I take a partner's suggestion: it becomes an item of my plan (counted for its cares)."""
    for _ in range(_ATTEMPTS):
        found = read_plan(user_id, plan_id)
        suggestion = found.suggestion(suggestion_id)
        if suggestion is None:
            raise NotFound("No such suggestion in this plan.")
        sk = keys.plan_suggestion_sk(plan_id, suggestion_id)
        at = to_rfc3339(now)
        item: dict[str, Any] = {
            **{k: suggestion[k] for k in ("kind", "title", "detail") if k in suggestion},
            "status": "todo",
            "progress": 0,
            "itemId": new_id(),
            "createdAt": at,
            "updatedAt": at,
        }
        cares = care_links.count_for_cares(
            user_id, found.plan.get("careIds", []), plan_item_counts(["todo"]), at
        )
        try:
            store.accept_suggestion(user_id, plan_id, sk, item, found.versions[sk], at, [("cares", cares)])
        except store.Raced:
            continue
        return Changed(item, 1)
    raise Conflict("The plan is being changed by another request; retry.")


def dismiss_suggestion(user_id: str, plan_id: str, suggestion_id: str, now: datetime) -> None:
    """I dismiss a partner's suggestion: it is gone from my plan."""
    found = read_plan(user_id, plan_id)
    if found.suggestion(suggestion_id) is None:
        raise NotFound("No such suggestion in this plan.")
    sk = keys.plan_suggestion_sk(plan_id, suggestion_id)
    store.delete_child(user_id, plan_id, sk, found.versions[sk], to_rfc3339(now))
