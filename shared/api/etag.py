"""ETags and `If-Match`: a resource's version, quoted."""

from __future__ import annotations

from shared.domain.errors import PreconditionFailed


def etag(version: int) -> str:
    """The strong ETag of a version."""
    return f'"v{version}"'


def check_if_match(if_match: str | None, current_version: int | None) -> None:
    """Refuse when `If-Match` names another version (or anything, when the resource is absent)."""
    if if_match is None:
        return
    tags = {t.strip() for t in if_match.split(",")}
    if current_version is None:
        raise PreconditionFailed("The resource does not exist.")
    if "*" in tags:
        return
    # Strong comparison (RFC 9110 13.1.1): `W/"v3"` is a weak tag and matches nothing here.
    if etag(current_version) not in tags:
        raise PreconditionFailed("The resource changed since you read it; read it again.")
