"""Opaque, tamper-proof list cursors: the LastEvaluatedKey, signed and bound to person and list."""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.domain.errors import FieldError, InvalidInput
from shared.secrets import CURSOR_MAC_BYTES, cursor_mac, cursor_mac_valid

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def encode_cursor(last_key: dict[str, Any] | None, *, user_id: str, list_name: str) -> str | None:
    """The cursor for the page after `last_key`; None when there is no next page."""
    if not last_key:
        return None
    payload = json.dumps({"k": last_key, "u": user_id, "l": list_name}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(cursor_mac(payload) + payload).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, user_id: str, list_name: str) -> dict[str, Any] | None:
    """The ExclusiveStartKey a cursor stands for; a forged, foreign or mangled one is a 422."""
    if not cursor:
        return None
    invalid = InvalidInput(
        "The cursor is not valid for this list.",
        [FieldError("query", "cursor", "cursor_invalid", "not a cursor this list issued")],
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:
        raise invalid from None
    signature, payload = raw[:CURSOR_MAC_BYTES], raw[CURSOR_MAC_BYTES:]
    if not cursor_mac_valid(signature, payload):
        raise invalid
    data = json.loads(payload)
    if data.get("u") != user_id or data.get("l") != list_name or not isinstance(data.get("k"), dict):
        raise invalid
    return data["k"]  # type: ignore[no-any-return]
