"""`GET /v1/learning/templates`: a template per classic transition, versioned."""

from __future__ import annotations

from functions.plan.app import lambda_handler as plan_handler
from shared.domain.plan_templates import CURRENT_TEMPLATE_VERSION, find_template
from tests.support.aws import Aws, Reply, http_event, invoke


def _get(aws: Aws, query: dict[str, str] | None = None) -> Reply:
    sub, username = aws.create_user()
    return invoke(
        plan_handler, http_event("GET", "/v1/learning/templates", user=sub, username=username, query=query)
    )


def test_the_current_templates_cover_each_transition(aws: Aws) -> None:
    reply = _get(aws)
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["version"], body["current"]) == (CURRENT_TEMPLATE_VERSION, True)
    transitions = [(t["transition"]["from"], t["transition"]["to"]) for t in body["templates"]]
    assert transitions == [
        ("expert", "team_lead"),
        ("team_lead", "manager"),
        ("manager", "executive"),
        ("executive", "leader"),
    ]
    first = body["templates"][0]
    domain = find_template(first["templateId"])
    assert domain is not None
    assert first["items"][0] == {
        "kind": domain.items[0].kind,
        "title": domain.items[0].title,
        "detail": domain.items[0].detail,
    }
    assert {p["kind"] for p in first["obstaclePrompts"]} == {"cliff", "barrier", "dragon"}
    assert reply.headers["Cache-Control"] == "no-store"


def test_an_earlier_version_stays_readable_and_an_unknown_one_is_404(aws: Aws) -> None:
    assert _get(aws, {"version": "1"}).status == 200
    unknown = _get(aws, {"version": str(CURRENT_TEMPLATE_VERSION + 1)})
    assert unknown.status == 404
    assert _get(aws, {"version": "0"}).status == 422
