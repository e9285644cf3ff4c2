"""Terms change only by consent (issue 9, part 2).

`promise` and `accept` take the terms as they stand; new terms are a `counter`, and a customer
who is not satisfied may restate what remains. A new due time is never in the past.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from shared.domain.timeutil import parse_rfc3339, to_rfc3339, utc_now
from tests.handler import test_promises
from tests.handler.test_counterpart_links import OUTSIDE, make_link, public
from tests.handler.test_promises import Person, get, log_of, move, moved, open_promise, opening_body

make_person, ana, bea = test_promises.make_person, test_promises.ana, test_promises.bea


def _in(days: float) -> str:
    return to_rfc3339(utc_now() + timedelta(days=days))


def _fields(reply: object) -> list[tuple[str, str]]:
    problem = reply.problem  # type: ignore[attr-defined]
    return [(e["field"], e["code"]) for e in problem["errors"]]


def test_the_performer_cannot_promise_on_terms_the_customer_never_asked(ana: Person, bea: Person) -> None:
    """The issue's case: due in 3 days, "reviewed by two peers"; the performer answers with a
    promise due in 2199 on "nothing in particular"."""
    due = _in(3)
    asked = open_promise(ana, bea, dueAt=due, conditions=["reviewed by two peers"])["promiseId"]
    reply = move(bea, asked, "promise", dueAt="2199-12-31T00:00:00Z", conditions=["nothing in particular"])
    assert reply.status == 422, reply.body
    assert sorted(_fields(reply)) == [
        ("conditions", "terms_not_changeable"),
        ("dueAt", "terms_not_changeable"),
    ]
    assert "counter" in reply.problem["detail"]
    seen = get(ana, asked)
    assert (seen["state"], seen["dueAt"], seen["conditions"]) == ("requested", due, ["reviewed by two peers"])
    assert len(log_of(ana, asked)) == 1, "no move was appended"


def test_promise_and_accept_may_repeat_the_terms_as_they_stand(ana: Person, bea: Person) -> None:
    due = _in(3)
    asked = open_promise(ana, bea, dueAt=due, conditions=["two reviews"])["promiseId"]
    assert moved(bea, asked, "promise", dueAt=due, conditions=["two reviews"])["state"] == "promised"
    offered = open_promise(bea, ana, "offer", dueAt=due, conditions=["a draft"])["promiseId"]
    # The same instant written with another offset is the same due time.
    in_tokyo = parse_rfc3339(due).astimezone(ZoneInfo("Asia/Tokyo")).isoformat()
    accepted = moved(ana, offered, "accept", dueAt=in_tokyo, conditions=["a draft"])
    assert (accepted["state"], accepted["dueAt"]) == ("promised", due)


def test_new_terms_are_a_counter_and_the_other_side_accepts_them(ana: Person, bea: Person) -> None:
    asked = open_promise(ana, bea, dueAt=_in(3), conditions=["reviewed by two peers"])["promiseId"]
    later = _in(10)
    countered = moved(bea, asked, "counter", dueAt=later, conditions=["reviewed by one peer"])
    assert (countered["state"], countered["dueAt"], countered["conditions"]) == (
        "countered",
        later,
        ["reviewed by one peer"],
    )
    # The customer cannot slip other terms into the accept...
    sneaky = move(ana, asked, "accept", conditions=["reviewed by three peers"])
    assert sneaky.status == 422
    assert _fields(sneaky) == [("conditions", "terms_not_changeable")]
    # ...but may counter again (a new request), which the performer then answers.
    again = moved(ana, asked, "counter", conditions=["reviewed by two peers"])
    assert again["state"] == "requested"
    accepted = moved(bea, asked, "promise")
    assert (accepted["state"], accepted["dueAt"], accepted["conditions"]) == (
        "promised",
        later,
        ["reviewed by two peers"],
    )


def test_declare_not_satisfied_may_restate_what_remains_but_not_in_the_past(ana: Person, bea: Person) -> None:
    asked = open_promise(ana, bea, dueAt=_in(3))["promiseId"]
    moved(bea, asked, "promise")
    moved(bea, asked, "report_completion")
    past = move(
        ana, asked, "declare_not_satisfied", dueAt="2000-01-01T00:00:00Z", conditions=["fix section 2"]
    )
    assert past.status == 422
    assert _fields(past) == [("dueAt", "due_in_past")]
    assert get(ana, asked)["state"] == "reported", "a refused move changes nothing"
    restated = moved(ana, asked, "declare_not_satisfied", dueAt=_in(5), conditions=["fix section 2"])
    assert (restated["state"], restated["conditions"]) == ("promised", ["fix section 2"])


def test_a_counter_cannot_set_a_past_due_time(ana: Person, bea: Person) -> None:
    asked = open_promise(ana, bea, dueAt=_in(3))["promiseId"]
    reply = move(bea, asked, "counter", dueAt=_in(-1))
    assert reply.status == 422
    assert _fields(reply) == [("dueAt", "due_in_past")]


def test_a_new_promise_cannot_be_due_in_the_past(ana: Person, bea: Person) -> None:
    reply = ana("POST", "/v1/me/promises", body=opening_body(bea, dueAt="2000-01-01T00:00:00Z"))
    assert reply.status == 422
    assert _fields(reply) == [("dueAt", "due_in_past")]
    assert ana("GET", "/v1/me/promises").body["items"] == []
    # A phone's clock a minute behind is not "the past".
    assert ana("POST", "/v1/me/promises", body=opening_body(bea, dueAt=_in(-1 / 1440))).status == 201


def test_an_overdue_promise_still_takes_moves_that_repeat_its_terms(ana: Person, bea: Person) -> None:
    """Only a *new* due time must not be in the past: an app that sends an overdue promise's
    own due time back with a report changes nothing, and is not refused for it."""
    asked = open_promise(ana, bea, dueAt=_in(1 / 1440))["promiseId"]
    moved(bea, asked, "promise")
    overdue = "2000-01-01T00:00:00Z"
    aws_item = {"PK": {"S": f"PROMISE#{asked}"}, "SK": {"S": "PROMISE"}}
    bea.aws.ddb().update_item(
        TableName="career-journey-test",
        Key=aws_item,
        UpdateExpression="SET dueAt = :d",
        ExpressionAttributeValues={":d": {"S": overdue}},
    )
    assert moved(bea, asked, "report_completion", dueAt=overdue)["state"] == "reported"


def test_an_outside_counterpart_cannot_promise_on_new_terms_either(ana: Person) -> None:
    asked = open_promise(ana, OUTSIDE, dueAt=_in(3), conditions=["two reviews"])["promiseId"]
    token = make_link(ana, asked)
    reply = public(
        "POST", f"/v1/counterpart/{token}/moves", body={"act": "promise", "dueAt": "2199-12-31T00:00:00Z"}
    )
    assert reply.status == 422, reply.body
    assert _fields(reply) == [("dueAt", "terms_not_changeable")]
    assert public("POST", f"/v1/counterpart/{token}/moves", body={"act": "promise"}).status == 200
    assert get(ana, asked)["dueAt"] != "2199-12-31T00:00:00Z"
