"""The export holds everything the person can see of their data (GDPR art. 20; issue 9, part 7).

A full account is built through the API, every value it sends is unique, and every one of them
must be found in `GET /v1/me/export`: profile, devices, reflections, cares and their history,
promises with their conditions, notes, moves, assessments and self-assessments, and blocks.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from shared.domain.timeutil import to_rfc3339, utc_now
from tests.handler.test_promises import Person, new_person
from tests.support.aws import Aws


def _unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def _leaves(value: Any) -> set[str]:
    """Every scalar inside a JSON document, as JSON text (so 5 and "5" differ)."""
    if isinstance(value, dict):
        return set().union(*(_leaves(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_leaves(v) for v in value)) if value else set()
    return {json.dumps(value)}


def _ok(reply: Any, status: int = 201) -> dict[str, Any]:
    assert reply.status == status, reply.body
    body: dict[str, Any] = reply.body
    return body


def _due(days: int) -> str:
    return to_rfc3339(utc_now() + timedelta(days=days))


def test_every_value_written_through_the_api_is_in_the_export(aws: Aws) -> None:
    ana, bea, cai = new_person(aws, "ana"), new_person(aws, "bea"), new_person(aws, "cai")
    written: list[Any] = []

    def send(
        person: Person, call: str, method: str, path: str, body: dict[str, Any], status: int = 201
    ) -> Any:
        written.append(body)
        return _ok(getattr(person, call)(method, path, body=body), status)

    send(
        ana,
        "profile",
        "PUT",
        "/v1/me",
        {
            "displayName": _unique("Ana"),
            "handle": ana.handle,
            "currentLevel": "manager",
            "targetLevel": "executive",
            "timeZone": "America/Sao_Paulo",
            "notificationPrefs": {
                "reminders": False,
                "promiseUpdates": True,
                "quietHoursStart": "21:30",
                "quietHoursEnd": "06:45",
            },
        },
        200,
    )
    send(ana, "profile", "POST", "/v1/me/devices", {"platform": "android", "pushToken": _unique("token")})
    reflection = send(
        ana,
        "care",
        "POST",
        "/v1/me/reflections",
        {"questionSetVersion": 1, "answers": [{"questionId": "destination", "text": _unique("answer")}]},
    )
    care = send(
        ana,
        "care",
        "POST",
        "/v1/me/cares",
        {
            "statement": _unique("statement"),
            "domain": "community",
            "valueForOthers": _unique("value"),
            "meaningForMe": _unique("meaning"),
            "sourceReflectionId": reflection["reflectionId"],
        },
    )
    written.append({"careId": care["careId"], "reflectionId": reflection["reflectionId"]})
    send(ana, "care", "PATCH", f"/v1/me/cares/{care['careId']}", {"statement": _unique("restated")}, 200)

    # As the customer: a request with conditions and an opening note, countered, accepted, assessed.
    asked = send(
        ana,
        "__call__",
        "POST",
        "/v1/me/promises",
        {
            "opening": "request",
            "counterpart": {"handle": bea.handle},
            "what": _unique("what"),
            "conditions": [_unique("condition"), _unique("condition")],
            "dueAt": _due(7),
            "careIds": [care["careId"]],
            "size": {"people": 12, "horizonDays": 45, "scope": "organisation"},
            "note": _unique("opening-note"),
        },
    )["promiseId"]
    send(
        bea,
        "__call__",
        "POST",
        f"/v1/me/promises/{asked}/moves",
        {"act": "counter", "note": _unique("bea-note"), "conditions": [_unique("counter")], "dueAt": _due(9)},
        200,
    )
    send(
        ana,
        "__call__",
        "POST",
        f"/v1/me/promises/{asked}/moves",
        {"act": "accept", "note": _unique("n")},
        200,
    )
    send(bea, "__call__", "POST", f"/v1/me/promises/{asked}/moves", {"act": "report_completion"}, 200)
    send(ana, "__call__", "POST", f"/v1/me/promises/{asked}/moves", {"act": "declare_satisfied"}, 200)
    send(
        ana,
        "__call__",
        "POST",
        f"/v1/me/promises/{asked}/assessment",
        {"value": 4, "enabled": _unique("enabled"), "evidence": _unique("evidence")},
    )
    # As the performer: an offer, accepted, reported; my own view of it.
    offered = send(
        ana,
        "__call__",
        "POST",
        "/v1/me/promises",
        {
            "opening": "offer",
            "counterpart": {"handle": bea.handle},
            "what": _unique("offer"),
            "dueAt": _due(3),
        },
    )["promiseId"]
    send(bea, "__call__", "POST", f"/v1/me/promises/{offered}/moves", {"act": "accept"}, 200)
    send(
        ana,
        "__call__",
        "POST",
        f"/v1/me/promises/{offered}/moves",
        {"act": "report_completion", "note": _unique("done-note")},
        200,
    )
    send(
        ana,
        "__call__",
        "POST",
        f"/v1/me/promises/{offered}/self-assessment",
        {"value": 3, "note": _unique("self-note")},
    )
    # With someone outside the app.
    send(
        ana,
        "__call__",
        "POST",
        "/v1/me/promises",
        {
            "opening": "promise",
            "counterpart": {"name": _unique("Olga"), "email": f"{_unique('olga')}@example.org"},
            "what": _unique("outside"),
            "dueAt": _due(30),
        },
    )
    block = send(ana, "profile", "POST", "/v1/me/blocks", {"handle": cai.handle})
    written.append({"blockId": block["blockId"]})
    # A learning plan with an item, an obstacle and reminders, the item done.
    plan = send(
        ana,
        "plan",
        "POST",
        "/v1/me/plans",
        {
            "title": _unique("plan"),
            "targetDate": "2031-01-31",
            "careIds": [care["careId"]],
            "items": [{"kind": "practice", "title": _unique("item"), "detail": _unique("detail")}],
        },
    )
    plan_path = f"/v1/me/plans/{plan['planId']}"
    item_path = f"{plan_path}/items/{plan['items'][0]['itemId']}"
    send(ana, "plan", "PATCH", item_path, {"status": "done", "reflection": _unique("reflection")}, 200)
    send(
        ana,
        "plan",
        "POST",
        f"{plan_path}/obstacles",
        {"kind": "dragon", "description": _unique("fear"), "response": _unique("response")},
    )
    # A reminder's rule is kept in its canonical form (with its DTSTART): checked on its own.
    weekly = {
        "rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=15",
        "mode": "pinned",
        "timeZone": "Asia/Kathmandu",
    }
    _ok(ana.plan("PUT", f"{plan_path}/reminder", body=weekly), 201)
    _ok(
        ana.plan(
            "PUT",
            f"{item_path}/reminder",
            body={"rrule": "FREQ=DAILY;BYHOUR=7;BYMINUTE=0", "onlyIfNotDone": True},
        ),
        201,
    )

    export = _ok(ana.profile("GET", "/v1/me/export"), 200)
    missing = _leaves(written) - _leaves(export)
    assert missing == set(), f"written but not exported: {sorted(missing)}"
    assert len(export["promises"]) == 3
    assert {m["act"] for p in export["promises"] for m in p["moves"]} >= {
        "request",
        "counter",
        "accept",
        "offer",
        "self_log",
        "report_completion",
    }
    assert export["blocks"] == [
        {"blockId": block["blockId"], "handle": cai.handle, "createdAt": block["createdAt"]}
    ]
    assert "promise-membership" not in export["other"], "each promise is exported once, whole"
    assert "plan-reminder" not in export["other"], "reminders are exported as such"
    assert {
        (
            r["planId"],
            r.get("itemId"),
            r["mode"],
            r["timeZone"],
            r["onlyIfNotDone"],
            r["rrule"].split("\n")[-1],
        )
        for r in export["reminders"]
    } == {
        (plan["planId"], None, "pinned", "Asia/Kathmandu", False, "RRULE:" + weekly["rrule"]),
        (
            plan["planId"],
            plan["items"][0]["itemId"],
            "floating",
            "America/Sao_Paulo",
            True,
            "RRULE:FREQ=DAILY;BYHOUR=7;BYMINUTE=0",
        ),
    }
    assert not {"dueShard", "dueAt", "settled", "lastDoneAt"} & {k for r in export["reminders"] for k in r}
    text = json.dumps(export)
    for stranger in (bea.sub, cai.sub):
        assert stranger not in text, "nobody else's internal id"


def test_the_export_reads_my_partition_once_and_each_promise_once(aws: Aws) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    for n in range(3):
        body = {
            "opening": "request",
            "counterpart": {"handle": bea.handle},
            "what": f"w{n}",
            "dueAt": _due(3),
        }
        _ok(ana("POST", "/v1/me/promises", body=body))
    _ok(ana.profile("POST", "/v1/me/blocks", body={"handle": bea.handle}))
    aws.requests.clear()
    export = _ok(ana.profile("GET", "/v1/me/export"), 200)
    assert len(export["promises"]) == 3
    # And one UpdateItem: the export's per-person rate limit counter.
    assert aws.requests.counts == Counter({"Query": 1 + 3, "BatchGetItem": 1, "UpdateItem": 1})
    assert aws.requests.account_checks == 1
