"""Erasing an account that shares promises: the other person keeps them, with me anonymised."""

from __future__ import annotations

import json
from typing import Any

from tests.handler.test_promises import (
    ASSESSMENT,
    Person,
    create_care,
    get,
    listed,
    log_of,
    move,
    new_person,
    open_promise,
)
from tests.support.aws import Aws


def _mentioning(aws: Aws, *needles: str) -> list[dict[str, Any]]:
    return [i for i in aws.data_items() if any(n in json.dumps(i, default=str) for n in needles)]


def _shared_history(ana: Person, bea: Person) -> tuple[str, str]:
    """Ana asks Bea; they go back and forth with notes; Ana assesses; Bea links a care."""
    care = create_care(bea, "Growing people")
    asked = open_promise(ana, bea)["promiseId"]
    assert move(bea, asked, "counter", note="Friday is too soon", conditions=["by Monday"]).status == 200
    assert move(ana, asked, "accept", note="Monday then, thanks Bea").status == 200
    assert move(bea, asked, "report_completion").status == 200
    assert move(ana, asked, "declare_satisfied").status == 200
    assert ana("POST", f"/v1/me/promises/{asked}/assessment", body=ASSESSMENT).status == 201
    offered = open_promise(bea, ana, "offer", careIds=[care])["promiseId"]
    return asked, offered


def test_shared_promises_stay_with_the_other_person_and_nothing_names_me(aws: Aws) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    asked, offered = _shared_history(ana, bea)
    solo = open_promise(ana, {"name": "Someone outside"})["promiseId"]
    assert _mentioning(aws, ana.sub, ana.handle)

    assert ana.profile("DELETE", "/v1/me").status == 204

    assert _mentioning(aws, ana.sub, ana.handle) == [], "no item names the erased person"
    assert _mentioning(aws, solo) == [], "a promise only I was part of is gone with me"
    former = {"kind": "outside", "name": "Former member", "isMe": False}
    seen = get(bea, asked)
    assert seen["state"] == "fulfilled"
    assert {k: seen["customer"][k] for k in former} == former
    assert seen["assessment"]["value"] == ASSESSMENT["value"], "the value Bea earned stays in her record"
    assert "enabled" not in seen["assessment"] or seen["assessment"]["enabled"] is None
    log = log_of(bea, asked)
    assert [m["act"] for m in log] == [
        "request",
        "counter",
        "accept",
        "report_completion",
        "declare_satisfied",
    ]
    anas = [m for m in log if m["role"] == "customer"]
    assert all(m["by"]["name"] == "Former member" and m["note"] is None for m in anas), "my notes go with me"
    assert [m["note"] for m in log if m["role"] == "performer"] == ["Friday is too soon", None]
    assert set(listed(bea)) == {asked, offered}
    assert get(bea, offered)["customer"]["name"] == "Former member"
    summaries = bea("GET", "/v1/me/promises").body["items"]
    assert {s["counterpart"]["name"] for s in summaries} == {"Former member"}


def test_the_other_person_can_still_move_a_shared_promise_after_my_erasure(aws: Aws) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    pid = open_promise(bea, ana, "offer")["promiseId"]
    assert ana.profile("DELETE", "/v1/me").status == 204
    assert move(bea, pid, "withdraw").status == 200
    assert get(bea, pid)["state"] == "withdrawn"
    assert bea.profile("DELETE", "/v1/me").status == 204
    assert _mentioning(aws, pid) == [], "once both are erased, the promise is gone"


def test_erasure_is_idempotent_when_run_again(aws: Aws) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    _shared_history(ana, bea)
    from shared.logic.promises import forget_person

    assert forget_person(ana.sub).anonymised == 2
    assert forget_person(ana.sub).anonymised == 0, "a second run finds nothing of mine left to anonymise"
