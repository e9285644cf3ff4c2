"""Requests name fields only as documented (camelCase); code builds models by field name."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

import shared.models
from shared.models.common import ApiModel, Page, Problem
from shared.models.export import AccountExport
from shared.models.profile import Device, DeviceInput, NotificationPrefs


def _models() -> Iterator[type[ApiModel]]:
    for module in pkgutil.iter_modules(shared.models.__path__):
        importlib.import_module(f"shared.models.{module.name}")
    pending = list(ApiModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if not model.__pydantic_generic_metadata__["parameters"]:
            yield model


def _spelled_two_ways() -> list[tuple[type[ApiModel], str, str]]:
    return [
        (model, name, field.alias)
        for model in _models()
        for name, field in model.model_fields.items()
        if field.alias and field.alias != name
    ]


def test_some_models_have_fields_whose_name_differs_from_their_alias() -> None:
    names = {(model.__name__, name) for model, name, _ in _spelled_two_ways()}
    assert {
        ("ProfileInput", "display_name"),
        ("CareInput", "value_for_others"),
        ("MoveInput", "due_at"),
    } <= names


@pytest.mark.parametrize(
    ("model", "name", "alias"),
    _spelled_two_ways(),
    ids=lambda v: v.__name__ if isinstance(v, type) else str(v),
)
def test_a_field_name_is_not_read_as_its_alias(model: type[ApiModel], name: str, alias: str) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({name: None})
    errors = {(e["loc"], e["type"]) for e in caught.value.errors()}
    assert ((name,), "extra_forbidden") in errors


def test_code_builds_models_by_field_name() -> None:
    page = Page[Device](
        items=[
            Device(device_id="d1", platform="ios", push_token="token-123", created_at="2026-11-27T09:00:00Z")
        ],
        next_cursor="abc",
    )
    assert page.next_cursor == "abc"
    assert page.model_dump(by_alias=True)["nextCursor"] == "abc"
    assert AccountExport(user_id="u1", exported_at="2026-11-27T09:00:00Z").user_id == "u1"
    assert NotificationPrefs(quiet_hours_start="22:00").quiet_hours_start == "22:00"
    assert Problem(title="Bad Request", status=400, error_count=3).error_count == 3
    # Nested documents built in code may use field names too, as before.
    assert Page[DeviceInput](items=[{"platform": "ios", "push_token": "token-123"}]).items[0].push_token
