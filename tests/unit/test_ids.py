"""shared.domain.ids: ULID-shaped ids."""

from __future__ import annotations

import re
import urllib.parse

import pytest

from shared.domain.ids import is_id, new_id

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_new_id_is_26_crockford_chars() -> None:
    for _ in range(200):
        value = new_id()
        assert len(value) == 26
        assert set(value) <= set(CROCKFORD)
        assert not set(value) & set("ILOU")


def test_new_id_is_url_safe() -> None:
    value = new_id()
    assert urllib.parse.quote(value, safe="") == value
    assert re.fullmatch(r"[0-9A-Z]{26}", value)


def test_ids_from_a_later_millisecond_sort_after() -> None:
    earlier = [new_id(now_ms=1_700_000_000_000) for _ in range(50)]
    later = [new_id(now_ms=1_700_000_000_001) for _ in range(50)]
    assert max(earlier) < min(later)


def test_ids_sort_by_time_across_a_wide_range() -> None:
    moments = [0, 1, 31, 32, 1_000, 1_700_000_000_000, 2_000_000_000_000, 2**48 - 1]
    ids = [new_id(now_ms=ms) for ms in moments]
    assert ids == sorted(ids)


def test_the_time_part_is_the_first_ten_chars() -> None:
    a = new_id(now_ms=1_234_567_890_123)
    b = new_id(now_ms=1_234_567_890_123)
    assert a[:10] == b[:10]
    assert a != b  # 80 random bits


def test_ids_are_unique() -> None:
    ids = {new_id() for _ in range(2_000)}
    assert len(ids) == 2_000


def test_is_id_accepts_what_new_id_makes() -> None:
    assert all(is_id(new_id()) for _ in range(200))
    assert is_id(new_id(now_ms=0))
    assert is_id(new_id(now_ms=2**48 - 1))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "01ARZ3NDEKTSV4RRFFQ69G5FA",  # 25 chars
        "01ARZ3NDEKTSV4RRFFQ69G5FAVV",  # 27 chars
        "01arz3ndektsv4rrffq69g5fav",  # lower case
        "01ARZ3NDEKTSV4RRFFQ69G5FAI",  # I is not Crockford
        "01ARZ3NDEKTSV4RRFFQ69G5FAU",  # U is not Crockford
        "81ARZ3NDEKTSV4RRFFQ69G5FAV",  # first char > 7 overflows 128 bits
        "01ARZ3NDEKTSV4RRFFQ69G5FA-",
        "01ARZ3NDEKTSV4RRFFQ69G5FA ",
        "../../etc/passwd",
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_is_id_rejects_other_text(text: str) -> None:
    assert not is_id(text)


def test_is_id_accepts_a_canonical_ulid() -> None:
    assert is_id("01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_ids_made_together_sort_in_the_order_made() -> None:
    from shared.domain.ids import new_ids

    ids = new_ids(200, now_ms=1_800_000_000_000)
    assert ids == sorted(ids)
    assert len(set(ids)) == 200
    assert all(is_id(i) for i in ids)
    assert all(i[:10] == ids[0][:10] for i in ids), "one millisecond"
