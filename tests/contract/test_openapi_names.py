"""docs/openapi.json names things the way a generated client should call them.

Generators (openapi-python-client, swift-openapi-generator, openapi-generator's kotlin) name
functions after `operationId`, group them by tag, and name types after components; what the
document leaves unnamed they name from paths and properties (`get_me_v1_me_get`,
`ProfileCurrentlevel`, `ProfileInputTargetLevelType0`). Every check reads the whole document, so
a new route or model is held to it without being listed here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.template import ROOT
from shared.models import care, profile, promise
from tests.support.enums import literal_values

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
OPERATION_ID = re.compile(r"^[a-z][a-zA-Z0-9]*$")
COMPONENT_NAME = re.compile(r"^[A-Z][a-zA-Z0-9]*$")
# The enums the app shows everywhere: one named component each, whatever model carries them,
# with the values (in order) the models declare (tests/unit/test_model_enums.py ties those to
# the domain's rules).
SHARED_ENUMS = {
    name: literal_values(alias)
    for name, alias in {
        "Level": profile.Level,
        "CareDomain": care.CareDomain,
        "PromiseState": promise.PromiseState,
        "Act": promise.Act,
        "Role": promise.Role,
    }.items()
}
REF = "#/components/schemas/"


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    return document


DOCUMENT = _document()
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]


def _operations() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _nodes(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in the document, with its JSON pointer."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _nodes(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{where}/{index}")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def test_every_operation_has_a_chosen_lower_camel_case_id() -> None:
    operations = _operations()
    assert len(operations) > 50
    for name, operation in operations:
        operation_id = operation.get("operationId")
        assert operation_id, f"{name}: give the route an operation_id"
        # Powertools' default is made of the path and method (`get_me_v1_me_get`).
        assert OPERATION_ID.match(operation_id), f"{name}: {operation_id!r} is not lowerCamelCase"
        assert "v1" not in operation_id.lower(), f"{name}: {operation_id!r} is made from the path"


def test_operation_ids_are_unique_in_every_spelling() -> None:
    ids = [operation["operationId"] for _, operation in _operations()]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    # Python and Kotlin clients snake_case or re-case them: still one name per operation.
    snaked = Counter(_snake(i) for i in ids)
    assert [i for i, n in snaked.items() if n > 1] == []


def test_every_operation_has_one_tag_the_document_describes() -> None:
    declared = {tag["name"]: tag.get("description", "") for tag in DOCUMENT.get("tags", [])}
    assert declared, "the document lists its tags"
    assert len(declared) == len(DOCUMENT["tags"]), "each tag once"
    for name, description in declared.items():
        assert COMPONENT_NAME.match(name), f"tag {name!r}: one capitalised word, a module of a client"
        assert description.strip(), f"tag {name!r} has no description"
    used = set()
    for name, operation in _operations():
        tags = operation.get("tags", [])
        assert len(tags) == 1, f"{name}: exactly one tag, not {tags}"
        assert tags[0] in declared, f"{name}: tag {tags[0]!r} is not in the document's tags"
        used.add(tags[0])
    assert used == set(declared), f"tags no operation uses: {sorted(set(declared) - used)}"


def test_component_names_are_chosen_not_generated() -> None:
    for name in SCHEMAS:
        # Underscores come from pydantic's generic names (`Page_Care_`) or Powertools' `Body_...`.
        assert COMPONENT_NAME.match(name), f"component {name!r}"
        assert not re.search(r"Type\d+$", name), f"component {name!r}"


def test_every_enum_is_a_named_component() -> None:
    # An inline enum is named by each generator from where it sits (`ProfileInputTargetLevelType0`),
    # once per place: a named component is one type that every model and parameter shares.
    inline = [
        where
        for where, node in _nodes(DOCUMENT)
        if "enum" in node and not re.fullmatch(r"/components/schemas/[^/]+", where)
    ]
    assert inline == [], "make these enums named types (TypeAliasType) in shared/models"
    values = Counter(tuple(schema["enum"]) for schema in SCHEMAS.values() if "enum" in schema)
    assert [v for v, n in values.items() if n > 1] == [], "one component per set of values"


@pytest.mark.parametrize("name", sorted(SHARED_ENUMS))
def test_shared_enums_are_single_components_every_model_refers_to(name: str) -> None:
    assert SCHEMAS[name]["enum"] == SHARED_ENUMS[name]
    assert SCHEMAS[name]["type"] == "string"
    users = {
        where.split("/")[3] if where.startswith("/components/schemas/") else where
        for where, node in _nodes({"components": {"schemas": SCHEMAS}, "paths": DOCUMENT["paths"]})
        if node.get("$ref") == REF + name
    }
    assert len(users) >= 2, f"{name} is referred to from {sorted(users)} only"
