"""Learning plans: the templates for the classic transitions (plans themselves come next)."""

from typing import Literal

from pydantic import Field

from shared.models.common import ApiModel

Level = Literal["expert", "team_lead", "manager", "executive", "leader"]
ItemKind = Literal["skill", "practice", "reading", "course", "conversation", "experiment"]
ObstacleKind = Literal["cliff", "barrier", "dragon"]


class TemplateItem(ApiModel):
    """A starting item: a skill, practice (done on days, counted in streaks), reading, course,
    conversation or experiment."""

    kind: ItemKind
    title: str
    detail: str


class ObstaclePrompt(ApiModel):
    """A question that helps name one obstacle of the transition: a cliff (a skill gap), a barrier
    (an old habit in the way) or a dragon (a fear, or politics)."""

    kind: ObstacleKind
    prompt: str


class Transition(ApiModel):
    """From one level to the next."""

    from_level: Level = Field(alias="from")
    to_level: Level = Field(alias="to")


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
