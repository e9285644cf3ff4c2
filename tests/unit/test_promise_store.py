"""shared.store.promises.list_promises: each filter is one Query on the key or index made for it.

The DynamoDB client is a stub that records the Query parameters, so the key design is checked
without a table: the index, the partition value, the sort-key bound and the order.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.store import keys
from shared.store import promises as store

USER = "0e700286-2063-4475-8fc1-c70a410681d0"


class StubClient:
    """Records every call; answers one empty page."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def query(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("query", params))
        return {"Items": []}

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
        (
            "performer",
            "reported",
            "PromisesByRoleState",
            "listRoleState",
            f"PROMISES#{USER}#role#performer#state#reported",
        ),
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
