"""Key design of the single table (see docs/data-model.md for every access pattern).

Everything a person owns lives in their partition `USER#<sub>`. Items kept elsewhere (a handle
reservation, later items shared between people) carry `owner` so the sparse `ByOwner` index
finds them for account erasure.
"""

from __future__ import annotations

PROFILE_SK = "PROFILE"
DEVICE_PREFIX = "DEVICE#"
IDEMPOTENCY_PREFIX = "IDEMPOTENCY#"
BY_OWNER_INDEX = "ByOwner"


def user_pk(user_id: str) -> str:
    """The partition of everything one person owns."""
    return f"USER#{user_id}"


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
