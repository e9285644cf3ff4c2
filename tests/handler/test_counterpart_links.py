"""Outside counterparts act through a link (issue 4; CONTRACT.md's
`/v1/me/promises/{promiseId}/counterpart-link` and `/v1/counterpart/{token}` routes): the promise
function on moto, its handler called in-process.

The link's token is the only credential: the counterpart routes are called with no authorizer
claims at all (`user=None`), as API Gateway passes them on (`Auth: {Authorizer: NONE}`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import timedelta
from typing import Any

from functions.promise.app import lambda_handler as promise_handler
from shared.domain.timeutil import to_rfc3339
from tests.handler import test_promises
from tests.handler.test_promises import (
    ASSESSMENT,
    Clock,
    Person,
    get,
    inbox,
    log_of,
    moved,
    open_promise,
)
from tests.support.aws import Aws, Reply, http_event, invoke

OUTSIDE = {"name": "Olga Outside", "email": "olga.outside@example.org"}
TTL = timedelta(days=14)
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
ONE_WRITE = Counter({"GetItem": 1, "TransactWriteItems": 1})
# The link's rate limit counter, one per request through a link whose token checked out
# (`shared.api.ratelimit`); a write checks the token first, with a GetItem of its own.
LINK_LIMIT = Counter({"UpdateItem": 1})
LINK_CHECK = Counter({"GetItem": 1}) + LINK_LIMIT

# The fixture that sets the promise function's clock (2026-03-10T09:00:00Z), shared with test_promises.
clock = test_promises.clock
make_person, ana, bea, cai = (
    test_promises.make_person,
    test_promises.ana,
    test_promises.bea,
    test_promises.cai,
)


# --- helpers -----------------------------------------------------------------------------------


def public(method: str, path: str, **kwargs: Any) -> Reply:
    """A request with no Authorization at all: no authorizer claims in the event."""
    return invoke(promise_handler, http_event(method, path, user=None, **kwargs))


def link_reply(person: Person, promise_id: str) -> Reply:
    return person("POST", f"/v1/me/promises/{promise_id}/counterpart-link")


def make_link(person: Person, promise_id: str) -> str:
    """A new link for the promise's outside side; answers its token (the url's last segment)."""
    reply = link_reply(person, promise_id)
    assert reply.status == 201, reply.body
    return str(reply.body["url"]).rsplit("/", 1)[-1]


def revoke(person: Person, promise_id: str) -> Reply:
    return person("DELETE", f"/v1/me/promises/{promise_id}/counterpart-link")


def look(token: str) -> Reply:
    return public("GET", f"/v1/counterpart/{token}")


def seen(token: str) -> dict[str, Any]:
    reply = look(token)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def act(token: str, what: str, headers: dict[str, str] | None = None, **fields: Any) -> Reply:
    return public("POST", f"/v1/counterpart/{token}/moves", body={"act": what, **fields}, headers=headers)


def acted(token: str, what: str, **fields: Any) -> dict[str, Any]:
    reply = act(token, what, **fields)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def assess(token: str, body: dict[str, Any] | None = None) -> Reply:
    return public("POST", f"/v1/counterpart/{token}/assessment", body=body or ASSESSMENT)


def secret_of(token: str) -> str:
    promise_id, dot, secret = token.partition(".")
    assert dot == ".", token
    assert promise_id
    return secret


def is_not_found(reply: Reply) -> bool:
    return reply.status == 404 and reply.headers.get("Content-Type") == "application/problem+json"


def offer_to_outside(person: Person, **fields: Any) -> str:
    """`person` offers to an outside customer; answers the promise id."""
    return str(open_promise(person, dict(OUTSIDE), "offer", **fields)["promiseId"])


def request_of_outside(person: Person, **fields: Any) -> str:
    """`person` asks an outside performer; answers the promise id."""
    return str(open_promise(person, dict(OUTSIDE), "request", **fields)["promiseId"])


def table_text(aws: Aws) -> str:
    return json.dumps(aws.all_items(), default=str, sort_keys=True)


# --- making a link -----------------------------------------------------------------------------


def test_a_link_for_an_outside_counterpart_is_201_with_url_and_expiry(ana: Person, clock: Clock) -> None:
    pid = offer_to_outside(ana)
    reply = link_reply(ana, pid)
    assert reply.status == 201, reply.body
    assert set(reply.body) == {"url", "expiresAt"}
    assert reply.body["expiresAt"] == to_rfc3339(clock.now + TTL) == "2026-03-24T09:00:00Z"
    url = str(reply.body["url"])
    assert url.startswith("https://api.example.com/v1/counterpart/"), url
    token = url.rsplit("/", 1)[-1]
    assert url == f"https://api.example.com/v1/counterpart/{token}"
    assert token.startswith(f"{pid}.")
    assert seen(token)["what"] == get(ana, pid)["what"]


def test_a_link_for_a_promise_with_an_app_user_is_409(ana: Person, bea: Person, aws: Aws) -> None:
    pid = open_promise(ana, bea)["promiseId"]
    for person in (ana, bea):
        reply = link_reply(person, pid)
        assert reply.status == 409, reply.body
        assert reply.problem["status"] == 409
    assert "counterpartLink" not in table_text(aws)


def test_a_third_person_can_neither_make_nor_revoke_a_link(ana: Person, cai: Person) -> None:
    pid = offer_to_outside(ana)
    made = link_reply(cai, pid)
    assert is_not_found(made), made.body
    token = make_link(ana, pid)
    revoked = revoke(cai, pid)
    assert is_not_found(revoked), revoked.body
    assert seen(token)["state"] == "offered"
    unknown = link_reply(cai, "01JZZZZZZZZZZZZZZZZZZZZZZZ")
    assert is_not_found(unknown), unknown.body


def test_making_a_link_needs_a_signed_in_person(ana: Person) -> None:
    pid = offer_to_outside(ana)
    reply = public("POST", f"/v1/me/promises/{pid}/counterpart-link")
    assert reply.status == 401, reply.body


def test_the_token_is_high_entropy_and_only_its_hash_is_stored(ana: Person, aws: Aws) -> None:
    first_pid, second_pid = offer_to_outside(ana), request_of_outside(ana)
    tokens = [make_link(ana, first_pid), make_link(ana, second_pid), make_link(ana, second_pid)]
    assert tokens[0].startswith(f"{first_pid}.")
    assert tokens[1].startswith(f"{second_pid}.")
    secrets = [secret_of(t) for t in tokens]
    for secret in secrets:
        assert len(secret) >= 43, secret  # 256 bits in base64url
        assert URL_SAFE.fullmatch(secret), secret
    assert len(set(secrets)) == 3
    stored = table_text(aws)
    for token, secret in zip(tokens, secrets, strict=True):
        assert secret not in stored
        assert token not in stored
    # The links in force are kept as SHA-256 digests; the replaced one is gone.
    assert hashlib.sha256(secrets[0].encode()).hexdigest() in stored
    assert hashlib.sha256(secrets[2].encode()).hexdigest() in stored
    assert hashlib.sha256(secrets[1].encode()).hexdigest() not in stored


# --- what the holder sees ----------------------------------------------------------------------


def test_the_holder_sees_the_terms_and_nothing_else_of_the_person(ana: Person, aws: Aws) -> None:
    care = ana.care("POST", "/v1/me/cares", body={"statement": "Ana's private care", "domain": "self"})
    assert care.status == 201, care.body
    care_id = care.body["careId"]
    open_promise(ana, dict(OUTSIDE), "offer", what="Ana's other, private promise")
    pid = offer_to_outside(
        ana, what="Draft the hiring plan", conditions=["Two roles", "Budget"], careIds=[care_id]
    )
    token = make_link(ana, pid)
    acted(token, "accept")
    moved(ana, pid, "report_completion")
    own = ana("POST", f"/v1/me/promises/{pid}/self-assessment", body={"value": 2, "note": "Ana only"})
    assert own.status == 201, own.body
    mine = get(ana, pid)

    reply = look(token)
    assert reply.status == 200, reply.body
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["ETag"] == ana("GET", f"/v1/me/promises/{pid}").headers["ETag"]
    body = reply.body
    listed = {"what", "conditions", "dueAt", "state", "myRole", "allowedActs", "canAssess", "waitingOn"}
    assert listed | {"counterpart"} <= set(body)
    assert set(body) <= listed | {"counterpart", "assessment"}, sorted(body)
    assert body["what"] == "Draft the hiring plan"
    assert body["conditions"] == ["Two roles", "Budget"]
    assert body["dueAt"] == mine["dueAt"]
    assert body["state"] == "reported"
    assert body["myRole"] == "customer"
    assert sorted(body["allowedActs"]) == ["cancel", "declare_not_satisfied", "declare_satisfied"]
    assert body["canAssess"] is True
    assert body["waitingOn"] == "customer"
    assert body.get("assessment") is None
    counterpart = {k: v for k, v in body["counterpart"].items() if v not in (None, False)}
    assert counterpart == {"kind": "user", "handle": ana.handle}
    assert body["counterpart"].get("email") is None
    assert body["counterpart"].get("name") is None

    text = json.dumps(body)
    for private in (
        ana.sub,
        ana.username,
        care_id,
        "Ana's private care",
        "Ana's other, private promise",
        "Ana only",
        "selfAssessment",
        "careIds",
        "userId",
        OUTSIDE["email"],
        "Ana",  # her display name
        "promiseId",
    ):
        assert private not in text, private
    for user_id in {str(i["PK"]).removeprefix("USER#") for i in aws.all_items()} - {""}:
        assert user_id not in text, user_id


def test_the_move_answer_shows_no_more_than_the_get(ana: Person) -> None:
    pid = offer_to_outside(ana)
    token = make_link(ana, pid)
    answer = act(token, "accept")
    assert answer.status == 200, answer.body
    assert answer.body == seen(token)
    assert answer.headers["ETag"] == look(token).headers["ETag"] == '"v2"'
    text = json.dumps(answer.body)
    assert ana.sub not in text
    assert OUTSIDE["email"] not in text
    assert answer.body["counterpart"].get("email") is None


def test_malformed_unknown_and_tampered_tokens_are_all_404_alike(ana: Person) -> None:
    pid = offer_to_outside(ana)
    other = offer_to_outside(ana)
    token = make_link(ana, pid)
    other_token = make_link(ana, other)
    secret = secret_of(token)

    def changed(text: str, at: int) -> str:
        return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]

    bad = [
        "x",
        "nodot",
        pid,
        f"{pid}.",
        f"{pid}.short",
        f".{secret}",
        f"{pid}.{secret}x",
        f"{pid}.{secret[:-1]}",
        f"{pid}.{changed(secret, 0)}",
        f"{pid}.{changed(secret, len(secret) // 2)}",
        f"{pid}.{changed(secret, len(secret) - 1)}",
        f"{changed(pid, len(pid) - 1)}.{secret}",
        f"{pid}.{secret_of(other_token)}",  # another promise's secret
        f"{other}.{secret}",  # this secret on another promise
        f"01JZZZZZZZZZZZZZZZZZZZZZZZ.{secret}",  # no such promise
        f"{pid}-{secret}",
        f"{pid}..{secret}",
    ]
    problems = []
    for candidate in bad:
        for reply in (look(candidate), act(candidate, "accept"), assess(candidate)):
            assert is_not_found(reply), (candidate, reply.status, reply.body)
            problems.append({k: v for k, v in reply.body.items() if k != "instance"})
    assert all(p == problems[0] for p in problems), "every bad token is answered the same way"
    assert seen(token)["state"] == "offered", "nothing moved"
    assert len(log_of(ana, pid)) == 1


def test_an_overlong_token_is_404_like_any_malformed_one(ana: Person) -> None:
    """A token too long to be one is malformed: 404 like the others, never a 422 that tells the
    shape apart."""
    pid = offer_to_outside(ana)
    make_link(ana, pid)
    for token in (f"{pid}." + "a" * 300, "b" * 201):
        for reply in (look(token), act(token, "accept"), assess(token)):
            assert is_not_found(reply), (reply.status, reply.body)


def test_an_expired_link_is_404(ana: Person, clock: Clock) -> None:
    pid = request_of_outside(ana)
    token = make_link(ana, pid)
    clock.advance(days=14, seconds=-1)
    assert seen(token)["state"] == "requested"
    clock.advance(seconds=2)  # 14 days and 1 second after the link was made
    for reply in (look(token), act(token, "promise"), assess(token)):
        assert is_not_found(reply), (reply.status, reply.body)
    assert get(ana, pid)["state"] == "requested"
    # A new link works again for 14 days.
    fresh = link_reply(ana, pid)
    assert fresh.status == 201, fresh.body
    assert fresh.body["expiresAt"] == to_rfc3339(clock.now + TTL)
    assert seen(str(fresh.body["url"]).rsplit("/", 1)[-1])["state"] == "requested"


# --- revoking and replacing --------------------------------------------------------------------


def test_revoking_makes_the_link_404_at_once(ana: Person) -> None:
    pid = offer_to_outside(ana)
    token = make_link(ana, pid)
    assert seen(token)["state"] == "offered"
    reply = revoke(ana, pid)
    assert reply.status == 204, reply.body
    for answer in (look(token), act(token, "accept"), assess(token)):
        assert is_not_found(answer), (answer.status, answer.body)
    again = revoke(ana, pid)
    assert is_not_found(again), again.body
    assert get(ana, pid)["state"] == "offered"
    # Revoking ends that link, not the promise: a new one works.
    assert acted(make_link(ana, pid), "accept")["state"] == "promised"
    assert is_not_found(look(token))


def test_revoking_without_a_link_is_404(ana: Person) -> None:
    pid = offer_to_outside(ana)
    reply = revoke(ana, pid)
    assert is_not_found(reply), reply.body


def test_a_new_link_replaces_the_old_one(ana: Person) -> None:
    pid = offer_to_outside(ana)
    old = make_link(ana, pid)
    new = make_link(ana, pid)
    assert old != new
    for reply in (look(old), act(old, "accept"), assess(old)):
        assert is_not_found(reply), (reply.status, reply.body)
    assert acted(new, "accept")["state"] == "promised"


# --- acting through the link -------------------------------------------------------------------


def test_the_outside_customer_accepts_an_offer_and_the_app_user_sees_it(ana: Person) -> None:
    pid = offer_to_outside(ana)
    token = make_link(ana, pid)
    before = seen(token)
    assert (before["state"], before["myRole"], before["waitingOn"]) == ("offered", "customer", "customer")
    assert sorted(before["allowedActs"]) == ["accept", "counter", "decline"]
    assert before["canAssess"] is False

    reply = act(token, "accept", note="Deal")
    assert reply.status == 200, reply.body
    assert reply.body["state"] == "promised"
    assert reply.body["allowedActs"] == ["cancel"]
    assert reply.body["waitingOn"] == "performer"

    mine = get(ana, pid)
    assert mine["state"] == "promised"
    assert sorted(mine["allowedActs"]) == ["report_completion", "revoke"]
    log = log_of(ana, pid)
    assert [m["act"] for m in log] == ["offer", "accept"]
    last = log[-1]
    assert (last["role"], last["state"], last["note"]) == ("customer", "promised", "Deal")
    assert last["by"]["kind"] == "outside"
    assert last["by"]["isMe"] is False
    assert last["by"]["name"] == OUTSIDE["name"]


def test_acts_of_the_other_role_are_409_with_allowed_acts(ana: Person) -> None:
    offer = offer_to_outside(ana)
    customer_token = make_link(ana, offer)
    for what in ("withdraw", "promise", "report_completion", "revoke", "declare_satisfied"):
        reply = act(customer_token, what)
        assert reply.status == 409, (what, reply.body)
        assert sorted(reply.problem["allowedActs"]) == ["accept", "counter", "decline"], what
    assert len(log_of(ana, offer)) == 1

    request = request_of_outside(ana)
    performer_token = make_link(ana, request)
    for what in ("accept", "withdraw", "cancel", "declare_satisfied", "report_completion"):
        reply = act(performer_token, what)
        assert reply.status == 409, (what, reply.body)
        assert sorted(reply.problem["allowedActs"]) == ["counter", "decline", "promise"], what
    assert seen(performer_token)["state"] == "requested"
    assert len(log_of(ana, request)) == 1


def test_a_stale_if_match_is_412(ana: Person) -> None:
    pid = request_of_outside(ana)
    token = make_link(ana, pid)
    first = look(token).headers["ETag"]
    countered = act(token, "counter", headers={"If-Match": first}, conditions=["Friday instead"])
    assert countered.status == 200, countered.body
    assert countered.headers["ETag"] != first
    moved(ana, pid, "counter", conditions=["Thursday then"])  # the app user moves meanwhile
    stale = act(token, "promise", headers={"If-Match": countered.headers["ETag"]})
    assert stale.status == 412, stale.body
    assert stale.headers["Content-Type"] == "application/problem+json"
    assert seen(token)["state"] == "requested"
    assert [m["act"] for m in log_of(ana, pid)] == ["request", "counter", "counter"]
    fresh = act(token, "promise", headers={"If-Match": look(token).headers["ETag"]})
    assert fresh.status == 200, fresh.body
    assert fresh.body["state"] == "promised"


def test_the_outside_customer_assesses_once_after_completion(ana: Person) -> None:
    pid = offer_to_outside(ana)
    token = make_link(ana, pid)
    acted(token, "accept")
    early = assess(token)
    assert early.status == 409, early.body
    assert seen(token)["canAssess"] is False

    moved(ana, pid, "report_completion")
    assert seen(token)["canAssess"] is True
    reply = assess(token)
    assert reply.status == 201, reply.body
    assert {k: reply.body[k] for k in ASSESSMENT} == ASSESSMENT
    assert reply.body["assessedAt"]

    second = assess(token, {"value": 1, "enabled": "Nothing"})
    assert second.status == 409, second.body
    after = seen(token)
    assert after["canAssess"] is False
    assert after["assessment"] == reply.body
    assert get(ana, pid)["assessment"] == reply.body

    assert acted(token, "declare_satisfied")["state"] == "fulfilled"
    assert get(ana, pid)["state"] == "fulfilled"


def test_an_outside_performer_promises_and_reports_but_cannot_assess(ana: Person) -> None:
    pid = request_of_outside(ana)
    token = make_link(ana, pid)
    view = seen(token)
    assert (view["myRole"], view["state"], view["waitingOn"]) == ("performer", "requested", "performer")
    assert sorted(view["allowedActs"]) == ["counter", "decline", "promise"]
    assert view["canAssess"] is False

    assert acted(token, "promise")["state"] == "promised"
    reported = acted(token, "report_completion")
    assert reported["state"] == "reported"
    assert reported["allowedActs"] == []
    assert reported["canAssess"] is False

    reply = assess(token)
    assert reply.status == 409, reply.body
    assert get(ana, pid).get("assessment") is None

    mine = get(ana, pid)
    assert mine["state"] == "reported"
    assert sorted(mine["allowedActs"]) == ["cancel", "declare_not_satisfied", "declare_satisfied"]
    assert [m["by"]["kind"] for m in log_of(ana, pid)] == ["user", "outside", "outside"]
    moved(ana, pid, "declare_satisfied")
    assert seen(token)["state"] == "fulfilled"
    assert seen(token)["allowedActs"] == []


def test_the_app_user_gets_an_inbox_item_when_the_promise_then_waits_on_them(ana: Person) -> None:
    offer = offer_to_outside(ana)
    request = request_of_outside(ana)
    assert inbox(ana) == []

    acted(make_link(ana, offer), "accept")  # now ana is to deliver
    items = inbox(ana)
    assert len(items) == 1, items
    assert items[0]["data"]["promiseId"] == offer
    assert items[0]["data"]["act"] == "accept"
    assert items[0]["data"]["state"] == "promised"

    token = make_link(ana, request)
    acted(token, "promise")  # the outside performer is to deliver: nothing for ana to do
    assert [i["data"]["promiseId"] for i in inbox(ana)] == [offer]
    acted(token, "report_completion")  # now ana is to assess
    latest = [i for i in inbox(ana) if i["data"]["promiseId"] == request]
    assert len(latest) == 1, latest
    assert latest[0]["data"]["act"] == "report_completion"
    assert latest[0]["data"]["state"] == "reported"


# --- DynamoDB requests -------------------------------------------------------------------------


def test_reading_by_token_is_one_get_item_and_a_move_is_a_read_and_one_write(ana: Person, aws: Aws) -> None:
    """Besides, every request through a link counts against the link's rate limit once its token
    checked out: one UpdateItem (`shared.api.ratelimit`); for a write, after a GetItem of its own
    (`LINK_CHECK`), so that a forged token leaves nothing."""
    pid = offer_to_outside(ana)
    token = make_link(ana, pid)

    aws.requests.clear()
    assert look(token).status == 200
    assert aws.requests.counts == Counter({"GetItem": 1}) + LINK_LIMIT

    aws.requests.clear()
    assert act(token, "accept").status == 200
    assert aws.requests.counts == ONE_WRITE + LINK_CHECK

    moved(ana, pid, "report_completion")
    aws.requests.clear()
    assert assess(token).status == 201
    assert aws.requests.counts == ONE_WRITE + LINK_CHECK

    aws.requests.clear()
    assert act(token, "declare_satisfied", headers={"If-Match": look(token).headers["ETag"]}).status == 200
    # the GET, then the move, each counted
    assert aws.requests.counts == Counter({"GetItem": 1}) + LINK_LIMIT + ONE_WRITE + LINK_CHECK


def test_a_refused_move_by_token_stops_at_the_read(ana: Person, aws: Aws) -> None:
    pid = offer_to_outside(ana)
    token = make_link(ana, pid)
    for headers, what in (({}, "withdraw"), ({"If-Match": '"v9"'}, "accept")):
        aws.requests.clear()
        reply = act(token, what, headers=headers)
        assert reply.status in (409, 412), reply.body
        assert aws.requests.counts == Counter({"GetItem": 1}) + LINK_CHECK, what
    aws.requests.clear()
    assert is_not_found(look(f"{pid}.{'A' * 43}"))
    assert aws.requests.counts == Counter({"GetItem": 1}), "a forged token is not counted"
    aws.requests.clear()
    assert is_not_found(look(f"{pid}.short"))
    assert aws.requests.counts == Counter(), "a malformed token: no read, nothing counted"


# --- retries: Idempotency-Key on the link's routes (issue 9, part 6) ---------------------------


def test_a_retried_assessment_with_its_key_answers_the_first_response(ana: Person, aws: Aws) -> None:
    pid = offer_to_outside(ana)
    token = make_link(ana, pid)
    acted(token, "accept")
    moved(ana, pid, "report_completion")
    key = {"Idempotency-Key": "assess-1"}
    first = public("POST", f"/v1/counterpart/{token}/assessment", body=ASSESSMENT, headers=key)
    again = public("POST", f"/v1/counterpart/{token}/assessment", body=ASSESSMENT, headers=key)
    assert (first.status, again.status) == (201, 201), again.body
    assert again.body == first.body
    other = public(
        "POST", f"/v1/counterpart/{token}/assessment", body={"value": 1, "enabled": "x"}, headers=key
    )
    assert other.status == 422
    assert other.problem["errors"][0]["code"] == "idempotency_key_reused"
    assert sum(1 for i in aws.all_items() if str(i["SK"]).startswith("ASSESSMENT#")) == 1


def test_a_retried_move_with_its_key_is_made_once(ana: Person) -> None:
    pid = request_of_outside(ana)
    token = make_link(ana, pid)
    key = {"Idempotency-Key": "promise-1"}
    first = act(token, "promise", headers=key)
    again = act(token, "promise", headers=key)
    assert (first.status, again.status) == (200, 200), again.body
    assert again.body == first.body
    assert again.headers["ETag"] == first.headers["ETag"]
    assert [m["act"] for m in log_of(ana, pid)] == ["request", "promise"]
    # Without the key, the same retry is a second move, which the state machine refuses.
    assert act(token, "promise").status == 409


def test_a_bad_token_with_a_key_leaves_no_record(ana: Person, aws: Aws) -> None:
    pid = request_of_outside(ana)
    token = make_link(ana, pid)
    forged = f"{pid}.{'x' * 43}"
    before = table_text(aws)
    reply = act(forged, "promise", headers={"Idempotency-Key": "k"})
    assert reply.status == 404
    assert table_text(aws) == before
    assert act(token, "promise", headers={"Idempotency-Key": "k"}).status == 200
    # The record, and the move id bound to the key (shared/api/idempotency.py).
    records = [i for i in aws.all_items() if str(i["SK"]).startswith("IDEMPOTENCY#")]
    assert [r["PK"] for r in records] == [f"PROMISE#{pid}"] * 2, "kept in the promise's partition"
