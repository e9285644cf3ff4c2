"""Promises: the shared promise, its append-only log, each side's membership, the journey.

A promise between two app users is one promise, seen by both: the promise item, its moves and
its assessments live in the promise's own partition `PROMISE#<id>`. Each app-user side has a
membership item in their own partition (`PROMISE#<id>`), which is what their lists show; the
three list indexes and the care links (for `?careId=`) carry the same summary, so a list is a
Query on a key designed for it (by role and state: the state's list, filtered on `myRole`).
Every write is one transaction (`Transaction`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from shared.domain.errors import ServiceUnavailable
from shared.store import keys
from shared.store.table import (
    deserialize,
    dynamodb,
    error_code,
    key,
    new_item_put,
    query_all,
    serialize,
    table_name,
    throttling_as_unavailable,
)

PROMISE_FIELDS = (
    "promiseId",
    "opening",
    "what",
    "conditions",
    "dueAt",
    "size",
    "customer",
    "performer",
    "state",
    "version",
    "customerCareIds",
    "performerCareIds",
    "participants",
    "reportedAt",
    "notSatisfied",
    "assessment",
    "selfAssessment",
    "counterpartLink",
    "createdAt",
    "updatedAt",
)
SUMMARY_FIELDS = ("promiseId", "what", "myRole", "state", "dueAt", "counterpart", "careIds", "updatedAt")
MOVE_FIELDS = ("seq", "act", "role", "by", "actorId", "at", "note", "conditions", "dueAt", "state")


def _path(names: dict[str, str], tag: str, dotted: str) -> str:
    """An attribute path with a placeholder per part (`summary.counterpart` is a nested one)."""
    parts = []
    for j, part in enumerate(dotted.split(".")):
        names[f"#{tag}_{j}"] = part
        parts.append(f"#{tag}_{j}")
    return ".".join(parts)


def _update(
    pk: str,
    sk: str,
    sets: Mapping[str, Any],
    *,
    condition: str | None = None,
    condition_values: Mapping[str, Any] | None = None,
    adds: Mapping[str, int] | None = None,
    appends: Mapping[str, list[Any]] | None = None,
    removes: tuple[str, ...] = (),
) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    set_parts: list[str] = []
    for i, (name, value) in enumerate(sets.items()):
        values[f":s{i}"] = serialize({"v": value})["v"]
        set_parts.append(f"{_path(names, f's{i}', name)} = :s{i}")
    for i, (name, entries) in enumerate((appends or {}).items()):
        names[f"#l{i}"] = name
        values[f":l{i}"] = serialize({"v": entries})["v"]
        values[":empty"] = {"L": []}
        set_parts.append(f"#l{i} = list_append(if_not_exists(#l{i}, :empty), :l{i})")
    add_parts = []
    for i, (name, delta) in enumerate((adds or {}).items()):
        names[f"#a{i}"] = name
        values[f":a{i}"] = {"N": str(delta)}
        add_parts.append(f"#a{i} :a{i}")
    expression = ""
    if set_parts:
        expression += "SET " + ", ".join(set_parts)
    if add_parts:
        expression += " ADD " + ", ".join(add_parts)
    if removes:
        expression += " REMOVE " + ", ".join(_path(names, f"r{i}", name) for i, name in enumerate(removes))
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": key(pk, sk),
        "UpdateExpression": expression.strip(),
        "ExpressionAttributeNames": names,
    }
    if condition:
        update["ConditionExpression"] = condition
        for name, value in (condition_values or {}).items():
            values[name] = serialize({"v": value})["v"]
    if values:
        update["ExpressionAttributeValues"] = values
    return {"Update": update}


# --- items for transactions --------------------------------------------------------------------


def new_promise(
    promise: Mapping[str, Any], owner: str | None, request_hash: str | None = None
) -> dict[str, Any]:
    """Put the promise (a new id). `owner` is set when only one side is an app user, so that
    account erasure finds it through the ByOwner index; `request_hash` when the app made the id
    (`shared.domain.replay`: never shown)."""
    item = {
        "PK": keys.promise_pk(promise["promiseId"]),
        "SK": keys.PROMISE_SK,
        "entity": "promise",
        **promise,
    }
    if owner:
        item["owner"] = owner
    if request_hash is not None:
        item["requestHash"] = request_hash
    return new_item_put(item)


def move_id_put(promise_id: str, move_id: str, seq: int, request_hash: str) -> dict[str, Any]:
    """Put the lookup of a move by the id the app gave it: its sequence number and the hash of
    the write (`shared.domain.replay`). No `entity` and nothing personal: export and lists pass
    it by; it goes with the promise's partition."""
    item = {
        "PK": keys.promise_pk(promise_id),
        "SK": keys.move_id_sk(move_id),
        "seq": seq,
        "requestHash": request_hash,
    }
    return new_item_put(item)


def promise_update(promise_id: str, read_version: int, sets: Mapping[str, Any]) -> dict[str, Any]:
    """Update the promise only if nobody moved it since it was read (its version)."""
    return _update(
        keys.promise_pk(promise_id),
        keys.PROMISE_SK,
        {**sets, "version": read_version + 1},
        condition="version = :read",
        condition_values={":read": read_version},
    )


def new_move(
    promise_id: str, move: Mapping[str, Any], participants: list[str], owner: str | None
) -> dict[str, Any]:
    """Put one move of the log. Its key is its sequence number, so two racing moves cannot both
    be appended; `participants` lets the log be read by its sides in one Query."""
    item = {
        "PK": keys.promise_pk(promise_id),
        "SK": keys.move_sk(int(move["seq"])),
        "entity": "promise-move",
        "promiseId": promise_id,
        "participants": participants,
        **move,
    }
    if owner:
        item["owner"] = owner
    return new_item_put(item)


def new_assessment(
    promise_id: str, role: str, assessment: Mapping[str, Any], owner: str | None
) -> dict[str, Any]:
    """Put an assessment (one per side per promise): the event partner webhooks will carry."""
    item = {
        "PK": keys.promise_pk(promise_id),
        "SK": f"{keys.ASSESSMENT_PREFIX}{role}",
        "entity": "promise-assessment",
        "promiseId": promise_id,
        "role": role,
        **assessment,
    }
    if owner:
        item["owner"] = owner
    return new_item_put(item)


def _list_keys(user_id: str, role: str, state: str, due_at: str, promise_id: str) -> dict[str, str]:
    return {
        "listAll": keys.promise_list(user_id),
        "listRole": keys.promise_list(user_id, role=role),
        "listState": keys.promise_list(user_id, state=state),
        "dueKey": keys.due_key(due_at, promise_id),
    }


# The key of the list index by role and state, gone (its lists read the state's list): an
# update removes it from a membership written before, so no item keeps the dead attribute.
_FORMER_LIST_KEYS = ("listRoleState",)


def new_membership(user_id: str, summary: Mapping[str, Any]) -> dict[str, Any]:
    """Put my side of a promise in my partition, indexed for every list filter."""
    item = {
        "PK": keys.user_pk(user_id),
        "SK": keys.membership_sk(summary["promiseId"]),
        "entity": "promise-membership",
        **summary,
        **_list_keys(user_id, summary["myRole"], summary["state"], summary["dueAt"], summary["promiseId"]),
    }
    return new_item_put(item)


def membership_update(user_id: str, summary: Mapping[str, Any]) -> dict[str, Any]:
    """Update my side after a move: its state, due time and list keys move with it (and the key
    of the former role-and-state index goes)."""
    sets = {
        **{k: summary[k] for k in ("state", "dueAt", "updatedAt") if k in summary},
        **_list_keys(user_id, summary["myRole"], summary["state"], summary["dueAt"], summary["promiseId"]),
    }
    return _update(
        keys.user_pk(user_id),
        keys.membership_sk(summary["promiseId"]),
        sets,
        condition="attribute_exists(PK)",
        removes=_FORMER_LIST_KEYS,
    )


def care_list_attributes(user_id: str, summary: Mapping[str, Any]) -> dict[str, Any]:
    """What a care link of a promise carries so that `?careId=` is one Query: the summary and keys."""
    return {
        "summary": {k: summary[k] for k in SUMMARY_FIELDS if k in summary},
        "dueKey": keys.due_key(summary["dueAt"], summary["promiseId"]),
    }


def journey_update(user_id: str, month: str, deltas: Mapping[str, int]) -> dict[str, Any]:
    """Add to my journey counters of one month (the item is made on first use)."""
    return _update(
        keys.user_pk(user_id),
        keys.journey_sk(month),
        {"entity": "journey-month", "month": month},
        adds=deltas,
    )


# --- reads -------------------------------------------------------------------------------------


def get_promise(promise_id: str) -> dict[str, Any] | None:
    """GetItem PROMISE#<id> / PROMISE (strongly consistent: moves build on it)."""
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(), Key=key(keys.promise_pk(promise_id), keys.PROMISE_SK), ConsistentRead=True
        )
    if "Item" not in response:
        return None
    item = deserialize(response["Item"])
    return {k: item[k] for k in PROMISE_FIELDS if k in item}


def get_promise_and_hash(promise_id: str) -> tuple[dict[str, Any] | None, str | None]:
    """GetItem PROMISE#<id> / PROMISE (consistent): the promise and the `requestHash` of the
    write that opened it, if the app made its id (to tell a replay of that write apart)."""
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(), Key=key(keys.promise_pk(promise_id), keys.PROMISE_SK), ConsistentRead=True
        )
    if "Item" not in response:
        return None, None
    item = deserialize(response["Item"])
    hashed = item.get("requestHash")
    return {k: item[k] for k in PROMISE_FIELDS if k in item}, str(hashed) if hashed else None


def move_replay(promise_id: str, move_id: str) -> tuple[str | None, dict[str, Any] | None]:
    """One consistent BatchGetItem: the `requestHash` of the move the app named `move_id` (None
    when there is none) and the promise as it is now."""
    pk = keys.promise_pk(promise_id)
    wanted = [key(pk, keys.move_id_sk(move_id)), key(pk, keys.PROMISE_SK)]
    with throttling_as_unavailable():
        response = dynamodb().batch_get_item(
            RequestItems={table_name(): {"Keys": wanted, "ConsistentRead": True}}
        )
    if response.get("UnprocessedKeys"):
        raise ServiceUnavailable("The database is busy; retry shortly.", retry_after_seconds=2)
    hashed = None
    promise = None
    for raw in response.get("Responses", {}).get(table_name(), []):
        item = deserialize(raw)
        if item["SK"] == keys.PROMISE_SK:
            promise = {k: item[k] for k in PROMISE_FIELDS if k in item}
        else:
            hashed = str(item["requestHash"])
    return hashed, promise


def handle_owner_and_profile(handle: str | None, user_id: str) -> tuple[str | None, dict[str, Any] | None]:
    """BatchGetItem: who holds `handle` (if given) and my own profile, in one request."""
    wanted = [key(keys.user_pk(user_id), keys.PROFILE_SK)]
    if handle is not None:
        wanted.append(key(keys.handle_pk(handle.lower()), keys.HANDLE_SK))
    with throttling_as_unavailable():
        response = dynamodb().batch_get_item(
            RequestItems={table_name(): {"Keys": wanted, "ConsistentRead": True}}
        )
    if response.get("UnprocessedKeys"):
        # Only throttling leaves two small keys unread; never answer "no such handle" for it.
        raise ServiceUnavailable("The database is busy; retry shortly.", retry_after_seconds=2)
    owner = None
    profile = None
    for raw in response.get("Responses", {}).get(table_name(), []):
        item = deserialize(raw)
        if item["SK"] == keys.HANDLE_SK:
            # A held handle (given up, kept for its owner a while) reaches no one.
            owner = None if "expiresAt" in item else str(item["owner"])
        elif item["SK"] == keys.PROFILE_SK:
            profile = item
    return owner, profile


# A filtered list (role and state; a care's links by role or state) reads pages of `limit` index
# entries until it has `limit` promises, at most this many pages a request: its reads stay
# bounded (at most this many times a page's) however few entries match, and a short page ends
# with a cursor where it stopped.
FILTERED_LIST_PAGES = 4


def list_promises(
    user_id: str,
    *,
    role: str | None,
    state: str | None,
    care_id: str | None,
    due_before: str | None,
    limit: int,
    start: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A Query on the index made for the filter, newest due first, and where the next page starts.

    No filter, `role` or `state` alone: one Query on a key made for it. Role and state: the
    state's list (`PromisesByState`) filtered on `myRole`. `careId` reads my care links of that
    care (`PromisesByDue`, keyed by care); role and state next to a care filter the care's few
    links. A filtered list reads on until it has `limit` promises (`_filtered`).
    """
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    filters = []
    if care_id is not None:
        index, attribute = keys.PROMISE_LISTS["all"]
        partition = keys.promise_list(user_id, care_id=care_id)
        for name, value in (("myRole", role), ("state", state)):
            if value:
                names["#summary"] = "summary"
                names[f"#{name}"] = name
                values[f":{name}"] = {"S": value}
                filters.append(f"#summary.#{name} = :{name}")
    elif role and state:
        index, attribute = keys.PROMISE_LISTS["state"]
        partition = keys.promise_list(user_id, state=state)
        names["#myRole"] = "myRole"
        values[":myRole"] = {"S": role}
        filters.append("#myRole = :myRole")
        if start and "listRoleState" in start:
            # A cursor of the former role-and-state index: the same place in the state's list.
            start = {k: v for k, v in start.items() if k != "listRoleState"} | {"listState": {"S": partition}}
    else:
        index, attribute = keys.PROMISE_LISTS["role" if role else "state" if state else "all"]
        partition = keys.promise_list(user_id, role=role, state=state)
    names["#list"] = attribute
    values[":list"] = {"S": partition}
    condition = "#list = :list"
    if due_before is not None:
        names["#due"] = "dueKey"
        condition += " AND #due < :before"
        values[":before"] = {"S": due_before}
    params: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start:
        params["ExclusiveStartKey"] = start
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
        found, last = _filtered(params, attribute, limit)
    else:
        with throttling_as_unavailable():
            response = dynamodb().query(**params)
        found, last = response.get("Items", []), response.get("LastEvaluatedKey")
    out = []
    for raw in found:
        item = deserialize(raw)
        summary = item.get("summary", item)
        out.append({k: summary[k] for k in SUMMARY_FIELDS if k in summary})
    return out, last


def _filtered(
    params: dict[str, Any], attribute: str, limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Pages of a filtered Query (DynamoDB applies `Limit` before the filter) until `limit` items
    match, the list ends or `FILTERED_LIST_PAGES` pages were read; and where the next page starts.

    That start is never past an item not returned: the key of the last item returned when the
    page it came from held more matches, else the page's LastEvaluatedKey (what lies between was
    read and did not match). So paging neither skips nor repeats an item.
    """
    found: list[dict[str, Any]] = []
    pages = 0
    while True:
        with throttling_as_unavailable():
            response = dynamodb().query(**params)
        pages += 1
        items = response.get("Items", [])
        last = response.get("LastEvaluatedKey")
        wanted = limit - len(found)
        found += items[:wanted]
        if len(items) > wanted:  # more matches on this page than fit: start after the last shown
            return found, {k: found[-1][k] for k in ("PK", "SK", attribute, "dueKey")}
        if not last or len(found) == limit or pages == FILTERED_LIST_PAGES:
            return found, last
        params = {**params, "ExclusiveStartKey": last}


def list_moves(
    user_id: str, promise_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Query PROMISE#<id> AND begins_with(SK, MOVE#), oldest first, only if I am a side of it.

    The filter on `participants` is the authorization (every move carries the sides), so the
    log costs one request; it never filters more than this promise's own moves.
    """
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "FilterExpression": "contains(participants, :me)",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.promise_pk(promise_id)},
            ":prefix": {"S": keys.MOVE_PREFIX},
            ":me": {"S": user_id},
        },
        "ConsistentRead": True,
        "Limit": limit,
    }
    if start:
        params["ExclusiveStartKey"] = start
    with throttling_as_unavailable():
        response = dynamodb().query(**params)
    items = [deserialize(i) for i in response.get("Items", [])]
    return [{k: i[k] for k in MOVE_FIELDS if k in i} for i in items], response.get("LastEvaluatedKey")


def journey_months(
    user_id: str, first: str, last: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Query USER#<sub> AND SK BETWEEN JOURNEY#<first> AND JOURNEY#<last>#~: my promise counters
    (UTC months) and my plan figures (`JOURNEY#<month>#PLAN`, my local months), month -> item."""
    with throttling_as_unavailable():
        response = dynamodb().query(
            TableName=table_name(),
            KeyConditionExpression="PK = :pk AND SK BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": keys.user_pk(user_id)},
                ":first": {"S": keys.journey_sk(first)},
                ":last": {"S": keys.journey_sk(last) + "#~"},  # "~" sorts after the month's "#PLAN"
            },
        )
    # At most 120 months of two small items each: one page.
    promises: dict[str, dict[str, Any]] = {}
    plans: dict[str, dict[str, Any]] = {}
    for item in (deserialize(raw) for raw in response.get("Items", [])):
        (plans if item.get("entity") == "journey-plan-month" else promises)[str(item["month"])] = item
    return promises, plans


def assessment_update(promise_id: str, field: str, assessment: Mapping[str, Any], at: str) -> dict[str, Any]:
    """Keep the assessment on the promise too (so reading it is one GetItem); only once."""
    return _update(
        keys.promise_pk(promise_id),
        keys.PROMISE_SK,
        {field: dict(assessment), "updatedAt": at},
        condition=f"attribute_exists(PK) AND attribute_not_exists({field})",
        adds={"version": 1},
    )


def set_counterpart_link(promise_id: str, link: Mapping[str, Any]) -> None:
    """Keep the (hashed) counterpart link on the promise, replacing any earlier one."""
    with throttling_as_unavailable():
        dynamodb().update_item(
            TableName=table_name(),
            Key=key(keys.promise_pk(promise_id), keys.PROMISE_SK),
            UpdateExpression="SET counterpartLink = :link",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":link": serialize({"v": dict(link)})["v"]},
        )


def remove_counterpart_link(promise_id: str, created_by: str) -> bool:
    """Remove the link if `created_by` made it; False when there is none of theirs."""
    try:
        with throttling_as_unavailable():
            dynamodb().update_item(
                TableName=table_name(),
                Key=key(keys.promise_pk(promise_id), keys.PROMISE_SK),
                UpdateExpression="REMOVE counterpartLink",
                ConditionExpression="counterpartLink.createdBy = :me",
                ExpressionAttributeValues={":me": {"S": created_by}},
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


# --- erasure -----------------------------------------------------------------------------------

FORMER_MEMBER = {"kind": "outside", "name": "Former member"}


def my_memberships(user_id: str) -> list[dict[str, Any]]:
    """Every membership of mine (Query USER#<sub> AND begins_with(SK, PROMISE#)), all pages."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.user_pk(user_id)},
            ":prefix": {"S": keys.MEMBERSHIP_PREFIX},
        },
        "ProjectionExpression": "promiseId, myRole",
    }
    return query_all(params)


def promise_partition(promise_id: str) -> list[dict[str, Any]]:
    """Every item of a promise's partition (the promise, its moves, its assessments), all pages."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": keys.promise_pk(promise_id)}},
        "ConsistentRead": True,
    }
    return query_all(params)


def update_item(pk: str, sk: str, sets: Mapping[str, Any], removes: tuple[str, ...] = ()) -> None:
    """SET and REMOVE attributes of an item that exists (erasure's rewrites, one by one)."""
    update = _update(pk, sk, sets, condition="attribute_exists(PK)", removes=removes)["Update"]
    try:
        with throttling_as_unavailable():
            dynamodb().update_item(**update)
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":  # gone meanwhile: nothing to rewrite
            raise


def delete_item(pk: str, sk: str) -> None:
    """Delete one item (idempotent)."""
    with throttling_as_unavailable():
        dynamodb().delete_item(TableName=table_name(), Key=key(pk, sk))


# --- handles that changed ----------------------------------------------------------------------


def _update_if(
    pk: str, sk: str, expression: str, condition: str, names: Mapping[str, str], values: Mapping[str, Any]
) -> bool:
    """One UpdateItem; False when its condition does not hold (nothing to change there)."""
    try:
        with throttling_as_unavailable():
            dynamodb().update_item(
                TableName=table_name(),
                Key=key(pk, sk),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=dict(names),
                ExpressionAttributeValues=dict(values),
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def rename_party(promise_id: str, role: str, user_id: str, handle: str) -> bool:
    """Show `handle` for my side of the promise if it shows another, and bump the version: a
    move that read the promise before this fails (409) rather than log me by the old handle."""
    return _update_if(
        keys.promise_pk(promise_id),
        keys.PROMISE_SK,
        "SET #party.#handle = :h ADD version :one",
        "#party.userId = :me AND (attribute_not_exists(#party.#handle) OR #party.#handle <> :h)",
        {"#party": role, "#handle": "handle"},
        {":me": {"S": user_id}, ":h": {"S": handle}, ":one": {"N": "1"}},
    )


def rename_mover(promise_id: str, seq: int, user_id: str, handle: str) -> bool:
    """Show `handle` as who made one of my moves in the log (`by`), if it shows another."""
    return _update_if(
        keys.promise_pk(promise_id),
        keys.move_sk(seq),
        "SET #by.#handle = :h",
        "actorId = :me AND (attribute_not_exists(#by.#handle) OR #by.#handle <> :h)",
        {"#by": "by", "#handle": "handle"},
        {":me": {"S": user_id}, ":h": {"S": handle}},
    )


def rename_counterpart(viewer_id: str, sk: str, in_summary: bool, handle: str) -> bool:
    """Show `handle` for the counterpart in the viewer's summary of a promise: their membership
    (`counterpart`), or a care link of theirs (`summary.counterpart`). Only where it shows an app
    user with another handle: an anonymised counterpart stays anonymous."""
    target = "#summary.#counterpart" if in_summary else "#counterpart"
    names = {"#counterpart": "counterpart", "#handle": "handle", "#kind": "kind"}
    if in_summary:
        names["#summary"] = "summary"
    return _update_if(
        keys.user_pk(viewer_id),
        sk,
        f"SET {target}.#handle = :h",
        f"attribute_exists(PK) AND {target}.#kind = :user"
        f" AND (attribute_not_exists({target}.#handle) OR {target}.#handle <> :h)",
        names,
        {":h": {"S": handle}, ":user": {"S": "user"}},
    )
