"""Partners, grants and the access log (the app's side), and what partners read (`/partner/v1`).

What a partner reads of a person is a reduced view: nothing that names the person beyond what
they wrote for their coach (no handle, no email, no internal id), nothing that names anyone else
(a promise's counterpart is only `user` or `outside`), and every id a partner-specific one.
"""

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints
from typing_extensions import TypeAliasType

from shared.domain.partners import SCOPES
from shared.models.care import CareDomain, CareStatus
from shared.models.common import ApiModel, SingleLineText
from shared.models.plan import PlanItemKind, PlanItemStatus, Transition
from shared.models.profile import Level
from shared.models.promise import (
    Act,
    Assessment,
    Conditions,
    CounterpartKind,
    DueAt,
    PromiseState,
    Role,
    Text,
    What,
)

# Named types: one component each in the OpenAPI document (see shared/models/profile.py).
PartnerScope = TypeAliasType(
    "PartnerScope",
    Annotated[
        Literal[
            "clients.read",
            "profile.read",
            "cares.read",
            "promises.read",
            "plans.read",
            "requests.write",
            "plans.suggest",
            "webhooks.manage",
        ],
        Field(description="What a partner may ask for, and a person grant"),
    ],
)
GrantStatus = TypeAliasType("GrantStatus", Literal["active", "expired"])
CoachName = SingleLineText[Annotated[str, StringConstraints(min_length=1, max_length=80)]]
PartnerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]


def _unique(scopes: list[str]) -> list[str]:
    if len(set(scopes)) != len(scopes):
        raise ValueError("names a scope twice")
    return scopes


class Partner(ApiModel):
    """A coaching company in the partner directory, with the scopes it may ask for."""

    partner_id: str
    name: str
    scopes: list[PartnerScope]
    created_at: str = Field(description="When it was registered")


class GrantInput(ApiModel):
    """`POST /v1/me/grants`: what I let a partner see and do, for how long. Granting again to
    the same partner replaces the grant (its `clientId` stays the same)."""

    partner_id: PartnerId
    scopes: Annotated[
        list[PartnerScope], Field(min_length=1, max_length=len(SCOPES)), AfterValidator(_unique)
    ] = Field(description="A subset of the partner's scopes in the directory")
    expires_at: AwareDatetime | None = Field(default=None, description="RFC 3339; absent: until I revoke it")


class Grant(ApiModel):
    """My grant to a partner."""

    partner_id: str
    partner_name: str
    scopes: list[PartnerScope]
    client_id: str = Field(description="How this partner knows me (it knows no other id of mine)")
    expires_at: str | None = None
    status: GrantStatus
    created_at: str
    updated_at: str


class AccessEntry(ApiModel):
    """One read or write of my data by a partner."""

    access_id: str
    partner_id: str
    partner_name: str
    action: str = Field(description="The scope used, e.g. cares.read or requests.write")
    resource: str = Field(description="What was read or written, e.g. cares")
    at: str


# --- what partners read ---------------------------------------------------------------------------


class Client(ApiModel):
    """A person who granted me access, as I know them."""

    client_id: str
    scopes: list[PartnerScope] = Field(description="What they granted (my token's scopes limit it further)")
    expires_at: str | None = None
    granted_at: str


class ClientProfile(ApiModel):
    """A client's profile, as a coach needs it."""

    display_name: str
    current_level: Level
    target_level: Level | None = None
    time_zone: str


class ClientCare(ApiModel):
    """One of a client's cares."""

    care_id: str = Field(description="Partner-specific")
    statement: str
    domain: CareDomain
    value_for_others: str | None = None
    meaning_for_me: str | None = None
    rank: int | None = None
    status: CareStatus
    created_at: str
    updated_at: str


class ClientPromise(ApiModel):
    """One of a client's promises; the other side is not named."""

    promise_id: str = Field(description="Partner-specific")
    what: str
    due_at: str
    state: PromiseState
    role: Role = Field(description="The client's side")
    counterpart_kind: CounterpartKind
    updated_at: str


class ClientPlanItem(ApiModel):
    """An item of a client's plan."""

    item_id: str = Field(description="Partner-specific")
    kind: PlanItemKind
    title: str
    status: PlanItemStatus
    progress: int
    due_date: str | None = None
    last_done_at: str | None = None


class ClientPlan(ApiModel):
    """One of a client's learning plans with its items (obstacles, the person's own fears and
    habits, stay private)."""

    plan_id: str = Field(description="Partner-specific")
    title: str
    transition: Transition | None = None
    target_date: str | None = None
    items: list[ClientPlanItem]
    created_at: str
    updated_at: str


# --- partners' requests -----------------------------------------------------------------------------


class RequestInput(ApiModel):
    """`POST /partner/v1/clients/{clientId}/requests`: a coach asks the client for a promise."""

    what: What
    conditions: Conditions = Field(default_factory=list)
    due_at: DueAt
    coach_name: CoachName = Field(description="Who asks: shown to the client with the partner's name")
    note: Text | None = None


class RequestMove(ApiModel):
    """One move of a request's log, as the partner sees it (the client is the `performer`)."""

    seq: int
    act: str
    role: Role
    at: str
    note: str | None = None
    conditions: list[str] | None = None
    due_at: str | None = None
    state: PromiseState


class PartnerRequest(ApiModel):
    """A request a coach made through me, where it stands, and what the coach may do next."""

    request_id: str
    what: str
    conditions: list[str]
    due_at: str
    state: PromiseState
    allowed_acts: list[Act] = Field(description="The moves the coach (the customer) may make now")
    can_assess: bool
    assessment: Assessment | None = None
    moves: list[RequestMove]
    created_at: str
    updated_at: str


# --- webhooks -------------------------------------------------------------------------------------

WebhookEventType = TypeAliasType(
    "WebhookEventType",
    Annotated[
        Literal["promise.moved", "promise.assessed", "plan.item_completed", "grant.created", "grant.revoked"],
        Field(description="What a webhook event tells"),
    ],
)
WebhookStatus = TypeAliasType("WebhookStatus", Literal["enabled", "disabled"])
DeliveryOutcome = TypeAliasType("DeliveryOutcome", Literal["delivered", "retry", "gone", "refused"])
WebhookUrl = Annotated[str, StringConstraints(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$")]


class WebhookInput(ApiModel):
    """`PUT /partner/v1/webhook`: where to send which events. Deployed, the URL must be https
    and resolve to a public address (checked again at every delivery)."""

    url: WebhookUrl
    events: Annotated[
        list[WebhookEventType], Field(min_length=1, max_length=5), AfterValidator(lambda e: _unique(e))
    ]


class Webhook(ApiModel):
    """My webhook; `secret` (`whsec_...`) only in the answer that made it (or rotated it)."""

    url: str
    events: list[WebhookEventType]
    status: WebhookStatus
    disabled_reason: str | None = None
    failing_since: str | None = None
    secret: str | None = Field(default=None, description="Shown once: keep it to verify signatures")
    created_at: str
    updated_at: str


class Delivery(ApiModel):
    """One attempt to deliver an event to my webhook."""

    delivery_id: str
    event_id: str
    type: str
    attempt: int
    status: int | None = Field(default=None, description="The HTTP status my endpoint answered")
    outcome: DeliveryOutcome
    latency_ms: int | None = None
    error: str | None = None
    at: str
