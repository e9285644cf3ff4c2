"""The values of the API's named enums (`TypeAliasType(Literal[...])` in shared/models)."""

from __future__ import annotations

from typing import Any, get_args


def literal_values(alias: Any) -> list[str]:
    """The strings a named enum allows, in their declared order (`Annotated` or not)."""
    inner = alias.__value__
    literal = get_args(inner)[0] if getattr(inner, "__metadata__", None) else inner
    return list(get_args(literal))
