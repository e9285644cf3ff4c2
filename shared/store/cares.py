"""Cares, their ranking and their revisions, in their owner's partition.

One Query (`begins_with(SK, CARE#)`) reads every care of a person together with the ranking
item, so listing, the care map and every write's read cost one request. A write is one
transaction: the care(s) it changes, a revision per changed care, and the ranking's version when
ranks move (so two concurrent re-rankings cannot both win).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.domain.cares import COUNTER_FIELDS
from shared.domain.errors import Conflict, FieldError, InvalidInput, PreconditionFailed
from shared.store import keys, reflections
from shared.store.table import (
    deserialize,
    dynamodb,
    key,
    new_item_put,
    query_prefix,
    serialize,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction, TransactionCancelled

PUBLIC_FIELDS = (
    "careId",
    "statement",
    "domain",
    "valueForOthers",
    "meaningForMe",
    "rank",
    "status",
    "sourceReflectionId",
    "revision",
    "createdAt",
    "updatedAt",
    "archivedAt",
)
MAP_FIELDS = (*COUNTER_FIELDS, "lastActivityAt")
REVISION_FIELDS = ("careId", "revision", "action", "changedAt", "changedBy", "changes")


def public(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a stored care that the API shows."""
    return {k: item[k] for k in PUBLIC_FIELDS if k in item}


@dataclass(frozen=True)
class CareSet:
    """All my cares as one Query read them, with the version of their ranking."""

    cares: list[dict[str, Any]]
    ranking_version: int

    def find(self, care_id: str) -> dict[str, Any] | None:
        """My care with that id, or None."""
        return next((c for c in self.cares if c["careId"] == care_id), None)

    def active_order(self) -> list[str]:
        """Ids of my active cares, by rank."""
        active = [c for c in self.cares if c.get("status") == "active"]
        return [c["careId"] for c in sorted(active, key=lambda c: (int(c.get("rank") or 0), c["careId"]))]


def load_cares(user_id: str) -> CareSet:
    """Query PK = USER#<sub> AND begins_with(SK, CARE#): every care plus the ranking item.

    Strongly consistent, because writes build on it. Cares are few (MAX_ACTIVE_CARES active),
    so this is one page; further pages are read if a person ever has more.
    """
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.user_pk(user_id)},
            ":prefix": {"S": keys.CARE_PREFIX},
        },
        "ConsistentRead": True,
    }
    cares: list[dict[str, Any]] = []
    ranking_version = 0
    while True:
        with throttling_as_unavailable():
            response = dynamodb().query(**params)
        for raw in response.get("Items", []):
            item = deserialize(raw)
            if item["SK"] == keys.CARE_RANKING_SK:
                ranking_version = int(item["version"])
            elif item.get("entity") == "care":
                cares.append({k: v for k, v in item.items() if k not in ("PK", "SK", "entity")})
        if "LastEvaluatedKey" not in response:
            return CareSet(cares, ranking_version)
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def get_care(user_id: str, care_id: str) -> dict[str, Any] | None:
    """GetItem USER#<sub> / CARE#<id>; None when absent or not mine."""
    found = find_care(user_id, care_id, consistent=False)
    return public(found) if found is not None else None


def find_care(user_id: str, care_id: str, *, consistent: bool = True) -> dict[str, Any] | None:
    """GetItem USER#<sub> / CARE#<id>: the stored care (with its `requestHash`, never shown), or
    None. Consistent by default: a replay of a create is told apart on it."""
    with throttling_as_unavailable():
        response = dynamodb().get_item(
            TableName=table_name(),
            Key=key(keys.user_pk(user_id), keys.care_sk(care_id)),
            ConsistentRead=consistent,
        )
    item = deserialize(response.get("Item", {}))
    if item.get("entity") != "care":
        return None
    return {k: v for k, v in item.items() if k not in ("PK", "SK", "entity")}


class CareIdTaken(Conflict):
    """The new care's id exists already (a replay of its create, or another write's id)."""


@dataclass
class CareWrite:
    """One care to create or change, and the revision that records it.

    `expected_revision` is None for a new care; otherwise the write holds only if the care still
    has that revision. `remove` lists fields to clear.
    """

    care_id: str
    expected_revision: int | None
    fields: dict[str, Any]
    revision: dict[str, Any]
    remove: tuple[str, ...] = field(default=())
    request_hash: str | None = None  # a new care with an id the app made (`shared.domain.replay`)


def save_cares(
    user_id: str,
    writes: Sequence[CareWrite],
    *,
    ranking_version: int | None = None,
    source_reflection_id: str | None = None,
    if_match_on: str | None = None,
) -> None:
    """One transaction: every care write, its revision, the ranking version, the reflection check.

    `ranking_version` (what was read) is bumped when given: pass it whenever ranks change.
    A reflection that is not mine is a 422 on `sourceReflectionId`; a new care whose id exists
    is CareIdTaken; the care `if_match_on` names (the one a request's `If-Match` was checked
    on) changed since the read is a 412; anything else that changed since the read is a 409
    (read again and retry).
    """
    pk = keys.user_pk(user_id)
    transaction = Transaction()
    for write in writes:
        next_revision = (write.expected_revision or 0) + 1
        if write.expected_revision is None:
            item = {
                "PK": pk,
                "SK": keys.care_sk(write.care_id),
                "entity": "care",
                **write.fields,
                "revision": 1,
            }
            if write.request_hash is not None:
                item["requestHash"] = write.request_hash
            transaction.add("new-care", [new_item_put(item)])
        else:
            label = "if-match" if write.care_id == if_match_on else "cares"
            transaction.add(label, [{"Update": _care_update(pk, write, next_revision)}])
        revision = {
            "PK": pk,
            "SK": keys.care_revision_sk(write.care_id, next_revision),
            "entity": "care-revision",
            "careId": write.care_id,
            "revision": next_revision,
            **write.revision,
        }
        transaction.add("revisions", [new_item_put(revision)])
    if ranking_version is not None:
        transaction.add("ranking", [{"Put": _ranking_put(pk, ranking_version)}])
    if source_reflection_id is not None:
        transaction.add("source", [reflections.reflection_exists_check(user_id, source_reflection_id)])
    transaction.require_account(user_id)
    try:
        transaction.commit()
    except TransactionCancelled as error:
        if error.failed_on("source"):
            raise InvalidInput(
                "The source reflection is not one of yours.",
                [FieldError("body", "sourceReflectionId", "not_found", "must be one of your reflections")],
            ) from error
        if error.failed_on("new-care"):
            raise CareIdTaken("A care with this id exists already.") from error
        if error.failed_on("if-match"):
            raise PreconditionFailed("The care changed since you read it; read it again.") from error
        raise Conflict("Your cares changed meanwhile; read them again and retry.") from error


def _care_update(pk: str, write: CareWrite, next_revision: int) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {
        ":expected": {"N": str(write.expected_revision)},
        ":next": {"N": str(next_revision)},
    }
    sets = ["#revision = :next"]
    names["#revision"] = "revision"
    for i, (name, value) in enumerate(write.fields.items()):
        if value is None:
            continue
        names[f"#f{i}"] = name
        values[f":f{i}"] = serialize({"v": value})["v"]
        sets.append(f"#f{i} = :f{i}")
    removes = []
    for i, name in enumerate(write.remove):
        names[f"#r{i}"] = name
        removes.append(f"#r{i}")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return {
        "TableName": table_name(),
        "Key": key(pk, keys.care_sk(write.care_id)),
        "UpdateExpression": expression,
        "ConditionExpression": "#revision = :expected",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _ranking_put(pk: str, read_version: int) -> dict[str, Any]:
    put: dict[str, Any] = {
        "TableName": table_name(),
        "Item": serialize({"PK": pk, "SK": keys.CARE_RANKING_SK, "version": read_version + 1}),
    }
    if read_version == 0:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "version = :v"
        put["ExpressionAttributeValues"] = {":v": {"N": str(read_version)}}
    return put


def list_revisions(
    user_id: str, care_id: str, limit: int, start: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Query PK = USER#<sub> AND begins_with(SK, CAREREV#<careId>#): oldest first, one page."""
    items, last = query_prefix(
        keys.user_pk(user_id), f"{keys.CARE_REVISION_PREFIX}{care_id}#", limit=limit, start=start
    )
    return [{k: i[k] for k in REVISION_FIELDS if k in i} for i in items], last
