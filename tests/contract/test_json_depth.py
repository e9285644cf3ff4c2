"""MAX_JSON_DEPTH is exactly the deepest nesting a request body's schema allows (docs/openapi.json).

Deeper is refused before parsing (400), so the limit must follow the schemas as they change:
a deeper schema with the old limit would refuse valid requests, a shallower one would leave
room for nesting no request needs.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from infra.local.template import ROOT
from shared.api.resolver import MAX_JSON_DEPTH


def nesting(schema: Any, components: dict[str, Any], resolving: tuple[str, ...] = ()) -> float:
    """How deep objects and arrays nest in a value the schema allows (a scalar: 0); inf if unbounded."""
    if schema is True or schema == {}:
        return math.inf  # anything at all, nested as deep as it likes
    if schema is False or not isinstance(schema, dict):
        return 0
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in resolving:
            return math.inf  # a schema that contains itself
        return nesting(components[name], components, (*resolving, name))
    if "allOf" in schema:
        # A value satisfies every member: the shallowest bounds it.
        return min(nesting(s, components, resolving) for s in schema["allOf"])
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", [])
    if alternatives:
        return max(nesting(s, components, resolving) for s in alternatives)
    types = schema.get("type")
    types = {types} if isinstance(types, str) else set(types or ())
    if not types:
        return math.inf  # no type: any JSON value
    deepest = 0.0
    if "object" in types:
        members = [*schema.get("properties", {}).values(), *schema.get("patternProperties", {}).values()]
        # Without `additionalProperties: false`, any name may hold any value.
        members.append(schema.get("additionalProperties", True))
        deepest = max(deepest, 1 + max(nesting(s, components, resolving) for s in members))
    if "array" in types:
        items = [*schema.get("prefixItems", []), schema.get("items", True)]
        deepest = max(deepest, 1 + max(nesting(s, components, resolving) for s in items))
    return deepest


def _request_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    bodies = {
        f"{method.upper()} {path} {media_type}": media["schema"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items()
    }
    return bodies, document["components"]["schemas"]


def test_max_json_depth_is_the_deepest_any_request_schema_allows() -> None:
    bodies, components = _request_schemas()
    assert bodies, "no request bodies in docs/openapi.json"
    depths = {name: nesting(schema, components) for name, schema in bodies.items()}
    unbounded = sorted(name for name, depth in depths.items() if depth == math.inf)
    assert unbounded == [], "these request bodies allow any nesting: bound their schemas"
    assert max(depths.values()) == MAX_JSON_DEPTH, depths


COMPONENTS: dict[str, Any] = {
    "Leaf": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
    "Tree": {
        "type": "object",
        "properties": {"child": {"$ref": "#/components/schemas/Tree"}},
        "additionalProperties": False,
    },
}


@pytest.mark.parametrize(
    ("schema", "depth"),
    [
        ({"type": "string"}, 0),
        ({"$ref": "#/components/schemas/Leaf"}, 1),
        ({"type": "array", "items": {"$ref": "#/components/schemas/Leaf"}}, 2),
        ({"anyOf": [{"type": "null"}, {"type": "array", "items": {"type": "array", "items": {}}}]}, math.inf),
        ({"anyOf": [{"type": "null"}, {"type": "array", "items": {"type": "integer"}}]}, 1),
        ({"allOf": [{}, {"type": "array", "items": {"type": "integer"}}]}, 1),
        ({"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}, 2),
        ({"type": "object", "properties": {"a": {"type": "string"}}}, math.inf),
        ({"type": "array"}, math.inf),
        ({"$ref": "#/components/schemas/Tree"}, math.inf),
    ],
)
def test_nesting_of_a_schema(schema: dict[str, Any], depth: float) -> None:
    assert nesting(schema, COMPONENTS) == depth
