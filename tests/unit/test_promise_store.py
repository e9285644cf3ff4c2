"""shared.store.promises.list_promises: each filter is a Query on the key or index made for it.

The DynamoDB client is a stub that records the Query parameters (and answers the pages a test
gives it), so the key design is checked without a table: the index, the partition value, the
sort-key bound, the order, and how a filtered list reads on and where its next page starts.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.store import keys
from shared.store import promises as store

USER = "0e700286-2063-4475-8fc1-c70a410681d0"


class StubClient:
    """Records every call; answers the pages in `pages` in turn, then one empty page."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.pages: list[dict[str, Any]] = []

    def query(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("query", params))
        # As DynamoDB: a placeholder no expression uses is a ValidationException.
        used = " ".join(str(params.get(e, "")) for e in ("KeyConditionExpression", "FilterExpression"))
        for placeholder in (
            *params.get("ExpressionAttributeNames", {}),
            *params.get("ExpressionAttributeValues", {}),
        ):
            assert re.search(re.escape(placeholder) + r"(?![\w])", used), f"{placeholder} is not used"
        return self.pages.pop(0) if self.pages else {"Items": []}

    def __getattr__(self, name: str) -> Any:
        def other(**params: Any) -> dict[str, Any]:
            self.calls.append((name, params))
            return {}

        return other


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> StubClient:
    stub = StubClient()
    monkeypatch.setattr(store, "dynamodb", lambda: stub)
    monkeypatch.setattr(store, "table_name", lambda: "table")
    return stub


def _query(
    client: StubClient,
    *,
    role: str | None = None,
    state: str | None = None,
    care_id: str | None = None,
    due_before: str | None = None,
    limit: int = 25,
    start: dict[str, Any] | None = None,
) -> dict[str, Any]:
    items, last = store.list_promises(
        USER, role=role, state=state, care_id=care_id, due_before=due_before, limit=limit, start=start
    )
    assert (items, last) == ([], None)
    assert [name for name, _ in client.calls] == ["query"], "exactly one request, a Query"
    params: dict[str, Any] = client.calls[0][1]
    return params


def _partition(params: dict[str, Any]) -> tuple[str, str]:
    """(attribute, value) of the Query's partition key condition."""
    return params["ExpressionAttributeNames"]["#list"], params["ExpressionAttributeValues"][":list"]["S"]


@pytest.mark.parametrize(
    ("role", "state", "index", "attribute", "partition"),
    [
        (None, None, "PromisesByDue", "listAll", f"PROMISES#{USER}"),
        ("customer", None, "PromisesByRole", "listRole", f"PROMISES#{USER}#role#customer"),
        ("performer", None, "PromisesByRole", "listRole", f"PROMISES#{USER}#role#performer"),
        (None, "promised", "PromisesByState", "listState", f"PROMISES#{USER}#state#promised"),
    ],
)
def test_role_and_state_pick_their_index(
    client: StubClient, role: str | None, state: str | None, index: str, attribute: str, partition: str
) -> None:
    params = _query(client, role=role, state=state)
    assert params["IndexName"] == index
    assert _partition(params) == (attribute, partition)
    assert params["KeyConditionExpression"] == "#list = :list"
    assert params["ScanIndexForward"] is False, "newest due first"
    assert params["Limit"] == 25
    assert "FilterExpression" not in params, "a key condition, never a filter"
    assert "ExclusiveStartKey" not in params


def test_role_and_state_filter_the_state_s_list(client: StubClient) -> None:
    params = _query(client, role="performer", state="reported")
    assert params["IndexName"] == "PromisesByState"
    assert _partition(params) == ("listState", f"PROMISES#{USER}#state#reported")
    assert params["KeyConditionExpression"] == "#list = :list"
    assert params["FilterExpression"] == "#myRole = :myRole"
    assert params["ExpressionAttributeNames"]["#myRole"] == "myRole"
    assert params["ExpressionAttributeValues"][":myRole"] == {"S": "performer"}
    assert params["ScanIndexForward"] is False
    assert params["Limit"] == 25


def test_no_list_is_keyed_by_role_and_state() -> None:
    assert "role+state" not in keys.PROMISE_LISTS
    with pytest.raises(ValueError, match="role and state"):
        keys.promise_list(USER, role="customer", state="promised")


def test_a_care_reads_that_care_s_links(client: StubClient) -> None:
    params = _query(client, care_id="01CARE")
    assert params["IndexName"] == "PromisesByDue"
    assert _partition(params) == ("listAll", f"PROMISES#{USER}#care#01CARE")
    assert params["ScanIndexForward"] is False
    assert "FilterExpression" not in params


def test_role_and_state_next_to_a_care_narrow_its_links(client: StubClient) -> None:
    params = _query(client, care_id="01CARE", role="customer", state="promised")
    assert _partition(params) == ("listAll", f"PROMISES#{USER}#care#01CARE")
    assert params["FilterExpression"] == "#summary.#myRole = :myRole AND #summary.#state = :state"
    assert params["ExpressionAttributeValues"][":myRole"] == {"S": "customer"}
    assert params["ExpressionAttributeValues"][":state"] == {"S": "promised"}


@pytest.mark.parametrize(
    ("role", "state", "care_id"),
    [(None, None, None), ("customer", "requested", None), (None, None, "01CARE")],
)
def test_due_before_is_a_sort_key_bound(
    client: StubClient, role: str | None, state: str | None, care_id: str | None
) -> None:
    params = _query(client, role=role, state=state, care_id=care_id, due_before="2026-12-01T00:00:00Z")
    assert params["KeyConditionExpression"] == "#list = :list AND #due < :before"
    assert params["ExpressionAttributeNames"]["#due"] == "dueKey"
    assert params["ExpressionAttributeValues"][":before"] == {"S": "2026-12-01T00:00:00Z"}


def test_limit_and_start_are_passed_on(client: StubClient) -> None:
    start = {"PK": {"S": "x"}, "SK": {"S": "y"}, "listRole": {"S": "z"}, "dueKey": {"S": "w"}}
    params = _query(client, role="customer", limit=3, start=start)
    assert params["Limit"] == 3
    assert params["ExclusiveStartKey"] == start


def test_every_index_the_store_names_is_in_the_template() -> None:
    from infra.local.template import load

    declared = {i["IndexName"]: i for i in load().table_properties["GlobalSecondaryIndexes"]}
    for index, attribute in keys.PROMISE_LISTS.values():
        schema = {k["KeyType"]: k["AttributeName"] for k in declared[index]["KeySchema"]}
        assert schema == {"HASH": attribute, "RANGE": "dueKey"}, index


# --- a filtered list reads on until it has `limit` promises -------------------------------------

STATE_LIST = f"PROMISES#{USER}#state#promised"


def _entry(n: int, role: str = "customer") -> dict[str, Any]:
    """The index entry of promise P<n> in the `promised` list (raw, as a Query answers it)."""
    due = f"2026-05-{n:02d}T00:00:00Z#P{n:02d}"
    return {
        "PK": {"S": f"USER#{USER}"},
        "SK": {"S": f"PROMISE#P{n:02d}"},
        "listState": {"S": STATE_LIST},
        "dueKey": {"S": due},
        "promiseId": {"S": f"P{n:02d}"},
        "myRole": {"S": role},
        "state": {"S": "promised"},
    }


def _key(n: int) -> dict[str, Any]:
    return {k: v for k, v in _entry(n).items() if k in ("PK", "SK", "listState", "dueKey")}


def _filtered(client: StubClient, limit: int, start: dict[str, Any] | None = None) -> tuple[list[str], Any]:
    items, last = store.list_promises(
        USER, role="customer", state="promised", care_id=None, due_before=None, limit=limit, start=start
    )
    return [i["promiseId"] for i in items], last


def test_a_filtered_list_reads_on_until_it_has_a_page(client: StubClient) -> None:
    client.pages = [
        {"Items": [_entry(9)], "LastEvaluatedKey": _key(7)},
        {"Items": [], "LastEvaluatedKey": _key(4)},
        {"Items": [_entry(3), _entry(2)], "LastEvaluatedKey": _key(1)},
    ]
    ids, last = _filtered(client, 3)
    assert ids == ["P09", "P03", "P02"]
    assert last == _key(1), "the page's last key: what it read past P02 did not match"
    starts = [params.get("ExclusiveStartKey") for _, params in client.calls]
    assert starts == [None, _key(7), _key(4)]
    assert all(params["Limit"] == 3 for _, params in client.calls), "pages of `limit` entries"


def test_the_cursor_is_the_last_item_shown_when_its_page_held_more(client: StubClient) -> None:
    client.pages = [
        {"Items": [_entry(9)], "LastEvaluatedKey": _key(8)},
        {"Items": [_entry(6), _entry(5), _entry(4)], "LastEvaluatedKey": _key(4)},
    ]
    ids, last = _filtered(client, 3)
    assert ids == ["P09", "P06", "P05"]
    assert last == _key(5), "not the page's last key: P04 is not shown yet"


def test_a_filtered_list_ends_where_the_index_ends(client: StubClient) -> None:
    client.pages = [{"Items": [_entry(9)], "LastEvaluatedKey": _key(5)}, {"Items": [_entry(2)]}]
    assert _filtered(client, 3) == (["P09", "P02"], None)
    client.calls.clear()
    client.pages = [{"Items": [_entry(9), _entry(8)]}]
    assert _filtered(client, 2) == (["P09", "P08"], None), "a full last page: no next page"
    assert len(client.calls) == 1


def test_a_request_reads_a_bounded_number_of_pages(client: StubClient) -> None:
    pages = store.FILTERED_LIST_PAGES
    client.pages = [{"Items": [], "LastEvaluatedKey": _key(20 - n)} for n in range(pages + 2)]
    ids, last = _filtered(client, 5)
    assert ids == []
    assert len(client.calls) == pages
    assert last == _key(20 - pages + 1), "a short (here empty) page, and a cursor where it stopped"


def test_a_cursor_of_the_former_role_and_state_index_resumes_in_the_state_s_list(
    client: StubClient,
) -> None:
    old = {
        "PK": {"S": f"USER#{USER}"},
        "SK": {"S": "PROMISE#P05"},
        "listRoleState": {"S": f"PROMISES#{USER}#role#customer#state#promised"},
        "dueKey": {"S": "2026-05-05T00:00:00Z#P05"},
    }
    _filtered(client, 3, start=old)
    assert client.calls[0][1]["ExclusiveStartKey"] == _key(5)
