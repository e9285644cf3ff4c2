"""Personal answers are never cached (issue 9, part 8): `Cache-Control: no-store` on every
answer of every route that serves a person's data, errors included, so neither a shared cache
nor the phone's HTTP cache keeps it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from functions.edge.app import lambda_handler as edge_handler
from functions.promise.app import lambda_handler as promise_handler
from infra.local.template import Route
from tests.handler.test_erased_account import SIGNED_IN_ROUTES, _call
from tests.handler.test_promises import Person, new_person, open_promise
from tests.support.aws import Aws, http_event, invoke


@pytest.fixture
def make_person(aws: Aws) -> Callable[[str], Person]:
    def make(name: str = "p") -> Person:
        return new_person(aws, name)

    return make


@pytest.mark.parametrize("route", SIGNED_IN_ROUTES, ids=lambda r: r.route_key)
def test_every_signed_in_answer_is_no_store(route: Route, make_person: Callable[[str], Person]) -> None:
    reply = _call(route, make_person("ana"))
    assert reply.headers.get("Cache-Control") == "no-store", (reply.status, reply.headers)


def test_a_link_holders_answers_are_no_store_too(make_person: Callable[[str], Person]) -> None:
    ana = make_person("ana")
    promise_id = open_promise(ana, {"name": "Olga"})["promiseId"]
    url = ana("POST", f"/v1/me/promises/{promise_id}/counterpart-link").body["url"]
    token = url.rsplit("/", 1)[-1]
    for method, path, body in (
        ("GET", f"/v1/counterpart/{token}", None),
        ("POST", f"/v1/counterpart/{token}/moves", {"act": "promise"}),
        ("POST", f"/v1/counterpart/{token}/assessment", {"value": 5, "enabled": "x"}),
        ("GET", "/v1/counterpart/unknown.token", None),
    ):
        reply = invoke(promise_handler, http_event(method, path, body=body))
        assert reply.headers.get("Cache-Control") == "no-store", (path, reply.status)


def test_health_may_be_cached_by_whoever_likes(aws: Aws) -> None:
    reply = invoke(edge_handler, http_event("GET", "/v1/health"))
    assert reply.status == 200
    assert "Cache-Control" not in reply.headers
