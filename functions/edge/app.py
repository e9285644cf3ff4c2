"""Liveness, and RFC 9457 answers for every route the API does not know ($default)."""

from __future__ import annotations

from typing import Literal

from shared.api.resolver import App, lambda_entry
from shared.api.route_table import API_ROUTES
from shared.models.common import ApiModel

app = App(other_routes=API_ROUTES)


class Health(ApiModel):
    """The API answers."""

    status: Literal["ok"]


@app.get("/v1/health", operation_id="getHealth", tags=["Health"], summary="Liveness (no sign-in needed)")
def health() -> Health:
    return Health(status="ok")


# Health and 404/405 answers: nothing personal, no one signed in.
lambda_handler = lambda_entry(app, personal=False)
