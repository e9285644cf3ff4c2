"""Opaque, URL-safe, time-sortable ids (ULID: 48-bit milliseconds + 80 random bits)."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def new_id(now_ms: int | None = None) -> str:
    """A new ULID; ids made later sort after ids made earlier (to the millisecond)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_ids(count: int, now_ms: int | None = None) -> list[str]:
    """`count` new ULIDs that sort in the order made, even within one millisecond (the ULID
    spec's monotonic form: the random part of the first, then + 1 each)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    first = secrets.randbits(80) >> 16  # room to count up without overflowing the 80 bits
    out = []
    for n in range(count):
        value = (ms << 80) | (first + n)
        chars = []
        for _ in range(26):
            chars.append(_ALPHABET[value & 31])
            value >>= 5
        out.append("".join(reversed(chars)))
    return out


def is_id(text: str) -> bool:
    """Whether `text` has the shape of an id made by `new_id`."""
    return len(text) == 26 and text[0] in "01234567" and all(c in _ALPHABET for c in text)
