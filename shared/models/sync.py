"""Delta sync (`GET /v1/me/changes`): my changes since a cursor, or a snapshot."""

from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from shared.models.common import ApiModel

# Named types: one component each in the OpenAPI document (see shared/models/profile.py).
ChangeType = TypeAliasType(
    "ChangeType",
    Annotated[
        Literal[
            "profile",
            "reflection",
            "care",
            "careRevision",
            "promise",
            "move",
            "plan",
            "planItem",
            "obstacle",
            "suggestion",
            "reminder",
            "notification",
        ],
        Field(description="What kind of thing changed"),
    ],
)
ChangeOp = TypeAliasType("ChangeOp", Literal["upsert", "delete"])


class ChangeEntry(ApiModel):
    """One thing as it is now (`upsert`), or gone (`delete`, a tombstone)."""

    type: ChangeType = Field(
        description="What kind of thing; new kinds may appear (ignore what you do not know)"
    )
    id: str = Field(
        description=(
            "Its id: the resource's own, `me` for the profile, `<careId>.<revision>` for a care"
            " revision, `<promiseId>.<seq>` for a move, `<planId>` or `<planId>.<itemId>` for a reminder"
        )
    )
    op: ChangeOp
    version: int = Field(description='The version its ETag names (`"v<version>"`); 1 for what never changes')
    at: str = Field(description="RFC 3339, UTC: when the server saw the change")
    data: dict[str, Any] | None = Field(
        default=None,
        description=(
            "For an upsert: the thing as its GET shows it (plan items, obstacles, suggestions and"
            " reminders with their `planId`, moves with their `promiseId`); absent for a delete"
        ),
    )


class ChangePage(ApiModel):
    """One page of my change log, oldest change first."""

    items: list[ChangeEntry]
    next_cursor: str = Field(
        description="Always present: come back with it for what changed after this page (opaque)"
    )
    has_more: bool = Field(description="More is waiting now: ask again at once with `nextCursor`")
