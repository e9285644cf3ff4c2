"""The calendar feed's answer: its secret URL."""

from pydantic import Field

from shared.models.common import ApiModel


class CalendarFeed(ApiModel):
    """My secret calendar feed: whoever holds the URL can read the feed, until it is rotated or
    revoked. Shown once: only a hash of its secret is kept."""

    url: str = Field(
        description=(
            "The feed's address (`.../v1/calendar/<token>.ics`), to subscribe to in a calendar app; "
            "it works until the feed is rotated or revoked"
        )
    )
    created_at: str = Field(description="When this URL was made (RFC 3339, UTC)")
