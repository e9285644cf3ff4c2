"""Base model and shapes shared by every route (pages, problems)."""

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from shared.domain.errors import FieldError, InvalidInput


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in code; unknown fields are rejected, never stored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
        # Build validators on first use, not at import: a cold start pays only for the models
        # its first request touches (import time is budgeted, see bench/).
        defer_build=True,
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
    allowed_acts: list[str] | None = Field(
        default=None, description="On a 409 for a move: the acts my role may make in this state"
    )


ModelT = TypeVar("ModelT", bound=BaseModel)


def validate_document(model: type[ModelT], data: Any, location: str = "body") -> ModelT:
    """Validate a document the route assembled (e.g. a merged patch) as the client's input.

    Errors name the client's fields, as request validation does, and never echo values.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(
            "Some fields are invalid.",
            [
                FieldError(
                    location=location,
                    field=".".join(str(part) for part in e["loc"]),
                    code=e["type"],
                    message=e["msg"].removeprefix("Value error, "),
                )
                for e in error.errors(include_input=False, include_url=False)
            ],
        ) from None
