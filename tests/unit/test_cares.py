"""Domain rules of cares (ranking, revisions, link counters, neglect) and the question sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import cares as rules
from shared.domain.cares import Change, LinkKind, LinkStatus
from shared.domain.questions import CURRENT_VERSION, QUESTION_SETS, question_set

NOW = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)


def _ranks(order: list[str]) -> dict[str, int]:
    return {c: i + 1 for i, c in enumerate(order)}


# --- place / remove / rank_moves ----------------------------------------------------------------


def test_place_without_rank_appends_a_new_care_last() -> None:
    assert rules.place([], "a", None) == ["a"]
    assert rules.place(["a", "b"], "c", None) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("rank", "expected"),
    [
        (1, ["n", "a", "b", "c"]),
        (2, ["a", "n", "b", "c"]),
        (3, ["a", "b", "n", "c"]),
        (4, ["a", "b", "c", "n"]),
    ],
)
def test_place_inserts_a_new_care_at_its_rank(rank: int, expected: list[str]) -> None:
    assert rules.place(["a", "b", "c"], "n", rank) == expected


@pytest.mark.parametrize("rank", [5, 99, 1000])
def test_place_past_the_end_clamps_to_last(rank: int) -> None:
    assert rules.place(["a", "b", "c"], "n", rank) == ["a", "b", "c", "n"]
    assert rules.place(["a", "b", "c"], "a", rank) == ["b", "c", "a"]


@pytest.mark.parametrize("rank", [0, -1, -50])
def test_place_below_one_clamps_to_first(rank: int) -> None:
    assert rules.place(["a", "b", "c"], "n", rank) == ["n", "a", "b", "c"]
    assert rules.place(["a", "b", "c"], "c", rank) == ["c", "a", "b"]


def test_place_moves_a_ranked_care_up() -> None:
    assert rules.place(["a", "b", "c", "d"], "d", 2) == ["a", "d", "b", "c"]


def test_place_moves_a_ranked_care_down() -> None:
    assert rules.place(["a", "b", "c", "d"], "a", 3) == ["b", "c", "a", "d"]


def test_place_at_its_own_rank_changes_nothing() -> None:
    assert rules.place(["a", "b", "c"], "b", 2) == ["a", "b", "c"]


def test_place_without_rank_moves_a_ranked_care_last() -> None:
    assert rules.place(["a", "b", "c"], "a", None) == ["b", "c", "a"]


def test_place_does_not_change_its_input() -> None:
    order = ["a", "b", "c"]
    rules.place(order, "c", 1)
    assert order == ["a", "b", "c"]


def test_remove_closes_the_gap() -> None:
    assert rules.remove(["a", "b", "c", "d"], "b") == ["a", "c", "d"]
    assert rules.remove(["a"], "a") == []


def test_remove_of_an_unranked_care_changes_nothing() -> None:
    assert rules.remove(["a", "b"], "z") == ["a", "b"]


def test_rank_moves_of_an_insert_on_top_names_every_shifted_care() -> None:
    before = ["a", "b", "c"]
    after = rules.place(before, "n", 1)
    assert rules.rank_moves(before, after) == {"n": (None, 1), "a": (1, 2), "b": (2, 3), "c": (3, 4)}


def test_rank_moves_of_an_append_names_only_the_new_care() -> None:
    before = ["a", "b"]
    assert rules.rank_moves(before, rules.place(before, "n", None)) == {"n": (None, 3)}


def test_rank_moves_of_a_move_down_names_only_the_cares_in_between() -> None:
    before = ["a", "b", "c", "d", "e"]
    after = rules.place(before, "b", 4)
    assert after == ["a", "c", "d", "b", "e"]
    assert rules.rank_moves(before, after) == {"b": (2, 4), "c": (3, 2), "d": (4, 3)}


def test_rank_moves_of_a_move_up_names_only_the_cares_in_between() -> None:
    before = ["a", "b", "c", "d", "e"]
    after = rules.place(before, "d", 2)
    assert rules.rank_moves(before, after) == {"d": (4, 2), "b": (2, 3), "c": (3, 4)}


def test_rank_moves_of_an_archive_moves_the_cares_below_up() -> None:
    before = ["a", "b", "c", "d"]
    after = rules.remove(before, "b")
    assert rules.rank_moves(before, after) == {"b": (2, None), "c": (3, 2), "d": (4, 3)}


def test_rank_moves_of_an_unchanged_order_is_empty() -> None:
    assert rules.rank_moves(["a", "b"], ["a", "b"]) == {}


_operation = st.tuples(
    st.sampled_from(["place", "remove"]),
    st.sampled_from([f"c{i}" for i in range(8)]),
    st.one_of(st.none(), st.integers(min_value=-3, max_value=12)),
)


@given(st.lists(_operation, max_size=40))
def test_any_sequence_of_operations_keeps_a_gapless_permutation(
    operations: list[tuple[str, str, int | None]],
) -> None:
    order: list[str] = []
    placed: set[str] = set()
    for op, care_id, rank in operations:
        before = list(order)
        if op == "place":
            order = rules.place(order, care_id, rank)
            placed.add(care_id)
            # The placed care lands at its clamped rank; the others keep their relative order.
            expected_rank = len(order) if rank is None else min(max(rank, 1), len(order))
            assert order.index(care_id) + 1 == expected_rank
        else:
            order = rules.remove(order, care_id)
            placed.discard(care_id)
        assert len(order) == len(set(order)), "no duplicates"
        assert set(order) == placed, "exactly the placed cares, each once"
        assert [c for c in order if c != care_id] == [c for c in before if c != care_id]

        # rank_moves applied to before's ranks gives after's ranks.
        ranks: dict[str, int | None] = dict(_ranks(before))
        for moved, (old, new) in rules.rank_moves(before, order).items():
            assert ranks.get(moved) == old
            ranks[moved] = new
        assert {c: r for c, r in ranks.items() if r is not None} == _ranks(order)
        assert sorted(_ranks(order).values()) == list(range(1, len(order) + 1))


# --- changes and revision_action ---------------------------------------------------------------


def test_changes_lists_tracked_fields_that_differ_in_field_order() -> None:
    before = {"statement": "A", "domain": "self", "rank": 2, "status": "active", "updatedAt": "x"}
    after = {"statement": "B", "domain": "self", "rank": 1, "status": "active", "updatedAt": "y"}
    assert rules.changes(before, after) == [Change("statement", "A", "B"), Change("rank", 2, 1)]


def test_changes_treats_absent_as_none() -> None:
    before = {"statement": "A", "meaningForMe": "old"}
    after = {"statement": "A", "valueForOthers": "new"}
    assert rules.changes(before, after) == [
        Change("valueForOthers", None, "new"),
        Change("meaningForMe", "old", None),
    ]


def test_changes_of_a_creation_lists_every_set_tracked_field() -> None:
    created = {
        "statement": "Teach",
        "domain": "others",
        "rank": 1,
        "status": "active",
        "sourceReflectionId": "R1",
        "createdAt": "2026-01-01T00:00:00Z",
    }
    assert [c.field for c in rules.changes({}, created)] == [
        "statement",
        "domain",
        "rank",
        "status",
        "sourceReflectionId",
    ]
    assert all(c.before is None for c in rules.changes({}, created))


def test_changes_of_equal_versions_is_empty() -> None:
    care = {"statement": "A", "domain": "self", "rank": 1, "status": "active"}
    assert rules.changes(care, dict(care)) == []


def test_changes_honours_the_given_fields() -> None:
    assert rules.changes({"a": 1, "b": 1}, {"a": 2, "b": 2}, fields=("b",)) == [Change("b", 1, 2)]


@pytest.mark.parametrize(
    ("found", "created", "action"),
    [
        ([Change("statement", None, "A")], True, "created"),
        ([Change("status", "active", "archived"), Change("rank", 1, None)], False, "archived"),
        ([Change("rank", None, 3), Change("status", "archived", "active")], False, "restored"),
        ([Change("rank", 1, 2)], False, "reranked"),
        ([Change("statement", "A", "B")], False, "edited"),
        ([Change("statement", "A", "B"), Change("rank", 1, 2)], False, "edited"),
        ([Change("meaningForMe", "x", None)], False, "edited"),
        ([], False, "edited"),
    ],
)
def test_revision_action(found: list[Change], created: bool, action: str) -> None:
    assert rules.revision_action(found, created=created) == action


# --- counter_deltas ---------------------------------------------------------------------------

_PROMISE = ("open", "fulfilled", "closed")
_PLAN_ITEM = ("open", "done", "closed")
_COUNTER = {
    ("promise", "open"): "promisesOpen",
    ("promise", "fulfilled"): "promisesFulfilled",
    ("plan_item", "open"): "planItemsOpen",
    ("plan_item", "done"): "planItemsDone",
}


def _expected_deltas(kind: str, before: str | None, after: str | None) -> dict[str, int]:
    expected: dict[str, int] = {}
    if before is not None and (kind, before) in _COUNTER:
        expected[_COUNTER[kind, before]] = -1
    if after is not None and (kind, after) in _COUNTER:
        counter = _COUNTER[kind, after]
        expected[counter] = expected.get(counter, 0) + 1
    return {k: v for k, v in expected.items() if v}


@pytest.mark.parametrize(
    ("kind", "before", "after"),
    [
        (kind, before, after)
        for kind, statuses in (("promise", _PROMISE), ("plan_item", _PLAN_ITEM))
        for before in (None, *statuses)
        for after in (None, *statuses)
    ],
)
def test_counter_deltas_for_every_kind_and_status_pair(
    kind: LinkKind, before: LinkStatus | None, after: LinkStatus | None
) -> None:
    assert rules.counter_deltas(kind, before, after) == _expected_deltas(kind, before, after)


def test_counter_deltas_spot_checks() -> None:
    assert rules.counter_deltas("promise", None, "open") == {"promisesOpen": 1}
    assert rules.counter_deltas("promise", "open", "fulfilled") == {
        "promisesOpen": -1,
        "promisesFulfilled": 1,
    }
    assert rules.counter_deltas("promise", "open", "closed") == {"promisesOpen": -1}
    assert rules.counter_deltas("promise", "open", "open") == {}
    assert rules.counter_deltas("plan_item", "open", "done") == {"planItemsOpen": -1, "planItemsDone": 1}
    assert rules.counter_deltas("plan_item", "done", None) == {"planItemsDone": -1}
    assert rules.counter_deltas("plan_item", "closed", None) == {}


def test_counter_fields_are_the_four_counters() -> None:
    assert set(rules.COUNTER_FIELDS) == {
        "promisesOpen",
        "promisesFulfilled",
        "planItemsOpen",
        "planItemsDone",
    }


# --- is_neglected ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "neglected"),
    [
        (timedelta(0), False),
        (timedelta(days=29, hours=23), False),
        (timedelta(days=30), False),
        (timedelta(days=30, seconds=1), True),
        (timedelta(days=365), True),
    ],
)
def test_neglect_counts_from_last_activity(age: timedelta, neglected: bool) -> None:
    created = NOW - timedelta(days=400)
    assert rules.is_neglected(status="active", last_activity=NOW - age, created=created, now=NOW) is neglected


@pytest.mark.parametrize(
    ("age", "neglected"),
    [(timedelta(days=1), False), (timedelta(days=30), False), (timedelta(days=30, seconds=1), True)],
)
def test_neglect_without_activity_counts_from_creation(age: timedelta, neglected: bool) -> None:
    assert rules.is_neglected(status="active", last_activity=None, created=NOW - age, now=NOW) is neglected


def test_recent_activity_outweighs_an_old_creation() -> None:
    old = NOW - timedelta(days=90)
    assert not rules.is_neglected(
        status="active", last_activity=NOW - timedelta(days=2), created=old, now=NOW
    )


def test_an_archived_care_is_never_neglected() -> None:
    old = NOW - timedelta(days=400)
    assert not rules.is_neglected(status="archived", last_activity=old, created=old, now=NOW)
    assert not rules.is_neglected(status="archived", last_activity=None, created=old, now=NOW)


# --- question sets --------------------------------------------------------------------------


def test_current_version_is_the_highest_published() -> None:
    assert max(QUESTION_SETS) == CURRENT_VERSION
    found = question_set()
    assert found is not None
    assert found.version == CURRENT_VERSION
    assert found is question_set(CURRENT_VERSION)


def test_every_question_of_version_1_is_in_version_2_with_its_theme() -> None:
    one, two = question_set(1), question_set(2)
    assert one is not None
    assert two is not None
    themes_two = {q.id: q.theme for q in two.questions}
    for question in one.questions:
        assert themes_two.get(question.id) == question.theme, question.id
    assert one.question_ids() < two.question_ids(), "version 2 adds questions"


def test_ids_keep_their_theme_in_every_version() -> None:
    seen: dict[str, str] = {}
    for version in sorted(QUESTION_SETS):
        for question in QUESTION_SETS[version].questions:
            assert seen.setdefault(question.id, question.theme) == question.theme, (version, question.id)


def test_ids_are_unique_within_a_version_and_themes_are_known() -> None:
    for found in QUESTION_SETS.values():
        ids = [q.id for q in found.questions]
        assert len(ids) == len(set(ids)), found.version
        assert {q.theme for q in found.questions} <= {"care", "transition"}
        assert all(q.text.strip() for q in found.questions)


def test_current_set_asks_the_generative_and_transition_questions() -> None:
    current = question_set()
    assert current is not None
    assert {q.theme for q in current.questions} == {"care", "transition"}
    ids = current.question_ids()
    assert {"care", "destination", "why", "arrival", "worth", "for-the-sake-of"} <= ids
    assert {"new-skills", "old-habits", "fears"} <= ids


def test_version_1_does_not_ask_the_transition_questions() -> None:
    one = question_set(1)
    assert one is not None
    assert "new-skills" not in one.question_ids()
    assert {q.theme for q in one.questions} == {"care"}


@pytest.mark.parametrize("version", [0, -1, CURRENT_VERSION + 1, 9999])
def test_unknown_version_is_none(version: int) -> None:
    assert question_set(version) is None
