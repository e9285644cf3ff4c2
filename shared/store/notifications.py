"""The inbox: what was sent to a person (reminders, nudges, promise moves), in their partition.

A sender writes the inbox item inside its own transaction (`inbox_put` answers a
TransactWriteItems `Put`), so the item exists exactly when the change it tells of does. The
push to the person's devices (`shared.push`) comes after the commit and is best effort.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.domain.ids import new_id
from shared.domain.timeutil import parse_rfc3339
from shared.store import keys
from shared.store.table import (
    new_item_put,
    query_prefix,
)

PUBLIC_FIELDS = ("notificationId", "kind", "title", "body", "data", "createdAt", "readAt")


def public(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a stored inbox item that the API shows."""
    return {k: item[k] for k in PUBLIC_FIELDS if k in item}


def inbox_put(
    user_id: str, *, kind: str, title: str, body: str, data: dict[str, Any], at: str
) -> dict[str, Any]:
    """A TransactWriteItems `Put` of a new inbox item for `user_id`, sent at `at` (RFC 3339).

    The item expires (table TTL on `expiresAt`) `NOTIFICATION_TTL_DAYS` after `at`. Its id is a
    new ULID, so the condition only guards against an id collision.
    """
    notification_id = new_id()
    expires_at = parse_rfc3339(at) + timedelta(days=keys.NOTIFICATION_TTL_DAYS)
    item = {
        "PK": keys.user_pk(user_id),
        "SK": keys.notification_sk(notification_id),
        "entity": "notification",
        "notificationId": notification_id,
        "kind": kind,
        "title": title,
        "body": body,
        "data": data,
        "createdAt": at,
        "expiresAt": int(expires_at.timestamp()),
    }
    return new_item_put(item)


def list_notifications(
    user_id: str, limit: int, start: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Query PK = USER#<sub> AND begins_with(SK, NOTIFICATION#), newest first, one page.

    TTL deletes an item some time after `expiresAt` (typically within days); until then a
    90-day-old item still shows, which costs nothing and spares pages shortened by a filter.
    """
    items, last = query_prefix(
        keys.user_pk(user_id), keys.NOTIFICATION_PREFIX, limit=limit, start=start, newest_first=True
    )
    return [public(i) for i in items], last
