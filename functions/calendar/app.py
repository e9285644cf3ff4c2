"""My secret calendar feed: make or rotate it, revoke it, and the feed itself (iCalendar)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponseHeader

from shared.api.problems import problem_responses
from shared.api.ratelimit import limit_feed_build
from shared.api.resolver import App, json_response, lambda_entry
from shared.domain.calendar import etag_matches
from shared.domain.timeutil import utc_now
from shared.logic import calendar as logic
from shared.models.calendar import CalendarFeed
from shared.observability import metrics

app = App()

# Malformed and unknown tokens are both 404 (the logic checks the shape): no pattern here.
FeedToken = Annotated[
    str,
    Path(alias="feedToken", min_length=1, description="`<token>.ics`, from the feed's URL"),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description="The ETag of the copy held: when it is still current, 304 without a body",
        max_length=1024,
    ),
]
CALENDAR_TYPE = "text/calendar; charset=utf-8"
# The feed is personal, behind a secret URL: `private` keeps it out of shared caches (proxies,
# CDNs); a device may keep it five minutes, then asks again with If-None-Match (one read on our
# side). Not `no-store`: that forbids keeping the copy a conditional request revalidates, so
# every client that relies on its HTTP cache would fetch the whole feed each time. Rotation and
# revocation act on the server at once; a copy already on the subscriber's device is theirs.
FEED_CACHE_CONTROL = "private, max-age=300"
_ETAG_HEADER: OpenAPIResponseHeader = {
    "description": "The feed's version: send it back in If-None-Match",
    "schema": {"type": "string"},
}


@app.post(
    "/v1/me/calendar-feed",
    operation_id="createCalendarFeed",
    tags=["Calendar"],
    summary="Make my secret calendar feed, or rotate it: a new URL, and the old one stops working",
    description=(
        "Answers the feed's URL, to subscribe to in a calendar app: my promises' due times (as "
        "performer and as customer, from 30 days ago to a year ahead) and the next 60 days of my "
        "plans' reminders. The URL is shown only here (only a hash of its secret is kept). Posting "
        "again rotates it: a new URL, and the previous one is a 404 from then on; so a retried "
        "POST simply rotates again, and `Idempotency-Key` is not needed (nor taken)."
    ),
    responses={201: {"description": "The feed's new URL"}, **problem_responses(409)},
)
def make_feed() -> Response[CalendarFeed]:
    token, created_at = logic.make_feed(app.user.user_id, utc_now())
    context = app.current_event.request_context
    host = context.domain_name
    scheme = "http" if host.startswith(("127.0.0.1", "localhost")) else "https"
    body = {"url": f"{scheme}://{host}/v1/calendar/{token}{logic.TOKEN_SUFFIX}", "createdAt": created_at}
    metrics.add_metric(name="CalendarFeedsMade", unit="Count", value=1)
    return json_response(
        201,
        CalendarFeed.model_validate(body).model_dump(by_alias=True, mode="json"),
        {"Cache-Control": "no-store"},
    )


@app.delete(
    "/v1/me/calendar-feed",
    operation_id="revokeCalendarFeed",
    tags=["Calendar"],
    summary="Revoke my calendar feed: its URL is a 404 from now on",
    responses={204: {"description": "Revoked"}, **problem_responses(404, 409)},
)
def revoke_feed() -> Response[None]:
    logic.revoke_feed(app.user.user_id)
    metrics.add_metric(name="CalendarFeedsRevoked", unit="Count", value=1)
    return Response(status_code=204, body=None)


@app.get(
    "/v1/calendar/<feedToken>",
    operation_id="getCalendarFeed",
    tags=["Calendar"],
    summary="The calendar feed (iCalendar, RFC 5545), without an account: the URL is the credential",
    description=(
        "The last segment is `<token>.ics`; anything else, an unknown, rotated or revoked token "
        "is a 404. Send the `ETag` back in `If-None-Match`: while nothing changed the answer is "
        "304 without a body. Promises are events at their due time (UTC) with a stable `UID`, a "
        "`SEQUENCE` that grows with each move and `STATUS` CANCELLED, TENTATIVE or CONFIRMED; "
        "reminders are one event per occurrence in the next 60 days, in their time zone "
        "(`TZID`, with its `VTIMEZONE`)."
    ),
    responses={
        200: {
            "description": "The feed",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "headers": {"ETag": _ETAG_HEADER},
        },
        # No body: an empty `content` keeps Powertools from documenting the return type here.
        304: {
            "description": "Not modified: the ETag sent is current",
            "content": {},
            "headers": {"ETag": _ETAG_HEADER},
        },
        **problem_responses(404),
    },
)
def calendar_feed(feed_token: FeedToken, if_none_match: IfNoneMatch = None) -> Response[str]:
    today = utc_now().date()
    opened = logic.open_feed(feed_token, today)
    headers = {"ETag": opened.etag, "Cache-Control": FEED_CACHE_CONTROL}
    if etag_matches(if_none_match, opened.etag):
        metrics.add_metric(name="CalendarFeedsNotModified", unit="Count", value=1)
        return Response(status_code=304, body="", headers=headers)
    # Only a build counts: an unchanged feed stays one small read (the 304 above).
    limit_feed_build(opened.feed_id, opened.owner)
    body = logic.render_feed(opened, today)
    metrics.add_metric(name="CalendarFeedsServed", unit="Count", value=1)
    return Response(status_code=200, content_type=CALENDAR_TYPE, body=body.decode(), headers=headers)


lambda_handler = lambda_entry(app)
