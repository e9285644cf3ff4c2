"""Learning records as xAPI 1.0.3 statements, for partners.

What the person did is kept as facts (`shared.store.facts`): an item of a plan completed, a
practice done on a day, a promise fulfilled, a promise assessed by its customer. A partner reads
them as statements about its client: the actor is an account whose `name` is the partner's
`clientId` for the person, on a home page that belongs to that partner; verbs are ADL's; every
id is the partner's own (activities by partner-specific ids, statement ids a UUID v5 of the
partner and the fact), so a statement is stable across reads and two partners' statements about
one person cannot be joined.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

XAPI_VERSION = "1.0.3"
HOME = "https://career-journey.app"
# Statement ids: UUID v5 in a namespace of our own (a UUID v5 of our home page).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, HOME + "/xapi")

VERBS = {
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "progressed": "http://adlnet.gov/expapi/verbs/progressed",
    "scored": "http://adlnet.gov/expapi/verbs/scored",
}
ACTIVITY_TYPES = {
    "plan-item": "http://adlnet.gov/expapi/activities/objective",
    "promise": "http://adlnet.gov/expapi/activities/performance",
}
# Which grant scope shows which fact.
FACT_SCOPES = {
    "plan-item-completed": "plans.read",
    "practice": "plans.read",
    "promise-fulfilled": "promises.read",
    "promise-assessed": "promises.read",
}


def statement_id(partner_id: str, fact_id: str) -> str:
    """The same fact gives the same statement id to one partner, another id to another."""
    return str(uuid.uuid5(_NAMESPACE, f"{partner_id}/{fact_id}"))


def home_page(partner_id: str) -> str:
    """The home page of the accounts a partner knows its clients by."""
    return f"{HOME}/partners/{partner_id}"


def _verb(name: str) -> dict[str, Any]:
    return {"id": VERBS[name], "display": {"en-US": name}}


def _activity(kind: str, ref: str, name: str) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": f"{HOME}/xapi/activities/{kind}/{ref}",
        "definition": {"name": {"en-US": name}, "type": ACTIVITY_TYPES[kind]},
    }


def statement(
    fact: Mapping[str, Any], *, partner_id: str, client_id: str, ref: Callable[[str, str], str]
) -> dict[str, Any]:
    """One fact as an xAPI statement for this partner (`ref(kind, id)` gives its ids)."""
    kind = str(fact["kind"])
    base: dict[str, Any] = {
        "id": statement_id(partner_id, str(fact["factId"])),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": home_page(partner_id), "name": client_id},
        },
        "timestamp": fact["at"],
        "version": XAPI_VERSION,
    }
    if kind in ("plan-item-completed", "practice"):
        activity = _activity("plan-item", ref("plan-item", str(fact["itemId"])), str(fact["title"]))
        if kind == "practice":
            return {**base, "verb": _verb("progressed"), "object": activity}
        return {**base, "verb": _verb("completed"), "object": activity, "result": {"completion": True}}
    activity = _activity("promise", ref("promise", str(fact["promiseId"])), str(fact["what"]))
    if kind == "promise-fulfilled":
        result = {"completion": True, "success": bool(fact.get("onTime", True))}
        return {**base, "verb": _verb("completed"), "object": activity, "result": result}
    value = int(fact["value"])
    score = {"raw": value, "min": 1, "max": 5, "scaled": round(value / 5, 2)}
    return {**base, "verb": _verb("scored"), "object": activity, "result": {"score": score}}
