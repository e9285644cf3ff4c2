"""shared.models.common's text types: which characters text refuses, and the pattern that says so."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Annotated, Any

import jsonschema_rs
import pytest
from pydantic import StringConstraints, ValidationError

from infra.local.template import ROOT
from shared.models.common import MULTI_LINE, SINGLE_LINE, ApiModel, MultiLineText, SingleLineText, TextRule


class Texts(ApiModel):
    line: SingleLineText[Annotated[str, StringConstraints(min_length=1, max_length=20)]] = "ok"
    lines: list[SingleLineText[Annotated[str, StringConstraints(max_length=20)]]] = []
    note: MultiLineText[Annotated[str, StringConstraints(min_length=1, max_length=40)]] | None = None


def _codes(document: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        Texts.model_validate(document)
    except ValidationError as error:
        return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in error.errors()]
    return []


def _refused_by_rule(rule: TextRule, char: str) -> bool:
    try:
        rule.check(f"a{char}b")
    except ValueError:
        return True
    return False


# Cc: the C0 and C1 controls; Cs: the surrogates.
BIDI_CONTROLS = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
# Text that needs them: an emoji sequence (ZWJ), direction marks, accents, CJK, spaces, a BOM.
KEPT = ["\u200d", "\u200e", "\u200f", "\u00e9", "\u4e2d", "\U0001f469", "\u00a0", " ", "\ufeff", "\u00ad"]


def _single_line_bars(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029" or char in BIDI_CONTROLS


def _multi_line_bars(char: str) -> bool:
    return (unicodedata.category(char) in ("Cc", "Cs") and char not in "\n\t") or char in BIDI_CONTROLS


def test_single_line_text_refuses_controls_separators_bidi_and_surrogates() -> None:
    refused = [c for c in map(chr, range(0x10000)) if _refused_by_rule(SINGLE_LINE, c)]
    assert refused == [c for c in map(chr, range(0x10000)) if _single_line_bars(c)]
    assert {"\n", "\r", "\t", "\x00", "\x85", "\u2028", "\u202e", "\ud800"} <= set(refused)
    assert not any(_refused_by_rule(SINGLE_LINE, c) for c in KEPT)


def test_multi_line_text_keeps_newline_and_tab_only() -> None:
    refused = [c for c in map(chr, range(0x10000)) if _refused_by_rule(MULTI_LINE, c)]
    assert refused == [c for c in map(chr, range(0x10000)) if _multi_line_bars(c)]
    assert {"\r", "\x0b", "\x00", "\x85", "\u202e", "\udfff"} <= set(refused)
    assert not any(_refused_by_rule(MULTI_LINE, c) for c in [*KEPT, "\n", "\t", "\u2028", "\u2029"])


def test_refusals_name_the_field_with_a_stable_code() -> None:
    assert _codes({"line": "a\x00b"}) == [("line", "control_character")]
    assert _codes({"lines": ["fine", "a\nb"]}) == [("lines.1", "control_character")]
    assert _codes({"note": "a\u202eb"}) == [("note", "control_character")]
    assert _codes({"note": "one\n\ttwo"}) == []
    assert _codes({"line": "\U0001f469\u200d\U0001f4bb \u200fab\u200e"}) == []


def test_the_rule_runs_before_stripping_and_the_fields_own_checks_keep_their_codes() -> None:
    # A trailing newline is refused, not stripped away: the documented pattern refuses it too.
    assert _codes({"line": "Ana\n"}) == [("line", "control_character")]
    assert _codes({"line": "  Ana  "}) == []
    assert Texts.model_validate({"line": "  Ana  "}).line == "Ana"
    assert _codes({"line": "x" * 21}) == [("line", "string_too_long")]
    assert _codes({"line": " "}) == [("line", "string_too_short")]
    assert _codes({"line": 12}) == [("line", "string_type")]


def test_the_message_never_echoes_the_text() -> None:
    with pytest.raises(ValidationError) as caught:
        Texts.model_validate({"line": "s3cr3t\x00"})
    [error] = caught.value.errors(include_input=False)
    assert "s3cr3t" not in error["msg"]


# --- the documented pattern ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", [SINGLE_LINE, MULTI_LINE], ids=["single", "multi"])
def test_the_pattern_is_valid_for_json_schema_and_python(rule: TextRule) -> None:
    re.compile(rule.pattern)
    # jsonschema_rs reads patterns as ECMA-262 and refuses the schema if one is not.
    jsonschema_rs.validator_for({"type": "string", "pattern": rule.pattern})


@pytest.mark.parametrize("rule", [SINGLE_LINE, MULTI_LINE], ids=["single", "multi"])
def test_the_pattern_refuses_what_the_rule_refuses(rule: TextRule) -> None:
    ecma = jsonschema_rs.validator_for({"type": "string", "pattern": rule.pattern})
    python = re.compile(rule.pattern)
    # Every code point but the surrogates, which no JSON Schema pattern can name (the rule does).
    for code_point in [*range(0xD800), *range(0xE000, 0x10000), *range(0x1F000, 0x1F700)]:
        text = f"a{chr(code_point)}b"
        refused = _refused_by_rule(rule, chr(code_point))
        assert ecma.is_valid(text) is not refused, hex(code_point)
        assert (python.search(text) is None) is refused, hex(code_point)


def _string_schemas(
    schema: Any, components: dict[str, Any], path: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield from _string_schemas(components[schema["$ref"].rsplit("/", 1)[1]], components, path)
            return
        if schema.get("type") == "string":
            yield path, schema
        for name, sub in schema.get("properties", {}).items():
            yield from _string_schemas(sub, components, f"{path}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                yield from _string_schemas(schema[key], components, f"{path}[]")
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                yield from _string_schemas(sub, components, path)


def _request_text_fields() -> list[tuple[str, dict[str, Any]]]:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    components = document["components"]["schemas"]
    fields = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                for field, schema in _string_schemas(media["schema"], components, f"{method.upper()} {path}"):
                    # Choices and formats (date-time) leave no room for free text.
                    if "enum" not in schema and "const" not in schema and "format" not in schema:
                        fields.append((field, schema))
    return fields


def test_every_text_field_of_every_request_documents_the_rule() -> None:
    fields = _request_text_fields()
    assert any(name.endswith(".displayName") for name, _ in fields)
    assert any(name.endswith(".conditions[]") for name, _ in fields)
    for name, schema in fields:
        assert "pattern" in schema, name
        documented = jsonschema_rs.validator_for(schema)
        for char in ["\x00", "\x07", "\x1b", "\x85", "\u202e", "\u2067"]:
            assert not documented.is_valid(f"a{char}b"), (name, hex(ord(char)))


def test_an_email_keeps_its_own_pattern_and_bars_controls() -> None:
    [(_, email)] = [(n, s) for n, s in _request_text_fields() if n.endswith("counterpart.email")]
    documented = jsonschema_rs.validator_for(email)
    assert documented.is_valid("carla@example.com")
    assert not documented.is_valid("carla.example.com")
    assert not documented.is_valid("carla\u202e@example.com")
    assert not documented.is_valid("carla@example.com\u2028")
