"""The profile and device models."""

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StrictBool, StringConstraints
from typing_extensions import TypeAliasType

from shared.models.common import ApiModel, SingleLineText

# Named types (`TypeAliasType`): each is one named component of the OpenAPI document that every
# model refers to, so generated clients share one enum (`Level`) instead of one per property.
# Values stay plain `str` at run time.
Level = TypeAliasType(
    "Level",
    Annotated[
        Literal["expert", "team_lead", "manager", "executive", "leader", "other"],
        Field(description="A rung of the leadership ladder, or `other`"),
    ],
)
Platform = TypeAliasType(
    "Platform", Annotated[Literal["ios", "android"], Field(description="A push platform")]
)

_HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9_]{1,28})[a-z0-9]$")
_CLOCK = r"^(?:[01]\d|2[0-3]):[0-5]\d$"


def _valid_time_zone(name: str) -> str:
    # ZoneInfo refuses path tricks ("../", absolute paths) with ValueError, and a folder of the
    # zone database ("Europe") with an OSError.
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("must be an IANA time zone name such as Europe/Lisbon") from None
    return name


def _valid_handle(handle: str) -> str:
    handle = handle.lower()
    if not _HANDLE.match(handle):
        raise ValueError(
            "must be 3 to 30 letters, digits or underscores, starting and ending with a letter or digit"
        )
    return handle


TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$"),
    AfterValidator(_valid_time_zone),
    Field(description="IANA time zone name", examples=["Europe/Lisbon"]),
]
Handle = Annotated[
    str,
    StringConstraints(min_length=3, max_length=30, pattern=r"^[A-Za-z0-9][A-Za-z0-9_]{1,28}[A-Za-z0-9]$"),
    AfterValidator(_valid_handle),
    Field(description="Unique across all people (case-insensitive); how others name you as counterpart."),
]
DisplayName = SingleLineText[Annotated[str, StringConstraints(min_length=1, max_length=80)]]
ClockTime = Annotated[str, StringConstraints(pattern=_CLOCK), Field(examples=["22:00"])]


class NotificationPrefs(ApiModel):
    """What the person wants to be told, and when not to be disturbed (their own time zone)."""

    reminders: StrictBool = True
    promise_updates: StrictBool = True
    quiet_hours_start: ClockTime | None = None
    quiet_hours_end: ClockTime | None = None


class ProfileInput(ApiModel):
    """`PUT /v1/me`: the whole profile."""

    display_name: DisplayName
    handle: Handle
    current_level: Level
    target_level: Level | None = None
    time_zone: TimeZoneName
    notification_prefs: NotificationPrefs = Field(default_factory=NotificationPrefs)


class NotificationPrefsPatch(ApiModel):
    """Merge patch of the notification preferences; `null` resets a field to its default."""

    reminders: StrictBool | None = None
    promise_updates: StrictBool | None = None
    quiet_hours_start: ClockTime | None = None
    quiet_hours_end: ClockTime | None = None


class ProfilePatch(ApiModel):
    """`PATCH /v1/me` (JSON Merge Patch): send only what changes; `null` removes an optional field.

    Required fields take no `null` (the profile cannot lose them); leaving them out keeps them.
    """

    display_name: DisplayName = None  # type: ignore[assignment]
    handle: Handle = None  # type: ignore[assignment]
    current_level: Level = None  # type: ignore[assignment]
    target_level: Level | None = None
    time_zone: TimeZoneName = None  # type: ignore[assignment]
    notification_prefs: NotificationPrefsPatch | None = None


class Profile(ApiModel):
    """My profile as stored."""

    display_name: str
    handle: str
    current_level: Level
    target_level: Level | None = None
    time_zone: str
    notification_prefs: NotificationPrefs
    created_at: str = Field(description="RFC 3339, UTC")
    updated_at: str = Field(description="RFC 3339, UTC")


class DeviceInput(ApiModel):
    """`POST /v1/me/devices`: a push token to reach this device."""

    platform: Platform
    push_token: Annotated[str, StringConstraints(min_length=8, max_length=512, pattern=r"^[\x21-\x7e]+$")]


class Device(ApiModel):
    """A registered device."""

    device_id: str
    platform: Platform
    push_token: str
    created_at: str = Field(description="RFC 3339, UTC")
