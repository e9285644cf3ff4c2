"""Per-person, per-link and per-feed rate limits (issue 13, "Fairness under abuse"), on moto.

The costly routes (`GET /v1/me/export`, `DELETE /v1/me`), the counterpart link's routes and the
building of a calendar feed count each request in a fixed window per subject
(`shared.api.ratelimit`): over the limit, 429 with `Retry-After` (the seconds to the window's
end) and a problem; another person, link or feed is not affected; the next window serves again.
The clock is the limiter's (`ratelimit.clock`), moved by the tests.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from functions.calendar.app import lambda_handler as calendar_handler
from shared.api import ratelimit
from shared.api.ratelimit import COUNTERPART_LINK, ERASURE, EXPORT, FEED_BUILD, RateLimit, Window
from shared.store import keys, table
from shared.store.rate_limits import RATE_PREFIX
from tests.handler.conftest import Caller, profile_body
from tests.handler.test_calendar_feed import feed_id_of, fetch, make_feed
from tests.handler.test_counterpart_links import act, look, make_link, offer_to_outside, public
from tests.handler.test_promises import ASSESSMENT, Person, new_person
from tests.support.aws import Aws, Reply, http_event, invoke

T0 = 1_900_000_000.0  # 2030-03-17: any instant will do; windows have per-subject offsets


@pytest.fixture
def ana(aws: Aws) -> Person:
    return new_person(aws, "ana")


@pytest.fixture
def bea(aws: Aws) -> Person:
    return new_person(aws, "bea")


@dataclass
class LimiterClock:
    """The limiter's clock (seconds since the epoch), moved by the test."""

    now: float

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> LimiterClock:
    fixed = LimiterClock(T0)
    monkeypatch.setattr(ratelimit, "clock", fixed)
    return fixed


def window(limit: RateLimit, pk: str, now: float, qualifier: str | None = None) -> Window:
    return ratelimit.window_of(limit, ratelimit.subject_of(pk, qualifier), now)


def counters(aws: Aws, pk: str | None = None) -> list[dict[str, Any]]:
    """The limiter's items (every partition, or one)."""
    return [
        i for i in aws.all_items() if str(i["SK"]).startswith(RATE_PREFIX) and (pk is None or i["PK"] == pk)
    ]


def assert_too_many(reply: Reply | Any, retry_after: int, what: str) -> None:
    """A 429 problem with `Retry-After` = `retry_after` (seconds to the window's end)."""
    assert reply.status == 429, reply.body
    assert reply.headers["Retry-After"] == str(retry_after)
    problem = reply.problem
    assert problem["type"].endswith("/too-many-requests")
    assert (problem["status"], problem["title"]) == (429, "Too Many Requests")
    assert what in problem["detail"], problem["detail"]
    assert f"retry in {retry_after} seconds" in problem["detail"]


def _counts(request: dict[str, Any]) -> bool:
    """Whether a request (botocore's request dict) is the limiter's: an update of a `RATE#`
    counter."""
    sort_key = json.loads(request["body"]).get("Key", {}).get("SK", {}).get("S", "")
    return str(sort_key).startswith(RATE_PREFIX)


@contextmanager
def failing(
    operation: str, make_error: Callable[[], Any], only: Callable[[dict[str, Any]], bool] = lambda p: True
) -> Iterator[list[int]]:
    """Every `operation` on the code's DynamoDB client (those of them `only` picks) fails while
    inside (before moto sees it): `make_error` answers a parsed error response, or raises.
    Yields the number of failures."""
    failures = [0]

    def answer(params: dict[str, Any], **_: Any) -> Any:  # params: the request dict
        if not only(params):
            return None
        failures[0] += 1
        return make_error()

    events = table.dynamodb().meta.events
    events.register(f"before-call.dynamodb.{operation}", answer)
    try:
        yield failures
    finally:
        events.unregister(f"before-call.dynamodb.{operation}", answer)


class _InjectedHttp:
    status_code = 400
    headers: dict[str, str] = {}
    content = b""


def client_error(code: str) -> Callable[[], Any]:
    def make() -> Any:
        parsed = {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return _InjectedHttp(), parsed

    return make


def read_timeout() -> Any:
    raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")


# --- export: per person --------------------------------------------------------------------------


def test_the_export_is_limited_per_person(make_caller: Callable[[], Caller], clock: LimiterClock) -> None:
    ana, bea = make_caller(), make_caller()
    for n in range(EXPORT.requests):
        assert ana("GET", "/v1/me/export").status == 200, n
    ends = window(EXPORT, keys.user_pk(ana.sub), clock.now).end
    refused = ana("GET", "/v1/me/export")
    assert_too_many(refused, int(ends - clock.now), "exports of an account")
    assert refused.problem["instance"] == "/v1/me/export"
    assert refused.headers["Cache-Control"] == "no-store"
    assert bea("GET", "/v1/me/export").status == 200, "another person is not affected"


def test_a_refused_export_costs_its_counter_alone(me: Caller, clock: LimiterClock) -> None:
    for _ in range(EXPORT.requests):
        me("GET", "/v1/me/export")
    me.aws.requests.clear()
    assert me("GET", "/v1/me/export").status == 429
    assert me.aws.requests.counts == Counter({"UpdateItem": 1}), "no read of the account"
    (counter,) = counters(me.aws, keys.user_pk(me.sub))
    assert counter["count"] == EXPORT.requests, "a refusal is not counted: the count stays at the limit"


def test_the_next_window_serves_again(me: Caller, clock: LimiterClock) -> None:
    for _ in range(EXPORT.requests):
        me("GET", "/v1/me/export")
    ends = window(EXPORT, keys.user_pk(me.sub), clock.now).end
    clock.now = ends - 1
    assert_too_many(me("GET", "/v1/me/export"), 1, "exports")
    clock.now = ends
    for n in range(EXPORT.requests):
        assert me("GET", "/v1/me/export").status == 200, n
    assert me("GET", "/v1/me/export").status == 429
    assert len(counters(me.aws, keys.user_pk(me.sub))) == 2, "one counter per window"


def test_a_counter_is_a_small_item_that_expires_with_its_window(me: Caller, clock: LimiterClock) -> None:
    me("GET", "/v1/me/export")
    (counter,) = counters(me.aws)
    current = window(EXPORT, keys.user_pk(me.sub), clock.now)
    assert counter == {
        "PK": keys.user_pk(me.sub),
        "SK": f"RATE#export#{current.start}",
        "count": 1,
        "expiresAt": current.end,
    }, "no `entity` (not exported, not in the change log), TTL at the window's end"
    assert current.start <= clock.now < current.end
    assert current.end - current.start == EXPORT.window_seconds


def test_the_export_leaves_the_counters_out(me: Caller, clock: LimiterClock) -> None:
    me("PUT", "/v1/me", body=profile_body(handle="ana_rl"))
    me("GET", "/v1/me/export")
    export = me("GET", "/v1/me/export")
    assert export.status == 200
    assert counters(me.aws, keys.user_pk(me.sub))[0]["count"] == 2
    text = json.dumps(export.body)
    assert "RATE#" not in text
    assert '"count"' not in text
    assert export.body["profile"]["handle"] == "ana_rl"


# --- erasure: per person, never shut out for good -------------------------------------------------


def test_a_finished_erasure_is_never_refused_and_an_erased_account_may_retry_it(
    me: Caller, clock: LimiterClock
) -> None:
    me("PUT", "/v1/me", body=profile_body(handle="ana_erase"))
    # Each finished erasure deletes the partition, its own counter with it: retries after a lost
    # 204 are never refused (and the erased account still reaches the route: allow_erased).
    for n in range(ERASURE.requests + 2):
        assert me("DELETE", "/v1/me").status == 204, n
    assert me("GET", "/v1/me").status == 401, "the account is erased"
    assert not counters(me.aws), "the erasure took its counter with it"


def test_erasure_attempts_that_fail_are_limited_then_finish_in_the_next_window(
    make_caller: Callable[[], Caller], clock: LimiterClock
) -> None:
    ana, bea = make_caller(), make_caller()
    ana("PUT", "/v1/me", body=profile_body(handle="ana_storm"))
    with failing("BatchWriteItem", client_error("ProvisionedThroughputExceededException")):
        for n in range(ERASURE.requests):
            failed = ana("DELETE", "/v1/me")
            assert failed.status == 503, (n, failed.body)
        ends = window(ERASURE, keys.user_pk(ana.sub), clock.now).end
        ana.aws.requests.clear()
        refused = ana("DELETE", "/v1/me")
        assert_too_many(refused, int(ends - clock.now), "erasure attempts")
        assert ana.aws.requests.counts == Counter({"UpdateItem": 1}), "refused before any of the work"
        assert ana.aws.requests.account_checks == 0, "the erasure route does not read the marker"
    assert bea("DELETE", "/v1/me").status == 204, "another person's erasure goes ahead"
    clock.now = ends
    assert ana("DELETE", "/v1/me").status == 204, "the next window finishes it"
    assert not [i for i in ana.aws.data_items() if ana.sub in json.dumps(i, default=str)]


def test_erasure_removes_the_persons_and_their_feeds_counters(aws: Aws, clock: LimiterClock) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    for person in (ana, bea):
        assert person.profile("GET", "/v1/me/export").status == 200
        assert fetch(make_feed(person)).status == 200
    # A feed's counter is in its owner's partition, named by the feed.
    feed_counters = [c for c in counters(aws) if str(c["SK"]).startswith("RATE#feed#")]
    assert sorted(c["PK"] for c in feed_counters) == sorted([keys.user_pk(ana.sub), keys.user_pk(bea.sub)])
    assert len(counters(aws)) == 4

    assert ana.profile("DELETE", "/v1/me").status == 204
    left = counters(aws)
    assert {c["PK"] for c in left} == {keys.user_pk(bea.sub)}, "ana's counters are gone, her feed's too"
    assert len(left) == 2


def test_revoking_a_feed_leaves_nothing_under_its_id(ana: Person, aws: Aws, clock: LimiterClock) -> None:
    url = make_feed(ana)
    assert fetch(url).status == 200
    assert invoke(calendar_handler, http_event("DELETE", "/v1/me/calendar-feed", user=ana.sub)).status == 204
    assert not [i for i in aws.all_items() if str(i["PK"]).startswith("CALFEED#")]
    (counter,) = counters(aws)
    assert counter["PK"] == keys.user_pk(ana.sub), "the counter waits for its TTL in ana's partition"
    assert str(counter["SK"]).startswith(f"RATE#feed#{feed_id_of(url)}#")


# --- the limiter fails open -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("InternalServerError"),
        read_timeout,
    ],
    ids=["throttled", "5xx", "timeout"],
)
def test_a_limiter_that_cannot_count_lets_the_request_through(
    make_caller: Callable[[], Caller], clock: LimiterClock, make_error: Callable[[], Any]
) -> None:
    ana = make_caller()
    with failing("UpdateItem", make_error, only=_counts) as failures:
        for _ in range(EXPORT.requests + 2):
            assert ana("GET", "/v1/me/export").status == 200
        assert ana("DELETE", "/v1/me").status == 204, "an erasure is never refused for a counter"
    assert failures[0] >= EXPORT.requests + 3, "every request tried to count"


def test_a_limiter_that_is_refused_outright_is_our_fault_not_the_clients(
    me: Caller, clock: LimiterClock
) -> None:
    # A missing permission is a deployment's bug: a 500 that shows up at once, not a limit that
    # silently never holds.
    with failing("UpdateItem", client_error("AccessDeniedException"), only=_counts):
        assert me("GET", "/v1/me/export").status == 500


# --- counterpart links: per link ------------------------------------------------------------------

# The link's limit, smaller (the same window): 60 requests a test would only cost time.
SMALL_LINK_LIMIT = RateLimit(COUNTERPART_LINK.name, 5, COUNTERPART_LINK.window_seconds, COUNTERPART_LINK.what)


@pytest.fixture
def small_link_limit(monkeypatch: pytest.MonkeyPatch) -> RateLimit:
    monkeypatch.setattr(ratelimit, "COUNTERPART_LINK", SMALL_LINK_LIMIT)
    return SMALL_LINK_LIMIT


def test_a_link_is_limited_and_another_link_is_not(
    ana: Person, aws: Aws, clock: LimiterClock, small_link_limit: RateLimit
) -> None:
    first = make_link(ana, offer_to_outside(ana))
    second = make_link(ana, offer_to_outside(ana))
    for n in range(small_link_limit.requests):
        assert look(first).status == 200, n
    promise_id, _, _ = first.partition(".")
    ends = window(small_link_limit, keys.promise_pk(promise_id), clock.now).end
    refused = look(first)
    assert_too_many(refused, int(ends - clock.now), "At most 5 requests through one link per minute")
    assert refused.headers["Cache-Control"] == "no-store"
    # The three routes of a link share its count.
    assert act(first, "accept").status == 429
    assert public("POST", f"/v1/counterpart/{first}/assessment", body=ASSESSMENT).status == 429
    assert look(second).status == 200, "another link is not affected"
    clock.now = ends
    assert act(first, "accept").status == 200, "the next window serves again"


def test_a_forged_token_is_not_counted_and_never_uses_up_the_real_links_count(
    ana: Person, aws: Aws, clock: LimiterClock, small_link_limit: RateLimit
) -> None:
    token = make_link(ana, offer_to_outside(ana))
    promise_id, _, _ = token.partition(".")
    forged = f"{promise_id}.{'A' * 43}"
    for _ in range(small_link_limit.requests + 2):
        assert look(forged).status == 404
        assert act(forged, "accept").status == 404
    assert not counters(aws), "a forged token leaves nothing behind"
    assert look(token).status == 200, "knowing the promise's id does not shut its holder out"


def test_the_link_counters_live_in_the_promise_and_go_with_it(
    ana: Person, aws: Aws, clock: LimiterClock
) -> None:
    token = make_link(ana, offer_to_outside(ana))
    promise_id, _, secret = token.partition(".")
    look(token)
    (counter,) = counters(aws)
    current = window(COUNTERPART_LINK, keys.promise_pk(promise_id), clock.now)
    assert counter == {
        "PK": keys.promise_pk(promise_id),
        "SK": f"RATE#link#{current.start}",
        "count": 1,
        "expiresAt": current.end,
    }
    assert secret not in json.dumps(counter)
    # The promise is ana's alone (its other side is outside): her erasure deletes its partition.
    assert ana.profile("DELETE", "/v1/me").status == 204
    assert not counters(aws)


# --- the calendar feed: per feed, builds only ----------------------------------------------------


def test_only_feed_builds_count_and_an_unchanged_poll_stays_one_read(
    aws: Aws, ana: Person, bea: Person, clock: LimiterClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        ratelimit, "FEED_BUILD", RateLimit("feed", 3, FEED_BUILD.window_seconds, FEED_BUILD.what)
    )
    url, other = make_feed(ana), make_feed(bea)
    etag = fetch(url).headers["ETag"]
    for _ in range(10):
        aws.requests.clear()
        assert fetch(url, headers={"If-None-Match": etag}).status == 304
        assert aws.requests.counts == Counter({"GetItem": 1}), "a 304 is its one read, not counted"
    assert fetch(url).status == 200
    assert fetch(url).status == 200
    ends = window(ratelimit.FEED_BUILD, keys.user_pk(ana.sub), clock.now, feed_id_of(url)).end
    refused = fetch(url)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == str(int(ends - clock.now))
    assert refused.problem["detail"].startswith("At most 3 builds of one calendar feed per hour")
    assert fetch(url, headers={"If-None-Match": etag}).status == 304, "polling with the ETag goes on"
    assert fetch(other).status == 200, "another feed is not affected"
    clock.now = ends
    assert fetch(url).status == 200


def test_the_limits_as_chosen() -> None:
    """What docs and clients are told (the reasons are beside the constants)."""
    chosen = {
        limit.name: (limit.requests, limit.window_seconds)
        for limit in (EXPORT, ERASURE, COUNTERPART_LINK, FEED_BUILD)
    }
    assert chosen == {"export": (5, 600), "erase": (10, 600), "link": (60, 60), "feed": (60, 3600)}
