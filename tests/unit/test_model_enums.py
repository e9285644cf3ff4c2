"""The API's named enums (shared/models) say what the domain's rules say: a value added to a
rule and not to the model (or the other way round) would be refused, or promised and never
produced."""

from __future__ import annotations

from typing import Any

from shared.domain import plan_templates, promises
from shared.domain.partners import SCOPES
from shared.domain.sync import SYNCED_TYPES
from shared.models import partner, plan, promise, sync
from tests.support.enums import literal_values


def values(alias: Any) -> set[str]:
    return set(literal_values(alias))


def test_promise_enums_are_the_state_machines() -> None:
    assert values(promise.PromiseState) == {s.value for s in promises.State} - {promises.State.opening}
    assert values(promise.Act) == {a.value for a in promises.API_ACTS}
    assert values(promise.Role) == {r.value for r in promises.Role}
    assert values(promise.Opening) == {o.value for o in promises.Opening}


def test_plan_enums_are_the_templates() -> None:
    assert values(plan.TransitionLevel) == set(plan_templates.LEVELS)
    assert values(plan.PlanItemKind) == set(plan_templates.ITEM_KINDS)
    assert values(plan.ObstacleKind) == set(plan_templates.OBSTACLE_KINDS)


def test_partner_scopes_are_the_resource_servers() -> None:
    assert values(partner.PartnerScope) == set(SCOPES)


def test_change_types_are_what_the_change_log_writes() -> None:
    assert values(sync.ChangeType) == set(SYNCED_TYPES.values())
