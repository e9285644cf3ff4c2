"""Fire scheduled functions locally: EventBridge's scheduled event and `rate(...)` timers."""

from __future__ import annotations

import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ACCOUNT_ID = "123456789012"

_RATE = re.compile(r"^\s*rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)\s*$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def parse_rate(expression: str) -> float:
    """Seconds between firings of an EventBridge `rate(N unit)` expression.

    EventBridge insists on the singular unit for 1 and the plural otherwise, and on N >= 1;
    we reject what it rejects so a bad expression fails here before it fails in a deploy.
    """
    match = _RATE.match(expression)
    if not match:
        raise ValueError(f"not a rate expression: {expression!r}")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        raise ValueError(f"rate must be at least 1: {expression!r}")
    if (value == 1) != (not unit.endswith("s")):
        raise ValueError(f"use the singular unit for 1 and the plural otherwise: {expression!r}")
    return float(value * _UNIT_SECONDS[unit.rstrip("s")])


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second, as EventBridge writes `time`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp with an offset (or `Z`); naive times are refused."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("the time needs an offset or Z")
    return moment.astimezone(UTC)


def scheduled_event(moment: datetime, region: str, resources: list[str] | None = None) -> dict[str, Any]:
    """The event EventBridge sends a scheduled target; functions take "now" from `time`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": format_time(moment),
        "region": region,
        "resources": resources or [],
        "detail": {},
    }


@dataclass(frozen=True)
class Timer:
    """One schedule of one function."""

    function: str
    name: str
    every_seconds: float


def timers_for(function: str, schedules: tuple[dict[str, Any], ...]) -> list[Timer]:
    """The enabled `rate(...)` schedules of a function; other expressions are reported and skipped."""
    out = []
    for schedule in schedules:
        expression = schedule.get("Schedule") or schedule.get("ScheduleExpression") or ""
        disabled = schedule.get("Enabled") is False or schedule.get("State") == "DISABLED"
        if disabled:
            continue
        try:
            out.append(Timer(function, str(schedule["name"]), parse_rate(str(expression))))
        except ValueError:
            print(
                f"local scheduler: {function}.{schedule['name']}: {expression!r} is not run locally"
                " (only rate(...) is); fire it with POST /_local/schedules/{id}/run",
                file=sys.stderr,
            )
    return out


class Scheduler:
    """A daemon thread that fires each timer every `every_seconds`, first after one period."""

    def __init__(self, timers: list[Timer], fire: Callable[[Timer], None]) -> None:
        self.timers = timers
        self._fire = fire
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)

    def start(self) -> None:
        """Start firing (a no-op loop when there are no timers)."""
        if self.timers:
            self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        now = time.monotonic()
        due = {timer: now + timer.every_seconds for timer in self.timers}
        while not self._stop.is_set():
            timer = min(due, key=due.__getitem__)
            if self._stop.wait(max(0.0, due[timer] - time.monotonic())):
                return
            due[timer] += timer.every_seconds
            try:
                self._fire(timer)
            except Exception:  # a failing function must not stop the other schedules
                import traceback

                traceback.print_exc()
