"""The account export document (GDPR art. 20): every item of mine, grouped by kind."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.models.common import ApiModel
from shared.models.profile import Device, Profile


class AccountExport(ApiModel):
    """Everything stored about me. New kinds of item appear as new lists."""

    user_id: str
    exported_at: str = Field(description="RFC 3339, UTC")
    profile: Profile | None = None
    devices: list[Device] = Field(default_factory=list)
    other: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="Items of kinds this document does not model yet, by kind."
    )

    @classmethod
    def from_items(
        cls, user_id: str, exported_at: str, grouped: dict[str, list[dict[str, Any]]]
    ) -> AccountExport:
        """Build the document from items grouped by their `entity`."""
        rest = dict(grouped)
        profiles = rest.pop("profile", [])
        device_items = rest.pop("device", [])
        return cls(
            user_id=user_id,
            exported_at=exported_at,
            profile=Profile.model_validate(profiles[0]) if profiles else None,
            devices=[Device.model_validate(d) for d in device_items],
            other=rest,
        )
