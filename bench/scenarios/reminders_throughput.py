"""Reminders dispatched per second through the local stack, end to end to `/_local/push`.

Starts one local stack (`python -m infra.local.stack`, as `make run` does, on free loopback
ports with its own state directory, the way `tests/support/stack.py` starts it for the local
tests), signs people up through its Cognito, and gives each a profile (a time zone), one device
and plans with a daily reminder, all at the same local time a few hours ahead. Then one
`POST /_local/schedules/DispatcherFunction/run` at the instant they are due, and `GET
/_local/push` polled until every reminder's push has arrived: the dispatcher writes the inbox
items, the stack's stream poller feeds them to the notifier, which publishes to the devices.

Everything runs in the stack's one process (moto, the functions, the stream poller), so the
figures are the local stack's, on this machine, not AWS's. Most of the run's time is moto's:
before every TransactWriteItems (one per reminder fired) it deep-copies the whole table, stream
records included, once per item of the transaction, so the rate falls as the table and its
stream grow (see `dispatcher-reads`, which swaps that copy out on moto in-process).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import requests

from bench.scenarios import Context, Report, Skip, Table, scenario

PEOPLE = 10
PLANS_EACH = 10
ZONE = "Europe/Lisbon"
HOURS_AHEAD = 3  # the reminders' local hour: this far ahead, so the stack's own timer never fires them
PUSH_TIMEOUT_SECONDS = 120
POLL_SECONDS = 0.05


@contextlib.contextmanager
def local_stack() -> Iterator[dict[str, Any]]:
    """A local stack on free loopback ports with a temporary state dir; yields its stack.json
    and always stops it. Skip when it cannot start."""
    try:
        from tests.support.stack import _stop, _wait_until_up, free_port
    except ImportError as exc:
        raise Skip(f"tests.support.stack cannot be imported: {exc}") from exc
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="bench-local-stack-") as directory:
        state_dir = Path(directory)
        env = {
            **os.environ,
            "API_PORT": str(free_port()),
            "AWS_PORT": str(free_port()),
            "LOCAL_STATE_DIR": str(state_dir),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PYTHONUNBUFFERED": "1",
        }
        with (state_dir / "stdout.log").open("wb") as out, (state_dir / "stderr.log").open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "infra.local.stack"],
                cwd=root,
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: stopping it reaches every child
            )
        try:
            try:
                info = _wait_until_up(process, state_dir / "stack.json", state_dir)
            except (RuntimeError, TimeoutError) as exc:
                raise Skip(f"the local stack did not start: {exc}") from exc
            yield info
        finally:
            _stop(process)


def _local_hour(now: datetime) -> int:
    return (now.astimezone(ZoneInfo(ZONE)).hour + HOURS_AHEAD) % 24


def _prepare(info: dict[str, Any], hour: int) -> tuple[list[Any], set[str], str]:
    """Sign PEOPLE people up with a profile, a device and PLANS_EACH plans with a daily reminder
    at `hour`; answers their sessions, the plan ids and the instant the reminders are due."""
    from tests.support.stack import new_person

    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=info["awsEndpointUrl"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the emulator's dummy credentials)
    )
    people = []
    plan_ids: set[str] = set()
    due: set[str] = set()
    for n in range(PEOPLE):
        person = new_person(info, cognito, prefix="bench-reminders")
        people.append(person)
        profile = {
            "displayName": f"Bench {n}",
            "handle": f"b{uuid.uuid4().hex[:12]}",
            "currentLevel": "expert",
            "timeZone": ZONE,
        }
        _expect(person.api.put("/v1/me", json=profile), 201)
        device = {"platform": "ios", "pushToken": uuid.uuid4().hex * 2}
        _expect(person.api.post("/v1/me/devices", json=device), 201)
        for k in range(PLANS_EACH):
            plan = _expect(person.api.post("/v1/me/plans", json={"title": f"Plan {k} of {n}"}), 201)
            rule = {"rrule": f"FREQ=DAILY;BYHOUR={hour};BYMINUTE=0"}
            reminder = _expect(person.api.put(f"/v1/me/plans/{plan['planId']}/reminder", json=rule), 201)
            plan_ids.add(str(plan["planId"]))
            due.add(str(reminder["nextFireAt"]))
    return people, plan_ids, max(due)


def _expect(response: requests.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.url}: {response.status_code} {response.text[:500]}"
        )
    body: dict[str, Any] = response.json()
    return body


def _pushed(api_url: str, plan_ids: set[str]) -> int:
    """How many pushes listed by the stack are for one of `plan_ids`."""
    items = requests.get(api_url + "/_local/push", timeout=10).json()["items"]
    return sum(1 for p in items if any(i in json.dumps(p["message"]) for i in plan_ids))


@scenario("reminders-throughput")
def reminders_throughput(ctx: Context) -> Report:
    """Reminders dispatched per second through the local stack, end to end to /_local/push."""
    expected = PEOPLE * PLANS_EACH
    with local_stack() as info:
        api_url = str(info["apiUrl"])
        started = time.perf_counter()
        people, plan_ids, due_at = _prepare(info, _local_hour(datetime.now(UTC)))
        setup_seconds = time.perf_counter() - started
        try:
            if datetime.fromisoformat(due_at.replace("Z", "+00:00")) < datetime.now(UTC) + timedelta(
                minutes=5
            ):
                raise Skip(
                    f"the reminders are due at {due_at}, too soon: the stack's own timer may fire them"
                )
            before = _pushed(api_url, plan_ids)
            started = time.perf_counter()
            response = requests.post(
                api_url + "/_local/schedules/DispatcherFunction/run", json={"time": due_at}, timeout=300
            )
            run_seconds = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(
                    f"the dispatcher's run answered {response.status_code}: {response.text[:500]}"
                )
            result = response.json()["result"]
            arrived = before
            while arrived < expected and time.perf_counter() - started < PUSH_TIMEOUT_SECONDS:
                time.sleep(POLL_SECONDS)
                arrived = _pushed(api_url, plan_ids)
            end_to_end = time.perf_counter() - started
        finally:
            for person in people:
                person.api.close()

    fired = int(result.get("fired", 0))
    data = {
        "people": PEOPLE,
        "reminders": expected,
        "due_at": due_at,
        "run_result": result,
        "fired": fired,
        "pushes_arrived": arrived,
        "setup_seconds": round(setup_seconds, 1),
        "run_seconds": round(run_seconds, 2),
        "last_push_seconds": round(end_to_end, 2),
        "fired_per_second_run": round(fired / run_seconds, 1),
        "pushed_per_second_end_to_end": round(arrived / end_to_end, 1),
    }
    table = Table(
        f"{expected} reminders ({PEOPLE} people x {PLANS_EACH} plans, one device each), local stack",
        [
            "reminders",
            "fired",
            "pushes",
            "dispatcher run s",
            "last push s",
            "fired/s (run)",
            "pushed/s (end to end)",
            "setup s",
        ],
        [
            [
                expected,
                fired,
                arrived,
                data["run_seconds"],
                data["last_push_seconds"],
                data["fired_per_second_run"],
                data["pushed_per_second_end_to_end"],
                data["setup_seconds"],
            ]
        ],
    )
    notes = [
        "last push s: from the run's request to the poll that saw every push (polled every "
        f"{POLL_SECONDS:g} s); one process runs moto, the functions and the stream poller",
    ]
    if arrived < expected:
        notes.append(f"only {arrived} of {expected} pushes arrived within {PUSH_TIMEOUT_SECONDS} s")
    if fired != expected:
        notes.append(f"the run fired {fired} of {expected}: {result}")
    return Report([table], data, within_budget=None, notes=notes)
