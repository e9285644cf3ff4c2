"""The local gateway's own routes read bad bodies as 4xx problems, never a crash (in-process)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from werkzeug.test import Client

from infra.local.gateway import Gateway, LocalFunction


class Job:
    """A scheduled function that remembers its events."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return {"sent": 0}


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,
        '{"time": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"time": ' * 5000,
    ],
    ids=["deep-array", "deep-time", "deep-unclosed"],
)
def test_a_schedule_run_with_deeply_nested_json_is_422_not_a_crash(body: str) -> None:
    job = Job()
    function = LocalFunction("Reminders", "career-journey-reminders-local", "unused", handler=job)
    client = Client(Gateway([], {"Reminders": function}, None, log=io.StringIO()))
    response = client.post("/_local/schedules/Reminders/run", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json()["status"] == 422
    assert job.events == []


def test_invocations_never_overlap_as_in_one_lambda_environment() -> None:
    """Powertools keeps the current event on class attributes and the logger's keys on one
    object per process: two requests in threads must not run their handlers at once."""
    import threading
    import time

    running: list[int] = []
    overlaps: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        running.append(event["n"])
        if len(running) > 1:
            overlaps.append(event["n"])
        time.sleep(0.02)
        running.remove(event["n"])
        return {"statusCode": 200}

    functions = [LocalFunction(f"F{k}", f"f{k}", "unused", handler=handler) for k in range(2)]
    threads = [threading.Thread(target=functions[n % 2].invoke, args=({"n": n},)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [], "one invocation at a time, across functions too"
