"""GET /v1/me/promises by role and state on moto: the state's list filtered on `myRole` (issue 15).

No index is keyed by role and state: the list reads `PromisesByState` with a filter, so
DynamoDB's `Limit` counts entries read, not promises shown. These tests put many promises of
the other role between the ones a list shows and page through it in small pages: every promise
once, in due order, whatever the page size, with a bounded number of reads per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from shared.api.pagination import encode_cursor
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.store import keys
from shared.store import promises as store
from shared.store.table import table_name
from tests.handler.test_promises import Person, listed, moved, new_person, open_promise
from tests.support.aws import Aws, Reply

# Ana's promises, earliest due first: C she asked of Bea (customer), P Bea asked of her
# (performer), all `requested`; O offers of hers (performer, `offered`: not in these lists).
# Runs of P longer than a request reads (FILTERED_LIST_PAGES pages of `limit` entries) sit
# between the Cs, and some Cs are next to each other.
PATTERN = "CPPPPPPPCCPOPPPPCPCCCOPPPPPPPPCP"


@dataclass
class Promises:
    """Ana's promises in PATTERN's order (earliest due first), with her role and state."""

    ids: list[str]
    roles: list[str]
    states: list[str]
    due: list[str]

    def newest_first(self, role: str, state: str, before: str | None = None) -> list[str]:
        picked = [
            pid
            for pid, r, s, d in zip(self.ids, self.roles, self.states, self.due, strict=True)
            if r == role and s == state and (before is None or d < before)
        ]
        return picked[::-1]


@pytest.fixture
def ana(aws: Aws) -> Person:
    return new_person(aws, "ana")


@pytest.fixture
def bea(aws: Aws) -> Person:
    return new_person(aws, "bea")


@pytest.fixture
def promises(ana: Person, bea: Person) -> Promises:
    base = utc_now().replace(microsecond=0) + timedelta(days=10)
    out = Promises([], [], [], [])
    openings = {
        "C": (ana, bea, "request", "customer", "requested"),
        "P": (bea, ana, "request", "performer", "requested"),
        "O": (ana, bea, "offer", "performer", "offered"),
    }
    for n, kind in enumerate(PATTERN):
        due_at = to_rfc3339(base + timedelta(hours=n))
        opener, other, opening, role, state = openings[kind]
        pid = open_promise(opener, other, opening, dueAt=due_at)["promiseId"]
        out.ids.append(pid)
        out.roles.append(role)
        out.states.append(state)
        out.due.append(due_at)
    return out


def pages(person: Person, aws: Aws, **query: str) -> list[tuple[list[str], str | None, int]]:
    """Every page of a list: (promise ids, next cursor, Queries the request made)."""
    out: list[tuple[list[str], str | None, int]] = []
    params = dict(query)
    while True:
        aws.requests.clear()
        reply = person("GET", "/v1/me/promises", query=params)
        assert reply.status == 200, reply.body
        cursor = reply.body["nextCursor"]
        out.append(([p["promiseId"] for p in reply.body["items"]], cursor, aws.requests.counts["Query"]))
        if cursor is None:
            return out
        assert len(out) < 100, "the list does not end"
        params = {**query, "cursor": cursor}


def test_role_and_state_list_exactly_their_promises_newest_due_first(
    ana: Person, bea: Person, promises: Promises
) -> None:
    customer = promises.newest_first("customer", "requested")
    performer = promises.newest_first("performer", "requested")
    assert len(customer) == PATTERN.count("C")
    assert listed(ana, role="customer", state="requested") == customer
    assert listed(ana, role="performer", state="requested") == performer
    assert listed(ana, role="performer", state="offered") == promises.newest_first("performer", "offered")
    assert listed(ana, role="customer", state="offered") == []
    assert listed(ana, role="customer", state="promised") == []
    # Both sides: Bea is performer of Ana's Cs and customer of her Ps.
    assert listed(bea, role="performer", state="requested") == customer
    assert listed(bea, role="customer", state="requested") == performer
    # The whole state's list is both roles, merged in due order.
    state = [p for p, s in zip(promises.ids, promises.states, strict=True) if s == "requested"][::-1]
    assert listed(ana, state="requested") == state


def test_small_pages_show_every_promise_once_in_order(ana: Person, aws: Aws, promises: Promises) -> None:
    for role in ("customer", "performer"):
        expected = promises.newest_first(role, "requested")
        for limit in (1, 2, 3, 4, 5, 100):
            got = pages(ana, aws, role=role, state="requested", limit=str(limit))
            shown = [pid for ids, _, _ in got for pid in ids]
            assert shown == expected, f"{role}, limit {limit}: none skipped or repeated, newest due first"
            for ids, cursor, queries in got:
                assert len(ids) <= limit
                assert 1 <= queries <= store.FILTERED_LIST_PAGES, "a bounded number of reads a request"
                if len(ids) < limit and queries < store.FILTERED_LIST_PAGES:
                    assert cursor is None, "a short page before the bound is the list's end"


def test_the_bound_on_reads_ends_a_short_page_with_a_cursor_that_loses_nothing(
    ana: Person, aws: Aws, promises: Promises
) -> None:
    # A run of more Ps than one request reads (pages of one entry) lies between two Cs.
    assert "C" + "P" * (store.FILTERED_LIST_PAGES + 1) in PATTERN.replace("O", "")
    got = pages(ana, aws, role="customer", state="requested", limit="1")
    stopped = [(ids, cursor, queries) for ids, cursor, queries in got if not ids]
    assert stopped, "some request stopped at the bound before finding a promise"
    for _, cursor, queries in stopped:
        assert cursor is not None
        assert queries == store.FILTERED_LIST_PAGES
    assert [pid for ids, _, _ in got for pid in ids] == promises.newest_first("customer", "requested")


def test_paging_a_bounded_role_and_state_list(ana: Person, aws: Aws, promises: Promises) -> None:
    before = promises.due[PATTERN.rindex("C") - 1]  # the last C is not before it
    expected = promises.newest_first("customer", "requested", before=before)
    assert expected
    assert expected != promises.newest_first("customer", "requested")
    got = pages(ana, aws, role="customer", state="requested", dueBefore=before, limit="2")
    assert [pid for ids, _, _ in got for pid in ids] == expected


def test_a_list_follows_its_promises_moves(ana: Person, bea: Person, aws: Aws, promises: Promises) -> None:
    customer = promises.newest_first("customer", "requested")
    moved(bea, customer[0], "promise")
    moved(bea, customer[2], "decline")
    assert listed(ana, role="customer", state="requested", limit="2") == [
        c for c in customer if c not in (customer[0], customer[2])
    ]
    assert listed(ana, role="customer", state="promised", limit="1") == [customer[0]]
    assert listed(ana, role="performer", state="promised") == []
    assert listed(bea, role="performer", state="promised") == [customer[0]]


def test_a_cursor_of_the_former_role_and_state_index_still_pages(ana: Person, promises: Promises) -> None:
    """A cursor an app holds from before the index went (its key names `listRoleState`)
    resumes the list where it left off."""
    customer = promises.newest_first("customer", "requested")
    pid = customer[1]
    due_at = promises.due[promises.ids.index(pid)]
    old_key = {
        "PK": {"S": keys.user_pk(ana.sub)},
        "SK": {"S": keys.membership_sk(pid)},
        "listRoleState": {"S": f"PROMISES#{ana.sub}#role#customer#state#requested"},
        "dueKey": {"S": keys.due_key(due_at, pid)},
    }
    cursor = encode_cursor(old_key, user_id=ana.sub, list_name="promises:customer:requested:None:None")
    assert cursor is not None
    reply: Reply = ana(
        "GET", "/v1/me/promises", query={"role": "customer", "state": "requested", "cursor": cursor}
    )
    assert reply.status == 200, reply.body
    assert [p["promiseId"] for p in reply.body["items"]] == customer[2:]


def test_memberships_no_longer_carry_the_role_and_state_key(ana: Person, bea: Person, aws: Aws) -> None:
    pid = open_promise(ana, bea, "request", dueAt=to_rfc3339(utc_now() + timedelta(days=3)))["promiseId"]

    def memberships() -> list[dict[str, Any]]:
        return [
            i for i in aws.all_items() if i.get("entity") == "promise-membership" and i["promiseId"] == pid
        ]

    assert len(memberships()) == 2
    assert all("listRoleState" not in m for m in memberships()), "a new membership"
    # A membership written before the index went keeps its key until its next update.
    for m in memberships():
        aws.ddb().update_item(
            TableName=table_name(),
            Key={"PK": {"S": m["PK"]}, "SK": {"S": m["SK"]}},
            UpdateExpression="SET listRoleState = :k",
            ExpressionAttributeValues={":k": {"S": f"{m['listRole']}#state#{m['state']}"}},
        )
    assert all("listRoleState" in m for m in memberships())
    moved(bea, pid, "promise")
    assert all("listRoleState" not in m for m in memberships()), "an updated membership"
    assert {m["listState"] for m in memberships()} == {
        f"PROMISES#{ana.sub}#state#promised",
        f"PROMISES#{bea.sub}#state#promised",
    }
