"""shared.domain.merge_patch: JSON Merge Patch, RFC 7396."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.domain.merge_patch import apply_merge_patch

# RFC 7396, Appendix A: every row of the table.
RFC_7396_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC_7396_EXAMPLES)
def test_rfc_7396_appendix_a(target: Any, patch: Any, expected: Any) -> None:
    assert apply_merge_patch(target, patch) == expected


def test_nested_objects_merge_and_keep_untouched_siblings() -> None:
    target = {
        "displayName": "Ana",
        "notificationPrefs": {"reminders": True, "promiseUpdates": True, "quietHoursStart": "22:00"},
    }
    patch = {"notificationPrefs": {"reminders": False, "quietHoursStart": None}}
    assert apply_merge_patch(target, patch) == {
        "displayName": "Ana",
        "notificationPrefs": {"reminders": False, "promiseUpdates": True},
    }


def test_null_removes_a_key_and_a_missing_key_is_no_error() -> None:
    assert apply_merge_patch({"a": 1, "b": 2}, {"a": None, "zzz": None}) == {"b": 2}


def test_empty_patch_changes_nothing() -> None:
    assert apply_merge_patch({"a": {"b": 1}}, {}) == {"a": {"b": 1}}


@pytest.mark.parametrize("patch", [[1, 2], "text", 3, 2.5, True, False])
def test_a_non_object_patch_replaces_the_whole_target(patch: Any) -> None:
    assert apply_merge_patch({"a": 1}, patch) == patch


def test_a_non_object_target_is_replaced_by_an_object_patch() -> None:
    assert apply_merge_patch("text", {"a": 1}) == {"a": 1}
    assert apply_merge_patch(None, {"a": {"b": None}}) == {"a": {}}


def test_the_target_is_not_mutated() -> None:
    target = {"a": {"b": "c", "d": "e"}, "f": [1]}
    before = copy.deepcopy(target)
    apply_merge_patch(target, {"a": {"b": None, "x": 1}, "f": None})
    assert target == before
