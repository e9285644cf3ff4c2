"""Request parameters every function declares the same way (headers, paging)."""

from __future__ import annotations

import re
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from pydantic import AwareDatetime, BeforeValidator

from shared.api.pagination import MAX_LIMIT

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="ETag(s) from a previous read, or `*`; anything that does not match is a 412 (RFC 9110)",
        max_length=1024,
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description="`*`: create only, never replace; other values are ignored",
        max_length=1024,
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Same key and body within 24 h: the first response again",
        pattern=r"^[\x21-\x7e]{1,255}$",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339_only(value: object) -> object:
    """A time in a query is RFC 3339 text; pydantic alone would also take `0.5` as a Unix time."""
    if isinstance(value, str) and not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 time with an offset")
    return value


# An RFC 3339 time (with its offset) in a query string.
QueryTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only)]
Cursor = Annotated[str | None, Query(max_length=2048)]


def path_id(alias: str) -> Path:
    """An id in the path: opaque, URL-safe (ULID letters and digits)."""
    return Path(alias=alias, min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")
