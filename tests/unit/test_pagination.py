"""shared.api.pagination: signed, bound, opaque cursors."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.api.pagination import decode_cursor, encode_cursor
from shared.config import settings
from shared.domain.errors import FieldError, InvalidInput

KEY = {"PK": "USER#01ARZ3NDEKTSV4RRFFQ69G5FAV", "SK": "DEVICE#01ARZ3NDEKTSV4RRFFQ69G5FAW"}
ALICE = "user-alice"
BOB = "user-bob"


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TABLE_NAME", "unit-test-table")
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "unit-test-signing-key")
    settings.cache_clear()
    yield
    settings.cache_clear()


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


def test_a_cursor_signed_with_another_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    cursor = _cursor()
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "rotated-key")
    settings.cache_clear()
    _assert_invalid_cursor(cursor)


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
