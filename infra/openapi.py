"""Generate docs/openapi.json (and the edge function's route table) from the code of all functions.

`python -m infra.openapi --write` regenerates both; `--check` fails when either is stale (CI).
Each function's resolver documents its own routes and models; this merges them, adds the
security scheme of the template's JWT authorizer and the problem responses every route shares.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from infra.local.template import ROOT, Route, load
from shared.domain.partners import SCOPE_DESCRIPTIONS, token_scope

OPENAPI_PATH = ROOT / "docs" / "openapi.json"
ROUTE_TABLE_PATH = ROOT / "shared" / "api" / "route_table.py"
TITLE = "Career journey API"
VERSION = "1.0.0"
PARTNER_SCHEME = "partnerToken"
SECURITY_SCHEME = "cognitoUser"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# One tag per capability, in the order a reader meets them. Every route names one of these
# (`tags=[...]` next to its `operation_id`); generated clients make one module or class of each.
TAGS: dict[str, str] = {
    "Health": "Is the API up (no sign-in needed).",
    "Profile": "My profile: who I am, my level, my time zone and notification preferences.",
    "Account": "My account as a whole: export all my data, or erase it.",
    "Notifications": "Push devices I registered, and my inbox of reminders and nudges.",
    "Blocks": "People I have blocked: their requests and offers do not reach me.",
    "Reflections": "The generative questions and my answers to them.",
    "Cares": "What I care about, ranked, with its history and the care map.",
    "Promises": "My promises: open one, make moves, assess, invite an outside counterpart.",
    "Counterpart": "An outside counterpart acting on a promise through a link, without an account.",
    "Journey": "My record as a performer, month by month.",
    "Plans": "Learning plans: templates, my plans, their items, obstacles and partners' suggestions.",
    "Reminders": "Reminders of a plan or of one of its items (RFC 5545 rules).",
    "Consent": "Partners, my grants to them, and their access to my data.",
    "Sync": "What changed in my data since I last looked (offline sync).",
    "Calendar": "My secret calendar feed of promises and reminders.",
    "Partner": "For partners: the people who granted access, what they may read, requests and suggestions.",
    "Webhooks": "For partners: where events go, the signing secret, and every delivery.",
}

_COMMON_PROBLEMS: dict[str, str] = {
    "429": (
        "Too many requests: the route's throttle, or this person's (link's, feed's) limit;"
        " retry after `Retry-After` seconds."
    ),
    "503": "The database is busy; retry after `Retry-After` seconds.",
}


def _env_for_import() -> None:
    # Importing a function needs no AWS at all; these only satisfy lazy settings if touched.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("TABLE_NAME", "openapi")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CareerJourney")


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM_REF}}}


def build_document() -> dict[str, Any]:
    """The merged OpenAPI 3.1 document of every function in template.yaml."""
    _env_for_import()
    template = load()
    routes = {(r.method, r.path): r for r in template.routes() if not r.is_default}
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    routed = {r.function for r in template.routes()}
    for function in template.functions():
        if function.logical_id not in routed:
            continue  # no HTTP API events: a custom resource, a scheduled or stream function
        app = importlib.import_module(function.module).app
        doc = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        for path, item in doc.get("paths", {}).items():
            paths.setdefault(path, {}).update(item)
        schemas.update(doc.get("components", {}).get("schemas", {}))
    schemas["Problem"] = _problem_schema()
    schemas["ProblemFieldError"] = schemas["Problem"].pop("$defs", {}).get("ProblemFieldError", {})
    for path, item in paths.items():
        for method, operation in item.items():
            route = routes.get((method.upper(), path))
            _decorate(operation, route, has_path_params="{" in path)
            unknown = set(operation.get("tags", [])) - set(TAGS)
            if unknown:
                raise ValueError(f"{method.upper()} {path}: tags {sorted(unknown)} are not in TAGS")
    schemas = _name_generic_models(paths, schemas)
    _link_created_resources(paths, schemas)
    used = _referenced(paths, schemas)
    schemas = {name: schema for name, schema in schemas.items() if name in used}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": (
                "The career journey mobile API. Errors are RFC 9457 problem details "
                "(application/problem+json). See CONTRACT.md for conventions."
            ),
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "local stack"}],
        "tags": [{"name": name, "description": description} for name, description in TAGS.items()],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito access or ID token of the user pool.",
                },
                PARTNER_SCHEME: {
                    "type": "oauth2",
                    "description": (
                        "A partner's client-credentials access token (Cognito in AWS; the local "
                        "stack's tokenUrl locally). Each partner route names the scope it needs."
                    ),
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "http://127.0.0.1:3000/oauth2/token",
                            "scopes": {token_scope(s): d for s, d in SCOPE_DESCRIPTIONS.items()},
                        }
                    },
                },
            },
        },
    }


def _name_generic_models(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """`CarePage` for pydantic's `Page_Care_` (the component of `Page[Care]`), references included.

    Generated clients name their types after the components: `Page_Care_` would stay a Swift type
    with underscores, and one client's `PageCare` is another's `Page_Care_`.
    """
    renames: dict[str, str] = {}
    for name in schemas:
        generic = re.fullmatch(r"([A-Za-z0-9]+)_([A-Za-z0-9]+)_", name)
        if generic:
            renames[name] = generic.group(2) + generic.group(1)
    clashes = set(renames.values()) & set(schemas)
    if clashes:
        raise ValueError(f"generic models would take the names of other components: {sorted(clashes)}")
    prefix = "#/components/schemas/"
    pending: list[Any] = [paths, schemas]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix) :] in renames:
                node["$ref"] = prefix + renames[ref[len(prefix) :]]
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    renamed = {}
    for name, schema in schemas.items():
        if name in renames:
            schema["title"] = renames[name]
        renamed[renames.get(name, name)] = schema
    return renamed


def _link_created_resources(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """OpenAPI links from each create to the operations on what it created.

    A `POST` on a collection (`/v1/me/plans`) whose 201 body carries the id that the paths under
    it take (`/v1/me/plans/{planId}...`) links to every operation there, the id from the body and
    the parent's path parameters from the request: a client (and the fuzzer's stateful phase)
    can follow a created promise, reflection, care or plan into the routes that take its id.
    """
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if not created:
            continue
        ref = created.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
        fields = set(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
        parents = re.findall(r"{(\w+)}", path)
        links: dict[str, Any] = {}
        for target, target_item in sorted(paths.items()):
            match = re.match(re.escape(path) + r"/{(\w+)}(/|$)", target)
            if not match or match.group(1) not in fields:
                continue
            for _method, operation in sorted(target_item.items()):
                parameters = {match.group(1): f"$response.body#/{match.group(1)}"}
                parameters.update({p: f"$request.path.{p}" for p in parents})
                # Named by the operation it leads to: operation ids are unique in the document.
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": parameters,
                }
        if links:
            created["links"] = links


def _referenced(paths: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """Names of the schemas the paths use, directly or through other schemas."""
    prefix = "#/components/schemas/"
    found: set[str] = set()
    pending = [paths]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix) :] not in found:
                found.add(ref[len(prefix) :])
                pending.append(schemas.get(ref[len(prefix) :], {}))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _problem_schema() -> dict[str, Any]:
    from shared.models.common import Problem

    schema = Problem.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    for name, definition in defs.items():
        schema.setdefault("$defs", {})[name] = definition
    return schema


def _decorate(operation: dict[str, Any], route: Route | None, *, has_path_params: bool) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)  # Powertools' default shape; ours is a problem, added below.
    responses["500"] = _problem_response("Our fault: logged with its stack, never shown.")
    for parameter in operation.get("parameters", []):
        # An absent header or query parameter is how a client says "none": `null` is no value
        # a client can send in a header or query string, so the schema does not offer it.
        options = parameter.get("schema", {}).get("anyOf")
        if options and {"type": "null"} in options and len(options) == 2:
            parameter["schema"] = {
                **next(o for o in options if o != {"type": "null"}),
                **{k: v for k, v in parameter["schema"].items() if k not in ("anyOf", "default")},
            }
    has_body = "requestBody" in operation
    has_params = bool(operation.get("parameters")) or has_body
    if route is not None and route.auth and route.authorizer == "PartnerToken":
        operation["security"] = [{PARTNER_SCHEME: list(route.scopes)}]
        responses.setdefault("401", _problem_response("No valid token."))
        responses.setdefault("403", _problem_response("The token, or the client's grant, lacks the scope."))
    elif route is not None and route.auth:
        operation["security"] = [{SECURITY_SCHEME: []}]
        responses.setdefault("401", _problem_response("No valid token."))
    else:
        operation["security"] = []
    if has_body:
        responses.setdefault("400", _problem_response("The body is not valid JSON."))
        responses.setdefault("413", _problem_response("The body is over 64 KiB."))
        responses.setdefault("415", _problem_response("The body is not JSON."))
    if has_params:
        responses.setdefault("422", _problem_response("Some fields are invalid: one entry per field."))
    if has_path_params:
        responses.setdefault("404", _problem_response("Not found, or not yours."))
    for status, description in _COMMON_PROBLEMS.items():
        responses.setdefault(status, _problem_response(description))
    success = next((r for s, r in sorted(responses.items()) if s.startswith("2") and r.get("content")), None)
    for status, response in responses.items():
        if status == "204":
            response.pop("content", None)
        elif status.startswith("2") and "content" not in response and success is not None:
            response["content"] = success["content"]
        content = response.get("content", {})
        if status >= "400" and "application/json" in content and "application/problem+json" not in content:
            response["content"] = {"application/problem+json": content["application/json"]}
    operation["responses"] = dict(sorted(responses.items()))


def build_route_table() -> str:
    """Python source listing every API route, for the edge function's 405 answers."""
    rows = sorted({(r.method, r.path) for r in load().routes() if not r.is_default})
    lines = [
        '"""Every route of the HTTP API (generated by `make openapi` from template.yaml; do not edit)."""',
        "",
        "API_ROUTES: tuple[tuple[str, str], ...] = (",
        *(f"    ({json.dumps(m)}, {json.dumps(p)})," for m, p in rows),
        ")",
        "",
    ]
    return "\n".join(lines)


def _render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write or check the generated files."""
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    outputs: dict[Path, str] = {ROUTE_TABLE_PATH: build_route_table()}
    outputs[OPENAPI_PATH] = _render(build_document())
    stale = []
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            continue
        if args.write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
        else:
            stale.append(path)
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), str(path), "generated", lineterm=""
            )
            print("\n".join(list(diff)[:40]), file=sys.stderr)
    if stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        print(f"stale: {names}; run `make openapi` and commit the result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
