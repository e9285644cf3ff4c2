"""Blocks: people whose requests and offers I refuse."""

from pydantic import Field

from shared.models.common import ApiModel
from shared.models.profile import Handle


class BlockInput(ApiModel):
    """`POST /v1/me/blocks`: block the person who has this handle."""

    handle: Handle


class Block(ApiModel):
    """Someone I blocked: their requests and offers to me are refused as if my handle did not
    exist, and nothing of theirs is pushed to me. Promises we already share go on."""

    block_id: str
    handle: str | None = Field(
        default=None, description="Their handle now (it follows renames); absent once they left the app"
    )
    created_at: str = Field(description="RFC 3339, UTC")
