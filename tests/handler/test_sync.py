"""Delta sync (issue 12): `GET /v1/me/changes` over each person's change log, written by the
change log function from the table's stream (fed here from moto's stream, as Lambda would)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.sync.app import lambda_handler as sync_handler
from shared.domain.sync import Change, SyncCursor
from shared.logic import sync as logic
from shared.store import sync as sync_store
from tests.handler.test_promises import Person, moved, new_person, open_promise
from tests.support.aws import Aws, Reply, http_event, invoke
from tests.support.change_log import ChangeLogFeed, change_log

__all__ = ["change_log"]


def changes(person: Person, cursor: str | None = None, limit: int | None = None) -> Reply:
    query = {k: v for k, v in {"cursor": cursor, "limit": str(limit) if limit else None}.items() if v}
    return invoke(sync_handler, http_event("GET", "/v1/me/changes", user=person.sub, query=query))


def sync_all(person: Person, cursor: str | None = None, limit: int = 200) -> tuple[list[dict[str, Any]], str]:
    """Pull pages until caught up: every entry, and the cursor to come back with."""
    items: list[dict[str, Any]] = []
    while True:
        reply = changes(person, cursor, limit)
        assert reply.status == 200, reply.body
        items += reply.body["items"]
        cursor = reply.body["nextCursor"]
        if not reply.body["hasMore"]:
            return items, cursor


def apply(state: dict[tuple[str, str], Any], items: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """What an app holds after applying entries in order."""
    for entry in items:
        if entry["op"] == "upsert":
            state[(entry["type"], entry["id"])] = entry["data"]
        else:
            state.pop((entry["type"], entry["id"]), None)
    return state


def strip_nulls(value: Any) -> Any:
    """The API's answers show absent optional fields as null; the log leaves them out."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


@pytest.fixture
def ana(aws: Aws) -> Person:
    return new_person(aws, "ana")


@pytest.fixture
def ben(aws: Aws) -> Person:
    return new_person(aws, "ben")


def _plan(person: Person) -> dict[str, Any]:
    reply = person.plan(
        "POST",
        "/v1/me/plans",
        body={"title": "Become a team lead", "items": [{"kind": "course", "title": "Feedback basics"}]},
    )
    assert reply.status == 201, reply.body
    return reply.body  # type: ignore[no-any-return]


def test_a_first_sync_is_a_snapshot_of_what_the_api_shows(
    ana: Person, ben: Person, change_log: ChangeLogFeed
) -> None:
    care = ana.care("POST", "/v1/me/cares", body={"statement": "Growing people", "domain": "others"}).body
    plan = _plan(ana)
    item_id = plan["items"][0]["itemId"]
    assert (
        ana.plan("PUT", f"/v1/me/plans/{plan['planId']}/reminder", body={"rrule": "FREQ=DAILY"}).status == 201
    )
    promise = open_promise(ana, ben, careIds=[care["careId"]])
    moved(ben, promise["promiseId"], "promise", note="On it")
    change_log.drain()

    items, _ = sync_all(ana)
    held = apply({}, items)
    kinds = {kind for kind, _ in held}
    assert kinds >= {"profile", "care", "careRevision", "plan", "planItem", "reminder", "promise", "move"}
    assert held[("profile", "me")] == strip_nulls(ana.profile("GET", "/v1/me").body)
    assert held[("care", care["careId"])] == strip_nulls(
        ana.care("GET", f"/v1/me/cares/{care['careId']}").body
    )
    mine = strip_nulls(ana("GET", f"/v1/me/promises/{promise['promiseId']}").body)
    assert held[("promise", promise["promiseId"])] == mine
    assert held[("planItem", item_id)]["planId"] == plan["planId"]
    log = ana("GET", f"/v1/me/promises/{promise['promiseId']}/moves").body["items"]
    assert [held[("move", f"{promise['promiseId']}.{m['seq']}")]["act"] for m in log] == [
        m["act"] for m in log
    ]
    # The other side sees the same promise as they see it.
    theirs, _ = sync_all(ben)
    seen_by_ben = apply({}, theirs)[("promise", promise["promiseId"])]
    assert seen_by_ben["myRole"] == "performer"
    assert mine["myRole"] == "customer"
    assert seen_by_ben == strip_nulls(ben("GET", f"/v1/me/promises/{promise['promiseId']}").body)
    assert ("care", care["careId"]) not in apply({}, theirs), "nobody else's cares"


def test_a_pull_with_nothing_new_is_one_read_of_the_counter(
    ana: Person, aws: Aws, change_log: ChangeLogFeed
) -> None:
    change_log.drain()
    _, cursor = sync_all(ana)
    aws.requests.clear()
    reply = changes(ana, cursor)
    assert reply.status == 200
    assert reply.body["items"] == []
    assert reply.body["hasMore"] is False
    assert aws.requests.counts == {"GetItem": 1}
    ana.care("POST", "/v1/me/cares", body={"statement": "New", "domain": "self"})
    change_log.drain()
    aws.requests.clear()
    assert [i["type"] for i in changes(ana, cursor).body["items"]] == ["care", "careRevision"]
    assert aws.requests.counts == {"GetItem": 1, "Query": 1}, "the counter, then the entries up to it"


def test_a_pull_after_k_changes_reads_the_latest_of_each_thing_only(
    ana: Person, change_log: ChangeLogFeed
) -> None:
    made = [
        ana.care("POST", "/v1/me/cares", body={"statement": f"Care {n}", "domain": "self"}).body["careId"]
        for n in range(5)
    ]
    change_log.drain()
    _, cursor = sync_all(ana)
    for n in range(3):  # three edits of one care, one of another: two things changed
        assert ana.care("PATCH", f"/v1/me/cares/{made[0]}", body={"statement": f"Edited {n}"}).status == 200
    assert ana.care("PATCH", f"/v1/me/cares/{made[1]}", body={"statement": "Edited"}).status == 200
    change_log.drain()
    items, _ = sync_all(ana, cursor)
    cares = [(i["id"], i["data"]["statement"]) for i in items if i["type"] == "care"]
    assert cares == [(made[0], "Edited 2"), (made[1], "Edited")]
    assert len(items) <= 4 + 2, "two cares and their four revisions, nothing older"


def test_deleted_things_come_as_tombstones(ana: Person, change_log: ChangeLogFeed) -> None:
    plan = _plan(ana)
    change_log.drain()
    _, cursor = sync_all(ana)
    assert ana.plan("DELETE", f"/v1/me/plans/{plan['planId']}").status == 204
    change_log.drain()
    items, _ = sync_all(ana, cursor)
    gone = {(i["type"], i["id"]) for i in items if i["op"] == "delete"}
    assert gone == {("plan", plan["planId"]), ("planItem", plan["items"][0]["itemId"])}
    assert all(i.get("data") is None for i in items if i["op"] == "delete")
    # A new device syncing from scratch never sees what is gone.
    snapshot, _ = sync_all(ana)
    assert ("plan", plan["planId"]) not in apply({}, snapshot)


def test_pages_follow_each_other_without_gaps_or_repeats(ana: Person, change_log: ChangeLogFeed) -> None:
    for n in range(7):
        ana.care("POST", "/v1/me/cares", body={"statement": f"Care {n}", "domain": "self"})
    change_log.drain()
    whole, _ = sync_all(ana)
    paged, _ = sync_all(ana, limit=3)
    assert [(i["type"], i["id"]) for i in paged] == [(i["type"], i["id"]) for i in whole]
    assert len({(i["type"], i["id"]) for i in whole}) == len(whole), "one entry per thing"


def test_a_replayed_stream_record_changes_nothing(ana: Person, change_log: ChangeLogFeed) -> None:
    care_id = ana.care("POST", "/v1/me/cares", body={"statement": "First", "domain": "self"}).body["careId"]
    change_log.drain()
    created = list(change_log.delivered)
    ana.care("PATCH", f"/v1/me/cares/{care_id}", body={"statement": "Second"})
    change_log.drain()
    _, cursor = sync_all(ana)
    # The stream delivers the older records again (a retried batch): the log stays as it is.
    assert logic.log_records(created, datetime.now(UTC)) is None
    items, _ = sync_all(ana, cursor)
    assert items == []
    snapshot = apply({}, sync_all(ana)[0])
    assert snapshot[("care", care_id)]["statement"] == "Second"


def test_a_change_that_shows_nothing_new_is_not_logged(
    ana: Person, ben: Person, change_log: ChangeLogFeed
) -> None:
    care_id = ana.care("POST", "/v1/me/cares", body={"statement": "Team", "domain": "others"}).body["careId"]
    change_log.drain()
    _, cursor = sync_all(ana)
    promise = open_promise(ana, ben, careIds=[care_id])  # moves the care's counters only
    change_log.drain()
    items, _ = sync_all(ana, cursor)
    assert {i["type"] for i in items} == {"promise", "move"}, "the care map's counters are not a change"
    assert promise["promiseId"] in {i["id"] for i in items}


def _change(person: Person, ref: str, src: int) -> Change:
    return Change(person.sub, ref, "care", ref, "upsert", 1, "2026-12-01T00:00:00Z", {"n": src}, src)


def _logged(person: Person) -> list[tuple[int, str, int]]:
    """What a reader gets from the whole log: (seq, ref, src) of each entry, in order."""
    entries, more = sync_store.read_changes(person.sub, 0, 1000)
    assert not more
    return [(int(e["seq"]), str(e["ref"]), int(e["data"]["n"])) for e in entries if e["type"] == "care"]


def _hold(person: Person, refs: list[str], until: float) -> tuple[sync_store.Lease, sync_store.LogState]:
    """Another writer's claim on the log, held until `until` (epoch seconds)."""
    state = sync_store.read_state(person.sub, refs)
    return sync_store.claim(person.sub, state, len(refs), datetime.now(UTC), int(until)), state


def test_a_second_writer_waits_for_the_first_and_goes_after_it(
    ana: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    first, state = _hold(ana, ["B"], time.time() + 60)
    sync_store.write(ana.sub, first, [_change(ana, "B", 5)], state, now)
    assert _logged(ana) == [], "nothing is read before it is published"
    waited: list[float] = []

    def first_writer_publishes(seconds: float) -> None:
        waited.append(seconds)
        sync_store.release(ana.sub, first)

    monkeypatch.setattr("shared.logic.sync.time.sleep", first_writer_publishes)
    assert logic.log_changes(ana.sub, [_change(ana, "A", 7)], now, deadline=time.time() + 60).written == 1
    assert waited, "the second writer waited while the first held the log"
    assert [(ref, src) for _, ref, src in _logged(ana)] == [("B", 5), ("A", 7)]
    seqs = [seq for seq, _, _ in _logged(ana)]
    assert seqs == sorted(seqs)


def test_a_writer_that_claimed_after_our_read_goes_first(
    ana: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    real_read = sync_store.read_state
    raced: list[bool] = []

    def read_then_race(user_id: str, refs: list[str]) -> sync_store.LogState:
        state = real_read(user_id, refs)
        if not raced:  # another writer claims, writes and publishes between our read and claim
            raced.append(True)
            other, seen = _hold(ana, ["B"], time.time() + 60)
            sync_store.write(user_id, other, [_change(ana, "B", 5)], seen, now)
            sync_store.release(user_id, other)
        return state

    monkeypatch.setattr(sync_store, "read_state", read_then_race)
    monkeypatch.setattr("shared.logic.sync.time.sleep", lambda seconds: None)
    logic.log_changes(ana.sub, [_change(ana, "A", 7)], now, deadline=time.time() + 60)
    assert [ref for _, ref, _ in _logged(ana)] == ["B", "A"]


def test_a_writer_that_died_holding_the_log_loses_nothing_once_its_lease_ends(
    ana: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    assert logic.log_changes(ana.sub, [_change(ana, "A", 1)], now).written == 1
    # A writer dies after writing its entries and pointers, before publishing: its lease ran
    # out (its invocation's deadline has passed).
    dead, state = _hold(ana, ["A", "B"], time.time() - 1)
    sync_store.write(ana.sub, dead, [_change(ana, "A", 2), _change(ana, "B", 3)], state, now)
    assert [(ref, src) for _, ref, src in _logged(ana)] == [], "unpublished; A's old entry was replaced"
    # The stream delivers its records again, and a newer change comes.
    again = [_change(ana, "A", 2), _change(ana, "B", 3), _change(ana, "C", 4)]
    done = logic.log_changes(ana.sub, again, now, deadline=time.time() + 60)
    assert (done.written, done.replays) == (1, 2), "what the dead writer wrote is not written twice"
    logged = _logged(ana)
    assert [(ref, src) for _, ref, src in logged] == [("A", 2), ("B", 3), ("C", 4)]
    assert logged[-1][0] > dead.last, "its sequence numbers are never given out again"


def test_a_writer_gives_up_before_its_deadline_and_the_stream_delivers_again(
    ana: Person, change_log: ChangeLogFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana.care("POST", "/v1/me/cares", body={"statement": "Mine", "domain": "self"})
    records = [r for r in change_log.read() if change_log.source.wants(r)]
    assert records
    _hold(ana, ["X"], time.time() + 120)  # a live writer that does not let go in time
    slept: list[float] = []
    monkeypatch.setattr("shared.logic.sync.time.sleep", slept.append)
    failed_at = logic.log_records(records, datetime.now(UTC), deadline=time.time() + 6)
    assert failed_at == records[0]["dynamodb"]["SequenceNumber"], "reported: the stream delivers it again"
    assert slept, "it waited first"
    assert sync_store.read_changes(ana.sub, 0, 100) == ([], False)


def test_erasure_waits_for_a_writer_holding_the_log_and_then_closes_it(
    ana: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    writer, state = _hold(ana, ["A"], time.time() + 60)
    sync_store.write(ana.sub, writer, [_change(ana, "A", 1)], state, now)
    slept: list[float] = []

    def writer_finishes(seconds: float) -> None:
        slept.append(seconds)
        sync_store.release(ana.sub, writer)

    monkeypatch.setattr("shared.store.sync.time.sleep", writer_finishes)
    sync_store.close(ana.sub, now)
    assert slept, "the erasure waited for the writer"
    assert sync_store.read_state(ana.sub, []).erased
    assert logic.log_changes(ana.sub, [_change(ana, "B", 2)], now).erased == 1, "closed: no claim"


def test_a_log_erased_with_its_counter_is_never_made_again(ana: Person, aws: Aws) -> None:
    now = datetime.now(UTC)
    assert logic.log_changes(ana.sub, [_change(ana, "A", 1)], now).written == 1
    assert ana.profile("DELETE", "/v1/me").status == 204
    # A stream record arriving late finds no counter: a first claim checks the erasure marker.
    assert logic.log_changes(ana.sub, [_change(ana, "B", 2)], now).erased == 1
    assert [i for i in aws.data_items() if i["PK"] == f"USER#{ana.sub}"] == []


def test_erasure_is_a_503_while_a_writer_holds_the_log_too_long(
    ana: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hold(ana, ["A"], time.time() + 30)
    monkeypatch.setattr("shared.store.sync.time.sleep", lambda seconds: None)
    reply = ana.profile("DELETE", "/v1/me")
    assert reply.status == 503, reply.body
    assert 1 <= int(reply.headers["Retry-After"]) <= 31


def test_an_old_cursor_is_gone_and_a_foreign_one_invalid(
    ana: Person, ben: Person, change_log: ChangeLogFeed
) -> None:
    change_log.drain()
    _, cursor = sync_all(ana)
    long_ago = datetime.now(UTC) - timedelta(days=31)
    old = logic.encode_cursor(SyncCursor(1, int(long_ago.timestamp())), ana.sub)
    reply = changes(ana, old)
    assert reply.status == 410
    assert reply.problem["type"].endswith("/gone")
    assert "without a cursor" in reply.problem["detail"]
    recent = logic.encode_cursor(
        SyncCursor(1, int((datetime.now(UTC) - timedelta(days=29)).timestamp())), ana.sub
    )
    assert changes(ana, recent).status == 200, "inside 30 days the app never resyncs in full"
    assert changes(ben, cursor).status == 422, "a cursor is bound to its person"
    assert changes(ana, cursor[:-2] + "xx").status == 422
    assert changes(ana, "not-a-cursor").status == 422


def test_a_caught_up_cursor_carries_the_moment_forward(ana: Person, change_log: ChangeLogFeed) -> None:
    change_log.drain()
    _, cursor = sync_all(ana)
    first = logic.decode_cursor(cursor, ana.sub)
    # Paging keeps the moment it was last caught up; reaching the end moves it to now.
    for n in range(3):
        ana.care("POST", "/v1/me/cares", body={"statement": f"Care {n}", "domain": "self"})
    change_log.drain()
    page = changes(ana, cursor, limit=1).body
    assert page["hasMore"] is True
    assert logic.decode_cursor(page["nextCursor"], ana.sub).caught_up_at == first.caught_up_at
    _, end = sync_all(ana, page["nextCursor"])
    assert logic.decode_cursor(end, ana.sub).caught_up_at >= first.caught_up_at


def test_erasure_leaves_no_log_and_its_stream_writes_none(
    ana: Person, ben: Person, aws: Aws, change_log: ChangeLogFeed
) -> None:
    ana.care("POST", "/v1/me/cares", body={"statement": "Mine", "domain": "self"})
    open_promise(ana, ben)
    change_log.drain()
    assert any(i["PK"] == f"USER#{ana.sub}" and str(i["SK"]).startswith("CHANGE#") for i in aws.all_items())
    export = ana.profile("GET", "/v1/me/export").body
    assert "CHANGE" not in str(export)
    assert "SYNCREF" not in str(export)
    assert ana.profile("DELETE", "/v1/me").status == 204
    change_log.drain()  # the erasure's deletions reach the change log
    left = [i for i in aws.data_items() if i["PK"] == f"USER#{ana.sub}"]
    assert left == [], "nothing of the erased person is written back"


def test_the_change_log_moves_the_calendar_feeds_etag_only_for_what_it_shows(
    ana: Person, ben: Person, change_log: ChangeLogFeed
) -> None:
    from tests.handler.test_calendar_feed import fetch, make_feed

    url = make_feed(ana)
    change_log.drain()
    first = fetch(url)
    assert first.status == 200
    etag = first.headers["ETag"]
    ana.care("POST", "/v1/me/cares", body={"statement": "Not in the calendar", "domain": "self"})
    change_log.drain()
    assert fetch(url, {"If-None-Match": etag}).status == 304, "a care is not in the feed"
    open_promise(ana, ben)
    change_log.drain()
    changed = fetch(url, {"If-None-Match": etag})
    assert changed.status == 200, "a new promise is"
    assert changed.headers["ETag"] != etag
    assert fetch(url, {"If-None-Match": changed.headers["ETag"]}).status == 304
