"""Learning plans: the templates for the classic transitions (plans, items, obstacles and
reminders are built on them next; see docs/architecture.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.api.problems import problem_responses
from shared.api.resolver import App, lambda_entry
from shared.domain.errors import NotFound
from shared.domain.plan_templates import CURRENT_TEMPLATE_VERSION, template_set
from shared.models.plan import TemplateSet

app = App()


@app.get(
    "/v1/learning/templates",
    summary="Plan templates for the classic transitions (the current set, or an earlier version)",
    description=(
        "One template per transition (expert -> team_lead -> manager -> executive -> leader): "
        "starting items and prompts for the transition's cliffs, barriers and dragons. A plan made "
        "from a template keeps the version it came from; every published version stays readable."
    ),
    responses={200: {"description": "The templates"}, **problem_responses(404)},
)
def get_templates(version: Annotated[int | None, Query(ge=1, le=10_000)] = None) -> TemplateSet:
    found = template_set(version)
    if found is None:
        raise NotFound("No template set has that version.")
    number = version or CURRENT_TEMPLATE_VERSION
    return TemplateSet.model_validate(
        {
            "version": number,
            "current": number == CURRENT_TEMPLATE_VERSION,
            "templates": [
                {
                    "templateId": t.id,
                    "version": t.version,
                    "transition": {"from": t.from_level, "to": t.to_level},
                    "title": t.title,
                    "summary": t.summary,
                    "items": [asdict(i) for i in t.items],
                    "obstaclePrompts": [asdict(p) for p in t.obstacle_prompts],
                }
                for t in found
            ],
        }
    )


lambda_handler = lambda_entry(app)
