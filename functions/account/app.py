"""My account's data as one JSON document (GDPR art. 20): `GET /v1/me/export`.

A function of its own: the export document composes every capability's models, whose import
(about 55 ms) no route of the profile function needs, and it is called a few times a year.
Erasure (`DELETE /v1/me`) stays with the profile, whose `If-Match` it checks.
"""

from __future__ import annotations

from shared.api.ratelimit import EXPORT, limit_person
from shared.api.resolver import App, lambda_entry
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.logic.accounts import export_account
from shared.models.export import AccountExport

app = App()


@app.get(
    "/v1/me/export",
    operation_id="exportMyData",
    tags=["Account"],
    summary="All my data as one JSON document (GDPR art. 20)",
)
def export_me() -> AccountExport:
    user_id = app.user.user_id
    limit_person(user_id, EXPORT)
    data = export_account(user_id)
    return AccountExport.from_items(
        user_id,
        to_rfc3339(utc_now()),
        data.items_by_kind,
        promises=data.promises,
        blocks=data.blocks,
        plans=data.plans,
    )


lambda_handler = lambda_entry(app)
