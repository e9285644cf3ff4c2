"""Domain errors: plain exceptions that shared.api maps to HTTP problems in one place."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a client can cause or must be told about."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def extensions(self) -> dict[str, object]:
        """Extra members of the problem document (RFC 9457 extensions), camelCase."""
        return {}


class AccountErased(DomainError):
    """The token is valid but names a person whose account was erased (the API answers 401).

    The gateway cannot know about an erasure, and a token outlives it by up to its lifetime,
    so every route and every write checks (see `shared.store.accounts`).
    """


class Forbidden(DomainError):
    """The caller is known but may not do this (a partner token or grant without the scope)."""


class NotFound(DomainError):
    """The thing does not exist, or is not the caller's (never reveal which)."""


class Conflict(DomainError):
    """The request clashes with the current state (taken handle, duplicate, illegal move)."""


class PreconditionFailed(DomainError):
    """`If-Match` named a version that is no longer current.

    So that the app can merge without another round trip, the problem carries the resource as
    it is now (`current`, exactly what its GET answers) and its ETag (`etag`), set by the route
    (`shared.api.etag.current_on_stale`). `found` is what the failed check read, when the code
    that raised had it at hand (a route renders it instead of reading again); None after a
    write's version condition failed, when the route reads the resource again.
    """

    def __init__(
        self,
        detail: str,
        *,
        found: object = None,
        current: dict[str, object] | None = None,
        etag: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.found = found
        self.current = current
        self.etag = etag

    @property
    def extensions(self) -> dict[str, object]:
        """`current` and `etag` when the resource still exists."""
        if self.current is None or self.etag is None:
            return {}
        return {"current": self.current, "etag": self.etag}


class IdConflict(Conflict):
    """An id the app supplied for a new thing (an offline write's) names something else: a write
    with another body, or someone else's. Never tells what or whose (409, type `id-conflict`)."""

    problem_type = "id-conflict"

    def __init__(self, detail: str = "This id was used for another write; make a new one.") -> None:
        super().__init__(detail)


class Gone(DomainError):
    """What the request names existed once and is no longer kept (an expired sync cursor: 410)."""


class PreconditionRequired(DomainError):
    """The operation needs `If-Match` and the request did not send one."""


@dataclass(frozen=True)
class FieldError:
    """One bad field of a request: where it is, which field, a stable code and a message."""

    location: str
    field: str
    code: str
    message: str


class InvalidInput(DomainError):
    """The request is well-formed but some fields break a rule (422)."""

    def __init__(self, detail: str, errors: list[FieldError]) -> None:
        super().__init__(detail)
        self.errors = errors


class BadRequest(DomainError):
    """The request cannot be read at all: malformed JSON, a forged cursor (400)."""


class TooManyRequests(DomainError):
    """One person, link or feed used a costly or public route too often in the current window
    (429, with `Retry-After`: the seconds until the window ends). See `shared.api.ratelimit`."""

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(DomainError):
    """A dependency throttles even after retries; the client should retry later (503)."""

    def __init__(self, detail: str, retry_after_seconds: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds
