"""Links "for the sake of what": promises and plan items name the cares they serve.

The promise and learning features call these functions and add the returned items to their own
transaction, so a link, its care's counters and the thing itself change together. The care map
then reads the counters with the cares (one Query) instead of counting links at read time.

Per care, a link costs two transaction items: an update of the care's counters and
`lastActivityAt`, and the link item itself (`CARELINK#<careId>#<kind>#<id>`). Making a link
needs an active care of mine; later changes update archived cares too, so counts stay true.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.domain.cares import LinkKind, LinkStatus, counter_deltas
from shared.domain.errors import FieldError, InvalidInput
from shared.store import keys
from shared.store.table import key, new_item_put, serialize, table_name

ITEMS_PER_CARE = 2


@dataclass(frozen=True)
class Linked:
    """The thing that serves cares: a promise or a plan item, by id."""

    kind: LinkKind
    id: str


Extra = Callable[[str], Mapping[str, Any]]


def link(
    user_id: str,
    care_ids: Sequence[str],
    thing: Linked,
    status: LinkStatus,
    at: str,
    extra: Extra | None = None,
) -> list[dict[str, Any]]:
    """Transaction items linking `thing` (in `status`) to each of my active cares.

    `extra(care_id)` adds attributes to a link item: a feature can keep there what its
    "by care" list shows (and index it), so that list is one Query.
    """
    items: list[dict[str, Any]] = []
    for care_id in care_ids:
        items.append(
            _counters(user_id, care_id, counter_deltas(thing.kind, None, status), at, require_active=True)
        )
        link_item = {
            "PK": keys.user_pk(user_id),
            "SK": keys.care_link_sk(care_id, thing.kind, thing.id),
            "entity": "care-link",
            "careId": care_id,
            "kind": thing.kind,
            "targetId": thing.id,
            "status": status,
            "linkedAt": at,
            **(extra(care_id) if extra else {}),
        }
        items.append(new_item_put(link_item))
    return items


def change_status(
    user_id: str,
    care_ids: Sequence[str],
    thing: Linked,
    before: LinkStatus,
    after: LinkStatus,
    at: str,
    extra: Extra | None = None,
) -> list[dict[str, Any]]:
    """Transaction items for a linked thing that moved: counters, last activity, the link's status.

    Call it on every move, even when the status stays the same: the move is activity.
    `extra(care_id)` sets more attributes on the link item (see `link`).
    """
    items: list[dict[str, Any]] = []
    for care_id in care_ids:
        items.append(_counters(user_id, care_id, counter_deltas(thing.kind, before, after), at))
        names = {"#status": "status", "#moved": "movedAt"}
        values: dict[str, Any] = {":status": {"S": after}, ":at": {"S": at}}
        sets = ["#status = :status", "#moved = :at"]
        for i, (name, value) in enumerate((extra(care_id) if extra else {}).items()):
            names[f"#x{i}"] = name
            values[f":x{i}"] = serialize({"v": value})["v"]
            sets.append(f"#x{i} = :x{i}")
        items.append(
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": key(keys.user_pk(user_id), keys.care_link_sk(care_id, thing.kind, thing.id)),
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )
    return items


def unlink(
    user_id: str, care_ids: Sequence[str], thing: Linked, status: LinkStatus, at: str
) -> list[dict[str, Any]]:
    """Transaction items removing the links of a thing that is deleted (in `status` until now)."""
    items: list[dict[str, Any]] = []
    for care_id in care_ids:
        items.append(_counters(user_id, care_id, counter_deltas(thing.kind, status, None), at))
        items.append(
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": key(keys.user_pk(user_id), keys.care_link_sk(care_id, thing.kind, thing.id)),
                }
            }
        )
    return items


def count_for_cares(
    user_id: str, care_ids: Sequence[str], deltas: Mapping[str, int], at: str, *, require_active: bool = False
) -> list[dict[str, Any]]:
    """Transaction items for things counted through a holder rather than linked one by one (a
    plan's items count for the cares the plan serves): one Update per care of its counters and
    `lastActivityAt`; with `require_active`, each fails unless the care is an active care of mine."""
    return [
        _counters(user_id, care_id, dict(deltas), at, require_active=require_active) for care_id in care_ids
    ]


def unknown_cares(
    codes: Sequence[str], first_item: int, care_ids: Sequence[str], field: str = "careIds"
) -> InvalidInput | None:
    """After a cancelled transaction whose link items start at `first_item`: the 422 to raise.

    Names each `careIds[i]` whose care is not an active care of mine, or None when the links
    were not what failed.
    """
    errors = [
        FieldError("body", f"{field}.{i}", "not_found", "must be one of your active cares")
        for i, _ in enumerate(care_ids)
        if (at := first_item + ITEMS_PER_CARE * i) < len(codes) and codes[at] == "ConditionalCheckFailed"
    ]
    return InvalidInput("Some cares are not yours or not active.", errors) if errors else None


def _counters(
    user_id: str, care_id: str, deltas: dict[str, int], at: str, *, require_active: bool = False
) -> dict[str, Any]:
    names = {"#entity": "entity", "#last": "lastActivityAt"}
    values: dict[str, Any] = {":care": {"S": "care"}, ":at": {"S": at}}
    adds = []
    for i, (counter, delta) in enumerate(sorted(deltas.items())):
        names[f"#c{i}"] = counter
        values[f":c{i}"] = {"N": str(delta)}
        adds.append(f"#c{i} :c{i}")
    condition = "#entity = :care"
    if require_active:
        names["#status"] = "status"
        values[":active"] = {"S": "active"}
        condition += " AND #status = :active"
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(keys.user_pk(user_id), keys.care_sk(care_id)),
            "UpdateExpression": "SET #last = :at" + (" ADD " + ", ".join(adds) if adds else ""),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
