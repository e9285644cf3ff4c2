"""My secret calendar feed: make or rotate it, revoke it, and serve it by its token.

The token is `<feedId>.<secret>` (a ULID, and 32 random bytes in URL-safe base64 without
padding); only SHA-256(secret) is kept, on the feed's lookup item, so checking a token is one
GetItem and a constant-time compare, as for counterpart links. The URL ends in `.ics`.

Serving: the lookup read gives the owner and `calSeq`, from which the ETag comes; a client
that sent it back gets 304 after that one read. Otherwise the feed is built from my promise
memberships due in the window (one Query of `PromisesByDue`), the promises themselves for
their versions (BatchGetItem, 100 a request) and my plans' reminders (one Query per 1 MB).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.domain import calendar as feed
from shared.domain.errors import Conflict, NotFound
from shared.domain.ids import is_id, new_id
from shared.domain.timeutil import parse_rfc3339, to_rfc3339
from shared.observability import logger
from shared.store import calendar_feeds as store
from shared.store.transaction import TransactionCancelled

TOKEN_SUFFIX = ".ics"  # noqa: S105 (the URL's suffix, not a secret)
_SECRET_BYTES = 32  # 256 bits
_SECRET_LENGTH = 43  # base64 of 32 bytes, without padding
_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_ATTEMPTS = 3


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def make_feed(user_id: str, now: datetime) -> tuple[str, str]:
    """Make my feed, or rotate it (a new token; the old one stops working with the commit).
    Answers (token, createdAt). Two at once: one wins, the other reads again and rotates after it."""
    created_at = to_rfc3339(now)
    for _ in range(_ATTEMPTS):
        current = store.my_feed_id(user_id)
        feed_id = new_id()
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        try:
            store.save_feed(user_id, feed_id, _digest(secret), created_at, current)
        except TransactionCancelled as cancelled:
            if cancelled.failed_on("pointer") or cancelled.conflicted():
                continue
            raise
        return f"{feed_id}.{secret}", created_at
    raise Conflict("Your calendar feed is being changed by another request; retry.")


def revoke_feed(user_id: str) -> None:
    """Revoke my feed: both items go, the token is a 404 from then on. NotFound without one."""
    for _ in range(_ATTEMPTS):
        current = store.my_feed_id(user_id)
        if current is None:
            raise NotFound("You have no calendar feed.")
        try:
            store.delete_feed(user_id, current)
        except TransactionCancelled as cancelled:
            if cancelled.failed_on("pointer") or cancelled.conflicted():
                continue
            raise
        return
    raise Conflict("Your calendar feed is being changed by another request; retry.")


@dataclass(frozen=True)
class OpenFeed:
    """A feed whose token checked out: whose it is, and its ETag for today."""

    feed_id: str
    owner: str
    etag: str


def open_feed(segment: str, today: date) -> OpenFeed:
    """The feed a URL's last segment (`<feedId>.<secret>.ics`) opens; one GetItem.

    Unknown, revoked, rotated and malformed tokens are all NotFound, alike (the same problem,
    and no read at all for a malformed one).
    """
    unknown = NotFound("There is no calendar feed at this address.")
    token = segment.removesuffix(TOKEN_SUFFIX)
    feed_id, _, secret = token.partition(".")
    if (
        token == segment
        or not is_id(feed_id)
        or len(secret) != _SECRET_LENGTH
        or not _URLSAFE.issuperset(secret)
    ):
        raise unknown
    found = store.lookup(feed_id)
    if found is None or not hmac.compare_digest(found.secret_hash, _digest(secret)):
        raise unknown
    return OpenFeed(feed_id, found.owner, feed.feed_etag(feed_id, found.cal_seq, today))


def _feed_promise(user_id: str, role: str, item: Mapping[str, Any]) -> feed.FeedPromise | None:
    if role not in ("customer", "performer"):
        return None
    mine = item.get(role) or {}
    if mine.get("kind") != "user" or mine.get("userId") != user_id:
        return None  # no longer mine (the membership lags a change of hands): leave it out
    other = item.get("performer" if role == "customer" else "customer") or {}
    return feed.FeedPromise(
        promise_id=str(item["promiseId"]),
        my_role=cast(Literal["customer", "performer"], role),
        what=str(item["what"]),
        state=str(item["state"]),
        due_at=parse_rfc3339(str(item["dueAt"])),
        counterpart=feed.counterpart_label(dict(other)),
        version=int(item.get("version", 1)),
        updated_at=parse_rfc3339(str(item["updatedAt"])),
    )


def _feed_reminder(item: Mapping[str, Any]) -> feed.FeedReminder | None:
    if item.get("paused") or not item.get("rrule") or not item.get("timeZone"):
        return None
    try:
        zone = ZoneInfo(str(item["timeZone"]))
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("A reminder names an unknown time zone; left out of the feed")
        return None
    last_done = item.get("lastDoneAt")
    return feed.FeedReminder(
        plan_id=str(item["planId"]),
        item_id=str(item["itemId"]) if item.get("itemId") else None,
        title=str(item.get("title") or "Your learning plan"),
        rrule=str(item["rrule"]),
        zone=zone,
        version=int(item.get("version", 1)),
        updated_at=parse_rfc3339(str(item["updatedAt"])),
        only_if_not_done=bool(item.get("onlyIfNotDone")),
        settled=bool(item.get("settled")),
        last_done_at=parse_rfc3339(str(last_done)) if last_done else None,
    )


def render_feed(opened: OpenFeed, today: date) -> bytes:
    """The feed's body for `today` (UTC): my promises in the window and my reminders' next 60 days."""
    first, last = feed.promise_window(today)
    memberships = store.memberships_due(opened.owner, to_rfc3339(first), to_rfc3339(last))
    roles = {str(m["promiseId"]): str(m.get("myRole", "")) for m in memberships}
    items = store.promises(roles) if roles else {}
    promises = [
        made
        for promise_id, role in roles.items()
        if promise_id in items and (made := _feed_promise(opened.owner, role, items[promise_id]))
    ]
    reminders = [shown for item in store.reminders(opened.owner) if (shown := _feed_reminder(item))]
    return feed.build_calendar(promises, reminders, today)
