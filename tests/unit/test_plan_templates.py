"""shared.domain.plan_templates: the versioned templates of the classic transitions.

Expectations come from DOMAIN.md ("Learning plans"; cliffs, barriers and dragons) and issue 10:
one template per classic transition, items of the known kinds with at least a practice and a
conversation, prompts for each obstacle kind, and every published version readable.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from shared.domain.plan_templates import (
    CURRENT_TEMPLATE_VERSION,
    DETAIL_MAX,
    ITEM_KINDS,
    LEVELS,
    OBSTACLE_KINDS,
    PROMPT_MAX,
    TEMPLATE_SETS,
    TITLE_MAX,
    PlanTemplate,
    find_template,
    template_set,
)

TRANSITIONS = {
    ("expert", "team_lead"): "expert-to-team-lead",
    ("team_lead", "manager"): "team-lead-to-manager",
    ("manager", "executive"): "manager-to-executive",
    ("executive", "leader"): "executive-to-leader",
}
ALL_TEMPLATES = [t for templates in TEMPLATE_SETS.values() for t in templates]


def _ids(template: PlanTemplate) -> str:
    return f"{template.id}@v{template.version}"


def test_the_vocabularies_are_the_ones_the_api_uses() -> None:
    assert LEVELS == ("expert", "team_lead", "manager", "executive", "leader")
    assert ITEM_KINDS == ("skill", "practice", "reading", "course", "conversation", "experiment")
    assert OBSTACLE_KINDS == ("cliff", "barrier", "dragon")
    assert (TITLE_MAX, DETAIL_MAX, PROMPT_MAX) == (120, 500, 300)


def test_version_1_is_published_and_current_is_the_latest() -> None:
    assert 1 in TEMPLATE_SETS
    assert max(TEMPLATE_SETS) == CURRENT_TEMPLATE_VERSION
    assert template_set() == TEMPLATE_SETS[CURRENT_TEMPLATE_VERSION]


def test_each_classic_transition_is_in_the_current_set_exactly_once() -> None:
    current = template_set()
    assert current is not None
    transitions = [(t.from_level, t.to_level) for t in current]
    assert sorted(transitions) == sorted(TRANSITIONS)
    assert {t.id: (t.from_level, t.to_level) for t in current} == {v: k for k, v in TRANSITIONS.items()}


@pytest.mark.parametrize("version", sorted(TEMPLATE_SETS))
def test_ids_are_unique_within_a_version_and_every_template_carries_its_version(version: int) -> None:
    templates = TEMPLATE_SETS[version]
    assert len({t.id for t in templates}) == len(templates)
    assert len({(t.from_level, t.to_level) for t in templates}) == len(templates)
    assert all(t.version == version for t in templates)


def test_an_id_means_the_same_transition_in_every_version() -> None:
    # A plan stores the template id: the id must keep naming the same transition forever.
    seen: dict[str, tuple[str, str]] = {}
    for template in ALL_TEMPLATES:
        transition = (template.from_level, template.to_level)
        assert seen.setdefault(template.id, transition) == transition, template.id
        assert TRANSITIONS.get(transition, template.id) == template.id


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=_ids)
def test_ids_are_stable_lowercase_slugs(template: PlanTemplate) -> None:
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", template.id), template.id
    assert template.from_level in LEVELS
    assert template.to_level in LEVELS
    assert LEVELS.index(template.to_level) == LEVELS.index(template.from_level) + 1


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=_ids)
def test_items_have_known_kinds_and_include_a_practice_and_a_conversation(template: PlanTemplate) -> None:
    assert 6 <= len(template.items) <= 9
    kinds = [item.kind for item in template.items]
    assert set(kinds) <= set(ITEM_KINDS)
    assert "practice" in kinds
    assert "conversation" in kinds


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=_ids)
def test_practices_are_done_on_days(template: PlanTemplate) -> None:
    # A practice feeds the streaks, so its words must say it is done day by day.
    for item in template.items:
        if item.kind == "practice":
            assert item.title.startswith("Each day"), item.title
            assert item.detail.startswith("Each day"), item.detail


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=_ids)
def test_each_obstacle_kind_has_two_or_three_prompts(template: PlanTemplate) -> None:
    counts = dict.fromkeys(OBSTACLE_KINDS, 0)
    for prompt in template.obstacle_prompts:
        assert prompt.kind in counts
        counts[prompt.kind] += 1
    assert all(2 <= count <= 3 for count in counts.values()), counts
    # Prompts are questions the person answers.
    assert all(p.prompt.rstrip().endswith("?") for p in template.obstacle_prompts)


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=_ids)
def test_texts_are_within_the_limits_and_not_blank(template: PlanTemplate) -> None:
    assert 0 < len(template.title.strip()) <= TITLE_MAX
    assert template.summary.strip()
    for item in template.items:
        assert 0 < len(item.title.strip()) <= TITLE_MAX, item.title
        assert 0 < len(item.detail.strip()) <= DETAIL_MAX, item.title
        # Texts are joined from adjacent literals: a missing space would glue two words.
        assert "  " not in item.detail, item.title
    for prompt in template.obstacle_prompts:
        assert 0 < len(prompt.prompt.strip()) <= PROMPT_MAX, prompt.prompt
        assert "  " not in prompt.prompt
    assert len({item.title for item in template.items}) == len(template.items)


def test_find_template_returns_the_one_of_the_requested_version() -> None:
    found = find_template("expert-to-team-lead")
    assert found is not None
    assert (found.from_level, found.to_level) == ("expert", "team_lead")
    assert found.version == CURRENT_TEMPLATE_VERSION
    assert find_template("expert-to-team-lead", 1) == TEMPLATE_SETS[1][0]
    assert find_template("executive-to-leader", 1) is TEMPLATE_SETS[1][3]


@pytest.mark.parametrize(
    ("template_id", "version"),
    [
        ("expert-to-leader", None),
        ("Expert-To-Team-Lead", None),
        ("", 1),
        ("expert-to-team-lead", 0),
        ("expert-to-team-lead", CURRENT_TEMPLATE_VERSION + 1),
    ],
)
def test_find_template_is_none_for_an_unknown_id_or_version(template_id: str, version: int | None) -> None:
    assert find_template(template_id, version) is None


def test_template_set_is_none_for_a_version_never_published() -> None:
    assert template_set(0) is None
    assert template_set(CURRENT_TEMPLATE_VERSION + 1) is None


@pytest.mark.parametrize("version", sorted(TEMPLATE_SETS))
def test_every_published_version_stays_readable(version: int) -> None:
    templates = template_set(version)
    assert templates is not None
    assert templates == TEMPLATE_SETS[version]
    for template in templates:
        assert find_template(template.id, version) is template


def test_templates_cannot_be_changed_in_place() -> None:
    # A plan points at a published version: changing one in memory would change what it started from.
    template = TEMPLATE_SETS[1][0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.title = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.items[0].title = "changed"  # type: ignore[misc]
    assert isinstance(template.items, tuple)
    assert isinstance(template.obstacle_prompts, tuple)
