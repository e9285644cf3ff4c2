"""Base model, text types and shapes shared by every route (pages, problems)."""

import re
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from shared.domain.errors import FieldError, InvalidInput


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in code; unknown fields are rejected, never stored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        # Code builds models by field name (see __init__); the pydantic mypy plugin reads this to
        # type every model's __init__ by field name.
        validate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
        # Build validators on first use, not at import: a cold start pays only for the models
        # its first request touches (import time is budgeted, see bench/).
        defer_build=True,
    )
    # Requests use only the documented camelCase names; a snake_case spelling ("display_name")
    # is an unknown field, not a second name of the same one. Set apart from the ConfigDict
    # above, which is what the mypy plugin reads (it would type __init__ as taking anything,
    # for it cannot know the generated aliases).
    model_config["validate_by_name"] = False

    def __init__(self, /, **data: Any) -> None:
        """Build a model in code, by field name (snake_case) or by alias."""
        self.__pydantic_validator__.validate_python(data, self_instance=self, by_name=True)

    # Marks this __init__ as pydantic's own kind, so validating a request never calls it (a
    # custom __init__ gets the request's fields, and would take snake_case names again).
    # BaseModel and RootModel mark theirs the same way.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


# --- text ----------------------------------------------------------------------------------------

# Character classes in escapes that ECMA-262 (JSON Schema's regex dialect) and Python both read.
# Cc: the C0 and C1 controls; bidi embeddings, overrides and isolates, which reorder how text
# around them is shown (a statement that reads differently from what it says). Zero-width
# joiners and the LRM/RLM marks stay: emoji sequences and mixed scripts need them.
_C0_C1 = r"\x00-\x1f\x7f-\x9f"
_C0_C1_BUT_TAB_AND_NEWLINE = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
_LINE_AND_PARAGRAPH_SEPARATORS = r"\u2028\u2029"
_BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
# Lone surrogates (Cs): JSON can spell one ("\ud800"), yet it is no character. Refused, but not
# in the documented pattern: JSON Schema validators match whole code points, and some refuse a
# surrogate in a pattern at all.
_SURROGATES = r"\ud800-\udfff"


class TextRule:
    """The characters a kind of text refuses: refused on input (422 `control_character`, before
    any other check) and documented as the JSON-schema `pattern` of the field."""

    def __init__(self, barred: str, message: str) -> None:
        self.barred = barred
        self.pattern = f"^[^{barred}]*$"
        self._search = re.compile(f"[{barred}{_SURROGATES}]").search
        self._message = message

    def check(self, value: Any) -> Any:
        """`value` unchanged if it is no text or holds no barred character; else the error."""
        if isinstance(value, str) and self._search(value):
            raise PydanticCustomError("control_character", self._message)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        documented = handler(schema)
        # A field with a pattern of its own (an email) bars these characters in it.
        documented.setdefault("pattern", self.pattern)
        return documented


SINGLE_LINE = TextRule(
    _C0_C1 + _LINE_AND_PARAGRAPH_SEPARATORS + _BIDI_CONTROLS,
    "must be one line, without control characters or bidirectional overrides",
)
MULTI_LINE = TextRule(
    _C0_C1_BUT_TAB_AND_NEWLINE + _BIDI_CONTROLS,
    "must have no control characters but newlines and tabs, and no bidirectional overrides",
)

TextT = TypeVar("TextT", bound=str)
# Every text a request carries is one of these two, around the field's own constraints:
# `SingleLineText[Annotated[str, StringConstraints(max_length=80)]]`. The rule comes last so that
# the constraints keep their own error codes (string_too_long) and their place in the schema.
# Names, titles, statements: one line.
SingleLineText = Annotated[TextT, SINGLE_LINE]
# Free text written at length (notes, reflections): newlines and tabs too.
MultiLineText = Annotated[TextT, MULTI_LINE]


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
    errors: list[ProblemFieldError] | None = Field(
        default=None, description="The first 20 bad fields; `errorCount` says how many there were."
    )
    error_count: int | None = Field(
        default=None, description="How many bad fields the request had (present with `errors`)."
    )
    allowed_acts: list[str] | None = Field(
        default=None, description="On a 409 for a move: the acts my role may make in this state"
    )


class StaleProblem(Problem):
    """A 412: `If-Match` named an older version. While the resource exists the problem carries it
    as it is now (`current`, what its GET answers) and its ETag (`etag`, also the response's `ETag`
    header), so the app can merge without reading it again."""

    current: dict[str, Any] | None = Field(
        default=None,
        description="The resource as it is now: exactly what its GET answers (camelCase JSON)",
    )
    etag: str | None = Field(default=None, description='The current strong ETag, e.g. ""v4""')


ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
CLIENT_ID_DESCRIPTION = "optional: a ULID the app made, so that replaying a queued offline write is safe"


def client_id_field(extra: str = "") -> Any:
    """The field of an id the app may supply when it creates something (a ULID: 26 characters of
    Crockford base32, upper case). A replay (same id, body and person) answers as the first
    time and changes nothing; the same id with another body is a 409 `id-conflict`."""
    return Field(default=None, description=CLIENT_ID_DESCRIPTION + extra)


AppMadeId = Annotated[str, StringConstraints(min_length=26, max_length=26, pattern=ULID_PATTERN)]

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
