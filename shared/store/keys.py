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
