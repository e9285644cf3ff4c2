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
    """`If-Match` named a version that is no longer current."""


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


class ServiceUnavailable(DomainError):
    """A dependency throttles even after retries; the client should retry later (503)."""

    def __init__(self, detail: str, retry_after_seconds: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds
