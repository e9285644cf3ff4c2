"""The account export document (GDPR art. 20): every item of mine, grouped by kind."""

from collections.abc import Mapping, Sequence
from typing import Any, Self

from pydantic import Field

from shared.domain.cares import COUNTER_FIELDS
from shared.models.block import Block
from shared.models.care import Care, CareRevision, Reflection
from shared.models.common import ApiModel
from shared.models.plan import Plan, ReminderMode
from shared.models.profile import Device, Profile
from shared.models.promise import MoveRecord, Promise


class PromiseExport(Promise):
    """One of my promises as I see it, with its whole log (every move's note, conditions and
    due time), my assessment or self-assessment included."""

    moves: list[MoveRecord]


class CareLink(ApiModel):
    """A care named by a promise or a plan item ("for the sake of what")."""

    care_id: str
    kind: str
    target_id: str
    status: str
    linked_at: str
    moved_at: str | None = None


_CARE_LINK_FIELDS = ("careId", "kind", "targetId", "status", "linkedAt", "movedAt")
# A reminder's own fields; the due index's keys and its copies of the plan's are not exported.
REMINDER_FIELDS = (
    "planId",
    "itemId",
    "rrule",
    "mode",
    "timeZone",
    "onlyIfNotDone",
    "paused",
    "nextFireAt",
    "createdAt",
    "updatedAt",
)


class ReminderExport(ApiModel):
    """A reminder of a plan, or of one of its items (`itemId`), as `PUT .../reminder` set it."""

    plan_id: str
    item_id: str | None = None
    rrule: str
    mode: ReminderMode
    time_zone: str
    only_if_not_done: bool
    paused: bool
    next_fire_at: str | None = None
    created_at: str
    updated_at: str


class AccountExport(ApiModel):
    """Everything stored about me. New kinds of item appear as new lists."""

    user_id: str
    exported_at: str = Field(description="RFC 3339, UTC")
    profile: Profile | None = None
    devices: list[Device] = Field(default_factory=list)
    reflections: list[Reflection] = Field(default_factory=list)
    cares: list[Care] = Field(default_factory=list)
    care_revisions: list[CareRevision] = Field(default_factory=list)
    care_links: list[CareLink] = Field(default_factory=list)
    promises: list[PromiseExport] = Field(default_factory=list)
    blocks: list[Block] = Field(default_factory=list)
    plans: list[Plan] = Field(default_factory=list)
    reminders: list[ReminderExport] = Field(default_factory=list)
    other: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="Items of kinds this document does not model yet, by kind."
    )

    @classmethod
    def from_items(
        cls,
        user_id: str,
        exported_at: str,
        grouped: dict[str, list[dict[str, Any]]],
        *,
        promises: Sequence[Mapping[str, Any]] = (),
        blocks: Sequence[Mapping[str, Any]] = (),
        plans: Sequence[Mapping[str, Any]] = (),
    ) -> Self:
        """Build the document from items grouped by their `entity`, my promises as I see them
        (they live in their own partitions) and my blocks with their current handles."""
        rest = dict(grouped)
        profiles = rest.pop("profile", [])
        device_items = rest.pop("device", [])
        # `requestHash` tells a replay of an offline create apart (`shared.domain.replay`).
        care_map_only = {*COUNTER_FIELDS, "lastActivityAt", "requestHash"}
        return cls(
            user_id=user_id,
            exported_at=exported_at,
            profile=Profile.model_validate(profiles[0]) if profiles else None,
            devices=[Device.model_validate(d) for d in device_items],
            reflections=[
                Reflection.model_validate({k: v for k, v in r.items() if k != "requestHash"})
                for r in rest.pop("reflection", [])
            ],
            # Care items also hold the care map's counters: the export shows the care itself.
            cares=[
                Care.model_validate({k: v for k, v in c.items() if k not in care_map_only})
                for c in rest.pop("care", [])
            ],
            care_revisions=[CareRevision.model_validate(r) for r in rest.pop("care-revision", [])],
            # Link items also carry what a feature's "by care" list shows and indexes: not exported.
            care_links=[
                CareLink.model_validate({k: v for k, v in link.items() if k in _CARE_LINK_FIELDS})
                for link in rest.pop("care-link", [])
            ],
            promises=[PromiseExport.model_validate(p) for p in promises],
            blocks=[Block.model_validate(b) for b in blocks],
            plans=[Plan.model_validate(p) for p in plans],
            reminders=[
                ReminderExport.model_validate({k: v for k, v in r.items() if k in REMINDER_FIELDS})
                for r in rest.pop("plan-reminder", [])
            ],
            other=rest,
        )
