"""Logs carry no personal data (issue 13, Security): a whole journey against the local stack, then
every line the stack and its functions logged is searched for what the journey put in.

Where the logs are: the stack process's stdout (`stdout.log` in its state dir: the request log,
one line per request, and the functions' Powertools logger at the console's level, WARNING) and
stderr (`stderr.log`: the gateway's tracebacks of failed invocations, the pollers' errors), and
`functions.log` (`infra.local.gateway.FunctionLogFile`): every record of every function at the
level deployed functions log at (the template's `POWERTOOLS_LOG_LEVEL`, INFO), named by function.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from infra.local.gateway import FUNCTION_LOG_NAME
from tests.support.stack import Person, partner_token

PROMISE_DUE = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ok(response: requests.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), (response.request.url, response.text)
    return response.json() if response.content else None


def _unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:10]}"


def _journey(stack: dict[str, Any], ana: Person, bea: Person, seeded: dict[str, str]) -> None:
    """Everything a person does in the app, each secret put in it recorded in `seeded`."""
    api = stack["apiUrl"]
    for who, person in (("ana", ana), ("bea", bea)):
        seeded[f"{who} email"] = person.email
        seeded[f"{who} password"] = person.password
        seeded[f"{who} access token"] = person.access_token
        seeded[f"{who} id token"] = person.id_token
        seeded[f"{who} refresh token"] = person.refresh_token
        hex_ = uuid.uuid4().hex[:10]
        seeded[f"{who} handle"] = f"{who}_{hex_}"
        seeded[f"{who} display name"] = f"Zephyrine {who.title()} Quillfeather{hex_[:4]}"
        profile = {
            "displayName": seeded[f"{who} display name"],
            "handle": seeded[f"{who} handle"],
            "currentLevel": "expert",
            "targetLevel": "team_lead",
            "timeZone": "Europe/Lisbon",
        }
        _ok(person.api.put("/v1/me", json=profile), 201)
        seeded[f"{who} push token"] = f"apns{uuid.uuid4().hex}{uuid.uuid4().hex}"
        _ok(
            person.api.post(
                "/v1/me/devices", json={"platform": "ios", "pushToken": seeded[f"{who} push token"]}
            )
        )
        _ok(person.api.get("/v1/me"))

    # A profile change the app makes, and one with a bad handle (the 422 names the field, and logs?).
    seeded["ana new display name"] = _unique("Ana Renamed Marigold")
    _ok(ana.api.patch("/v1/me", json={"displayName": seeded["ana new display name"]}))
    seeded["a refused handle"] = f"Bad Handle {uuid.uuid4().hex[:6]}!"
    refused = ana.api.patch("/v1/me", json={"handle": seeded["a refused handle"]})
    assert refused.status_code == 422, refused.text

    # Reflection and cares.
    seeded["reflection text"] = _unique("I light up when I teach juniors to debug")
    _ok(
        ana.api.post(
            "/v1/me/reflections",
            json={
                "questionSetVersion": 2,
                "answers": [{"questionId": "care", "text": seeded["reflection text"]}],
            },
        ),
        201,
    )
    seeded["care statement"] = _unique("Growing people who grow people")
    seeded["care meaning"] = _unique("My first manager did it for me")
    care = _ok(
        ana.api.post(
            "/v1/me/cares",
            json={
                "statement": seeded["care statement"],
                "domain": "others",
                "meaningForMe": seeded["care meaning"],
            },
        ),
        201,
    )
    _ok(ana.api.get("/v1/me/care-map"))

    # A promise between them, with notes and moves.
    seeded["promise what"] = _unique("Review the onboarding guide for Hendrickje")
    seeded["promise note"] = _unique("Please look at section three first")
    opened = _ok(
        ana.api.post(
            "/v1/me/promises",
            json={
                "opening": "request",
                "counterpart": {"handle": seeded["bea handle"]},
                "what": seeded["promise what"],
                "conditions": [seeded["promise note"] + " (condition)"],
                "dueAt": PROMISE_DUE,
                "careIds": [care["careId"]],
                "note": seeded["promise note"],
            },
        ),
        201,
    )
    pid = opened["promiseId"]
    seeded["move note promise"] = _unique("Count me in, Thursday at the latest")
    _ok(
        bea.api.post(
            f"/v1/me/promises/{pid}/moves", json={"act": "promise", "note": seeded["move note promise"]}
        )
    )
    seeded["move note report"] = _unique("Done, comments in the margin")
    _ok(
        bea.api.post(
            f"/v1/me/promises/{pid}/moves",
            json={"act": "report_completion", "note": seeded["move note report"]},
        )
    )
    _ok(ana.api.post(f"/v1/me/promises/{pid}/moves", json={"act": "declare_satisfied"}))
    seeded["assessment text"] = _unique("New hires onboard in half the time")
    _ok(
        ana.api.post(
            f"/v1/me/promises/{pid}/assessment", json={"value": 5, "enabled": seeded["assessment text"]}
        ),
        201,
    )
    _ok(bea.api.get(f"/v1/me/promises/{pid}/moves"))
    _ok(ana.api.get("/v1/me/journey"))

    # A plan with items and a reminder.
    seeded["plan title"] = _unique("Becoming the lead Ottoline needs")
    seeded["plan item"] = _unique("Shadow Bartholomew's one-on-ones")
    plan = _ok(
        ana.api.post(
            "/v1/me/plans",
            json={
                "title": seeded["plan title"],
                "careIds": [care["careId"]],
                "items": [{"kind": "practice", "title": seeded["plan item"]}],
            },
        ),
        201,
    )
    seeded["obstacle"] = _unique("Afraid the team thinks I am not technical any more")
    _ok(
        ana.api.post(
            f"/v1/me/plans/{plan['planId']}/obstacles",
            json={"kind": "dragon", "description": seeded["obstacle"]},
        ),
        201,
    )
    _ok(
        ana.api.put(
            f"/v1/me/plans/{plan['planId']}/reminder", json={"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"}
        )
    )

    # Someone outside the app, through a counterpart link.
    seeded["outside name"] = _unique("Philippa Outsider")
    seeded["outside email"] = f"philippa.{uuid.uuid4().hex[:8]}@outside.example.org"
    outside = _ok(
        ana.api.post(
            "/v1/me/promises",
            json={
                "opening": "request",
                "counterpart": {"name": seeded["outside name"], "email": seeded["outside email"]},
                "what": _unique("Send Ana the quarterly numbers"),
                "dueAt": PROMISE_DUE,
            },
        ),
        201,
    )
    link = _ok(ana.api.post(f"/v1/me/promises/{outside['promiseId']}/counterpart-link"), 201)
    token = str(link["url"]).rsplit("/", 1)[-1]
    seeded["counterpart token"] = token
    seeded["counterpart secret"] = token.partition(".")[2]
    _ok(requests.get(f"{api}/v1/counterpart/{token}", timeout=10))
    seeded["outside move note"] = _unique("Will send them Friday")
    _ok(
        requests.post(
            f"{api}/v1/counterpart/{token}/moves",
            json={"act": "promise", "note": seeded["outside move note"]},
            timeout=10,
        )
    )
    # A wrong secret for the same promise: a 404, and its secret is no more logged than the right one.
    seeded["wrong counterpart secret"] = uuid.uuid4().hex + uuid.uuid4().hex
    wrong = requests.get(
        f"{api}/v1/counterpart/{outside['promiseId']}.{seeded['wrong counterpart secret']}", timeout=10
    )
    assert wrong.status_code == 404, wrong.text

    # The calendar feed, fetched as a calendar app does.
    feed = _ok(ana.api.post("/v1/me/calendar-feed"), 201)
    feed_path = urlsplit(feed["url"]).path
    seeded["calendar secret"] = feed_path.rsplit("/", 1)[-1].removesuffix(".ics").split(".")[1]
    calendar = requests.get(f"{api}{feed_path}", timeout=10)
    assert calendar.status_code == 200, calendar.text
    assert "BEGIN:VCALENDAR" in calendar.text

    # The demo partner, granted by Ana, reads and asks.
    partner_id = stack["partners"][0]["partnerId"]
    granted = _ok(
        ana.api.post(
            "/v1/me/grants",
            json={
                "partnerId": partner_id,
                "scopes": ["clients.read", "profile.read", "cares.read", "requests.write"],
            },
        ),
        200,
        201,
    )
    seeded["partner access token"] = partner_token(stack)
    partner = {"Authorization": f"Bearer {seeded['partner access token']}"}
    client = granted["clientId"]
    _ok(requests.get(f"{api}/partner/v1/clients", headers=partner, timeout=10))
    _ok(requests.get(f"{api}/partner/v1/clients/{client}/profile", headers=partner, timeout=10))
    _ok(requests.get(f"{api}/partner/v1/clients/{client}/cares", headers=partner, timeout=10))
    seeded["coach request"] = _unique("Hold a retro with Wilhelmina's team")
    seeded["coach name"] = _unique("Coach Evangelina")
    _ok(
        requests.post(
            f"{api}/partner/v1/clients/{client}/requests",
            headers=partner,
            json={"what": seeded["coach request"], "dueAt": PROMISE_DUE, "coachName": seeded["coach name"]},
            timeout=10,
        ),
        201,
    )
    _ok(ana.api.get("/v1/me/access-log"))

    # Sync, notifications, export (past its limit: the 429 is an INFO record the capture must hold).
    _ok(ana.api.get("/v1/me/changes"))
    _ok(ana.api.get("/v1/me/notifications"))
    _ok(bea.api.get("/v1/me/notifications"))
    statuses = [ana.api.get("/v1/me/export").status_code for _ in range(6)]
    assert statuses[0] == 200, statuses
    assert 429 in statuses, statuses

    # Bea leaves; Ana erases her account last.
    _ok(bea.api.delete("/v1/me"), 204)
    after = bea.api.get("/v1/me")
    assert after.status_code == 401, after.text  # her token still in date, her account gone
    _ok(ana.api.delete("/v1/me"), 204)


def _lines(paths: list[Path]) -> list[tuple[str, int, str]]:
    return [
        (path.name, n, line)
        for path in paths
        if path.is_file()
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
    ]


def test_a_whole_journey_logs_none_of_what_people_put_in(
    local_stack: dict[str, Any], local_stack_log: Path, make_person: Callable[[], Person]
) -> None:
    state_dir = local_stack_log.parent
    ana, bea = make_person(), make_person()
    seeded: dict[str, str] = {}
    _journey(local_stack, ana, bea, seeded)
    # The stream's consumers (handle copies, change log, push, webhooks) run behind the requests.
    time.sleep(3)

    logs = [local_stack_log, state_dir / "stderr.log", state_dir / FUNCTION_LOG_NAME]
    lines = _lines(logs)
    assert (state_dir / FUNCTION_LOG_NAME).is_file(), "the functions' records are captured"
    function_lines = [line for name, _, line in lines if name == FUNCTION_LOG_NAME]
    assert any('"rate limited"' in line for line in function_lines), "INFO records are captured"
    assert any(line.startswith("GET /v1/counterpart/{token} 200") for _, _, line in lines), "named by route"
    assert sum(1 for name, _, _ in lines if name == local_stack_log.name) > 40, "the request log is read"

    leaks = [
        f"{what} in {name}:{n}: {line[:300]}"
        for what, secret in seeded.items()
        if secret
        for name, n, line in lines
        if secret in line
    ]
    assert not leaks, "\n".join(leaks)
