"""Care discovery: question sets, reflections, cares, their history and the care map."""

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from typing_extensions import TypeAliasType

from shared.models.common import ApiModel, AppMadeId, MultiLineText, SingleLineText, client_id_field

MAX_ANSWER_CHARS = 4000
MAX_ANSWERS = 20

# Named types: one component each in the OpenAPI document (see shared/models/profile.py).
CareDomain = TypeAliasType(
    "CareDomain",
    Annotated[
        Literal["self", "others", "organization", "community"],
        Field(description="The sphere a care is about"),
    ],
)
CareStatus = TypeAliasType(
    "CareStatus",
    Annotated[Literal["active", "archived"], Field(description="Archived cares leave the ranking")],
)
QuestionTheme = TypeAliasType("QuestionTheme", Literal["care", "transition"])
ActorKind = TypeAliasType("ActorKind", Literal["person", "partner", "system"])
RevisionAction = TypeAliasType(
    "RevisionAction", Literal["created", "edited", "reranked", "archived", "restored"]
)
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]
QuestionId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
AnswerText = MultiLineText[Annotated[str, StringConstraints(min_length=1, max_length=MAX_ANSWER_CHARS)]]
Statement = SingleLineText[Annotated[str, StringConstraints(min_length=1, max_length=280)]]
LongText = MultiLineText[Annotated[str, StringConstraints(min_length=1, max_length=2000)]]
Rank = Annotated[int, Field(ge=1, le=1000, description="1 is what I care about most")]


class Question(ApiModel):
    """One generative question; its id stays the same in every version."""

    id: str
    text: str
    theme: QuestionTheme


class QuestionSet(ApiModel):
    """A version of the generative questions."""

    version: int
    current: bool
    questions: list[Question]


class AnswerInput(ApiModel):
    """My answer to one question of the set."""

    question_id: QuestionId
    text: AnswerText


class ReflectionInput(ApiModel):
    """`POST /v1/me/reflections`: answers to some or all questions of one version of the set."""

    reflection_id: AppMadeId | None = client_id_field()
    question_set_version: Annotated[int, Field(ge=1, le=10_000)]
    answers: Annotated[list[AnswerInput], Field(min_length=1, max_length=MAX_ANSWERS)]


class Answer(ApiModel):
    """An answer as kept."""

    question_id: str
    text: str


class Reflection(ApiModel):
    """Answers written at one moment; kept as written, never overwritten."""

    reflection_id: str
    question_set_version: int
    answers: list[Answer]
    created_at: str = Field(description="RFC 3339, UTC")


class CareInput(ApiModel):
    """`POST /v1/me/cares`: something I care about."""

    care_id: AppMadeId | None = client_id_field()
    statement: Statement
    domain: CareDomain
    value_for_others: LongText | None = None
    meaning_for_me: LongText | None = None
    rank: Rank | None = Field(
        default=None, description="Where it goes among my active cares; last when absent"
    )
    source_reflection_id: Id | None = Field(default=None, description="The reflection of mine it came from")


class CareDocument(ApiModel):
    """A care's editable fields after a merge patch, validated as a whole."""

    statement: Statement
    domain: CareDomain
    value_for_others: LongText | None = None
    meaning_for_me: LongText | None = None
    rank: Rank | None = None
    status: CareStatus = "active"


class CarePatch(ApiModel):
    """`PATCH /v1/me/cares/{careId}` (JSON Merge Patch): `null` clears the optional texts.

    `status: active` restores an archived care (last in rank unless `rank` says otherwise).
    """

    statement: Statement | None = None
    domain: CareDomain | None = None
    value_for_others: LongText | None = None
    meaning_for_me: LongText | None = None
    rank: Rank | None = None
    status: CareStatus | None = None


class Care(ApiModel):
    """Something I care about: what it is, the value it creates for others, its meaning for me."""

    care_id: str
    statement: str
    domain: CareDomain
    value_for_others: str | None = None
    meaning_for_me: str | None = None
    rank: int | None = Field(default=None, description="Absent once archived")
    status: CareStatus
    source_reflection_id: str | None = None
    revision: int = Field(description="How many revisions the care has; its history lists each one")
    created_at: str
    updated_at: str
    archived_at: str | None = None


class Actor(ApiModel):
    """Who made a change."""

    kind: ActorKind
    id: str | None = None


class FieldChange(ApiModel):
    """One field a revision changed, from what to what (absent = not set)."""

    field: str
    before: Any = None
    after: Any = None


class CareRevision(ApiModel):
    """One change of a care: who changed what, and when."""

    care_id: str
    revision: int
    action: RevisionAction
    changed_at: str
    changed_by: Actor
    changes: list[FieldChange]


class LinkCounts(ApiModel):
    """Linked things, open and done."""

    open: int = 0
    done: int = 0


class PromiseCounts(ApiModel):
    """Linked promises, open and fulfilled."""

    open: int = 0
    fulfilled: int = 0


class CareMapEntry(ApiModel):
    """One care with where my promises and learning go."""

    care_id: str
    statement: str
    domain: CareDomain
    status: CareStatus
    rank: int | None = None
    promises: PromiseCounts
    plan_items: LinkCounts
    last_activity_at: str | None = Field(default=None, description="When something linked last moved")
    neglected: bool = Field(description="Active, and nothing linked moved in 30 days")


class CareMap(ApiModel):
    """My cares, active first in rank order, with their linked promises and plan items."""

    items: list[CareMapEntry]
    generated_at: str
