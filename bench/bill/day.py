"""The mobile day: which calls the app makes, how often, and the person who makes them.

The mix, 80 % reads and 20 % writes, is a day of an active person (per 100 calls):

- Opening the app (about five times a day) reads the profile (`GET /v1/me`, 8) and pulls what
  changed since the last sync (`GET /v1/me/changes`, 20: on every open, on resume and on pull to
  refresh; the app keeps its data offline, so this is the main read).
- Promises are the app's heart: the list (12), one promise (10) and its log (4), and moves
  (promise, report completion, declare satisfied: 7) with the occasional new promise (2) and
  assessment (1).
- The learning plan: read whole (6) and the list of plans (3); an item or practice marked done
  (5: the daily practice).
- Cares (list 6; an edit 2, a new one 1), the journey (5), the inbox (6), a reflection (1) and a
  profile change (notification preferences, 1).

The person: a profile, a device registered for push, two reflections, ten cares (text as people
write them), twenty promises (twelve with another app user, who has a device too, and eight with
people outside the app; every state from requested to fulfilled, half linked to a care), a plan
from a template with eight more items of their own (two done), two obstacles, a reminder on
the plan and on two practices. Write routes act on fresh targets made before they run (new
promises to move, todo items to mark done) so every measured call does real work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Texts of the length people write them.
CARES = [
    ("Growing the people I work with into leaders", "others"),
    ("Keeping my promises to my team, small and large", "others"),
    ("Learning something hard every quarter", "self"),
    ("A team where people say what they think", "organization"),
    ("Time with my family on weekends", "self"),
    ("Mentoring two juniors outside my team", "community"),
    ("Shipping software that people trust", "organization"),
    ("Staying healthy enough to run a half marathon", "self"),
    ("Fair hiring, with clear criteria", "organization"),
    ("Writing down what I learn, for others", "community"),
]
VALUE = "They find their own way and take on more each quarter, without waiting for me to decide."
MEANING = "What I build in people outlasts what I build in code; it is the work I want to be known for."
WHATS = [
    "Review the onboarding guide and mark what is out of date",
    "Draft the Q3 hiring plan with the role descriptions",
    "Pair with Joana on the payments migration for two afternoons",
    "Write the incident review for the outage of 12 March",
    "Prepare the architecture talk for the engineering all-hands",
    "Give feedback on the API style guide draft",
]
CONDITIONS = ["Comments on every section, with a suggested fix", "Shared in the team channel"]


@dataclass
class Person:
    sub: str
    username: str
    handle: str = ""


@dataclass
class World:
    """What the seeding made and the routes act on."""

    ana: Person
    bea: Person
    cares: list[str] = field(default_factory=list)
    promises: list[str] = field(default_factory=list)
    plan_id: str = ""
    plan_items: list[str] = field(default_factory=list)  # todo items left for the write routes
    cursor: str = ""
    targets: dict[str, list[str]] = field(default_factory=dict)  # per write route, its targets


@dataclass(frozen=True)
class Request:
    person: Person
    path: str
    body: Any = None
    query: dict[str, str] | None = None


# (route key, weight, what it is, how the i-th call is made)
Maker = Callable[[World, int], Request]


@dataclass(frozen=True)
class Route:
    key: str
    weight: float
    what: str
    make: Maker
    calls_per_target: int = 1  # a write route's calls on one target (a promise's three moves)

    @property
    def method(self) -> str:
        return self.key.split(" ", 1)[0]

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


def _due(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def opening(counterpart: dict[str, Any], kind: str, n: int, care: str | None = None) -> dict[str, Any]:
    return {
        "opening": kind,
        "counterpart": counterpart,
        "what": WHATS[n % len(WHATS)],
        "conditions": CONDITIONS[: 1 + n % 2],
        "dueAt": _due(7 + n % 21),
        "size": {"people": 1 + n % 5, "horizonDays": 7 + n % 21, "scope": "team"},
        **({"careIds": [care]} if care else {}),
    }


MOVES = "POST /v1/me/promises/{promiseId}/moves"
ASSESSMENT = "POST /v1/me/promises/{promiseId}/assessment"
ITEM = "PATCH /v1/me/plans/{planId}/items/{itemId}"
_MOVES = (("bea", "promise"), ("bea", "report_completion"), ("ana", "declare_satisfied"))


def _move(w: World, i: int) -> Request:
    who, act = _MOVES[i % 3]
    promise = w.targets[MOVES][i // 3]
    return Request(getattr(w, who), f"/v1/me/promises/{promise}/moves", {"act": act})


def _assess(w: World, i: int) -> Request:
    body = {"value": 4, "enabled": "Onboarding took a week less"}
    return Request(w.ana, f"/v1/me/promises/{w.targets[ASSESSMENT][i]}/assessment", body)


def _item_done(w: World, i: int) -> Request:
    return Request(w.ana, f"/v1/me/plans/{w.plan_id}/items/{w.targets[ITEM][i]}", {"status": "done"})


def _profile_patch(w: World, i: int) -> Request:
    start, end = ("22:00", "07:00") if i % 2 else ("22:30", "07:30")
    return Request(w.ana, "/v1/me", {"notificationPrefs": {"quietHoursStart": start, "quietHoursEnd": end}})


REFLECTION = {
    "questionSetVersion": 2,
    "answers": [
        {"questionId": "care", "text": "Helping the people on my team grow into the next role"},
        {
            "questionId": "new-skills",
            "text": "Making requests that can be answered; giving grounded feedback",
        },
        {"questionId": "fears", "text": "That the team will go slower without me doing the hard parts"},
    ],
}


def _get(path: Callable[[World, int], str], query: Callable[[World], dict[str, str]] | None = None) -> Maker:
    return lambda w, i: Request(w.ana, path(w, i), query=query(w) if query else None)


def _promise(w: World, i: int) -> str:
    return f"/v1/me/promises/{w.promises[i % len(w.promises)]}"


def _open(w: World, i: int) -> Request:
    return Request(w.ana, "/v1/me/promises", opening({"handle": w.bea.handle}, "request", i, w.cares[0]))


def _new_care(w: World, i: int) -> Request:
    body = {"statement": f"Care number {i:02d} for the bench", "domain": "self", "meaningForMe": MEANING}
    return Request(w.ana, "/v1/me/cares", body)


def _care_edit(w: World, i: int) -> Request:
    return Request(
        w.ana, f"/v1/me/cares/{w.cares[i % len(w.cares)]}", {"meaningForMe": f"{MEANING} ({i:02d})"}
    )


ROUTES: tuple[Route, ...] = (
    # reads: 80
    Route(
        "GET /v1/me/changes",
        20,
        "sync pull, caught up",
        _get(lambda w, i: "/v1/me/changes", lambda w: {"cursor": w.cursor}),
    ),
    Route("GET /v1/me", 8, "my profile", _get(lambda w, i: "/v1/me")),
    Route("GET /v1/me/promises", 12, "my promises, first page", _get(lambda w, i: "/v1/me/promises")),
    Route("GET /v1/me/promises/{promiseId}", 10, "one promise", _get(_promise)),
    Route(
        "GET /v1/me/promises/{promiseId}/moves",
        4,
        "a promise's log",
        _get(lambda w, i: f"{_promise(w, i)}/moves"),
    ),
    Route("GET /v1/me/cares", 6, "my cares", _get(lambda w, i: "/v1/me/cares")),
    Route("GET /v1/me/plans/{planId}", 6, "my plan, whole", _get(lambda w, i: f"/v1/me/plans/{w.plan_id}")),
    Route("GET /v1/me/plans", 3, "my plans", _get(lambda w, i: "/v1/me/plans")),
    Route("GET /v1/me/journey", 5, "my journey", _get(lambda w, i: "/v1/me/journey")),
    Route("GET /v1/me/notifications", 6, "my inbox", _get(lambda w, i: "/v1/me/notifications")),
    # writes: 20
    Route("POST /v1/me/promises", 2, "ask another app user, one care linked", _open),
    Route(
        MOVES, 7, "promise, report completion, declare satisfied (a care linked)", _move, calls_per_target=3
    ),
    Route(ASSESSMENT, 1, "assess a promise reported complete", _assess),
    Route(ITEM, 5, "mark a plan item done", _item_done),
    Route(
        "POST /v1/me/reflections",
        1,
        "a reflection (3 answers)",
        lambda w, i: Request(w.ana, "/v1/me/reflections", REFLECTION),
    ),
    Route("PATCH /v1/me/cares/{careId}", 2, "edit a care's text", _care_edit),
    Route("POST /v1/me/cares", 1, "a new care", _new_care),
    Route("PATCH /v1/me", 1, "notification preferences", _profile_patch),
)


# ---------------------------------------------------------------- seeding

# Calls the API unmeasured (the stream consumers run as well): (route key, person, path, body,
# query) -> the answer's body; an error answer raises.
Api = Callable[[str, Person, str, Any, dict[str, str] | None], Any]


def _profile(name: str, handle: str) -> dict[str, Any]:
    return {
        "displayName": name,
        "handle": handle,
        "currentLevel": "expert",
        "targetLevel": "team_lead",
        "timeZone": "Europe/Lisbon",
    }


def _moved(api: Api, person: Person, promise: str, *acts: str) -> None:
    for act in acts:
        api(MOVES, person, f"/v1/me/promises/{promise}/moves", {"act": act}, None)


OWN_ITEMS = [
    (
        "practice",
        "Each morning, plan the day's requests",
        "Before stand-up, write the two requests I will make today.",
    ),
    ("reading", "The Effective Executive", "Drucker on what only the manager can do; a chapter a week."),
    (
        "course",
        "Coaching conversations, module 1",
        "The company's coaching course: listening and asking open questions.",
    ),
    (
        "conversation",
        "Ask Joana where she wants to be in two years",
        "One-to-one; write down what I heard and check it next time.",
    ),
    (
        "skill",
        "Delegating a whole problem, not tasks",
        "Hand over the outcome and the conditions, not the steps.",
    ),
    (
        "experiment",
        "A week without writing code myself",
        "See what the team does when I only review and unblock.",
    ),
    (
        "conversation",
        "Agree on the team's promises for Q3",
        "With my manager: which promises, how they will be assessed.",
    ),
    ("reading", "Conversations for Action", "Winograd and Flores on requests, offers and promises."),
]
OBSTACLES = [
    (
        "dragon",
        "I fear the team will go slower without me doing the hard parts",
        "Measure it for a month before deciding",
    ),
    ("barrier", "I jump in and fix things instead of asking", "Count to ten, then ask what they would try"),
]


def seed(api: Api, make_user: Callable[[], tuple[str, str]], suffix: str) -> World:
    """The person and their counterpart, through the API (see the module docstring)."""
    ana = Person(*make_user(), handle=f"ana_{suffix}")
    bea = Person(*make_user(), handle=f"bea_{suffix}")
    api("PUT /v1/me", ana, "/v1/me", _profile("Ana Lima", ana.handle), None)
    api("PUT /v1/me", bea, "/v1/me", _profile("Bea Costa", bea.handle), None)
    api("POST /v1/me/devices", ana, "/v1/me/devices", {"platform": "ios", "pushToken": "a1" * 32}, None)
    api(
        "POST /v1/me/devices",
        bea,
        "/v1/me/devices",
        {"platform": "android", "pushToken": "fcm-" + "b2" * 70},
        None,
    )
    for _ in range(2):
        api("POST /v1/me/reflections", ana, "/v1/me/reflections", REFLECTION, None)
    world = World(ana, bea)
    for statement, domain in CARES:
        body = {"statement": statement, "domain": domain, "valueForOthers": VALUE, "meaningForMe": MEANING}
        world.cares.append(str(api("POST /v1/me/cares", ana, "/v1/me/cares", body, None)["careId"]))
    for statement, domain in CARES[:2]:
        api("POST /v1/me/cares", bea, "/v1/me/cares", {"statement": statement, "domain": domain}, None)

    def opened(by: Person, counterpart: dict[str, Any], kind: str, n: int, care: str | None) -> str:
        body = opening(counterpart, kind, n, care)
        promise = str(api("POST /v1/me/promises", by, "/v1/me/promises", body, None)["promiseId"])
        world.promises.append(promise)
        return promise

    mine = [(ana, bea, ("bea", "bea", "ana")), (bea, ana, ("ana", "ana", "bea"))]
    for customer, performer, (p1, p2, p3) in mine:
        for n in range(6):
            care = world.cares[n % len(world.cares)] if customer is ana and n % 2 == 0 else None
            promise = opened(customer, {"handle": performer.handle}, "request", n, care)
            people = {"ana": ana, "bea": bea}
            if n >= 2:
                _moved(api, people[p1], promise, "promise")
            if n >= 4:
                _moved(api, people[p2], promise, "report_completion")
            if n >= 5:
                _moved(api, people[p3], promise, "declare_satisfied")
    for n in range(4):
        care = world.cares[(n + 3) % len(world.cares)] if n % 2 == 0 else None
        promise = opened(ana, {"name": f"Carla Mendes {n}"}, "promise", n, care)
        if n >= 2:
            _moved(api, ana, promise, "report_completion")
        opened(ana, {"name": f"Rui Santos {n}"}, "request", n + 4, None)

    plan = api(
        "POST /v1/me/plans",
        ana,
        "/v1/me/plans",
        {
            "templateId": "expert-to-team-lead",
            "careIds": world.cares[:2],
            "targetDate": "2027-06-30",
            "items": [{"kind": k, "title": t, "detail": d} for k, t, d in OWN_ITEMS],
        },
        None,
    )
    world.plan_id = str(plan["planId"])
    items = plan["items"]
    practices = [i["itemId"] for i in items if i["kind"] == "practice"][:2]
    base = f"/v1/me/plans/{world.plan_id}"
    api(
        "PUT /v1/me/plans/{planId}/reminder",
        ana,
        f"{base}/reminder",
        {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"},
        None,
    )
    for hour, item in zip((8, 18), practices, strict=True):
        rule = {"rrule": f"FREQ=DAILY;BYHOUR={hour};BYMINUTE=30", "onlyIfNotDone": True}
        api(
            "PUT /v1/me/plans/{planId}/items/{itemId}/reminder",
            ana,
            f"{base}/items/{item}/reminder",
            rule,
            None,
        )
    for kind, description, response in OBSTACLES:
        body = {"kind": kind, "description": description, "response": response}
        api("POST /v1/me/plans/{planId}/obstacles", ana, f"{base}/obstacles", body, None)
    others = [i["itemId"] for i in items if i["itemId"] not in practices]
    for item in others[:2]:
        api(ITEM, ana, f"{base}/items/{item}", {"status": "done"}, None)
    world.plan_items = [*practices, *others[2:]]
    world.cursor = full_sync(api, ana)
    return world


def full_sync(api: Api, person: Person) -> str:
    """A first sync, page after page; answers the caught-up cursor."""
    query: dict[str, str] = {"limit": "1000"}
    while True:
        page = api("GET /v1/me/changes", person, "/v1/me/changes", None, query)
        if not page["hasMore"]:
            return str(page["nextCursor"])
        query = {"limit": "1000", "cursor": str(page["nextCursor"])}


def _opened(world: World, api: Api, n: int) -> str:
    request = _open(world, n)
    return str(api("POST /v1/me/promises", request.person, request.path, request.body, None)["promiseId"])


def prepare(route: Route, count: int, world: World, api: Api) -> None:
    """Fresh targets for a write route's `count` targets (made unmeasured, before it runs)."""
    if route.key == MOVES:
        world.targets[MOVES] = [_opened(world, api, n) for n in range(count)]
    elif route.key == ASSESSMENT:
        targets = []
        for n in range(count):
            body = opening({"handle": world.bea.handle}, "request", n, world.cares[1])
            promise = str(api("POST /v1/me/promises", world.ana, "/v1/me/promises", body, None)["promiseId"])
            _moved(api, world.bea, promise, "promise", "report_completion")
            targets.append(promise)
        world.targets[ASSESSMENT] = targets
    elif route.key == ITEM:
        if len(world.plan_items) < count:
            raise ValueError(f"the plan has {len(world.plan_items)} todo items, {count} wanted")
        world.targets[ITEM] = world.plan_items[:count]
