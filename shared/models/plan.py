"""Learning plans: the templates for the classic transitions, plans and their items."""

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints
from typing_extensions import TypeAliasType

from shared.domain import recurrence
from shared.domain.plan_templates import DETAIL_MAX, TITLE_MAX
from shared.models.common import ApiModel, AppMadeId, MultiLineText, SingleLineText, client_id_field
from shared.models.profile import TimeZoneName

# Named types: one component each in the OpenAPI document (see shared/models/profile.py).
TransitionLevel = TypeAliasType(
    "TransitionLevel",
    Annotated[
        Literal["expert", "team_lead", "manager", "executive", "leader"],
        Field(description="A rung a transition goes from or to (a profile's `Level` but `other`)"),
    ],
)
PlanItemKind = TypeAliasType(
    "PlanItemKind",
    Annotated[
        Literal["skill", "practice", "reading", "course", "conversation", "experiment"],
        Field(description="A practice is done on days and counted in streaks"),
    ],
)
ObstacleKind = TypeAliasType(
    "ObstacleKind",
    Annotated[
        Literal["cliff", "barrier", "dragon"],
        Field(
            description="A skill gap (cliff), an old habit in the way (barrier), a fear or politics (dragon)"
        ),
    ],
)


class TemplateItem(ApiModel):
    """A starting item: a skill, practice (done on days, counted in streaks), reading, course,
    conversation or experiment."""

    kind: PlanItemKind
    title: str
    detail: str


class ObstaclePrompt(ApiModel):
    """A question that helps name one obstacle of the transition: a cliff (a skill gap), a barrier
    (an old habit in the way) or a dragon (a fear, or politics)."""

    kind: ObstacleKind
    prompt: str


class Transition(ApiModel):
    """From one level to the next."""

    from_level: TransitionLevel = Field(alias="from")
    to_level: TransitionLevel = Field(alias="to")


class PlanTemplate(ApiModel):
    """A starting point for the plan of one transition; a plan keeps the version it came from."""

    template_id: str
    version: int
    transition: Transition
    title: str
    summary: str
    items: list[TemplateItem]
    obstacle_prompts: list[ObstaclePrompt]


class TemplateSet(ApiModel):
    """A published version of the templates."""

    version: int
    current: bool
    templates: list[PlanTemplate]


PlanItemStatus = TypeAliasType("PlanItemStatus", Literal["todo", "doing", "done", "skipped"])
ReminderMode = TypeAliasType(
    "ReminderMode",
    Annotated[
        Literal["floating", "pinned"],
        Field(description="`floating` follows my profile's `timeZone`; `pinned` keeps its own"),
    ],
)
Title = SingleLineText[Annotated[str, StringConstraints(min_length=1, max_length=TITLE_MAX)]]
Detail = MultiLineText[Annotated[str, StringConstraints(min_length=1, max_length=DETAIL_MAX)]]
Reflection = MultiLineText[Annotated[str, StringConstraints(min_length=1, max_length=2000)]]
TemplateId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
CareRef = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]
MAX_ITEMS_AT_CREATION = 50


def _unique(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        raise ValueError("names a care twice")
    return ids


class PlanItemInput(ApiModel):
    """An item of a plan: a skill, practice, reading, course, conversation or experiment."""

    kind: PlanItemKind
    title: Title
    detail: Detail | None = None
    status: PlanItemStatus = "todo"
    due_date: date | None = None
    progress: Annotated[int, Field(ge=0, le=100, description="Percent done")] = 0
    reflection: Reflection | None = None


class NewPlanItemInput(PlanItemInput):
    """`POST /v1/me/plans/{planId}/items`: an item to add at its place in the plan."""

    item_id: AppMadeId | None = client_id_field(
        "; items sort by id, so an item made offline takes its place by the time the app made it"
    )


class PlanInput(ApiModel):
    """`POST /v1/me/plans`: from a template (`templateId`, its items copied, its title and
    transition by default) or from scratch (`title`); `items` are added after a template's."""

    plan_id: AppMadeId | None = client_id_field("; the plan's items take ids the server makes, in order")
    template_id: TemplateId | None = None
    template_version: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        default=None, description="Defaults to the current template set"
    )
    title: Title | None = None
    transition: Transition | None = None
    care_ids: Annotated[list[CareRef], Field(max_length=5), AfterValidator(_unique)] = Field(
        default_factory=list, description="My active cares this plan serves"
    )
    target_date: date | None = None
    items: Annotated[list[PlanItemInput], Field(max_length=MAX_ITEMS_AT_CREATION)] = Field(
        default_factory=list
    )


class PlanItem(ApiModel):
    """An item as kept."""

    item_id: str
    kind: PlanItemKind
    title: str
    detail: str | None = None
    status: PlanItemStatus
    due_date: str | None = None
    progress: int
    reflection: str | None = None
    last_done_at: str | None = Field(
        default=None,
        description=(
            "When it was last done (RFC 3339, UTC; read-only). A practice is done again each time a"
            " change sets `status` to `done`: that day, in my profile's time zone, counts for my"
            " practice streak"
        ),
    )
    created_at: str
    updated_at: str


class Obstacle(ApiModel):
    """A cliff, barrier or dragon the person named, with their response."""

    obstacle_id: str
    kind: ObstacleKind
    description: str
    response: str | None = None
    created_at: str
    updated_at: str


class PlanSummary(ApiModel):
    """A plan in my list."""

    plan_id: str
    title: str
    transition: Transition | None = None
    template_id: str | None = None
    target_date: str | None = None
    care_ids: list[str]
    created_at: str
    updated_at: str


class PlanSuggestion(ApiModel):
    """An item a partner (my coach's company) suggests for this plan; it waits until I accept
    it (`POST .../suggestions/{suggestionId}/accept`, it becomes an item) or dismiss it."""

    suggestion_id: str
    kind: PlanItemKind
    title: str
    detail: str | None = None
    partner_id: str
    partner_name: str
    coach_name: str | None = None
    created_at: str


class SuggestionInput(ApiModel):
    """`POST /partner/v1/clients/{clientId}/plans/{planId}/suggestions`: an item to suggest."""

    kind: PlanItemKind
    title: Title
    detail: Detail | None = None
    coach_name: SingleLineText[Annotated[str, StringConstraints(min_length=1, max_length=80)]] | None = None


class Plan(PlanSummary):
    """A plan with its items, obstacles and waiting suggestions (read in one request)."""

    template_version: int | None = None
    items: list[PlanItem]
    obstacles: list[Obstacle]
    suggestions: list[PlanSuggestion] = Field(default_factory=list)


Prompted = MultiLineText[Annotated[str, StringConstraints(min_length=1, max_length=2000)]]


class PlanItemPatch(ApiModel):
    """`PATCH .../items/{itemId}` (JSON Merge Patch): `null` clears `detail`, `dueDate`,
    `reflection`; the other fields take no `null`."""

    kind: PlanItemKind = None  # type: ignore[assignment]
    title: Title = None  # type: ignore[assignment]
    detail: Detail | None = None
    status: PlanItemStatus = None  # type: ignore[assignment]
    due_date: date | None = None
    progress: Annotated[int, Field(ge=0, le=100)] = None  # type: ignore[assignment]
    reflection: Reflection | None = None


class ObstacleInput(ApiModel):
    """A cliff (a skill gap), barrier (an old habit in the way) or dragon (a fear, or politics),
    in the person's words, with how they will respond to it."""

    kind: ObstacleKind
    description: Prompted
    response: Prompted | None = None


class NewObstacleInput(ObstacleInput):
    """`POST /v1/me/plans/{planId}/obstacles`: an obstacle to name in the plan."""

    obstacle_id: AppMadeId | None = client_id_field()


class ObstaclePatch(ApiModel):
    """`PATCH .../obstacles/{obstacleId}` (JSON Merge Patch): `null` clears `response`."""

    kind: ObstacleKind = None  # type: ignore[assignment]
    description: Prompted = None  # type: ignore[assignment]
    response: Prompted | None = None


class PlanDocument(ApiModel):
    """A plan's own fields after a merge patch, validated as a whole."""

    title: Title
    transition: Transition | None = None
    care_ids: Annotated[list[CareRef], Field(max_length=5), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    target_date: date | None = None


class PlanPatch(ApiModel):
    """`PATCH /v1/me/plans/{planId}` (JSON Merge Patch): `null` clears `transition` and
    `targetDate`; the template a plan came from does not change."""

    title: Title = None  # type: ignore[assignment]
    transition: Transition | None = None
    care_ids: Annotated[list[CareRef], Field(max_length=5), AfterValidator(_unique)] = None  # type: ignore[assignment]
    target_date: date | None = None


class ReminderInput(ApiModel):
    """`PUT .../reminder`: when to be reminded, as an RFC 5545 rule in local time."""

    # Multi-line: a DTSTART line may come before the rule (lines end with \n).
    rrule: MultiLineText[Annotated[str, StringConstraints(min_length=1, max_length=1000)]] = Field(
        description=recurrence.SUPPORTED_DESCRIPTION
    )
    mode: ReminderMode = Field(
        default="floating",
        description=(
            "`floating` follows my profile's `timeZone` (it moves when I travel); `pinned` keeps `timeZone`"
        ),
    )
    time_zone: TimeZoneName | None = Field(default=None, description="Required when `mode` is pinned")
    only_if_not_done: StrictBool = Field(
        default=False, description="Only when the item (or, for a plan, nothing in it) was done that day"
    )
    paused: StrictBool = False


class Reminder(ApiModel):
    """A reminder as kept, with when it fires next."""

    rrule: str = Field(description="The rule as kept: always with its DTSTART (local time)")
    mode: ReminderMode
    time_zone: str
    only_if_not_done: bool
    paused: bool
    next_fire_at: str | None = Field(default=None, description="RFC 3339, UTC; absent when paused or ended")
    upcoming: list[str] = Field(description="The next occurrences in local time (RFC 3339 with offset)")
    created_at: str
    updated_at: str
