"""Learning plans in their owner's partition: a plan and its children under one prefix.

The plan is `PLAN#<planId>`, its items `PLAN#<planId>#ITEM#<itemId>` and its obstacles
`PLAN#<planId>#OBSTACLE#<obstacleId>`, so reading a plan whole is one Query (ULIDs have one
length: no plan's prefix is another's). My list of plans reads only the plans, through the
generic list index (`listAll` = `PLANS#<sub>`, `dueKey` = `<createdAt>#<planId>`, the summary
projected), as care links of promises already do, rather than a new index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.domain.cares import plan_item_counts
from shared.domain.errors import Conflict, FieldError, InvalidInput, NotFound, PreconditionFailed
from shared.store import care_links, keys
from shared.store.table import (
    deserialize,
    dynamodb,
    key,
    new_item_put,
    serialize,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction, TransactionCancelled

PLAN_FIELDS = (
    "planId",
    "title",
    "transition",
    "templateId",
    "templateVersion",
    "targetDate",
    "careIds",
    "createdAt",
    "updatedAt",
)
SUMMARY_FIELDS = (
    "planId",
    "title",
    "transition",
    "templateId",
    "targetDate",
    "careIds",
    "createdAt",
    "updatedAt",
)
ITEM_FIELDS = (
    "itemId",
    "kind",
    "title",
    "detail",
    "status",
    "dueDate",
    "progress",
    "reflection",
    "lastDoneAt",
    "createdAt",
    "updatedAt",
)
OBSTACLE_FIELDS = ("obstacleId", "kind", "description", "response", "createdAt", "updatedAt")
SUGGESTION_FIELDS = (
    "suggestionId",
    "kind",
    "title",
    "detail",
    "partnerId",
    "partnerName",
    "coachName",
    "createdAt",
)
# A transaction holds at most 100 items: a plan, its children and the checks must fit one.
MAX_CHILDREN = 90
_LIST_INDEX, _LIST_ATTRIBUTE = keys.PROMISE_LISTS["all"]
Extra = Sequence[tuple[str, list[dict[str, Any]]]]  # (label, transaction items) added to a write


class Raced(Exception):
    """Something a write carries along (a reminder, the streak state) changed since it was read:
    the caller reads again and retries."""


def _raise_unknown_cares(
    error: TransactionCancelled, first: int, checked: Sequence[str], named: Sequence[str]
) -> None:
    """The 422 naming each `careIds.N` (its place in `named`, the plan's list) whose care, one of
    `checked` (their counter updates start at `first`), is not an active care of mine, if any."""
    failed = {
        care_id
        for i, care_id in enumerate(checked)
        if error.codes[first + i : first + i + 1] == ["ConditionalCheckFailed"]
    }
    bad = [
        FieldError("body", f"careIds.{i}", "not_found", "must be one of your active cares")
        for i, care_id in enumerate(named)
        if care_id in failed
    ]
    if bad:
        raise InvalidInput("Some cares are not active cares of yours.", bad) from error


def _statuses(items: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(i.get("status", "todo")) for i in items]


class PlanIdTaken(Conflict):
    """The new plan's id exists already (a replay of its create, or another write's id)."""


def create_plan(
    user_id: str,
    plan: dict[str, Any],
    items: Sequence[dict[str, Any]],
    *,
    request_hash: str | None = None,
) -> None:
    """One transaction: the plan, its items, its items counted for each care it serves (each an
    active care of mine, a 422 naming `careIds.N` otherwise), and my account check.
    `request_hash`: the app made the plan's id (`shared.domain.replay`); PlanIdTaken when it
    exists."""
    pk = keys.user_pk(user_id)
    header = {
        "PK": pk,
        "SK": keys.plan_sk(plan["planId"]),
        "entity": "plan",
        "version": 1,
        "childCount": len(items),
        **plan,
        _LIST_ATTRIBUTE: keys.plan_list(user_id),
        "dueKey": f"{plan['createdAt']}#{plan['planId']}",
        "summary": {k: plan[k] for k in SUMMARY_FIELDS if k in plan},
    }
    if request_hash is not None:
        header["requestHash"] = request_hash
    tx = Transaction()
    tx.add("plan", [new_item_put(header)])
    for item in items:
        child = {"PK": pk, "SK": keys.plan_item_sk(plan["planId"], item["itemId"]), "entity": "plan-item"}
        tx.add("items", [new_item_put({**child, "planId": plan["planId"], "version": 1, **item})])
    care_ids = list(plan.get("careIds", []))
    first_care = len(tx.items)
    counts = plan_item_counts(_statuses(items))
    tx.add(
        "cares", care_links.count_for_cares(user_id, care_ids, counts, plan["createdAt"], require_active=True)
    )
    tx.require_account(user_id)
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("plan"):
            raise PlanIdTaken("A plan with this id exists already.") from error
        _raise_unknown_cares(error, first_care, care_ids, care_ids)
        raise Conflict("The plan could not be made; retry.") from error


@dataclass
class StoredPlan:
    """A plan as one Query read it: the plan, its items and obstacles (oldest first), keys."""

    plan: dict[str, Any]
    version: int
    items: list[dict[str, Any]] = field(default_factory=list)
    obstacles: list[dict[str, Any]] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)  # waiting for the person
    keys: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)  # child SK -> its version (its ETag)
    reminders: dict[str, dict[str, Any]] = field(default_factory=dict)  # SK -> the plan's or an item's
    request_hashes: dict[str, str] = field(default_factory=dict)  # child SK -> its create's, if app-made
    last_done_at: str | None = None  # when an item of the plan was last done or practised
    child_count: int = 0  # items, obstacles and reminders (at most MAX_CHILDREN)

    def item(self, item_id: str) -> dict[str, Any] | None:
        """One of the plan's items, or None."""
        return next((i for i in self.items if i["itemId"] == item_id), None)

    def suggestion(self, suggestion_id: str) -> dict[str, Any] | None:
        """One of the plan's waiting suggestions, or None."""
        return next((s for s in self.suggestions if s["suggestionId"] == suggestion_id), None)

    def obstacle(self, obstacle_id: str) -> dict[str, Any] | None:
        """One of the plan's obstacles, or None."""
        return next((o for o in self.obstacles if o["obstacleId"] == obstacle_id), None)


def read_plan(user_id: str, plan_id: str) -> StoredPlan | None:
    """Query PK = USER#<sub> AND begins_with(SK, PLAN#<planId>), consistent: the plan with its
    items and obstacles (all pages; a plan has at most MAX_CHILDREN). None when not mine."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.user_pk(user_id)},
            ":prefix": {"S": keys.plan_sk(plan_id)},
        },
        "ConsistentRead": True,
    }
    raw: list[dict[str, Any]] = []
    while True:
        with throttling_as_unavailable():
            response = dynamodb().query(**params)
        raw += [deserialize(i) for i in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            break
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    header = next((i for i in raw if i.get("entity") == "plan"), None)
    if header is None:
        return None
    found = StoredPlan({k: header[k] for k in PLAN_FIELDS if k in header}, int(header["version"]))
    found.last_done_at = header.get("lastDoneAt")
    found.child_count = int(header.get("childCount", 0))
    for item in raw:
        found.keys.append(key(str(item["PK"]), str(item["SK"])))
        found.versions[str(item["SK"])] = int(item.get("version", 1))
        if item.get("requestHash"):
            found.request_hashes[str(item["SK"])] = str(item["requestHash"])
        if item.get("entity") == "plan-item":
            found.items.append({k: item[k] for k in ITEM_FIELDS if k in item})
        elif item.get("entity") == "plan-obstacle":
            found.obstacles.append({k: item[k] for k in OBSTACLE_FIELDS if k in item})
        elif item.get("entity") == "plan-suggestion":
            found.suggestions.append({k: item[k] for k in SUGGESTION_FIELDS if k in item})
        elif item.get("entity") == "plan-reminder":
            found.reminders[str(item["SK"])] = {k: item[k] for k in REMINDER_FIELDS if k in item}
    return found


def list_plans(
    user_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One Query of the list index (`PLANS#<sub>`), newest first: each plan's summary."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": _LIST_INDEX,
        "KeyConditionExpression": "#list = :list",
        "ExpressionAttributeNames": {"#list": _LIST_ATTRIBUTE},
        "ExpressionAttributeValues": {":list": {"S": keys.plan_list(user_id)}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start:
        params["ExclusiveStartKey"] = start
    with throttling_as_unavailable():
        response = dynamodb().query(**params)
    summaries = [deserialize(i)["summary"] for i in response.get("Items", [])]
    return summaries, response.get("LastEvaluatedKey")


def delete_plan(user_id: str, stored: StoredPlan, plan_id: str, at: str) -> None:
    """One transaction deleting the plan (conditioned on the version read), its children and
    reminders (at most MAX_CHILDREN in all, so it fits), and its items' counts on its cares."""
    tx = Transaction()
    tx.add(
        "plan",
        [
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": key(keys.user_pk(user_id), keys.plan_sk(plan_id)),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": {"N": str(stored.version)}},
                }
            }
        ],
    )
    header_key = key(keys.user_pk(user_id), keys.plan_sk(plan_id))
    children = [k for k in stored.keys if k != header_key]
    tx.add("children", [{"Delete": {"TableName": table_name(), "Key": k}} for k in children])
    counts = plan_item_counts(_statuses(stored.items), -1)
    tx.add("cares", care_links.count_for_cares(user_id, stored.plan.get("careIds", []), counts, at))
    try:
        tx.commit()
    except TransactionCancelled as error:
        raise PreconditionFailed("The plan changed since it was read; read it again.") from error


# --- changes after creation: each bumps the plan's version (its ETag covers its children) -------


def _plan_touch(user_id: str, plan_id: str, children: int, at: str, *, done: bool = False) -> dict[str, Any]:
    """The plan's side of a change to a child: its version, count, `updatedAt`, and `lastDoneAt`
    when an item was just done or practised."""
    done_set = ", lastDoneAt = :at" if done else ""
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": key(keys.user_pk(user_id), keys.plan_sk(plan_id)),
        "UpdateExpression": f"SET updatedAt = :at, #summary.updatedAt = :at{done_set} "
        "ADD version :one, childCount :n",
        "ConditionExpression": "attribute_exists(PK)",
        "ExpressionAttributeNames": {"#summary": "summary"},
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":n": {"N": str(children)}, ":at": {"S": at}},
    }
    if children > 0:
        update["ConditionExpression"] += " AND childCount < :max"
        update["ExpressionAttributeValues"][":max"] = {"N": str(MAX_CHILDREN)}
    return {"Update": update}


class ChildIdTaken(Conflict):
    """A new child's id exists already (a replay of its create, or another write's id)."""


def _commit(tx: Transaction, user_id: str) -> None:
    tx.require_account(user_id)
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("new-child"):
            raise ChildIdTaken("Something with this id exists already.") from error
        if error.failed_on("plan"):
            raise Conflict(
                f"The plan is gone, or holds {MAX_CHILDREN} items and obstacles already."
            ) from error
        if error.failed_on("child"):
            raise PreconditionFailed("It changed since it was read; read the plan again.") from error
        if error.failed_on("reminder") or error.failed_on("streak"):
            raise Raced() from error
        raise Conflict("The plan is being changed by another request; retry.") from error


def add_child(
    user_id: str,
    plan_id: str,
    sk: str,
    entity: str,
    child: dict[str, Any],
    at: str,
    extra: Extra = (),
    *,
    request_hash: str | None = None,
) -> None:
    """Put a new item or obstacle under the plan, in one transaction with the plan's version and
    count (at most MAX_CHILDREN), what it carries along (`extra`) and my account check.
    `request_hash`: the app made the id (`shared.domain.replay`); ChildIdTaken when it exists."""
    tx = Transaction()
    item = {"PK": keys.user_pk(user_id), "SK": sk, "entity": entity, "planId": plan_id, "version": 1, **child}
    if request_hash is not None:
        item["requestHash"] = request_hash
    tx.add("new-child", [new_item_put(item)])
    tx.add("plan", [_plan_touch(user_id, plan_id, +1, at)])
    for label, items in extra:
        tx.add(label, items)
    _commit(tx, user_id)


def get_item(user_id: str, plan_id: str, item_id: str) -> tuple[dict[str, Any], int, str | None] | None:
    """GetItem (consistent) of one item of my plan: (the item, its version, the `requestHash`
    of its create when the app made its id), or None."""
    return _get_child(user_id, keys.plan_item_sk(plan_id, item_id), "plan-item", ITEM_FIELDS)


def get_obstacle(
    user_id: str, plan_id: str, obstacle_id: str
) -> tuple[dict[str, Any], int, str | None] | None:
    """GetItem (consistent) of one obstacle of my plan, as `get_item` answers an item."""
    return _get_child(user_id, keys.plan_obstacle_sk(plan_id, obstacle_id), "plan-obstacle", OBSTACLE_FIELDS)


def _get_child(
    user_id: str, sk: str, entity: str, fields: tuple[str, ...]
) -> tuple[dict[str, Any], int, str | None] | None:
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(), Key=key(keys.user_pk(user_id), sk), ConsistentRead=True
        )
    item = deserialize(response.get("Item", {}))
    if item.get("entity") != entity:
        return None
    hashed = item.get("requestHash")
    return (
        {k: item[k] for k in fields if k in item},
        int(item["version"]),
        str(hashed) if hashed else None,
    )


def accept_suggestion(
    user_id: str,
    plan_id: str,
    suggestion_sk: str,
    item: dict[str, Any],
    read_version: int,
    at: str,
    extra: Extra = (),
) -> None:
    """A suggestion becomes an item: one transaction deletes it (if still there) and puts the
    item in its place (the plan's count unchanged), with what the item carries along."""
    pk = keys.user_pk(user_id)
    tx = Transaction()
    delete = {
        "TableName": table_name(),
        "Key": key(pk, suggestion_sk),
        "ConditionExpression": "version = :read",
        "ExpressionAttributeValues": {":read": {"N": str(read_version)}},
    }
    tx.add("child", [{"Delete": delete}])
    sk = keys.plan_item_sk(plan_id, item["itemId"])
    tx.add(
        "item",
        [new_item_put({"PK": pk, "SK": sk, "entity": "plan-item", "planId": plan_id, "version": 1, **item})],
    )
    tx.add("plan", [_plan_touch(user_id, plan_id, 0, at)])
    for label, items in extra:
        tx.add(label, items)
    _commit(tx, user_id)


def _sets(fields: dict[str, Any], removes: Sequence[str]) -> tuple[str, dict[str, str], dict[str, Any]]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {":one": {"N": "1"}}
    sets = []
    for i, (name, value) in enumerate(fields.items()):
        names[f"#f{i}"] = name
        values[f":f{i}"] = serialize({"v": value})["v"]
        sets.append(f"#f{i} = :f{i}")
    expression = ("SET " + ", ".join(sets) + " ") if sets else ""
    if removes:
        parts = []
        for i, name in enumerate(removes):
            names[f"#r{i}"] = name
            parts.append(f"#r{i}")
        expression += "REMOVE " + ", ".join(parts) + " "
    return expression + "ADD version :one", names, values


def update_child(
    user_id: str,
    plan_id: str,
    sk: str,
    fields: dict[str, Any],
    removes: Sequence[str],
    read_version: int,
    at: str,
    *,
    done: bool = False,
    extra: Extra = (),
) -> None:
    """Change an item or obstacle if it still has the version read (412 otherwise), with what
    the change carries along (`extra`: its reminders' copies, the journey's figures); `done`
    when an item was just done or practised. Raced when something carried along moved."""
    expression, names, values = _sets(fields, removes)
    values[":read"] = {"N": str(read_version)}
    tx = Transaction()
    update = {
        "TableName": table_name(),
        "Key": key(keys.user_pk(user_id), sk),
        "UpdateExpression": expression,
        "ConditionExpression": "version = :read",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    tx.add("child", [{"Update": update}])
    tx.add("plan", [_plan_touch(user_id, plan_id, 0, at, done=done)])
    for label, items in extra:
        tx.add(label, items)
    _commit(tx, user_id)


def delete_child(
    user_id: str,
    plan_id: str,
    sk: str,
    read_version: int,
    at: str,
    *,
    had_reminder: bool = False,
    extra: Extra = (),
) -> None:
    """Delete an item or obstacle if it still has the version read, and an item's reminder with
    it (`had_reminder`: whether the plan's read saw one; Raced if that changed meanwhile)."""
    tx = Transaction()
    tx.add(
        "child",
        [
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": key(keys.user_pk(user_id), sk),
                    "ConditionExpression": "version = :read",
                    "ExpressionAttributeValues": {":read": {"N": str(read_version)}},
                }
            }
        ],
    )
    # An item's reminder goes with it; a reminder set since the read must not be left behind.
    reminder = {
        "TableName": table_name(),
        "Key": key(keys.user_pk(user_id), sk + keys.REMINDER_SUFFIX),
        "ConditionExpression": "attribute_exists(PK)" if had_reminder else "attribute_not_exists(PK)",
    }
    tx.add("reminder", [{"Delete": reminder}])
    tx.add("plan", [_plan_touch(user_id, plan_id, -2 if had_reminder else -1, at)])
    for label, items in extra:
        tx.add(label, items)
    _commit(tx, user_id)


def update_plan(
    user_id: str,
    plan_after: dict[str, Any],
    fields: dict[str, Any],
    removes: Sequence[str],
    stored: StoredPlan,
    at: str,
    extra: Extra = (),
) -> None:
    """Change the plan's own fields (and its listed summary, made from `plan_after`, the plan as it
    will be) if it has the version read. When its cares change, its items' counts leave the cares
    it no longer serves and reach the new ones (each an active care of mine: a 422 naming
    `careIds.N` otherwise)."""
    plan_id = str(plan_after["planId"])
    summary = {k: plan_after[k] for k in SUMMARY_FIELDS if k in plan_after}
    expression, names, values = _sets({**fields, "summary": summary}, removes)
    values[":read"] = {"N": str(stored.version)}
    tx = Transaction()
    update = {
        "TableName": table_name(),
        "Key": key(keys.user_pk(user_id), keys.plan_sk(plan_id)),
        "UpdateExpression": expression,
        "ConditionExpression": "version = :read",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    tx.add("header", [{"Update": update}])
    before = list(stored.plan.get("careIds", []))
    after = list(plan_after.get("careIds", []))
    added = [c for c in after if c not in before]
    left = [c for c in before if c not in after]
    statuses = _statuses(stored.items)
    first_care = len(tx.items)
    tx.add(
        "cares",
        care_links.count_for_cares(user_id, added, plan_item_counts(statuses), at, require_active=True),
    )
    tx.add("cares", care_links.count_for_cares(user_id, left, plan_item_counts(statuses, -1), at))
    for label, items in extra:
        tx.add(label, items)
    tx.require_account(user_id)
    try:
        tx.commit()
    except TransactionCancelled as error:
        _raise_unknown_cares(error, first_care, added, after)
        if error.failed_on("header"):
            raise PreconditionFailed("The plan changed since it was read; read it again.") from error
        if error.failed_on("reminder"):
            raise Raced() from error
        raise Conflict("The plan is being changed by another request; retry.") from error


# --- reminders ---------------------------------------------------------------------------------

REMINDER_FIELDS = (
    "rrule",
    "mode",
    "timeZone",
    "onlyIfNotDone",
    "paused",
    "nextFireAt",
    "planId",
    "itemId",
    "title",
    "settled",
    "lastDoneAt",
    "createdAt",
    "updatedAt",
)


def reminder_follow(user_id: str, sk: str, sets: dict[str, Any]) -> dict[str, Any]:
    """A transaction's Update of a reminder's copies of what it reminds of (`title`, `settled`,
    `lastDoneAt`), so the dispatcher needs nothing but the due index; the reminder must still be
    there (Raced otherwise: it was deleted meanwhile)."""
    expression, names, values = _sets(sets, ())
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(keys.user_pk(user_id), sk),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _plan_sk_of(sk: str) -> str:
    """The plan's SK of one of its children or reminders (`PLAN#<planId>#...`)."""
    return keys.plan_sk(sk.removeprefix(keys.PLAN_PREFIX).split("#", 1)[0])


def _count_update(pk: str, plan_sk: str, delta: int, version: int | None = None) -> dict[str, Any]:
    """The plan's `childCount` moved by a reminder (reminders count: deleting a plan whole must
    fit one transaction), and on a new one at most MAX_CHILDREN; `version` when it must not have
    changed since it was read."""
    condition = "attribute_exists(PK)"
    values: dict[str, Any] = {":n": {"N": str(delta)}}
    if delta > 0:
        condition += " AND childCount < :max"
        values[":max"] = {"N": str(MAX_CHILDREN)}
    if version is not None:
        condition += " AND version = :owner"
        values[":owner"] = {"N": str(version)}
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(pk, plan_sk),
            "UpdateExpression": "ADD childCount :n",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
    }


def save_reminder(
    user_id: str,
    sk: str,
    reminder: dict[str, Any],
    read_version: int | None,
    owner_version: int | None = None,
) -> int:
    """Put a plan's or an item's reminder (a new one, which counts among the plan's children, or
    over the version read), with the due index's keys while it will fire; answers its new
    version. The plan (or the item) must still be there, with `owner_version` when given (the
    reminder copies from it): 404 when it is gone, Raced when it changed."""
    pk = keys.user_pk(user_id)
    version = (read_version or 0) + 1
    item = {"PK": pk, "SK": sk, "entity": "plan-reminder", **reminder, "version": version}
    if reminder.get("nextFireAt") and not reminder.get("paused"):
        item["dueShard"] = keys.due_shard(pk, sk)
        item["dueAt"] = f"{reminder['nextFireAt']}#{pk}#{sk}"
    put: dict[str, Any] = {"TableName": table_name(), "Item": serialize(item)}
    if read_version is None:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "version = :read"
        put["ExpressionAttributeValues"] = {":read": {"N": str(read_version)}}
    owner_sk = sk.removesuffix(keys.REMINDER_SUFFIX)
    plan_sk = _plan_sk_of(sk)
    tx = Transaction()
    tx.add("reminder", [{"Put": put}])
    if read_version is None and owner_sk == plan_sk:  # the plan's own, new: one Update checks all
        tx.add("owner", [_count_update(pk, plan_sk, +1, owner_version)])
    else:
        check: dict[str, Any] = {
            "TableName": table_name(),
            "Key": key(pk, owner_sk),
            "ConditionExpression": "attribute_exists(PK)",
        }
        if owner_version is not None:
            check["ConditionExpression"] += " AND version = :owner"
            check["ExpressionAttributeValues"] = {":owner": {"N": str(owner_version)}}
        tx.add("owner", [{"ConditionCheck": check}])
        if read_version is None:
            tx.add("owner", [_count_update(pk, plan_sk, +1)])
    tx.require_account(user_id)
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("owner"):
            if owner_version is not None:
                raise Raced() from error
            raise NotFound("No such plan or item.") from error
        if error.failed_on("reminder"):
            raise PreconditionFailed("The reminder changed since it was read; read it again.") from error
        raise Conflict("The reminder is being changed by another request; retry.") from error
    return version


def delete_reminder(user_id: str, sk: str) -> None:
    """Delete a reminder and its place among the plan's children; NotFound when there is none."""
    pk = keys.user_pk(user_id)
    tx = Transaction()
    delete = {"TableName": table_name(), "Key": key(pk, sk), "ConditionExpression": "attribute_exists(PK)"}
    tx.add("reminder", [{"Delete": delete}])
    tx.add("plan", [_count_update(pk, _plan_sk_of(sk), -1)])
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("reminder"):
            raise NotFound("No reminder here.") from error
        raise Conflict("The plan is being changed by another request; retry.") from error


def floating_reminders(user_id: str) -> list[tuple[str, dict[str, Any], int]]:
    """Every floating reminder of mine (a Query of my plans' items, filtered): (SK, reminder,
    version). For the rare moment my time zone changes, so reading my plans is fine."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "FilterExpression": "#entity = :reminder AND #mode = :floating",
        "ExpressionAttributeNames": {"#entity": "entity", "#mode": "mode"},
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.user_pk(user_id)},
            ":prefix": {"S": keys.PLAN_PREFIX},
            ":reminder": {"S": "plan-reminder"},
            ":floating": {"S": "floating"},
        },
        "ConsistentRead": True,
    }
    out = []
    while True:
        with throttling_as_unavailable():
            response = dynamodb().query(**params)
        for raw in response.get("Items", []):
            item = deserialize(raw)
            out.append(
                (str(item["SK"]), {k: item[k] for k in REMINDER_FIELDS if k in item}, int(item["version"]))
            )
        if "LastEvaluatedKey" not in response:
            return out
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def due_reminders(shard: int, now: str, limit: int) -> list[dict[str, Any]]:
    """One Query of the due index's shard: the reminders whose `nextFireAt` is at or before
    `now` (RFC 3339), oldest first, at most `limit` (the index projects what firing needs)."""
    with throttling_as_unavailable():
        response = dynamodb().query(
            TableName=table_name(),
            IndexName=keys.DUE_INDEX,
            KeyConditionExpression="dueShard = :shard AND dueAt <= :now",
            ExpressionAttributeValues={
                ":shard": {"S": f"DUE#{shard:02d}"},
                ":now": {"S": f"{now}#~"},  # "~" sorts after every key that follows the time
            },
            Limit=limit,
        )
    return [deserialize(i) for i in response.get("Items", [])]


def advance_reminder(
    item: dict[str, Any], fired_at: str, next_fire_at: str | None, inbox: dict[str, Any] | None
) -> None:
    """Fire a reminder once: move `nextFireAt` on (or out of the due index once it has ended),
    conditioned on the `nextFireAt` read, with the inbox item in the same transaction, and the
    person's account check. A run that lost the race, or an erased account, raises."""
    pk, sk = str(item["PK"]), str(item["SK"])
    values: dict[str, Any] = {":read": {"S": fired_at}, ":one": {"N": "1"}}
    if next_fire_at is None:
        expression = "REMOVE nextFireAt, dueShard, dueAt ADD version :one"
    else:
        expression = "SET nextFireAt = :next, dueAt = :due ADD version :one"
        values[":next"] = {"S": next_fire_at}
        values[":due"] = {"S": f"{next_fire_at}#{pk}#{sk}"}
    tx = Transaction()
    tx.add(
        "reminder",
        [
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": key(pk, sk),
                    "UpdateExpression": expression,
                    "ConditionExpression": "nextFireAt = :read",
                    "ExpressionAttributeValues": values,
                }
            }
        ],
    )
    if inbox is not None:
        tx.add("inbox", [inbox])
    tx.require_account(pk.removeprefix("USER#"))
    tx.commit()
