"""DynamoDB requests per promise route, counted by a botocore hook (see test_request_counts.py).

Issue 4, "Must hold": one request per read route; a move is at most a read and one
transactional write, plus the idempotency records only when the client sends a key. Never a Scan.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from shared.domain.timeutil import to_rfc3339, utc_now
from tests.handler import test_promises
from tests.handler.test_promises import Person, create_care, moved, open_promise, opening_body

# The people of test_promises, by reference.
make_person, ana, bea = test_promises.make_person, test_promises.ana, test_promises.bea

ASSESSMENT = {"value": 5, "enabled": "Hiring went faster"}
ONE_WRITE = Counter({"GetItem": 1, "TransactWriteItems": 1})
OPENING = Counter({"BatchGetItem": 1, "TransactWriteItems": 1})


def counted(person: Person, method: str, path: str, **kwargs: Any) -> Counter[str]:
    person.aws.requests.clear()
    reply = person(method, path, **kwargs)
    assert reply.status < 400, reply.body
    # Besides its own budget, every signed-in request reads the erasure marker once.
    assert person.aws.requests.account_checks == 1
    return person.aws.requests.counts


def test_every_read_route_is_one_request(ana: Person, bea: Person) -> None:
    care = create_care(ana, "Care")
    ids = [open_promise(ana, bea, careIds=[care])["promiseId"] for _ in range(3)]
    ids.append(open_promise(ana, {"name": "Outside"}, "promise")["promiseId"])
    moved(bea, ids[0], "promise")
    moved(bea, ids[0], "report_completion")
    moved(ana, ids[0], "declare_satisfied")
    before = to_rfc3339(utc_now() + timedelta(days=30))

    pid = ids[0]
    assert counted(ana, "GET", f"/v1/me/promises/{pid}") == Counter({"GetItem": 1})
    assert counted(ana, "GET", f"/v1/me/promises/{pid}/moves") == Counter({"Query": 1})
    assert counted(bea, "GET", f"/v1/me/promises/{pid}/moves") == Counter({"Query": 1})
    for query in (
        {},
        {"role": "customer"},
        {"state": "requested"},
        {"role": "performer", "state": "promised"},
        {"careId": care},
        {"careId": care, "state": "requested"},
        {"careId": care, "role": "customer", "state": "fulfilled"},
        {"dueBefore": before},
        {"dueBefore": before, "role": "customer", "state": "requested"},
        {"limit": "1"},
    ):
        assert counted(ana, "GET", "/v1/me/promises", query=query) == Counter({"Query": 1}), query
    assert counted(bea, "GET", "/v1/me/journey") == Counter({"Query": 1, "BatchGetItem": 1})
    assert counted(bea, "GET", "/v1/me/journey", query={"from": "2017-01", "to": "2026-12"}) == Counter(
        {"Query": 1, "BatchGetItem": 1}
    ), "ten years cost what one does: the months' Query and the streak with my time zone"


def test_a_list_page_with_a_cursor_is_one_request(ana: Person, bea: Person) -> None:
    for _ in range(3):
        open_promise(ana, bea)
    first = ana("GET", "/v1/me/promises", query={"limit": "2"})
    cursor = first.body["nextCursor"]
    assert cursor
    assert counted(ana, "GET", "/v1/me/promises", query={"limit": "2", "cursor": cursor}) == Counter(
        {"Query": 1}
    )


def test_opening_with_an_outside_person_is_a_read_and_one_write(ana: Person) -> None:
    body = opening_body({"name": "Outside"}, "promise")
    assert counted(ana, "POST", "/v1/me/promises", body=body) == OPENING
    care = create_care(ana, "Care")
    body = opening_body({"name": "Outside"}, "request", careIds=[care])
    assert counted(ana, "POST", "/v1/me/promises", body=body) == OPENING


def test_opening_with_an_app_user_is_exactly_two_requests(ana: Person, bea: Person) -> None:
    """The push is the notifier's (from the stream): nothing after the transaction."""
    for opening in ("request", "offer", "promise"):
        assert counted(ana, "POST", "/v1/me/promises", body=opening_body(bea, opening)) == OPENING, opening


def test_a_move_is_a_read_and_one_write(ana: Person, bea: Person) -> None:
    care = create_care(ana, "Care")
    pid = open_promise(ana, bea, careIds=[care])["promiseId"]
    for person, act in (
        (bea, "counter"),
        (ana, "counter"),
        (bea, "promise"),
        (bea, "report_completion"),
        (ana, "declare_not_satisfied"),
        (bea, "report_completion"),
        (ana, "declare_satisfied"),
    ):
        reply_counts = counted(person, "POST", f"/v1/me/promises/{pid}/moves", body={"act": act})
        assert reply_counts == ONE_WRITE, act
    outside = open_promise(ana, {"name": "Outside"}, "promise")["promiseId"]
    assert counted(ana, "POST", f"/v1/me/promises/{outside}/moves", body={"act": "revoke"}) == ONE_WRITE


def test_a_move_with_if_match_is_still_a_read_and_one_write(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    counts = counted(
        bea, "POST", f"/v1/me/promises/{pid}/moves", body={"act": "promise"}, headers={"If-Match": '"v1"'}
    )
    assert counts == ONE_WRITE


def test_refused_moves_stop_at_the_read(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    for body, headers in (
        ({"act": "declare_satisfied"}, {}),  # illegal: 409
        ({"act": "promise"}, {"If-Match": '"v9"'}),  # stale: 412
    ):
        bea.aws.requests.clear()
        reply = bea("POST", f"/v1/me/promises/{pid}/moves", body=body, headers=headers)
        assert reply.status in (409, 412)
        assert bea.aws.requests.counts == Counter({"GetItem": 1}), body


def test_an_assessment_is_a_read_and_one_write(ana: Person, bea: Person) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    moved(bea, pid, "promise")
    moved(bea, pid, "report_completion")
    assert counted(ana, "POST", f"/v1/me/promises/{pid}/assessment", body=ASSESSMENT) == ONE_WRITE
    assert counted(bea, "POST", f"/v1/me/promises/{pid}/self-assessment", body={"value": 4}) == ONE_WRITE


# Powertools idempotency: PutItem (in progress) and UpdateItem (completed) around the route.
IDEMPOTENCY_RECORDS = Counter({"PutItem": 1, "UpdateItem": 1})
# Openings and moves may carry an app-made id: a keyed one without it gets the id bound to its key
# (one conditional PutItem more, shared/api/idempotency.py).
KEY_BOUND_ID = Counter({"PutItem": 1})
REPLAY = Counter({"PutItem": 1})


def test_an_idempotency_key_adds_only_the_idempotency_records(ana: Person, bea: Person) -> None:
    body = opening_body(bea)
    key = {"Idempotency-Key": "open-1"}
    assert (
        counted(ana, "POST", "/v1/me/promises", body=body, headers=key)
        == OPENING + IDEMPOTENCY_RECORDS + KEY_BOUND_ID
    )
    assert counted(ana, "POST", "/v1/me/promises", body=body, headers=key) == REPLAY

    pid = ana("GET", "/v1/me/promises").body["items"][0]["promiseId"]
    move: dict[str, Any] = {"act": "promise"}
    key = {"Idempotency-Key": "move-1"}
    path = f"/v1/me/promises/{pid}/moves"
    assert (
        counted(bea, "POST", path, body=move, headers=key) == ONE_WRITE + IDEMPOTENCY_RECORDS + KEY_BOUND_ID
    )
    assert counted(bea, "POST", path, body=move, headers=key) == REPLAY

    moved(bea, pid, "report_completion")
    key = {"Idempotency-Key": "assess-1"}
    path = f"/v1/me/promises/{pid}/assessment"
    assert counted(ana, "POST", path, body=ASSESSMENT, headers=key) == ONE_WRITE + IDEMPOTENCY_RECORDS
    assert counted(ana, "POST", path, body=ASSESSMENT, headers=key) == REPLAY


def test_no_promise_route_scans(ana: Person, bea: Person) -> None:
    ana.aws.requests.clear()
    care = create_care(ana, "Care")
    pid = open_promise(ana, bea, careIds=[care])["promiseId"]
    moved(bea, pid, "promise")
    moved(bea, pid, "report_completion")
    moved(ana, pid, "declare_satisfied")
    ana("POST", f"/v1/me/promises/{pid}/assessment", body=ASSESSMENT)
    for person in (ana, bea):
        person("GET", f"/v1/me/promises/{pid}")
        person("GET", f"/v1/me/promises/{pid}/moves")
        person("GET", "/v1/me/promises", query={"careId": care, "role": "customer"})
        person("GET", "/v1/me/promises", query={"role": "performer", "state": "fulfilled"})
        person("GET", "/v1/me/journey")
    assert "Scan" not in ana.aws.requests.operations
    assert ana.aws.requests.operations, "the hook saw the requests"
