"""`make load`: simulated people walk the mobile journey against the local stack (Locust).

Each simulated person signs up and in through the stack's Cognito, makes a profile, then, with
pauses between steps, reads their profile, promises and journey, adds cares, asks others for
promises, and moves the promises they are part of along: the performer promises and reports
completion, the customer declares satisfaction. Every write the API acknowledges is kept in a
journal (`LOAD_JOURNAL`), which `tests.load.run` checks against the table afterwards.

Run through `make load` (`python -m tests.load.run`), which starts the stack and reads the
results; `LOAD_STACK` names the stack's stack.json.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import boto3
from locust import HttpUser, between, events, task

from tests.support.stack import new_person

STACK: dict[str, Any] = (
    json.loads(Path(os.environ["LOAD_STACK"]).read_text()) if "LOAD_STACK" in os.environ else {}
)
MAX_CARES = 20  # under the 25 active cares a person may have
HANDLES: list[str] = []
JOURNAL: dict[str, Any] = {"cares": [], "promises": {}, "moves": defaultdict(list)}


def _cognito() -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=STACK["awsEndpointUrl"],
        region_name=STACK["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Person(HttpUser):
    """One person using the app."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        person = new_person(STACK, _cognito(), prefix="load")
        person.api.close()
        self.sub = person.sub
        self.client.headers["Authorization"] = f"Bearer {person.access_token}"
        self.handle = f"l{uuid.uuid4().hex[:12]}"
        self.cares = 0
        profile = {
            "displayName": "Load Person",
            "handle": self.handle,
            "currentLevel": "expert",
            "timeZone": "Europe/Lisbon",
        }
        with self.client.put("/v1/me", json=profile, name="PUT /v1/me", catch_response=True) as reply:
            if reply.status_code != 201:
                reply.failure(f"profile: {reply.status_code} {reply.text[:200]}")
                return
        HANDLES.append(self.handle)

    @task(4)
    def read_profile(self) -> None:
        self.client.get("/v1/me", name="GET /v1/me")

    @task(4)
    def read_promises(self) -> None:
        self.client.get("/v1/me/promises", name="GET /v1/me/promises")

    @task(2)
    def read_journey(self) -> None:
        self.client.get("/v1/me/journey", name="GET /v1/me/journey")

    @task(2)
    def add_care(self) -> None:
        if self.cares >= MAX_CARES:
            return
        body = {"statement": f"Care {self.cares}", "domain": random.choice(["self", "others", "community"])}
        reply = self.client.post("/v1/me/cares", json=body, name="POST /v1/me/cares")
        if reply.status_code == 201:
            self.cares += 1
            JOURNAL["cares"].append({"userId": self.sub, "careId": reply.json()["careId"]})

    @task(2)
    def ask_for_a_promise(self) -> None:
        others = [h for h in HANDLES if h != self.handle]
        if not others:
            return
        body = {
            "opening": "request",
            "counterpart": {"handle": random.choice(others)},
            "what": "Review my plan",
            "dueAt": "2027-06-01T17:00:00Z",
        }
        reply = self.client.post("/v1/me/promises", json=body, name="POST /v1/me/promises")
        if reply.status_code == 201:
            promise_id = reply.json()["promiseId"]
            JOURNAL["promises"][promise_id] = self.sub
            JOURNAL["moves"][promise_id].append("request")

    @task(3)
    def move_my_promises_along(self) -> None:
        for role, state, act in (
            ("performer", "requested", "promise"),
            ("performer", "promised", "report_completion"),
            ("customer", "reported", "declare_satisfied"),
        ):
            listed = self.client.get(
                "/v1/me/promises",
                params={"role": role, "state": state, "limit": "5"},
                name="GET /v1/me/promises?role&state",
            )
            if listed.status_code != 200:
                continue
            for promise in listed.json()["items"][:2]:
                promise_id = promise["promiseId"]
                reply = self.client.post(
                    f"/v1/me/promises/{promise_id}/moves",
                    json={"act": act},
                    name="POST /v1/me/promises/{promiseId}/moves",
                )
                if reply.status_code == 200:
                    JOURNAL["moves"][promise_id].append(act)


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _write_journal(**_: Any) -> None:
    path = os.environ.get("LOAD_JOURNAL")
    if path:
        Path(path).write_text(json.dumps(JOURNAL))
