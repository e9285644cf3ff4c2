"""The promise log: promises, moves, assessments and the journey."""

from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, model_validator
from typing_extensions import TypeAliasType

from shared.models.common import (
    SINGLE_LINE,
    ApiModel,
    AppMadeId,
    MultiLineText,
    SingleLineText,
    client_id_field,
)

Text = MultiLineText[Annotated[str, StringConstraints(min_length=1, max_length=2000)]]
What = SingleLineText[Annotated[str, StringConstraints(min_length=1, max_length=500)]]
Condition = SingleLineText[Annotated[str, StringConstraints(min_length=1, max_length=500)]]
Conditions = Annotated[list[Condition], Field(max_length=20)]
CareIdRef = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]
Handle = Annotated[str, StringConstraints(min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_]+$")]
# Its own pattern, so it names the characters a single line bars itself (the schema has one pattern).
_EMAIL_PART = rf"[^@\s{SINGLE_LINE.barred}]+"
Email = SingleLineText[
    Annotated[
        str, StringConstraints(max_length=254, pattern=rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$")
    ]
]
# Named types: one component each in the OpenAPI document (see shared/models/profile.py).
Opening = TypeAliasType(
    "Opening",
    Annotated[
        Literal["request", "offer", "promise"],
        Field(description="How a promise opens: a request, an offer, or a promise already made"),
    ],
)
Role = TypeAliasType(
    "Role", Annotated[Literal["customer", "performer"], Field(description="A side of a promise")]
)
PromiseState = TypeAliasType(
    "PromiseState",
    Annotated[
        Literal[
            "requested",
            "offered",
            "promised",
            "reported",
            "fulfilled",
            "countered",
            "revoked",
            "declined",
            "withdrawn",
            "cancelled",
        ],
        Field(description="Where a promise stands, derived from its log"),
    ],
)
Act = TypeAliasType(
    "Act",
    Annotated[
        Literal[
            "promise",
            "counter",
            "decline",
            "withdraw",
            "accept",
            "report_completion",
            "revoke",
            "cancel",
            "declare_satisfied",
            "declare_not_satisfied",
        ],
        Field(description="A move a side may make on an open promise"),
    ],
)
PromiseScope = TypeAliasType(
    "PromiseScope",
    Annotated[
        Literal["self", "team", "organisation", "network", "community"],
        Field(description="How far a promise reaches"),
    ],
)
CounterpartKind = TypeAliasType(
    "CounterpartKind",
    Annotated[Literal["user", "outside"], Field(description="An app user, or an outside person")],
)


def _unique(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        raise ValueError("names a care twice")
    return ids


def _utc_seconds(moment: datetime) -> datetime:
    # A due time is a plan for a career, not an archive date: years far from now are typos.
    if not 2000 <= moment.year <= 2199:
        raise ValueError("must be a time between the years 2000 and 2199")
    return moment.replace(microsecond=0)


DueAt = Annotated[AwareDatetime, AfterValidator(_utc_seconds), Field(description="RFC 3339 with an offset")]


class AppUserCounterpart(ApiModel):
    """An app user, named by their handle."""

    handle: Handle


class OutsideCounterpart(ApiModel):
    """Someone outside the app: a name, and an email to reach them if given."""

    name: SingleLineText[Annotated[str, StringConstraints(min_length=1, max_length=120)]]
    email: Email | None = None


class PromiseSize(ApiModel):
    """How big a promise is: how many people it coordinates, its horizon and its scope."""

    people: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    horizon_days: Annotated[int, Field(ge=1, le=3650)] = 7
    scope: PromiseScope = "self"


class PromiseInput(ApiModel):
    """`POST /v1/me/promises`: open a promise (a request, an offer, or one already made)."""

    promise_id: AppMadeId | None = client_id_field()
    opening: Opening
    counterpart: AppUserCounterpart | OutsideCounterpart
    what: What
    conditions: Conditions = Field(default_factory=list)
    due_at: DueAt
    care_ids: Annotated[list[CareIdRef], Field(max_length=5), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    size: PromiseSize = Field(default_factory=PromiseSize)
    note: Text | None = None


class MoveInput(ApiModel):
    """`POST /v1/me/promises/{promiseId}/moves`: one act; a counter may revise the conditions."""

    move_id: AppMadeId | None = client_id_field(
        "; a replay answers with the promise as it is now, even after later moves"
    )
    act: Act
    note: Text | None = None
    conditions: Conditions | None = None
    due_at: DueAt | None = None


class AssessmentInput(ApiModel):
    """The customer's assessment: what the promise was worth to them."""

    value: Annotated[int, Field(ge=1, le=5)]
    enabled: Text = Field(description="What the fulfilled promise made possible for me")
    evidence: Text | None = None


class SelfAssessmentInput(ApiModel):
    """The performer's own view, kept apart from the customer's."""

    value: Annotated[int, Field(ge=1, le=5)]
    note: Text | None = None


class Party(ApiModel):
    """One side of a promise: an app user (by handle) or an outside person."""

    kind: CounterpartKind
    handle: str | None = None
    name: str | None = None
    email: str | None = None
    partner_name: str | None = Field(
        default=None, description="The coaching company an outside coach asks through"
    )
    is_me: bool = False


class Assessment(ApiModel):
    """An assessment as kept."""

    value: int
    enabled: str | None = None
    evidence: str | None = None
    note: str | None = None
    assessed_at: str


class Promise(ApiModel):
    """A promise as one of its two sides sees it."""

    promise_id: str
    opening: Opening
    what: str
    conditions: list[str]
    due_at: str
    size: PromiseSize
    customer: Party
    performer: Party
    state: PromiseState
    my_role: Role
    allowed_acts: list[Act] = Field(description="What I may do now")
    waiting_on: Role | None = Field(default=None, description="Whose answer the promise waits for")
    care_ids: list[str] = Field(description="My cares this promise serves")
    assessment: Assessment | None = Field(default=None, description="The customer's assessment")
    self_assessment: Assessment | None = Field(
        default=None, description="The performer's own; only they see it"
    )
    created_at: str
    updated_at: str


class PromiseSummary(ApiModel):
    """A promise in my lists."""

    promise_id: str
    what: str
    my_role: Role
    state: PromiseState
    due_at: str
    counterpart: Party
    care_ids: list[str]
    updated_at: str


class MoveRecord(ApiModel):
    """One entry of a promise's append-only log."""

    seq: int
    act: str
    role: Role
    by: Party
    at: str
    note: str | None = None
    conditions: list[str] | None = None
    due_at: str | None = None
    state: PromiseState


class SizeSummary(ApiModel):
    """The size of the promises made in a month, in buckets such as "6-10" people or "8-30" days."""

    median_people: str | None = None
    largest_people: str | None = None
    median_horizon_days: str | None = None
    largest_horizon_days: str | None = None
    largest_scope: PromiseScope | None = None


class PlanMonth(ApiModel):
    """My learning in one month, counted in my profile's time zone (the month of my own
    calendar, so a practice at 23:30 on the last evening of a month counts in that month)."""

    items_done: int = Field(description="Items other than practices that I marked done")
    practice_days: int = Field(description="Days on which I practised (any practice of any plan)")


class PracticeStreaks(ApiModel):
    """My practice streaks: consecutive days on which I practised, in my profile's time zone."""

    current_streak: int = Field(description="Days in the run that reaches today or yesterday; else 0")
    longest_streak: int
    last_practice_day: date | None = None
    time_zone: str = Field(description="The zone whose days these are (my profile's; UTC without one)")


class JourneyMonth(ApiModel):
    """One month of my record: as a performer (UTC month) and as a learner (`plan`, my month)."""

    month: str
    promises_made: int
    fulfilled: int
    fulfilled_on_time: int
    on_time_rate: float | None
    first_time_satisfied: int
    first_time_satisfaction_rate: float | None
    revoked: int
    declined: int
    assessments: int
    mean_assessment: float | None
    size: SizeSummary
    plan: PlanMonth


class Journey(ApiModel):
    """My journey, month by month, oldest first, and my practice streaks."""

    from_month: str = Field(alias="from")
    to_month: str = Field(alias="to")
    months: list[JourneyMonth]
    practice: PracticeStreaks

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.from_month > self.to_month:
            raise ValueError("from is after to")
        return self


class CounterpartLink(ApiModel):
    """A link for an outside counterpart: whoever holds it may act in their role until it expires."""

    url: str = Field(description="The last path segment is the token for /v1/counterpart/{token}")
    expires_at: str


class CounterpartPromise(ApiModel):
    """The promise as an outside counterpart sees it through their link: nothing else of the person."""

    what: str
    conditions: list[str]
    due_at: str
    state: PromiseState
    my_role: Role
    allowed_acts: list[Act]
    can_assess: bool = Field(description="Whether POST .../assessment is open to me now")
    waiting_on: Role | None = None
    counterpart: Party = Field(description="The app user on the other side, by handle")
    assessment: Assessment | None = None
