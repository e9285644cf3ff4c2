"""The inbox: notifications sent to me (reminders, nudges, promise moves waiting for me)."""

from typing import Any

from pydantic import Field

from shared.models.common import ApiModel


class Notification(ApiModel):
    """One item of my inbox, as it was also pushed to my devices."""

    notification_id: str
    kind: str = Field(
        description="What it is about, e.g. `promise.moved` or `plan.reminder`; new kinds may appear.",
        examples=["promise.moved"],
    )
    title: str
    body: str
    data: dict[str, Any] = Field(
        description="What the app needs to open the right screen (ids of the promise, plan, ...)."
    )
    created_at: str = Field(description="RFC 3339, UTC: when it was sent")
    read_at: str | None = Field(default=None, description="RFC 3339, UTC; null until read")
