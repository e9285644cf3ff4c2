"""shared.api.pagination: signed, bound, opaque cursors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import secrets
from shared.api.pagination import decode_cursor, encode_cursor
from shared.domain.errors import FieldError, InvalidInput
from shared.secrets import CursorKeys

KEY = {"PK": "USER#01ARZ3NDEKTSV4RRFFQ69G5FAV", "SK": "DEVICE#01ARZ3NDEKTSV4RRFFQ69G5FAW"}
ALICE = "user-alice"
BOB = "user-bob"


class KeySource:
    """Stands in for the cursor key secret (read from Secrets Manager in handler tests)."""

    def __init__(self, current: str) -> None:
        self.keys = CursorKeys(current.encode())

    def __call__(self, *, force_fetch: bool = False) -> CursorKeys:
        return self.keys


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: pytest.MonkeyPatch) -> KeySource:
    source = KeySource("unit-test-signing-key-0123456789abcdef")
    monkeypatch.setattr(secrets, "cursor_keys", source)
    monkeypatch.setattr(secrets, "_last_forced_read", None)
    return source


def _cursor(key: dict[str, str] | None = None, user: str = ALICE, list_name: str = "devices") -> str:
    cursor = encode_cursor(KEY if key is None else key, user_id=user, list_name=list_name)
    assert cursor is not None
    return cursor


def _assert_invalid_cursor(cursor: str, user: str = ALICE, list_name: str = "devices") -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor, user_id=user, list_name=list_name)
    assert len(caught.value.errors) == 1
    error = caught.value.errors[0]
    assert isinstance(error, FieldError)
    assert (error.location, error.field) == ("query", "cursor")
    if len(cursor) >= 20:  # the message never echoes the cursor back
        assert cursor not in error.message
        assert cursor not in caught.value.detail


def _raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def _encode_raw(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_round_trip() -> None:
    assert decode_cursor(_cursor(), user_id=ALICE, list_name="devices") == KEY


def test_round_trip_with_unicode_and_nested_values() -> None:
    key = {"PK": "USER#ñ", "SK": "é/🙂", "GSI1PK": "a=b&c"}
    cursor = _cursor(key)
    assert decode_cursor(cursor, user_id=ALICE, list_name="devices") == key


def test_cursor_is_url_safe_and_opaque() -> None:
    cursor = _cursor()
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert "=" not in cursor


def test_no_last_key_means_no_cursor() -> None:
    assert encode_cursor(None, user_id=ALICE, list_name="devices") is None
    assert encode_cursor({}, user_id=ALICE, list_name="devices") is None


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_means_first_page(cursor: str | None) -> None:
    assert decode_cursor(cursor, user_id=ALICE, list_name="devices") is None


def test_another_users_cursor_is_refused() -> None:
    _assert_invalid_cursor(_cursor(user=BOB), user=ALICE)


def test_another_lists_cursor_is_refused() -> None:
    _assert_invalid_cursor(_cursor(list_name="partners"), list_name="devices")


def test_a_cursor_signed_with_another_key_is_refused(signing_key: KeySource) -> None:
    cursor = _cursor()
    signing_key.keys = CursorKeys(b"another-key-0123456789abcdef0123456789")
    _assert_invalid_cursor(cursor)


def test_a_cursor_signed_with_the_previous_key_verifies_for_a_day(
    signing_key: KeySource, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = signing_key.keys.current
    cursor = _cursor()
    rotated = {"current": "new-key-0123456789abcdef0123456789", "previous": old.decode()}
    signing_key.keys = CursorKeys.from_secret(rotated | {"rotatedAt": "2026-11-27T09:00:00Z"})
    monkeypatch.setattr(secrets, "_clock", lambda: datetime(2026, 11, 28, 8, 59, 59, tzinfo=UTC))
    assert decode_cursor(cursor, user_id=ALICE, list_name="devices") == KEY
    # New cursors are signed with the new key only.
    assert _raw(_cursor())[:16] != _raw(cursor)[:16]
    monkeypatch.setattr(secrets, "_clock", lambda: datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    _assert_invalid_cursor(cursor)


def test_the_cursor_format_is_unchanged() -> None:
    """16 bytes of HMAC-SHA256 of the payload, then the payload: cursors handed out before the
    keys moved to Secrets Manager still verify under the same key."""
    raw = _raw(_cursor())
    expected = hmac.new(b"unit-test-signing-key-0123456789abcdef", raw[16:], hashlib.sha256).digest()[:16]
    assert raw[:16] == expected
    assert json.loads(raw[16:]) == {"k": KEY, "u": ALICE, "l": "devices"}


def test_every_tampered_byte_is_refused() -> None:
    raw = _raw(_cursor())
    for position in range(len(raw)):
        tampered = bytearray(raw)
        tampered[position] ^= 0x01
        _assert_invalid_cursor(_encode_raw(bytes(tampered)))


def test_a_payload_rewritten_to_another_user_is_refused() -> None:
    raw = _raw(_cursor(user=BOB))
    forged = raw[:16] + raw[16:].replace(BOB.encode(), ALICE.encode())
    _assert_invalid_cursor(_encode_raw(forged))


@pytest.mark.parametrize("keep", [1, 10, 15, 16, 17, 21, 22, 40, -1])
def test_truncated_cursors_are_refused(keep: int) -> None:
    cursor = _cursor()
    _assert_invalid_cursor(cursor[:keep])


@pytest.mark.parametrize(
    "cursor",
    ["!!!!", "a", "abcde", "%%%", "é", "no base64 here?", "====", "\x00", "a" * 5000, "🙂🙂🙂🙂"],
)
def test_non_base64_is_refused(cursor: str) -> None:
    _assert_invalid_cursor(cursor)


def test_a_payload_without_signature_is_refused() -> None:
    payload = _raw(_cursor())[16:]
    _assert_invalid_cursor(_encode_raw(payload))


def test_an_empty_or_zero_signature_is_refused() -> None:
    payload = _raw(_cursor())[16:]
    _assert_invalid_cursor(_encode_raw(b"\x00" * 16 + payload))
    _assert_invalid_cursor(_encode_raw(b"\x00" * 16))


@given(st.text(max_size=300))
def test_any_text_is_a_cursor_or_invalid_input(text: str) -> None:
    errors: list[FieldError] = []
    try:
        result = decode_cursor(text, user_id=ALICE, list_name="devices")
    except InvalidInput as error:
        errors = error.errors
    else:
        assert result is None or isinstance(result, dict)
        return
    assert [(e.location, e.field) for e in errors] == [("query", "cursor")]


@given(st.binary(max_size=200))
def test_any_base64_bytes_are_a_cursor_or_invalid_input(raw: bytes) -> None:
    try:
        result = decode_cursor(_encode_raw(raw), user_id=ALICE, list_name="devices")
    except InvalidInput:
        return
    assert result is None or isinstance(result, dict)
