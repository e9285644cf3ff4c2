"""guard_request's reading of JSON: nesting, names given twice, NaN and Infinity (all 400)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.api.resolver import MAX_JSON_DEPTH, guard_request


def _guard(body: str, *, b64: bool = False) -> int | None:
    """The guard's status for a POST of `body`, or None when it lets the body through."""
    event = {
        "requestContext": {"http": {"method": "POST"}},
        "headers": {"content-type": "application/json"},
        "body": base64.b64encode(body.encode()).decode() if b64 else body,
        "isBase64Encoded": b64,
    }
    response = guard_request(event)
    if response is None:
        return None
    assert response["headers"]["Content-Type"] == "application/problem+json"
    status: int = response["statusCode"]
    return status


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


# Strings full of what a scanner could mistake for structure: quotes, backslashes, brackets.
_tricky_text = st.text(alphabet=st.sampled_from('ab"\\[]{}:,\n\u00e9\U0001f469'), max_size=8)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_tricky_text, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json, st.booleans(), st.booleans())
def test_only_nesting_deeper_than_any_request_needs_is_refused(
    value: Any, ascii_only: bool, b64: bool
) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only)
    assert _guard(body, b64=b64) == (400 if _depth(value) > MAX_JSON_DEPTH else None)


def _alternating(depth: int) -> str:
    """Objects and arrays in turn, `depth` levels deep."""
    text = '"x"'
    for level in range(depth):
        text = f'{{"k": {text}, "n": 0}}' if level % 2 else f"[{text}, 0]"
    return text


def test_nesting_is_counted_across_objects_and_arrays() -> None:
    assert _guard(_alternating(MAX_JSON_DEPTH)) is None
    assert _guard(_alternating(MAX_JSON_DEPTH + 1)) == 400


def test_two_thousand_levels_are_400_not_a_crash() -> None:
    assert _guard("[" * 2000 + "]" * 2000) == 400
    assert _guard('{"a": ' * 2000 + "1" + "}" * 2000) == 400
    assert _guard("[" * 60_000) == 400


def test_brackets_in_strings_and_escapes_are_text() -> None:
    assert _guard(json.dumps({"a": "[[[[{{{{" * 100})) is None
    assert _guard('{"a": "\\"[[[[[", "b": "\\\\"}') is None
    # The escaped quote does not end the string; the escaped backslash does not hide its end.
    assert _guard('{"a": "\\\\", "b": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}") == 400


def test_scanning_an_unterminated_string_takes_one_pass() -> None:
    # Every escaped quote could start another scan to the end: quadratic, seconds for 64 KiB.
    body = '"' + 'a\\"' * 21_000
    started = time.perf_counter()
    assert _guard(body) == 400
    assert time.perf_counter() - started < 2


def test_a_name_twice_in_one_object_is_400() -> None:
    assert _guard('{"a": 1, "a": 2}') == 400
    assert _guard('{"a": {"b": 1, "b": 1}}') == 400
    assert _guard('[{"a": 1}, {"a": 2}]') is None
    assert _guard('{"a": 1, "A": 2}') is None


def test_nan_and_infinity_are_400() -> None:
    for constant in ("NaN", "Infinity", "-Infinity"):
        assert _guard(f'{{"a": {constant}}}') == 400
    assert _guard('{"a": "NaN", "b": 1e308, "c": -0.0}') is None
