"""Delta sync for the mobile app: what changed in my data since my cursor, or a full snapshot."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.api.params import Cursor
from shared.api.problems import problem_responses
from shared.api.resolver import App, lambda_entry
from shared.domain.timeutil import utc_now
from shared.logic import sync as logic
from shared.models.sync import ChangePage

app = App()

SyncLimit = Annotated[int, Query(ge=1, le=1000, description="Changes per page (default 200)")]


@app.get(
    "/v1/me/changes",
    operation_id="listMyChanges",
    tags=["Sync"],
    summary="What changed in my data since my cursor (without one: everything, in pages)",
    description=(
        "Every change to what the app keeps offline (profile, reflections, cares and their history,"
        " promises and their moves, plans with their items, obstacles, suggestions and reminders,"
        " inbox items), in the order the server logged them: created and updated things as they are"
        " now, deleted ones as tombstones. The log keeps only each thing's latest change, so a pull"
        " after k changes reads at most k entries, and a pull without a cursor is a full snapshot."
        " The cursor is the server's per-person sequence, never a device clock. Changes reach the"
        " log from the database's stream within about a second of the write. Tombstones are kept at"
        " least 30 days: a cursor last caught up longer ago than that is a 410, and the app syncs"
        " again without a cursor."
    ),
    responses={200: {"description": "One page of changes"}, **problem_responses(410, 422)},
)
def list_my_changes(cursor: Cursor = None, limit: SyncLimit = 200) -> ChangePage:
    page = logic.pull(app.user.user_id, cursor, limit, utc_now())
    return ChangePage.model_validate(
        {"items": page.items, "nextCursor": page.next_cursor, "hasMore": page.has_more}
    )


lambda_handler = lambda_entry(app)
