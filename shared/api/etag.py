"""ETags and `If-Match`: a resource's version, quoted; a 412 that shows the current version."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from shared.domain.errors import NotFound, PreconditionFailed

Found = TypeVar("Found")


def etag(version: int) -> str:
    """The strong ETag of a version."""
    return f'"v{version}"'


def check_if_match(if_match: str | None, current_version: int | None, found: object = None) -> None:
    """Refuse when `If-Match` names another version (or anything, when the resource is absent).

    `found` is what was read (the refusal carries it, so the route can show it as it is now).
    """
    if if_match is None:
        return
    tags = {t.strip() for t in if_match.split(",")}
    if current_version is None:
        raise PreconditionFailed("The resource does not exist.")
    if "*" in tags:
        return
    # Strong comparison (RFC 9110 13.1.1): `W/"v3"` is a weak tag and matches nothing here.
    if etag(current_version) not in tags:
        raise PreconditionFailed("The resource changed since you read it; read it again.", found=found)


@contextmanager
def current_on_stale(
    read: Callable[[], Found | None],
    show: Callable[[Found], Response[Any] | None],
    model: type[BaseModel],
) -> Iterator[None]:
    """Answer a 412 with the resource as it is now: `current` (what its GET answers) and `etag`.

    `show` renders what was read as the route's GET would (None when the thing is not there),
    and `model` is the GET's response model: the resolver serialises a route's answer through
    it (absent fields as null), so `current` is too.
    A refusal that carries what its check read (`PreconditionFailed.found`) is shown from that,
    at no cost; one raised after a write's version condition failed (a race) reads the resource
    again with `read`: one request, on the failure path only. A resource that no longer exists
    (None, or NotFound) keeps the 412 as it was, without `current`.
    """
    try:
        yield
    except PreconditionFailed as stale:
        if stale.current is not None:
            raise
        try:
            found = stale.found if stale.found is not None else read()
            shown = show(found) if found is not None else None  # type: ignore[arg-type]
        except NotFound:
            shown = None
        if shown is None:
            raise
        body = json.loads(shown.body) if isinstance(shown.body, str) else shown.body
        stale.current = model.model_validate(body).model_dump(by_alias=True, mode="json")
        stale.etag = str(shown.headers["ETag"])
        raise
