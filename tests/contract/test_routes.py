"""Routes in code and routes in template.yaml must be the same set, function by function."""

from __future__ import annotations

import importlib
import json
import re

from infra.local.template import ROOT, load
from infra.openapi import build_document, build_route_table


def _code_routes(module: str) -> set[tuple[str, str]]:
    app = importlib.import_module(module).app
    routes = app._static_routes + app._dynamic_routes
    return {(r.method.upper(), re.sub(r"<(\w+)>", r"{\1}", r.path)) for r in routes}


def test_every_code_route_is_in_the_template_and_back() -> None:
    template = load()
    for function in template.functions():
        in_template = {(r.method, r.path) for r in template.routes() if r.function == function.logical_id}
        in_template.discard(("ANY", "$default"))
        module = importlib.import_module(function.module)
        if not hasattr(module, "app"):
            # No resolver (a custom resource, a scheduled function): it must have no routes either.
            assert in_template == set(), function.logical_id
            continue
        assert _code_routes(function.module) == in_template, function.logical_id


def test_only_health_the_catch_all_counterpart_links_and_calendar_feeds_skip_the_authorizer() -> None:
    public = {(r.method, r.path) for r in load().routes() if not r.auth}
    assert public == {
        ("GET", "/v1/health"),
        ("ANY", "$default"),
        ("GET", "/v1/counterpart/{token}"),
        ("POST", "/v1/counterpart/{token}/moves"),
        ("POST", "/v1/counterpart/{token}/assessment"),
        ("GET", "/v1/calendar/{feedToken}"),
    }


def test_committed_openapi_and_route_table_are_current() -> None:
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == build_document(), "run `make openapi` and commit docs/openapi.json"
    assert (ROOT / "shared" / "api" / "route_table.py").read_text(encoding="utf-8") == build_route_table()


def test_openapi_documents_security_and_problems() -> None:
    document = build_document()
    assert document["openapi"].startswith("3.1")
    public = {(r.method.lower(), r.path) for r in load().routes() if not r.auth}
    partner = {
        (r.method.lower(), r.path): list(r.scopes) for r in load().routes() if r.authorizer == "PartnerToken"
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if (method, path) in public:
                assert operation["security"] == [], (method, path)
                assert "401" not in responses, (method, path)
                continue
            if (method, path) in partner:
                # A partner token with the route's own scope, as the template's authorizer asks.
                assert operation["security"] == [{"partnerToken": partner[(method, path)]}], (method, path)
                assert partner[(method, path)], "every partner route names its scope"
                assert "403" in responses
            else:
                assert operation["security"] == [{"cognitoUser": []}], (method, path)
            assert "401" in responses
            for status, response in responses.items():
                if status >= "400":
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
