"""Base model and shapes shared by every route (pages, problems)."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in code; unknown fields are rejected, never stored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
    )


ItemT = TypeVar("ItemT")


class Page(ApiModel, Generic[ItemT]):
    """One page of a list; pass `nextCursor` back as `?cursor=` for the next one."""

    items: list[ItemT]
    next_cursor: str | None = Field(default=None, description="Opaque; absent on the last page.")


class ProblemFieldError(ApiModel):
    """One bad field of a request."""

    location: str = Field(description="body, query, path or header")
    field: str = Field(description="Dotted path of the field, in the request's own (camelCase) names.")
    code: str = Field(description="Stable machine-readable reason, e.g. missing, string_too_long.")
    message: str


class Problem(ApiModel):
    """RFC 9457 problem details. Never echoes the rejected input."""

    type: str = Field(default="about:blank")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None
