"""The secret calendar feed (issue 12): make, rotate and revoke it; the .ics behind its URL, parsed
with the `icalendar` library (promises in both roles, reminders' occurrences, zones, UIDs,
SEQUENCE); ETag and If-None-Match at one read; erasure and export leave nothing of it."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import boto3
import pytest
from icalendar import Calendar

from functions.calendar.app import lambda_handler as calendar_handler
from shared.domain.calendar import event_status
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.store.calendar_feeds import bump_calendar, feed_pointer_key
from tests.handler.test_plans import make, plan_call
from tests.handler.test_promises import Person, moved, new_person, open_promise
from tests.support.aws import REGION, TABLE_NAME, Aws, LambdaContext, Reply, http_event, invoke

FEED_ROUTE = "GET /v1/calendar/{feedToken}"
DAILY_AT_NINE = "DTSTART:20250101T090000\nRRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0"


# --- helpers -----------------------------------------------------------------------------------


def calendar_call(person: Person, method: str, path: str = "/v1/me/calendar-feed", **kwargs: Any) -> Reply:
    return invoke(
        calendar_handler, http_event(method, path, user=person.sub, username=person.username, **kwargs)
    )


def make_feed(person: Person) -> str:
    """POST the feed; answers its URL."""
    reply = calendar_call(person, "POST")
    assert reply.status == 201, reply.body
    url: str = reply.body["url"]
    return url


@dataclass
class Fetched:
    """A feed answer: status, headers, the raw body."""

    status: int
    headers: dict[str, str]
    body: str

    @property
    def calendar(self) -> Calendar:
        assert self.status == 200, (self.status, self.body)
        return Calendar.from_ical(self.body)

    @property
    def problem(self) -> dict[str, Any]:
        assert self.headers.get("Content-Type") == "application/problem+json", self.headers
        document: dict[str, Any] = json.loads(self.body)
        return document


def fetch(url: str, headers: dict[str, str] | None = None) -> Fetched:
    """GET a feed's URL as a calendar app does: no sign-in, only the URL."""
    path = urlsplit(url).path
    event = http_event("GET", path, headers=headers, route_key=FEED_ROUTE)
    handler: Any = calendar_handler  # the test's context stands in for Lambda's
    result = handler(event, LambdaContext())
    return Fetched(result["statusCode"], result.get("headers") or {}, result.get("body") or "")


def events(calendar: Calendar) -> dict[str, Any]:
    """The calendar's events by UID."""
    found = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert len(found) == len(calendar.walk("VEVENT")), "UIDs are unique"
    return found


def promise_event(calendar: Calendar, promise_id: str) -> Any:
    return events(calendar)[f"promise-{promise_id}@career-journey.app"]


def reminder_events(calendar: Calendar, owner: str) -> list[Any]:
    """The occurrences of one reminder: `owner` is `<planId>` or `<planId>-<itemId>`."""
    pattern = re.compile(rf"reminder-{owner}-\d{{8}}T\d{{6}}Z@career-journey\.app")
    return [e for uid, e in events(calendar).items() if pattern.fullmatch(uid)]


def due(days: float) -> str:
    return to_rfc3339(utc_now() + timedelta(days=days))


def feed_id_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1].split(".", 1)[0]


@pytest.fixture
def ana(aws: Aws) -> Person:
    return new_person(aws, "ana")  # her profile is in Europe/Lisbon


@pytest.fixture
def bea(aws: Aws) -> Person:
    return new_person(aws, "bea")


# --- making, rotating, revoking ----------------------------------------------------------------


def test_post_answers_an_absolute_secret_url_that_is_not_cached(ana: Person) -> None:
    reply = calendar_call(ana, "POST")
    assert reply.status == 201, reply.body
    assert reply.headers["Cache-Control"] == "no-store"
    assert set(reply.body) == {"url", "createdAt"}
    url = urlsplit(reply.body["url"])
    assert (url.scheme, url.netloc) == ("https", "api.example.com")
    token = url.path.removeprefix("/v1/calendar/")
    assert token.endswith(".ics")
    feed_id, secret = token.removesuffix(".ics").split(".")
    assert len(feed_id) == 26
    assert len(secret) == 43
    assert datetime.fromisoformat(reply.body["createdAt"].replace("Z", "+00:00")) <= datetime.now(UTC)


def test_the_url_is_http_on_the_local_stack(aws: Aws, ana: Person) -> None:
    event = http_event("POST", "/v1/me/calendar-feed", user=ana.sub, username=ana.username)
    event["requestContext"]["domainName"] = "127.0.0.1:3000"
    reply = invoke(calendar_handler, event)
    assert reply.status == 201, reply.body
    assert reply.body["url"].startswith("http://127.0.0.1:3000/v1/calendar/")


def test_rotation_makes_the_old_url_a_404_at_once(aws: Aws, ana: Person) -> None:
    first = make_feed(ana)
    assert fetch(first).status == 200
    second = make_feed(ana)
    assert second != first
    gone = fetch(first)
    assert gone.status == 404
    assert gone.problem["status"] == 404
    assert fetch(second).status == 200
    # One pointer and one lookup: the old lookup went with the rotation.
    feeds = [i for i in aws.data_items() if str(i["SK"]) == "CALFEED"]
    assert sorted(str(i["PK"]) for i in feeds) == sorted([f"USER#{ana.sub}", f"CALFEED#{feed_id_of(second)}"])


def test_delete_revokes_and_a_second_delete_is_a_404(aws: Aws, ana: Person) -> None:
    url = make_feed(ana)
    reply = calendar_call(ana, "DELETE")
    assert reply.status == 204, reply.body
    assert fetch(url).status == 404
    again = calendar_call(ana, "DELETE")
    assert again.status == 404
    assert again.problem["status"] == 404
    assert not [i for i in aws.data_items() if str(i["SK"]) == "CALFEED"]
    # A new feed after a revocation works.
    assert fetch(make_feed(ana)).status == 200


def test_unknown_and_malformed_tokens_are_the_same_404_and_malformed_ones_read_nothing(
    aws: Aws, ana: Person
) -> None:
    url = make_feed(ana)
    base = url.rsplit("/", 1)[0]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed_id, secret = token.split(".")
    other_secret = ("A" if secret[0] != "A" else "B") + secret[1:]
    cases = {
        "wrong secret": f"{base}/{feed_id}.{other_secret}.ics",
        "unknown feed": f"{base}/01ARZ3NDEKTSV4RRFFQ69G5FAV.{secret}.ics",
    }
    malformed = {
        "no .ics": f"{base}/{token}",
        "other suffix": f"{base}/{token}.json",
        "no secret": f"{base}/{feed_id}.ics",
        "short secret": f"{base}/{feed_id}.{secret[:20]}.ics",
        "not an id": f"{base}/nope.{secret}.ics",
        "bad characters": f"{base}/{feed_id}.{secret[:-1]}!.ics",
    }
    answers = []
    for name, bad in {**cases, **malformed}.items():
        aws.requests.clear()
        reply = fetch(bad)
        assert reply.status == 404, name
        assert reply.headers["Cache-Control"] == "no-store", name
        problem = reply.problem
        answers.append((problem["type"], problem["title"], problem["detail"]))
        expected = Counter({"GetItem": 1}) if name in cases else Counter()
        assert aws.requests.counts == expected, name
    assert len(set(answers)) == 1, "the same answer for every bad token"


def test_only_a_signed_in_person_makes_or_revokes_a_feed(aws: Aws) -> None:
    for method in ("POST", "DELETE"):
        reply = invoke(calendar_handler, http_event(method, "/v1/me/calendar-feed"))
        assert reply.status == 401


# --- the feed: promises ------------------------------------------------------------------------


def test_promises_show_in_both_roles_with_their_state(aws: Aws, ana: Person, bea: Person) -> None:
    asked = open_promise(ana, bea, "request", what="Review the guide", dueAt=due(3))  # ana: customer
    offered = open_promise(ana, bea, "offer", what="Pair on the pitch", dueAt=due(5))  # ana: performer
    outside = open_promise(ana, {"name": "Dora Dias"}, "promise", what="Send notes", dueAt=due(1))
    cancelled = open_promise(ana, bea, "offer", what="Draft the plan", dueAt=due(2))
    moved(bea, cancelled["promiseId"], "accept")
    moved(bea, cancelled["promiseId"], "cancel")
    moved(bea, offered["promiseId"], "accept")
    far = open_promise(ana, bea, "request", what="Far away", dueAt=due(400))

    fetched = fetch(make_feed(ana))
    assert fetched.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert fetched.headers["Cache-Control"] == "private, max-age=300"
    assert fetched.headers["ETag"].startswith('"')
    calendar = fetched.calendar
    assert str(calendar["VERSION"]) == "2.0"
    assert "PRODID" in calendar
    assert "METHOD" not in calendar
    shown = events(calendar)
    assert f"promise-{far['promiseId']}@career-journey.app" not in shown, "beyond a year"
    assert len(shown) == 4

    event = promise_event(calendar, asked["promiseId"])
    assert str(event["SUMMARY"]) == "Promised to me: Review the guide"
    assert f"@{bea.handle}" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "TENTATIVE", "requested: nothing promised yet"
    assert event.decoded("DTSTART") == datetime.fromisoformat(asked["dueAt"].replace("Z", "+00:00"))
    assert int(event["SEQUENCE"]) == 1
    assert "DTEND" not in event
    assert str(event["TRANSP"]) == "TRANSPARENT"

    event = promise_event(calendar, offered["promiseId"])
    assert str(event["SUMMARY"]) == "I promised: Pair on the pitch"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 2, "one move after the opening"

    event = promise_event(calendar, outside["promiseId"])
    assert str(event["SUMMARY"]) == "I promised: Send notes"
    assert "Dora Dias" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"

    assert str(promise_event(calendar, cancelled["promiseId"])["STATUS"]) == "CANCELLED"

    # The other side's feed shows the same promises from their side.
    theirs = fetch(make_feed(bea)).calendar
    assert str(promise_event(theirs, asked["promiseId"])["SUMMARY"]) == "I promised: Review the guide"
    assert f"@{ana.handle}" in str(promise_event(theirs, asked["promiseId"])["DESCRIPTION"])
    assert str(promise_event(theirs, offered["promiseId"])["SUMMARY"]) == "Promised to me: Pair on the pitch"
    assert outside["promiseId"] not in json.dumps(list(events(theirs)))


def test_uids_are_stable_and_sequence_grows_with_a_change(aws: Aws, ana: Person, bea: Person) -> None:
    asked = open_promise(ana, bea, "request", dueAt=due(3))
    pid = make(ana, {"title": "Lead", "items": [{"kind": "practice", "title": "Listen first"}]})["planId"]
    path = f"/v1/me/plans/{pid}/reminder"
    assert plan_call(ana, "PUT", path, body={"rrule": DAILY_AT_NINE}).status == 201
    url = make_feed(ana)
    first = fetch(url).calendar
    again = fetch(url).calendar
    assert first.to_ical() == again.to_ical(), "the same body for the same ETag"

    moved(bea, asked["promiseId"], "promise")
    assert plan_call(ana, "PUT", path, body={"rrule": DAILY_AT_NINE}).status == 200
    after = fetch(url).calendar
    assert set(events(after)) == set(events(first)), "stable UIDs"
    before_event, after_event = (
        promise_event(first, asked["promiseId"]),
        promise_event(after, asked["promiseId"]),
    )
    assert int(after_event["SEQUENCE"]) > int(before_event["SEQUENCE"])
    assert (str(before_event["STATUS"]), str(after_event["STATUS"])) == ("TENTATIVE", "CONFIRMED")
    assert {int(e["SEQUENCE"]) for e in reminder_events(first, pid)} == {1}
    assert {int(e["SEQUENCE"]) for e in reminder_events(after, pid)} == {2}


# --- the feed: reminders -----------------------------------------------------------------------


def test_a_daily_reminder_shows_sixty_days_in_its_zone(aws: Aws, ana: Person) -> None:
    plan = make(ana, {"title": "Lead", "items": [{"kind": "practice", "title": "Ask one question"}]})
    pid, item = plan["planId"], plan["items"][0]["itemId"]
    floating = plan_call(ana, "PUT", f"/v1/me/plans/{pid}/reminder", body={"rrule": DAILY_AT_NINE})
    assert floating.status == 201, floating.body
    pinned = plan_call(
        ana,
        "PUT",
        f"/v1/me/plans/{pid}/items/{item}/reminder",
        body={"rrule": DAILY_AT_NINE, "mode": "pinned", "timeZone": "Asia/Tokyo"},
    )
    assert pinned.status == 201, pinned.body
    calendar = fetch(make_feed(ana)).calendar

    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert zones == {"Asia/Tokyo", "Europe/Lisbon"}, "floating ones in the profile's zone"

    today = datetime.now(UTC).date()
    for owner, zone, title in (
        (f"{pid}-{item}", "Asia/Tokyo", "Ask one question"),
        (pid, "Europe/Lisbon", "Lead"),
    ):
        shown = reminder_events(calendar, owner)
        assert len(shown) == 60, zone
        starts = sorted(e.decoded("DTSTART") for e in shown)
        for event in shown:
            assert event["DTSTART"].params["TZID"] == zone
            assert str(event["SUMMARY"]) == title
        assert all((s.hour, s.minute) == (9, 0) for s in starts), "09:00 local"
        assert [s.astimezone(ZoneInfo(zone)).date() for s in starts] == sorted(
            {s.astimezone(ZoneInfo(zone)).date() for s in starts}
        ), "one a day"
        utc_days = {s.astimezone(UTC).date() for s in starts}
        assert min(utc_days) >= today
        assert max(utc_days) < today + timedelta(days=60)
        first_uid = min(str(e["UID"]) for e in shown)
        assert first_uid.endswith("Z@career-journey.app")


def test_a_time_the_clock_skips_shows_when_the_reminder_fires(
    aws: Aws, ana: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = make(ana, {"title": "Early"})["planId"]
    body = {
        "rrule": "DTSTART:20250101T023000\nRRULE:FREQ=DAILY",
        "mode": "pinned",
        "timeZone": "America/New_York",
    }
    assert plan_call(ana, "PUT", f"/v1/me/plans/{pid}/reminder", body=body).status == 201
    url = make_feed(ana)
    # The 60 days from 2027-03-01 hold New York's spring change (2027-03-14, 02:00 -> 03:00).
    monkeypatch.setattr("functions.calendar.app.utc_now", lambda: datetime(2027, 3, 1, 12, tzinfo=UTC))
    calendar = fetch(url).calendar
    shown = {e.decoded("DTSTART").date(): e for e in reminder_events(calendar, pid)}
    assert len(shown) == 60, "one a day, the change's day too"
    change = shown[date(2027, 3, 14)]
    assert change.decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 14, 7, 0, tzinfo=UTC), "03:00 EDT"
    assert (change.decoded("DTSTART").hour, change.decoded("DTSTART").minute) == (3, 0)
    assert str(change["UID"]).endswith("-20270314T070000Z@career-journey.app")
    assert shown[date(2027, 3, 13)].decoded("DTSTART").astimezone(UTC).hour == 7, "02:30 EST"
    assert shown[date(2027, 3, 15)].decoded("DTSTART").astimezone(UTC).hour == 6, "02:30 EDT"
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/New_York"
    assert [c.decoded("TZOFFSETTO") for c in zone.walk("DAYLIGHT")] == [timedelta(hours=-4)]


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("requested", "TENTATIVE"),
        ("offered", "TENTATIVE"),
        ("countered", "TENTATIVE"),
        ("promised", "CONFIRMED"),
        ("reported", "CONFIRMED"),
        ("fulfilled", "CONFIRMED"),
        ("cancelled", "CANCELLED"),
        ("revoked", "CANCELLED"),
        ("declined", "CANCELLED"),
        ("withdrawn", "CANCELLED"),
    ],
)
def test_every_promise_state_has_its_status(state: str, status: str) -> None:
    assert event_status(state) == status


def test_paused_reminders_show_nothing(aws: Aws, ana: Person) -> None:
    pid = make(ana, {"title": "Quiet"})["planId"]
    body = {"rrule": DAILY_AT_NINE, "paused": True}
    assert plan_call(ana, "PUT", f"/v1/me/plans/{pid}/reminder", body=body).status == 201
    calendar = fetch(make_feed(ana)).calendar
    assert reminder_events(calendar, pid) == []
    assert calendar.walk("VTIMEZONE") == []


def test_a_settled_item_held_by_only_if_not_done_shows_no_occurrence(aws: Aws, ana: Person) -> None:
    plan = make(ana, {"title": "T", "items": [{"kind": "reading", "title": "Read", "status": "done"}]})
    pid, item = plan["planId"], plan["items"][0]["itemId"]
    body = {"rrule": DAILY_AT_NINE, "onlyIfNotDone": True}
    assert plan_call(ana, "PUT", f"/v1/me/plans/{pid}/items/{item}/reminder", body=body).status == 201
    assert reminder_events(fetch(make_feed(ana)).calendar, pid) == []


# --- ETag, If-None-Match -----------------------------------------------------------------------


def test_if_none_match_is_a_304_after_one_read(aws: Aws, ana: Person, bea: Person) -> None:
    open_promise(ana, bea, "request", dueAt=due(3))
    url = make_feed(ana)
    first = fetch(url)
    etag = first.headers["ETag"]
    for sent in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        aws.requests.clear()
        reply = fetch(url, headers={"If-None-Match": sent})
        assert reply.status == 304, sent
        assert reply.body == ""
        assert reply.headers["ETag"] == etag
        assert reply.headers["Cache-Control"] == "private, max-age=300"
        assert aws.requests.counts == Counter({"GetItem": 1}), sent
        assert aws.requests.account_checks == 0, "no one is signed in"
    stale = fetch(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status == 200
    assert stale.headers["ETag"] == etag


def test_the_etag_changes_after_a_bump_and_a_bump_needs_the_feed(aws: Aws, ana: Person) -> None:
    url = make_feed(ana)
    feed_id = feed_id_of(url)
    ddb = boto3.client("dynamodb", region_name=REGION)
    # The change log learns the feed's id from my pointer.
    pointer = ddb.get_item(TableName=TABLE_NAME, Key=feed_pointer_key(ana.sub))["Item"]
    assert pointer["feedId"]["S"] == feed_id
    before = fetch(url).headers["ETag"]
    assert bump_calendar(feed_id, 7)
    changed = fetch(url, headers={"If-None-Match": before})
    assert changed.status == 200
    after = changed.headers["ETag"]
    assert after != before
    assert fetch(url, headers={"If-None-Match": after}).status == 304
    # A revoked feed takes no bump (nothing is brought back).
    assert calendar_call(ana, "DELETE").status == 204
    assert not bump_calendar(feed_id, 9)
    assert not [i for i in aws.data_items() if str(i["PK"]).startswith("CALFEED#")]


def test_the_etag_changes_with_the_day_and_with_rotation(
    aws: Aws, ana: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_feed(ana)
    today = fetch(url).headers["ETag"]
    tomorrow = datetime.combine(date.today() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    monkeypatch.setattr("functions.calendar.app.utc_now", lambda: tomorrow)
    moved_on = fetch(url, headers={"If-None-Match": today})
    assert moved_on.status == 200, "the windows moved: a new body"
    assert moved_on.headers["ETag"] != today
    monkeypatch.undo()
    rotated = fetch(make_feed(ana))
    assert rotated.headers["ETag"] not in (today, moved_on.headers["ETag"])


# --- request counts ----------------------------------------------------------------------------


def test_request_counts(aws: Aws, ana: Person, bea: Person) -> None:
    open_promise(ana, bea, "request", dueAt=due(3))
    pid = make(ana, {"title": "Lead"})["planId"]
    assert plan_call(ana, "PUT", f"/v1/me/plans/{pid}/reminder", body={"rrule": DAILY_AT_NINE}).status == 201

    def counted(call: Any) -> tuple[Counter[str], int]:
        aws.requests.clear()
        call()
        return aws.requests.counts, aws.requests.account_checks

    made = counted(lambda: make_feed(ana))
    assert made == (Counter({"GetItem": 1, "TransactWriteItems": 1}), 1)
    rotated = counted(lambda: make_feed(ana))
    assert rotated == (Counter({"GetItem": 1, "TransactWriteItems": 1}), 1)
    url = make_feed(ana)
    # Built: the lookup, the feed's rate limit counter (UpdateItem), my promises due (index),
    # the promises' versions, my reminders.
    built = counted(lambda: fetch(url))
    assert built == (Counter({"GetItem": 1, "UpdateItem": 1, "Query": 2, "BatchGetItem": 1}), 0)
    etag = fetch(url).headers["ETag"]
    assert counted(lambda: fetch(url, headers={"If-None-Match": etag})) == (Counter({"GetItem": 1}), 0)
    revoked = counted(lambda: calendar_call(ana, "DELETE"))
    assert revoked == (Counter({"GetItem": 1, "TransactWriteItems": 1}), 1)
    # Without promises in the window there is nothing to batch-read.
    assert counted(lambda: fetch(make_feed(bea)))[0]["BatchGetItem"] == 1, "bea's side of the request"
    cai = new_person(aws, "cai")
    empty = make_feed(cai)
    assert counted(lambda: fetch(empty)) == (Counter({"GetItem": 1, "UpdateItem": 1, "Query": 2}), 0)
    assert "Scan" not in aws.requests.operations


# --- erasure and export ------------------------------------------------------------------------


def test_erasure_removes_both_feed_items(aws: Aws, ana: Person) -> None:
    url = make_feed(ana)
    feed_id = feed_id_of(url)
    assert {str(i["PK"]) for i in aws.data_items() if str(i["SK"]) == "CALFEED"} == {
        f"USER#{ana.sub}",
        f"CALFEED#{feed_id}",
    }
    assert ana.profile("DELETE", "/v1/me").status == 204
    assert not [i for i in aws.data_items() if str(i["SK"]) == "CALFEED"]
    assert not [i for i in aws.data_items() if ana.sub in json.dumps(i, default=str)]
    assert fetch(url).status == 404


def test_the_export_holds_nothing_of_the_feed(aws: Aws, ana: Person) -> None:
    url = make_feed(ana)
    lookup = next(i for i in aws.data_items() if str(i["PK"]).startswith("CALFEED#"))
    export = ana.profile("GET", "/v1/me/export")
    assert export.status == 200, export.body
    text = json.dumps(export.body)
    for secretish in (feed_id_of(url), str(lookup["hash"]), "CALFEED", "calSeq", url.rsplit("/", 1)[1]):
        assert secretish not in text
