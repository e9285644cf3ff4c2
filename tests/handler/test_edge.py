"""The edge function: health, and problems for routes the API does not have."""

from __future__ import annotations

from functions.edge.app import lambda_handler
from tests.support.aws import Aws, http_event, invoke


def test_health_needs_no_sign_in(aws: Aws) -> None:
    reply = invoke(lambda_handler, http_event("GET", "/v1/health"))
    assert reply.status == 200
    assert reply.body == {"status": "ok"}


def test_unknown_route_is_a_404_problem(aws: Aws) -> None:
    reply = invoke(lambda_handler, http_event("GET", "/v1/nothing-here", route_key="$default"))
    assert reply.status == 404
    assert reply.problem["title"] == "Not Found"


def test_known_path_with_another_method_is_405_listing_methods(aws: Aws) -> None:
    reply = invoke(lambda_handler, http_event("POST", "/v1/me", body={}, route_key="$default"))
    assert reply.status == 405
    assert reply.headers["Allow"] == "DELETE, GET, PATCH, PUT"
    reply = invoke(lambda_handler, http_event("GET", "/v1/me/devices/01ABC", route_key="$default"))
    assert reply.status == 405
    assert reply.headers["Allow"] == "DELETE"
