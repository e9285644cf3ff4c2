"""Read template.yaml: the one description of the system that tests and the local stack share.

Everything the local stack creates (table, user pool, app client, routes, function
environments) comes from here, so tests and infrastructure cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"

_INTRINSICS = (
    "Ref",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Select",
    "Split",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Base64",
    "Condition",
    "Cidr",
)


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation short-form tags into their long form."""


def _make_constructor(name: str) -> Any:
    # As CloudFormation spells the long forms: `Ref` and `Condition` have no `Fn::`.
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _name in _INTRINSICS:
    _CfnLoader.add_constructor(f"!{_name}", _make_constructor(_name))


@dataclass(frozen=True)
class Route:
    """One HTTP API route: `GET /v1/me`, or `$default` for everything else.

    `auth` is False for `Authorizer: NONE`. `authorizer` names the route's authorizer in the
    template (the API's `DefaultAuthorizer` unless the event names another); None leaves the
    choice to whoever serves the route. `scopes` are the route's `AuthorizationScopes`: a token
    must carry at least one of them.
    """

    method: str
    path: str
    function: str
    auth: bool
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    @property
    def is_default(self) -> bool:
        return self.path == "$default"

    def pattern(self) -> re.Pattern[str]:
        """The path as a regex; `{name}` matches one segment, `{name+}` the rest."""
        regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class Function:
    """A Lambda function of the template, as the local stack needs it."""

    logical_id: str
    module: str
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Template:
    """The parsed template with the Globals folded into each function."""

    raw: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        return self.raw["Resources"]  # type: ignore[no-any-return]

    def resource(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id]  # type: ignore[no-any-return]

    def resources_of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_name}

    @property
    def table_properties(self) -> dict[str, Any]:
        (table,) = self.resources_of_type("AWS::DynamoDB::Table").values()
        return table["Properties"]  # type: ignore[no-any-return]

    def functions(self) -> list[Function]:
        glob = self.raw.get("Globals", {}).get("Function", {})
        global_env = glob.get("Environment", {}).get("Variables", {})
        out = []
        for logical_id, res in self.resources_of_type("AWS::Serverless::Function").items():
            props = res["Properties"]
            code_uri = props["CodeUri"].strip("/")
            module_file, handler = props["Handler"].rsplit(".", 1)
            module = ".".join([*code_uri.split("/"), module_file])
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            schedules = tuple(
                {"name": name, **event.get("Properties", {})}
                for name, event in props.get("Events", {}).items()
                if event["Type"] in ("Schedule", "ScheduleV2")
            )
            out.append(Function(logical_id, module, handler, env, schedules))
        return out

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A function's Properties with the Globals folded in (function values win)."""
        glob = self.raw.get("Globals", {}).get("Function", {})
        return {**glob, **self.resource(logical_id)["Properties"]}

    def _http_api_auth(self) -> dict[str, Any]:
        for res in self.resources_of_type("AWS::Serverless::HttpApi").values():
            auth = res.get("Properties", {}).get("Auth")
            if auth:
                return auth  # type: ignore[no-any-return]
        return {}

    def http_api_authorizers(self) -> dict[str, dict[str, Any]]:
        """The HttpApi's authorizers by name (each with its JwtConfiguration)."""
        return dict(self._http_api_auth().get("Authorizers", {}))

    def http_api_default_authorizer(self) -> str | None:
        """The name of the authorizer of routes that name none (`DefaultAuthorizer`), if any."""
        default = self._http_api_auth().get("DefaultAuthorizer")
        return str(default) if default else None

    def http_api_authorizer(self) -> dict[str, Any] | None:
        """The HttpApi's default authorizer definition (with its JwtConfiguration), if any."""
        default = self.http_api_default_authorizer()
        return self.http_api_authorizers()[default] if default else None

    def routes(self) -> list[Route]:
        """Every HTTP API route with the function, authorizer and scopes behind it; `$default` last.

        As SAM does: an event's `Auth.Authorizer` overrides the API's `DefaultAuthorizer`
        (`NONE`: no authorizer), and its `AuthorizationScopes` override the authorizer's own.
        """
        authorizers = self.http_api_authorizers()
        default = self.http_api_default_authorizer()
        routes = []
        for logical_id, res in self.resources_of_type("AWS::Serverless::Function").items():
            for event in res["Properties"].get("Events", {}).values():
                if event["Type"] != "HttpApi":
                    continue
                props = event["Properties"]
                event_auth = props.get("Auth", {})
                name = event_auth.get("Authorizer", default)
                auth = name is not None and name != "NONE"
                scopes: tuple[str, ...] = ()
                if auth:
                    declared = event_auth.get("AuthorizationScopes")
                    if declared is None:
                        declared = authorizers.get(name, {}).get("AuthorizationScopes", [])
                    scopes = tuple(str(s) for s in declared)
                routes.append(
                    Route(
                        props["Method"].upper(),
                        props["Path"],
                        logical_id,
                        auth,
                        authorizer=name if auth else None,
                        scopes=scopes,
                    )
                )
        return sorted(routes, key=lambda r: (r.is_default, r.path, r.method))


# Where `refs` keeps the value of each of the template's conditions (see `evaluate_conditions`).
CONDITION_PREFIX = "Condition::"


def evaluate_conditions(template: Template, refs: dict[str, str]) -> dict[str, bool]:
    """The template's `Conditions` for these parameter values; `refs` gains them, so that
    `resolve` can choose an `Fn::If` branch. Answers {condition: value}."""
    definitions = template.raw.get("Conditions", {})
    values: dict[str, bool] = {}

    def evaluate(expression: Any) -> bool:
        ((key, arg),) = expression.items()
        if key == "Condition":
            if arg not in values:
                values[arg] = evaluate(definitions[arg])
            return values[arg]
        if key == "Fn::Equals":
            left, right = (str(resolve(side, refs)) for side in arg)
            return left == right
        if key == "Fn::Not":
            return not evaluate(arg[0])
        if key == "Fn::And":
            return all(evaluate(part) for part in arg)
        if key == "Fn::Or":
            return any(evaluate(part) for part in arg)
        raise ValueError(f"unsupported condition function {key}")

    for name in definitions:
        evaluate({"Condition": name})
    refs.update({CONDITION_PREFIX + name: str(value).lower() for name, value in values.items()})
    return values


def is_made(resource: dict[str, Any], refs: dict[str, str]) -> bool:
    """Whether a resource exists for these parameter values (its `Condition`, if any, holds)."""
    condition = resource.get("Condition")
    return condition is None or refs.get(CONDITION_PREFIX + str(condition)) == "true"


def resolve(value: Any, refs: dict[str, str]) -> Any:
    """Resolve `Ref`, `Fn::Sub` and `Fn::If` against known names (parameters, pseudo parameters,
    resources, and conditions once `evaluate_conditions` has run).

    Enough for environment variables and names; anything else is returned as is.
    """
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return refs.get(arg, arg)
        if key == "Fn::If":
            condition, when_true, when_false = arg
            holds = refs.get(CONDITION_PREFIX + str(condition))
            if holds is None:
                raise ValueError(f"condition {condition} was not evaluated (evaluate_conditions)")
            return resolve(when_true if holds == "true" else when_false, refs)
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            return re.sub(r"\$\{([^}]+)\}", lambda m: refs.get(m.group(1), m.group(0)), text)
        if key == "Fn::GetAtt":
            return refs.get(".".join(arg), value)
    return value


@cache
def load(path: Path = TEMPLATE_PATH) -> Template:
    """Parse template.yaml once per process."""
    with path.open(encoding="utf-8") as fh:
        return Template(yaml.load(fh, Loader=_CfnLoader))  # noqa: S506 - a SafeLoader subclass
