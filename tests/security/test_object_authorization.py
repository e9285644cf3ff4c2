"""Object-level authorization, as a matrix generated from the route table (issue 13, Security).

Every route of `shared/api/route_table.py` with an id in its path is a case, every method: the
owner (person A, or partner P1) has real objects, made through the API; someone else calls the
route with the owner's ids and a body the route accepts, so that only ownership decides, and gets
a 404 problem that shows nothing of the object, while the table stays exactly as it was. The owner
then calls the same route on a fresh copy of the same world and reaches the object (2xx), so that
no case passes because the call never got past routing or validation.

- `/v1/me/...` routes: person B, signed in, with A's ids.
- `/partner/v1/...` routes: partner P2 (granted by B), P3 (granted by nobody) and P2 granted by A
  too (its own client id for A, with P1's request, plan and delivery ids) call with P1's ids.
- The public routes take a secret, not an id (holding another person's token is possession by
  design): a token with A's real id and a wrong secret is a 404 and reads nothing.

The tables below say how to make the object behind each path parameter and the body of each
write route. A route whose parameter or body is missing fails here, so a new route cannot slip
past the matrix.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from infra.local.template import Route, load
from shared.api.route_table import API_ROUTES
from shared.domain.partners import SCOPES, token_scope
from shared.store import webhooks as webhook_store
from tests.handler.test_partners import consent, grant, register
from tests.handler.test_promises import ASSESSMENT, Person, moved, new_person, open_promise
from tests.handler.test_webhooks import Receiver, send_queued, webhook
from tests.support.aws import REGION, TABLE_NAME, Aws, LambdaContext, Reply, http_event, invoke, mocked_aws

# --- the route table ------------------------------------------------------------------------------

TEMPLATE_ROUTES: dict[tuple[str, str], Route] = {
    (r.method, r.path): r for r in load().routes() if not r.is_default
}
MODULES = {f.logical_id: f.module for f in load().functions()}
PARAM = re.compile(r"\{([A-Za-z0-9_]+)\+?\}")
WRITES = frozenset({"POST", "PUT", "PATCH"})


def params_of(path: str) -> list[str]:
    return PARAM.findall(path)


def is_partner(path: str) -> bool:
    return path.startswith("/partner/")


def is_public(route: tuple[str, str]) -> bool:
    return not TEMPLATE_ROUTES[route].auth


ID_ROUTES = sorted(r for r in API_ROUTES if params_of(r[1]))
PERSON_ROUTES = [r for r in ID_ROUTES if not is_partner(r[1]) and not is_public(r)]
PARTNER_ROUTES = [r for r in ID_ROUTES if is_partner(r[1])]
SECRET_ROUTES = [r for r in ID_ROUTES if not is_partner(r[1]) and is_public(r)]


def case_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


# --- how each path parameter's object is made, and each write's body ------------------------------

# A path parameter -> the name of the owner's object in `World.ids` (made by the `world` fixture).
OBJECTS: dict[str, str] = {
    "careId": "care",
    "reflectionId": "reflection",
    "deviceId": "device",
    "blockId": "block",
    "partnerId": "granted_partner",
    "planId": "plan",
    "itemId": "item",
    "obstacleId": "obstacle",
    "suggestionId": "suggestion",
    "promiseId": "promise",
}
# Where a route needs the object in another state for its owner's call to succeed.
OBJECTS_BY_ROUTE: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/v1/me/promises/{promiseId}/assessment"): {"promiseId": "fulfilled_promise"},
    ("POST", "/v1/me/promises/{promiseId}/self-assessment"): {"promiseId": "reported_promise"},
}
# The partner routes' parameters -> P1's ids in `PartnerWorld.ids`.
PARTNER_OBJECTS: dict[str, str] = {
    "clientId": "client",
    "requestId": "request",
    "planId": "plan",
    "deliveryId": "delivery",
}
PARTNER_OBJECTS_BY_ROUTE: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/partner/v1/clients/{clientId}/requests/{requestId}/assessment"): {
        "requestId": "fulfilled_request"
    },
}

DAILY = {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"}
NO_BODY = None
# Every write route of the matrix: a body the route accepts (None: it takes none).
BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("PATCH", "/v1/me/cares/{careId}"): {"statement": "Taken over by someone else"},
    ("PATCH", "/v1/me/plans/{planId}"): {"title": "Taken over"},
    ("POST", "/v1/me/plans/{planId}/items"): {"kind": "skill", "title": "Planted"},
    ("PATCH", "/v1/me/plans/{planId}/items/{itemId}"): {"progress": 10},
    ("PUT", "/v1/me/plans/{planId}/items/{itemId}/reminder"): DAILY,
    ("POST", "/v1/me/plans/{planId}/obstacles"): {"kind": "cliff", "description": "Planted"},
    ("PATCH", "/v1/me/plans/{planId}/obstacles/{obstacleId}"): {"response": "Planted"},
    ("PUT", "/v1/me/plans/{planId}/reminder"): DAILY,
    ("POST", "/v1/me/plans/{planId}/suggestions/{suggestionId}/accept"): NO_BODY,
    ("POST", "/v1/me/promises/{promiseId}/assessment"): ASSESSMENT,
    ("POST", "/v1/me/promises/{promiseId}/counterpart-link"): NO_BODY,
    ("POST", "/v1/me/promises/{promiseId}/moves"): {"act": "withdraw"},
    ("POST", "/v1/me/promises/{promiseId}/self-assessment"): {"value": 3},
    # partners
    ("POST", "/partner/v1/clients/{clientId}/plans/{planId}/suggestions"): {
        "kind": "reading",
        "title": "Planted",
    },
    ("POST", "/partner/v1/clients/{clientId}/requests"): {
        "what": "Planted request",
        "dueAt": "2030-03-01T17:00:00Z",
        "coachName": "Mallory",
    },
    ("POST", "/partner/v1/clients/{clientId}/requests/{requestId}/assessment"): {
        "value": 5,
        "enabled": "Planted",
    },
    ("POST", "/partner/v1/clients/{clientId}/requests/{requestId}/moves"): {"act": "withdraw"},
    ("POST", "/partner/v1/webhook/deliveries/{deliveryId}/redeliver"): NO_BODY,
    # the public routes (their secret is the token)
    ("POST", "/v1/counterpart/{token}/moves"): {"act": "promise"},
    ("POST", "/v1/counterpart/{token}/assessment"): ASSESSMENT,
}
# The public routes' secrets: a parameter -> tokens that name A's real objects with a wrong secret.
FORGERIES: dict[str, Callable[[World], dict[str, str]]] = {
    "token": lambda w: {
        "wrong secret": f"{w.ids['promise']}.{flip(w.secrets['counterpart'])}",
        "the secret of another link": f"{w.ids['promise']}.{w.secrets['other_counterpart']}",
    },
    "feedToken": lambda w: {
        "wrong secret": f"{w.ids['feed']}.{flip(w.secrets['feed'])}.ics",
        "a promise id with the feed's secret": f"{w.ids['promise']}.{w.secrets['feed']}.ics",
    },
}
# The owner's own, working, token for each public parameter.
VALID_TOKENS: dict[str, Callable[[World], str]] = {
    "token": lambda w: f"{w.ids['promise']}.{w.secrets['counterpart']}",
    "feedToken": lambda w: f"{w.ids['feed']}.{w.secrets['feed']}.ics",
}
# What the owner's call of a public route answers (the rest answer 200).
OWNER_STATUS: dict[tuple[str, str], int] = {
    # The outside side of a promise assesses only once it is fulfilled: reached, and refused.
    ("POST", "/v1/counterpart/{token}/assessment"): 409,
}

# Words of the owner's objects: none may come back in an intruder's answer.
PRIVATE_TEXTS = (
    "Growing people quietly",
    "Teaching people to code, privately",
    "apns-private-token-0001",
    "Private plan of A",
    "Private item of A",
    "Fear only A knows",
    "A's private promise",
    "Olga Outside",
    "olga.outside@example.org",
)
RATE_LIMIT_PREFIX = "RATE#"
ROUTING_404 = "There is nothing at this address."


def flip(secret: str) -> str:
    return ("A" if secret[0] != "A" else "B") + secret[1:]


def concrete(path: str, ids: dict[str, str]) -> str:
    return PARAM.sub(lambda m: ids[m.group(1)], path)


# --- calling the functions as API Gateway would -----------------------------------------------------


def handler_of(route: tuple[str, str]) -> Any:
    module = importlib.import_module(MODULES[TEMPLATE_ROUTES[route].function])
    return module.lambda_handler


def call(
    route: tuple[str, str],
    path: str,
    *,
    person: Person | None = None,
    partner: dict[str, Any] | None = None,
    body: Any = None,
) -> Reply:
    method, template_path = route
    event = http_event(
        method,
        path,
        user=person.sub if person else None,
        username=person.username if person else None,
        body=body,
        route_key=f"{method} {template_path}",
    )
    if partner is not None:
        scopes = [token_scope(s) for s in SCOPES]
        event["requestContext"]["authorizer"] = {
            "jwt": {
                "claims": {
                    "sub": partner["appClientId"],
                    "client_id": partner["appClientId"],
                    "token_use": "access",
                    "scope": " ".join(scopes),
                },
                "scopes": scopes,
            }
        }
    return invoke(handler_of(route), event)


def raw_items() -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the table in DynamoDB's JSON, by key, read from moto's memory (a Scan
    through the API serialises slowly enough to dominate every case)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(TABLE_NAME)
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for item in table.all_items():
        attributes: dict[str, Any] = item.to_json()["Attributes"]
        items[(attributes["PK"]["S"], attributes["SK"]["S"])] = attributes
    return items


def snapshot(aws: Aws) -> dict[str, str]:
    """Every item of the table, by key, as text; rate-limit counters left out (a refused call
    still counts against the limit of whoever it names: bookkeeping, not the object)."""
    return {
        f"{pk}|{sk}": json.dumps(item, sort_keys=True)
        for (pk, sk), item in raw_items().items()
        if not sk.startswith(RATE_LIMIT_PREFIX)
    }


def assert_hidden(reply: Reply, what: str) -> None:
    assert reply.status == 404, (what, reply.status, reply.body)
    problem = reply.problem
    assert problem["status"] == 404, what
    assert problem.get("title") != ROUTING_404, f"{what}: the route was never reached"
    text = json.dumps(reply.body)
    leaked = [t for t in PRIVATE_TEXTS if t in text]
    assert not leaked, (what, leaked)


def assert_unchanged(before: dict[str, str], after: dict[str, str], what: str) -> None:
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"{what} changed the table: {changed}"


# --- the world: A's objects, made through the API ---------------------------------------------------


@dataclass
class World:
    aws: Aws
    a: Person
    b: Person
    c: Person
    p1: dict[str, Any]
    ids: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def _ok(reply: Reply, *statuses: int) -> dict[str, Any]:
    assert reply.status in (statuses or (200, 201)), reply.body
    body: dict[str, Any] = reply.body
    return body


def _calendar(person: Person, method: str) -> Reply:
    return call((method, "/v1/me/calendar-feed"), "/v1/me/calendar-feed", person=person)


def make_world(aws: Aws) -> World:
    """Person A with one of everything; B and C are other signed-in people; P1 is A's partner."""
    a, b, c = new_person(aws, "ana"), new_person(aws, "bea"), new_person(aws, "cai")
    p1 = register("Acme Coaching")
    w = World(aws, a, b, c, p1)
    ids = w.ids
    ids["care"] = _ok(
        a.care("POST", "/v1/me/cares", body={"statement": "Growing people quietly", "domain": "others"})
    )["careId"]
    ids["reflection"] = _ok(
        a.care(
            "POST",
            "/v1/me/reflections",
            body={
                "questionSetVersion": 2,
                "answers": [{"questionId": "care", "text": "Teaching people to code, privately"}],
            },
        )
    )["reflectionId"]
    ids["device"] = _ok(
        a.profile("POST", "/v1/me/devices", body={"platform": "ios", "pushToken": "apns-private-token-0001"})
    )["deviceId"]
    blocked = new_person(aws, "dan")  # not C: a block would stop C's request of A below
    ids["block"] = _ok(a.profile("POST", "/v1/me/blocks", body={"handle": blocked.handle}))["blockId"]
    plan = _ok(
        a.plan(
            "POST",
            "/v1/me/plans",
            body={
                "title": "Private plan of A",
                "careIds": [ids["care"]],
                "items": [{"kind": "practice", "title": "Private item of A"}],
            },
        )
    )
    ids["plan"], ids["item"] = plan["planId"], plan["items"][0]["itemId"]
    plan_path = f"/v1/me/plans/{ids['plan']}"
    ids["obstacle"] = _ok(
        a.plan("POST", f"{plan_path}/obstacles", body={"kind": "dragon", "description": "Fear only A knows"})
    )["obstacleId"]
    _ok(a.plan("PUT", f"{plan_path}/reminder", body=DAILY))
    _ok(a.plan("PUT", f"{plan_path}/items/{ids['item']}/reminder", body=DAILY))
    # P1, granted by A, suggests an item for A's plan.
    client = grant(a, p1, list(SCOPES))["clientId"]
    ids["granted_partner"] = p1["partnerId"]
    partner_plans = call(
        ("GET", "/partner/v1/clients/{clientId}/plans"), f"/partner/v1/clients/{client}/plans", partner=p1
    )
    (partner_plan,) = _ok(partner_plans)["items"]
    suggest = ("POST", "/partner/v1/clients/{clientId}/plans/{planId}/suggestions")
    _ok(
        call(
            suggest,
            concrete(suggest[1], {"clientId": client, "planId": partner_plan["planId"]}),
            partner=p1,
            body={"kind": "reading", "title": "A suggestion for A"},
        )
    )
    (suggestion,) = _ok(a.plan("GET", plan_path))["suggestions"]
    ids["suggestion"] = suggestion["suggestionId"]
    # A asks someone outside the app, with a counterpart link (and a second, older link).
    outside = {"name": "Olga Outside", "email": "olga.outside@example.org"}
    ids["promise"] = open_promise(a, dict(outside), "request", what="A's private promise")["promiseId"]
    link = f"/v1/me/promises/{ids['promise']}/counterpart-link"
    other = str(_ok(a("POST", link), 201)["url"]).rsplit("/", 1)[-1]
    token = str(_ok(a("POST", link), 201)["url"]).rsplit("/", 1)[-1]
    w.secrets["counterpart"] = token.partition(".")[2]
    w.secrets["other_counterpart"] = other.partition(".")[2]
    # A asked C, C kept it, A is satisfied: A may assess it.
    fulfilled = open_promise(a, c, "request", what="A's private promise, kept")["promiseId"]
    moved(c, fulfilled, "promise")
    moved(c, fulfilled, "report_completion")
    moved(a, fulfilled, "declare_satisfied")
    ids["fulfilled_promise"] = fulfilled
    # C asked A, A promised and reported completion: A may assess itself.
    reported = open_promise(c, a, "request", what="C's request of A")["promiseId"]
    moved(a, reported, "promise")
    moved(a, reported, "report_completion")
    ids["reported_promise"] = reported
    # A's calendar feed.
    feed = str(_ok(_calendar(a, "POST"), 201)["url"]).rsplit("/", 1)[-1].removesuffix(".ics")
    ids["feed"], w.secrets["feed"] = feed.split(".")
    return w


def _ids_for(route: tuple[str, str], w: World) -> dict[str, str]:
    names = {**OBJECTS, **OBJECTS_BY_ROUTE.get(route, {})}
    missing = [p for p in params_of(route[1]) if p not in names]
    if missing:
        pytest.fail(f"{case_id(route)}: no object for {missing}: add them to OBJECTS")
    return {p: w.ids[names[p]] for p in params_of(route[1])}


def _body_for(route: tuple[str, str]) -> Any:
    if route[0] not in WRITES:
        return None
    if route not in BODIES:
        pytest.fail(f"{case_id(route)}: no body: add one to BODIES")
    return BODIES[route]


# --- the matrix: people -----------------------------------------------------------------------------


@pytest.mark.parametrize("route", PERSON_ROUTES, ids=case_id)
def test_another_persons_id_is_a_404_and_changes_nothing(route: tuple[str, str], world: World) -> None:
    path = concrete(route[1], _ids_for(route, world))
    body = _body_for(route)
    before = snapshot(world.aws)
    reply = call(route, path, person=world.b, body=body)
    assert_hidden(reply, case_id(route))
    assert_unchanged(before, snapshot(world.aws), case_id(route))


@pytest.mark.parametrize("route", PERSON_ROUTES, ids=case_id)
def test_the_owner_reaches_the_same_object_through_the_same_route(
    route: tuple[str, str], world: World
) -> None:
    path = concrete(route[1], _ids_for(route, world))
    reply = call(route, path, person=world.a, body=_body_for(route))
    expected = 200 if route[0] == "GET" else (200, 201, 202, 204)
    assert reply.status in (expected if isinstance(expected, tuple) else (expected,)), (
        case_id(route),
        reply.status,
        reply.body,
    )


# --- the matrix: the public routes, whose secret is the token --------------------------------------


def _token_param(route: tuple[str, str]) -> str:
    (param,) = params_of(route[1])
    if param not in FORGERIES or param not in VALID_TOKENS:
        pytest.fail(f"{case_id(route)}: add {param!r} to FORGERIES and VALID_TOKENS")
    return param


@pytest.mark.parametrize("route", SECRET_ROUTES, ids=case_id)
def test_a_real_id_with_a_wrong_secret_is_a_404_and_reads_nothing(
    route: tuple[str, str], world: World
) -> None:
    param = _token_param(route)
    for name, token in FORGERIES[param](world).items():
        before = snapshot(world.aws)
        reply = call(route, concrete(route[1], {param: token}), body=_body_for(route))
        what = f"{case_id(route)}: {name}"
        if route[1].startswith("/v1/calendar/"):
            assert reply.status == 404, (what, reply.status)  # an .ics route: a problem, no calendar
            assert "BEGIN:VCALENDAR" not in str(reply.body), what
        else:
            assert_hidden(reply, what)
        assert_unchanged(before, snapshot(world.aws), what)


@pytest.mark.parametrize("route", SECRET_ROUTES, ids=case_id)
def test_the_right_secret_reaches_the_object(route: tuple[str, str], world: World) -> None:
    param = _token_param(route)
    path = concrete(route[1], {param: VALID_TOKENS[param](world)})
    method, _ = route
    event = http_event(method, path, body=_body_for(route), route_key=f"{method} {route[1]}")
    result = handler_of(route)(event, LambdaContext())
    assert result["statusCode"] == OWNER_STATUS.get(route, 200), (case_id(route), result.get("body"))


# --- the matrix: partners ---------------------------------------------------------------------------


@dataclass
class PartnerWorld:
    world: World
    ids: dict[str, str]
    intruders: dict[str, tuple[dict[str, Any], dict[str, str]]]


@dataclass
class Worlds:
    """Both worlds, made once per test process, and the table as they left it."""

    people: World
    partners: PartnerWorld
    baseline: dict[tuple[str, str], dict[str, Any]]


def restore(aws: Aws, baseline: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Put the table back as the worlds left it (the owners' calls change it)."""
    now, ddb = raw_items(), aws.ddb()
    for key in now.keys() - baseline.keys():
        ddb.delete_item(TableName=TABLE_NAME, Key={"PK": {"S": key[0]}, "SK": {"S": key[1]}})
    for key, item in baseline.items():
        if now.get(key) != item:
            ddb.put_item(TableName=TABLE_NAME, Item=item)


@pytest.fixture(scope="module")
def worlds() -> Iterator[Worlds]:
    """The worlds are made once: every intruder's call must leave the table as it was (each case
    asserts it), and the owners' calls are undone before the next case (`fresh`)."""
    with pytest.MonkeyPatch.context() as monkeypatch, mocked_aws(monkeypatch) as aws:
        url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="webhooks")["QueueUrl"]
        monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
        monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")  # the receiver is on 127.0.0.1
        webhook_store.reset_clients()
        receiver = Receiver()
        try:
            people = make_world(aws)
            partners = make_partner_world(people, url, receiver)
            yield Worlds(people, partners, raw_items())
        finally:
            receiver.server.shutdown()
            webhook_store.reset_clients()


@pytest.fixture
def world(worlds: Worlds) -> World:
    restore(worlds.people.aws, worlds.baseline)
    return worlds.people


@pytest.fixture
def partners(worlds: Worlds) -> PartnerWorld:
    restore(worlds.people.aws, worlds.baseline)
    return worlds.partners


INTRUDERS = ("another partner granted by someone else", "a partner granted by nobody", "A's other partner")


def make_partner_world(world: World, queue: str, receiver: Receiver) -> PartnerWorld:
    """P1 (granted by A) with a request, a kept request, a plan id and a webhook delivery; P2
    granted by B, P3 granted by nobody, P4 granted by A too (its own client id for A)."""
    w, p1 = world, world.p1
    client = _ok(consent(w.a, "GET", "/v1/me/grants"))["items"][0]["clientId"]
    base = f"/partner/v1/clients/{client}"
    ids = {"client": client}
    new_request = ("POST", "/partner/v1/clients/{clientId}/requests")
    body = BODIES[new_request]
    assert body is not None
    ids["request"] = _ok(call(new_request, f"{base}/requests", partner=p1, body=body), 201)["requestId"]
    kept = _ok(
        call(new_request, f"{base}/requests", partner=p1, body={**body, "what": "A kept request"}), 201
    )["requestId"]
    (promise,) = [p for p in _ok(w.a("GET", "/v1/me/promises"))["items"] if p["what"] == "A kept request"]
    moved(w.a, promise["promiseId"], "promise")
    moved(w.a, promise["promiseId"], "report_completion")
    move = ("POST", "/partner/v1/clients/{clientId}/requests/{requestId}/moves")
    _ok(call(move, f"{base}/requests/{kept}/moves", partner=p1, body={"act": "declare_satisfied"}))
    ids["fulfilled_request"] = kept
    plans = call(("GET", "/partner/v1/clients/{clientId}/plans"), f"{base}/plans", partner=p1)
    (plan,) = _ok(plans)["items"]
    ids["plan"] = plan["planId"]
    webhook(p1, receiver.url, ["promise.moved"])
    assert call(("POST", "/partner/v1/webhook/test"), "/partner/v1/webhook/test", partner=p1).status == 202
    send_queued(queue)
    deliveries = call(("GET", "/partner/v1/webhook/deliveries"), "/partner/v1/webhook/deliveries", partner=p1)
    ids["delivery"] = _ok(deliveries)["items"][0]["deliveryId"]

    p2, p3, p4 = register("Beta Coaching"), register("Gamma Coaching"), register("Delta Coaching")
    grant(w.b, p2, list(SCOPES))
    own = grant(w.a, p4, list(SCOPES))["clientId"]
    grant(w.b, p4, list(SCOPES))
    return PartnerWorld(
        w,
        ids,
        {
            INTRUDERS[0]: (p2, {}),
            INTRUDERS[1]: (p3, {}),
            # Its own, valid client id for A: only P1's other ids are foreign to it.
            INTRUDERS[2]: (p4, {"clientId": own}),
        },
    )


def _partner_ids(route: tuple[str, str], pw: PartnerWorld) -> dict[str, str]:
    names = {**PARTNER_OBJECTS, **PARTNER_OBJECTS_BY_ROUTE.get(route, {})}
    missing = [p for p in params_of(route[1]) if p not in names]
    if missing:
        pytest.fail(f"{case_id(route)}: no object for {missing}: add them to PARTNER_OBJECTS")
    return {p: pw.ids[names[p]] for p in params_of(route[1])}


PARTNER_CASES = [
    (route, intruder)
    for route in PARTNER_ROUTES
    for intruder in INTRUDERS
    # A's other partner holds its own client id for A: only routes with another id are foreign.
    if intruder != INTRUDERS[2] or set(params_of(route[1])) - {"clientId"}
]


@pytest.mark.parametrize(
    ("route", "intruder"), PARTNER_CASES, ids=[f"{case_id(r)} by {i}" for r, i in PARTNER_CASES]
)
def test_another_partners_ids_are_a_404_and_change_nothing(
    route: tuple[str, str], intruder: str, partners: PartnerWorld
) -> None:
    partner, own_ids = partners.intruders[intruder]
    ids = {**_partner_ids(route, partners), **own_ids}
    before = snapshot(partners.world.aws)
    reply = call(route, concrete(route[1], ids), partner=partner, body=_body_for(route))
    what = f"{case_id(route)} by {intruder}"
    assert_hidden(reply, what)
    assert_unchanged(before, snapshot(partners.world.aws), what)


@pytest.mark.parametrize("route", PARTNER_ROUTES, ids=case_id)
def test_the_partner_reaches_its_own_objects_through_the_same_route(
    route: tuple[str, str], partners: PartnerWorld
) -> None:
    path = concrete(route[1], _partner_ids(route, partners))
    reply = call(route, path, partner=partners.world.p1, body=_body_for(route))
    assert reply.status in (200, 201, 202, 204), (case_id(route), reply.status, reply.body)


# --- the matrix covers every route ------------------------------------------------------------------


def test_the_matrix_covers_every_route_with_an_id() -> None:
    assert set(API_ROUTES) == set(TEMPLATE_ROUTES), "the route table is generated from the template"
    assert sorted(PERSON_ROUTES + PARTNER_ROUTES + SECRET_ROUTES) == ID_ROUTES
    problems = []
    for route in PERSON_ROUTES:
        names = {**OBJECTS, **OBJECTS_BY_ROUTE.get(route, {})}
        problems += [f"{case_id(route)}: {p} not in OBJECTS" for p in params_of(route[1]) if p not in names]
    for route in PARTNER_ROUTES:
        names = {**PARTNER_OBJECTS, **PARTNER_OBJECTS_BY_ROUTE.get(route, {})}
        problems += [
            f"{case_id(route)}: {p} not in PARTNER_OBJECTS" for p in params_of(route[1]) if p not in names
        ]
    for route in SECRET_ROUTES:
        problems += [
            f"{case_id(route)}: {p} not in FORGERIES"
            for p in params_of(route[1])
            if p not in FORGERIES or p not in VALID_TOKENS
        ]
    problems += [f"{case_id(r)}: no body in BODIES" for r in ID_ROUTES if r[0] in WRITES and r not in BODIES]
    problems += [f"{case_id(r)}: in BODIES but not a route with an id" for r in BODIES if r not in ID_ROUTES]
    assert not problems, "\n".join(problems)
    # The partner routes exist, so the partner half of the matrix is not empty.
    assert PARTNER_ROUTES
    assert PERSON_ROUTES
    assert SECRET_ROUTES
