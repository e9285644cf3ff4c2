"""Per-person, per-link and per-feed limits on the costly and the public routes (429).

The HTTP API's throttles (template.yaml `RouteSettings`) are per stage and route, shared by
everyone: one client hammering `GET /v1/me/export` would use up that route for all. These limits
are per subject, so one person's (or one link's, one feed's) excess is refused with a 429 and
`Retry-After` while everyone else is served, and the refusal costs one small write instead of the
work the route does (an export reads the whole account; an erasure calls Cognito, whose admin
APIs have account-wide quotas; a feed build is several Queries). The gateway's route throttles
still count every request, refused here or not: a client sending faster than a route's throttle
uses it up whatever this module does (that needs a limit at the edge, per client: WAF rate rules,
which an HTTP API cannot carry, or CloudFront in front). What these limits change is that the
route throttles can be set well above what one client is allowed, as a refusal is cheap.

A fixed window per subject: one UpdateItem per limited request (`shared.store.rate_limits`), in
the subject's own partition, so whatever removes the subject removes its counters. Each subject's
windows start at its own offset (from a hash of its key): people throttled together do not all
come back in the same second. A fixed window lets up to twice the limit through around a window's
edge; for limits meant to stop hammering, not to meter, that is acceptable, and it keeps the cost
at one write.

When the counter itself cannot be written (DynamoDB throttles after the client's retries, or does
not answer), the request goes ahead: the limiter fails open, logged and counted
(`RateLimiterUnavailable`). Failing closed would turn a hiccup of the limiter's write into a 503
for every caller of these routes, the very thing the limits are there to prevent, and refuse an
erasure (a right) because of a counter. A table so throttled that the counter fails will most
likely refuse the route's own reads too, and those answer 503 with `Retry-After` as always.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError

from shared.domain.errors import ServiceUnavailable, TooManyRequests
from shared.observability import logger, metrics
from shared.store import keys
from shared.store import rate_limits as store


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` per `window_seconds` per subject; `name` goes into the counter's key,
    `what` into the problem's detail."""

    name: str
    requests: int
    window_seconds: int
    what: str


# `GET /v1/me/export` reads the whole account (a Query per 1 MB of my partition and one per
# promise). A person needs one export now and then; 5 leaves room for a failed download and a
# retry or two, while a loop is cut off after 5 reads of the account per 10 minutes.
EXPORT = RateLimit("export", 5, 600, "exports of an account")
# `DELETE /v1/me` is retried until it is done (a 503 on a large account, a lost 204), and must
# never lock its owner out of finishing: 10 attempts per 10 minutes is more than a client
# honouring `Retry-After` (2 to 5 s on a 503) makes before an erasure finishes or goes on failing
# for a reason a retry will not cure, and a refusal only delays it by the rest of the window (the
# marker written by the first attempt already keeps the account closed meanwhile). The counter
# lives in the partition the erasure deletes, so an erasure that got that far starts the count
# again: what is bounded is a storm of attempts that fail before the end (each of which may
# re-read a large account and call Cognito), not repeats of a finished, cheap one.
ERASURE = RateLimit("erase", 10, 600, "erasure attempts for an account")
# A counterpart link is a person acting by hand (look, accept, later assess): 60 a minute is far
# beyond that, and bounds what a script looping on one link makes us do (a read each, and a
# transaction for each write) and how hard it leans on the promise's partition.
COUNTERPART_LINK = RateLimit("link", 60, 60, "requests through one link")
# A calendar app polls a feed, at the shortest every 5 minutes (12 an hour), and one feed may be
# subscribed to from a few devices or services, some of which never send If-None-Match: 60 builds
# an hour covers five such subscribers. Only builds count: an unchanged feed answered 304 after
# its one read costs no more than the limit's own write would.
FEED_BUILD = RateLimit("feed", 60, 3600, "builds of one calendar feed")

# The clock (seconds since the epoch); tests move it to a window's end.
clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Window:
    """One subject's current window of a limit: [start, end), in epoch seconds."""

    start: int
    end: int


def window_of(limit: RateLimit, subject: str, now: float) -> Window:
    """The window of `limit` that `now` falls in, for `subject` (its key): windows are
    `window_seconds` long and start at an offset of the subject's own."""
    digest = hashlib.sha256(f"{limit.name}:{subject}".encode()).digest()
    offset = int.from_bytes(digest[:4], "big") % limit.window_seconds
    start = math.floor((now - offset) / limit.window_seconds) * limit.window_seconds + offset
    return Window(start, start + limit.window_seconds)


def subject_of(pk: str, qualifier: str | None = None) -> str:
    """What a counter counts, as `window_of` takes it: the partition, and what in it."""
    return pk if qualifier is None else f"{pk}#{qualifier}"


def limit_person(user_id: str, limit: RateLimit) -> None:
    """Count a request of this person against `limit` (in their partition); TooManyRequests
    when it is used up."""
    _enforce(limit, keys.user_pk(user_id))


def limit_link(promise_id: str) -> None:
    """Count a request through the counterpart link of this promise, in the promise's partition
    (a promise has one link at a time). Called once the token checked out: a forged or stale
    token is a 404 that leaves nothing behind, and cannot use up the real link's count (so
    knowing a promise's id is not enough to shut its counterpart out)."""
    _enforce(COUNTERPART_LINK, keys.promise_pk(promise_id))


def limit_feed_build(feed_id: str, owner: str) -> None:
    """Count a build of a calendar feed whose token checked out, in its owner's partition
    (`RATE#feed#<feedId>#...`): account erasure deletes it with the partition, without relying
    on the ByOwner index, and revoking or rotating the feed leaves nothing under `CALFEED#`
    (a rotated feed's counter is simply not read again; TTL removes it within the hour)."""
    _enforce(FEED_BUILD, keys.user_pk(owner), qualifier=feed_id)


def _enforce(limit: RateLimit, pk: str, *, qualifier: str | None = None) -> None:
    now = clock()
    window = window_of(limit, subject_of(pk, qualifier), now)
    sk = store.counter_sk(limit.name, window.start, qualifier)
    try:
        counted = store.count_request(pk, sk, limit=limit.requests, expires_at=window.end)
    except (ServiceUnavailable, BotoCoreError) as error:
        # Fail open (see the module's docstring).
        logger.warning(
            "rate limiter unavailable: request let through",
            extra={"rate_limit": limit.name, "error_type": type(error).__name__},
        )
        metrics.add_metric(name="RateLimiterUnavailable", unit="Count", value=1)
        return
    if counted:
        return
    retry_after = max(1, math.ceil(window.end - now))
    logger.info("rate limited", extra={"rate_limit": limit.name, "retry_after": retry_after})
    metrics.add_metric(name="RequestsRateLimited", unit="Count", value=1)
    raise TooManyRequests(
        f"At most {limit.requests} {limit.what} per {_span(limit.window_seconds)}; "
        f"retry in {retry_after} seconds.",
        retry_after_seconds=retry_after,
    )


def _span(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"
