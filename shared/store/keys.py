"""Key design of the single table (see docs/data-model.md for every access pattern).

Everything a person owns lives in their partition `USER#<sub>`. Items kept elsewhere (a handle
reservation, later items shared between people) carry `owner` so the sparse `ByOwner` index
finds them for account erasure.
"""

from __future__ import annotations

import hashlib

PROFILE_SK = "PROFILE"
DEVICE_PREFIX = "DEVICE#"
PUSH_TOKEN_PREFIX = "PUSHTOKEN#"  # noqa: S105 (a key prefix, not a secret)
DEVICE_COUNT_SK = "DEVICES"  # not under DEVICE_PREFIX: device lists never read it
IDEMPOTENCY_PREFIX = "IDEMPOTENCY#"
BY_OWNER_INDEX = "ByOwner"


def user_pk(user_id: str) -> str:
    """The partition of everything one person owns."""
    return f"USER#{user_id}"


# An erased person's marker, outside their partition (erasure deletes that), without `owner`
# (so erasure does not find it) and without `entity` (nothing to export): every write for the
# person checks it is absent, and every signed-in request reads it.
ERASED_SK = "ERASED"
# Kept well past the longest a token can live (Cognito allows at most a day for access and ID
# tokens; this pool issues them for an hour), then TTL removes it.
ERASED_MARKER_DAYS = 7


def erased_pk(user_id: str) -> str:
    """The marker left by the erasure of a person's account."""
    return f"ERASED#{user_id}"


HANDLE_SK = "HANDLE"


def handle_pk(handle: str) -> str:
    """The reservation that keeps a handle unique across all people."""
    return f"HANDLE#{handle}"


def device_sk(device_id: str) -> str:
    """A registered device in its owner's partition."""
    return f"{DEVICE_PREFIX}{device_id}"


REFLECTION_PREFIX = "REFLECTION#"
CARE_PREFIX = "CARE#"
# The ranking's own item sorts after every care (ULIDs never hold "~"), so the one Query that
# reads my cares reads the ranking's version with them.
CARE_RANKING_SK = "CARE#~RANKING"
CARE_REVISION_PREFIX = "CAREREV#"
CARE_LINK_PREFIX = "CARELINK#"


def reflection_sk(reflection_id: str) -> str:
    """A reflection in its author's partition (ULID: sorts by time)."""
    return f"{REFLECTION_PREFIX}{reflection_id}"


def care_sk(care_id: str) -> str:
    """A care in its owner's partition."""
    return f"{CARE_PREFIX}{care_id}"


def care_revision_sk(care_id: str, revision: int) -> str:
    """One revision of a care; zero-padded so that the history sorts oldest first."""
    return f"{CARE_REVISION_PREFIX}{care_id}#{revision:06d}"


def care_link_sk(care_id: str, kind: str, target_id: str) -> str:
    """A link from a care to a promise or a plan item that serves it."""
    return f"{CARE_LINK_PREFIX}{care_id}#{kind}#{target_id}"


PROMISE_SK = "PROMISE"
MOVE_PREFIX = "MOVE#"
ASSESSMENT_PREFIX = "ASSESSMENT#"
MEMBERSHIP_PREFIX = "PROMISE#"
JOURNEY_PREFIX = "JOURNEY#"
# Promise lists: one index per key, all sorted by `dueKey` (`<dueAt>#<promiseId>`). A list by
# role and state reads the state's list and filters it on `myRole` (`shared.store.promises`):
# at most about twice the entries it shows, for one index fewer to write on every move.
PROMISE_LISTS = {
    "all": ("PromisesByDue", "listAll"),
    "role": ("PromisesByRole", "listRole"),
    "state": ("PromisesByState", "listState"),
}


def promise_pk(promise_id: str) -> str:
    """A promise's own partition: the promise, its moves and its assessments (shared by both sides)."""
    return f"PROMISE#{promise_id}"


MOVE_ID_PREFIX = "MOVEID#"


def move_id_sk(move_id: str) -> str:
    """The lookup of a move by the id the app gave it (`shared.domain.replay`)."""
    return f"{MOVE_ID_PREFIX}{move_id}"


def move_sk(seq: int) -> str:
    """One move of a promise's log; zero-padded so that the log sorts in order."""
    return f"{MOVE_PREFIX}{seq:05d}"


def membership_sk(promise_id: str) -> str:
    """My side of a promise, in my partition: what my lists show and index."""
    return f"{MEMBERSHIP_PREFIX}{promise_id}"


def journey_sk(month: str) -> str:
    """My journey counters for one month (`YYYY-MM`)."""
    return f"{JOURNEY_PREFIX}{month}"


def promise_list(
    user_id: str, *, role: str | None = None, state: str | None = None, care_id: str | None = None
) -> str:
    """The partition key of one of my promise lists in its index (by role or by state: a list
    by both is the state's list, filtered)."""
    if care_id is not None:
        return f"PROMISES#{user_id}#care#{care_id}"
    if role is not None and state is not None:
        raise ValueError("no promise list is keyed by both role and state")
    parts = [f"PROMISES#{user_id}"]
    if role is not None:
        parts.append(f"role#{role}")
    if state is not None:
        parts.append(f"state#{state}")
    return "#".join(parts)


def due_key(due_at: str, promise_id: str) -> str:
    """The sort key of every promise list: newest due first when read backwards."""
    return f"{due_at}#{promise_id}"


NOTIFICATION_PREFIX = "NOTIFICATION#"
# Inbox items expire through the table's TTL (`expiresAt`) this long after they were sent.
NOTIFICATION_TTL_DAYS = 90


def notification_sk(notification_id: str) -> str:
    """An inbox item in its recipient's partition (ULID: newest sorts last)."""
    return f"{NOTIFICATION_PREFIX}{notification_id}"


BLOCK_PREFIX = "BLOCK#"
BLOCKED_PREFIX = "BLOCKED#"


def block_sk(block_id: str) -> str:
    """A block as my list shows it (ULID: oldest first)."""
    return f"{BLOCK_PREFIX}{block_id}"


def blocked_sk(blocked_user_id: str) -> str:
    """The lookup of my block by the blocked person's id (not a prefix of `BLOCK#`)."""
    return f"{BLOCKED_PREFIX}{blocked_user_id}"


PLAN_PREFIX = "PLAN#"


def plan_sk(plan_id: str) -> str:
    """A plan in its owner's partition; its items and obstacles sort under it."""
    return f"{PLAN_PREFIX}{plan_id}"


def plan_item_sk(plan_id: str, item_id: str) -> str:
    """An item of a plan, under the plan (ULID: oldest first)."""
    return f"{PLAN_PREFIX}{plan_id}#ITEM#{item_id}"


def plan_obstacle_sk(plan_id: str, obstacle_id: str) -> str:
    """An obstacle of a plan, under the plan."""
    return f"{PLAN_PREFIX}{plan_id}#OBSTACLE#{obstacle_id}"


def plan_suggestion_sk(plan_id: str, suggestion_id: str) -> str:
    """A plan item a partner suggested, waiting for the person to accept or dismiss it."""
    return f"{PLAN_PREFIX}{plan_id}#SUGGESTION#{suggestion_id}"


def plan_list(user_id: str) -> str:
    """The partition key of my plans in the generic list index."""
    return f"PLANS#{user_id}"


REMINDER_SUFFIX = "#REMINDER"
# Reminders that will fire are spread over this many partitions of the due index, by key, so
# that no partition of it gets hot; a dispatcher run reads each shard's due part.
DUE_SHARDS = 16
DUE_INDEX = "RemindersDue"


def plan_reminder_sk(plan_id: str, item_id: str | None = None) -> str:
    """The reminder of a plan, or of one of its items (under the item, so the plan's Query reads it)."""
    return (plan_item_sk(plan_id, item_id) if item_id else plan_sk(plan_id)) + REMINDER_SUFFIX


NUDGE_PREFIX = "NUDGE#"


def nudge_sk(promise_id: str) -> str:
    """The performer's next nudge of a promise, in their partition (in the due index)."""
    return f"{NUDGE_PREFIX}{promise_id}"


def due_shard(pk: str, sk: str) -> str:
    """The due index's partition for one reminder: a stable hash of its key."""
    digest = hashlib.sha256(f"{pk}|{sk}".encode()).digest()
    return f"DUE#{int.from_bytes(digest[:4], 'big') % DUE_SHARDS:02d}"


# The secret calendar feed: my pointer to it (in my partition, erased with it) and its lookup by
# the feed's id (the token's public half), which carries `owner` for erasure. Neither has
# `entity`: nothing of them is exported or synced.
CALENDAR_FEED_SK = "CALFEED"


def calendar_feed_pk(feed_id: str) -> str:
    """The lookup of a calendar feed by its id: what a feed request reads (one GetItem)."""
    return f"CALFEED#{feed_id}"
