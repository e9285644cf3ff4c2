"""Webhooks to partners (issue 11): configuration, events from the stream for the partners whose
grant covers them, signed deliveries (verified here with the `standardwebhooks` library), the
delivery log, retries through the queue, revocation, 410 and redelivery."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook as Verifier

from functions.webhook_fanout import app as fanout
from functions.webhook_sender import app as sender
from shared.store import webhooks as webhook_store
from tests.handler.test_notifier import _new_items, _record
from tests.handler.test_partners import as_partner, consent, grant, register
from tests.handler.test_promises import new_person, open_promise
from tests.support.aws import REGION, Aws, LambdaContext


class Receiver:
    """A partner's endpoint on 127.0.0.1: answers what it is told, keeps what it got."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.server.shutdown()


@pytest.fixture
def queue(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> str:
    url: str = boto3.client("sqs", region_name=REGION).create_queue(QueueName="webhooks")["QueueUrl"]
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")  # the receiver is on 127.0.0.1
    webhook_store.reset_clients()
    return url


def stream(aws: Aws, entity: str, seen: set[str]) -> None:
    """Feed the fan-out the new items of one entity, as the stream would."""
    for n, item in enumerate(_new_items(aws, entity)):
        name = item["PK"]["S"] + item["SK"]["S"]
        if name in seen:
            continue
        seen.add(name)
        result = fanout.lambda_handler({"Records": [_record(item, seq=n + 1)]}, LambdaContext())
        assert result == {"batchItemFailures": []}


def send_queued(queue: str) -> dict[str, Any]:
    """Hand what is on the queue to the sender, as Lambda's SQS poller would."""
    sqs = boto3.client("sqs", region_name=REGION)
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhooks",
            "awsRegion": REGION,
        }
        for m in got.get("Messages", [])
    ]
    if not records:
        return {"batchItemFailures": []}  # Lambda invokes nobody for an empty queue
    result: dict[str, Any] = sender.lambda_handler({"Records": records}, LambdaContext())
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in got.get("Messages", []):
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return result


def webhook(partner: dict[str, Any], url: str, events: list[str]) -> dict[str, Any]:
    reply = as_partner(partner, "PUT", "/partner/v1/webhook", body={"url": url, "events": events})
    assert reply.status in (200, 201), reply.body
    body: dict[str, Any] = reply.body
    return body


def test_configuration_shows_the_secret_once_and_refuses_private_addresses(
    aws: Aws, queue: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = register("Acme Coaching")
    made = as_partner(
        acme, "PUT", "/partner/v1/webhook", body={"url": receiver.url, "events": ["promise.moved"]}
    )
    assert made.status == 201, made.body
    assert made.body["secret"].startswith("whsec_")
    assert made.body["status"] == "enabled"
    again = as_partner(
        acme, "PUT", "/partner/v1/webhook", body={"url": receiver.url, "events": ["grant.created"]}
    )
    assert again.status == 200
    assert again.body.get("secret") is None, "the secret is shown once"
    assert as_partner(acme, "GET", "/partner/v1/webhook").body.get("secret") is None
    monkeypatch.delenv("WEBHOOKS_ALLOW_LOOPBACK")  # as deployed
    for unsafe in (
        receiver.url,
        "http://example.org/hooks",
        "https://10.0.0.7/hooks",
        "https://169.254.169.254/x",
    ):
        refused = as_partner(
            acme, "PUT", "/partner/v1/webhook", body={"url": unsafe, "events": ["promise.moved"]}
        )
        assert refused.status == 422, (unsafe, refused.body)
        assert [e["field"] for e in refused.problem["errors"]] == ["url"]
    no_scope = as_partner(acme, "GET", "/partner/v1/webhook", scopes=("clients.read",))
    assert no_scope.status == 403


def test_a_promise_move_reaches_the_partner_signed_once_and_logged(
    aws: Aws, queue: str, receiver: Receiver
) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    acme, beta = register("Acme Coaching"), register("Beta Coaching")
    secret = webhook(acme, receiver.url, ["promise.moved", "grant.created"])["secret"]
    webhook(beta, receiver.url, ["promise.moved"])  # Beta has no grant from Ana: hears nothing
    client_id = grant(ana, acme, ["promises.read"])["clientId"]
    seen: set[str] = set()
    stream(aws, "partner-client", seen)
    open_promise(ana, bea, what="Run the retro")
    stream(aws, "promise-move", seen)
    assert send_queued(queue) == {"batchItemFailures": []}
    types = sorted(e["type"] for e in receiver.events())
    assert types == ["grant.created", "promise.moved"]
    for headers, body in receiver.got:
        Verifier(secret).verify(
            body, {k: headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        )
    moved = next(e for e in receiver.events() if e["type"] == "promise.moved")
    assert moved["data"]["clientId"] == client_id
    assert (moved["data"]["act"], moved["data"]["state"]) == ("request", "requested")
    assert ana.sub not in json.dumps(moved), "the partner's ids only"
    headers = next(h for h, b in receiver.got if json.loads(b)["type"] == "promise.moved")
    assert headers["webhook-id"] == moved["eventId"]
    log = as_partner(acme, "GET", "/partner/v1/webhook/deliveries").body["items"]
    assert sorted((d["type"], d["outcome"], d["status"]) for d in log) == [
        ("grant.created", "delivered", 200),
        ("promise.moved", "delivered", 200),
    ]
    # The stream delivers a record again: the same event id (the receiver drops the duplicate).
    stream(aws, "promise-move", set())
    send_queued(queue)
    ids = [h["webhook-id"] for h, b in receiver.got if json.loads(b)["type"] == "promise.moved"]
    assert len(ids) == 2
    assert len(set(ids)) == 1


def test_a_revoked_grant_stops_events_already_queued(aws: Aws, queue: str, receiver: Receiver) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    acme = register("Acme Coaching")
    webhook(acme, receiver.url, ["promise.moved"])
    grant(ana, acme, ["promises.read"])
    open_promise(ana, bea)
    stream(aws, "promise-move", set())
    assert consent(ana, "DELETE", f"/v1/me/grants/{acme['partnerId']}").status == 204
    assert send_queued(queue) == {"batchItemFailures": []}
    assert receiver.got == []
    (entry,) = as_partner(acme, "GET", "/partner/v1/webhook/deliveries").body["items"]
    assert (entry["outcome"], entry["error"]) == ("refused", "grant revoked")


def test_failures_retry_through_the_queue_and_410_disables_the_webhook(
    aws: Aws, queue: str, receiver: Receiver
) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    acme = register("Acme Coaching")
    webhook(acme, receiver.url, ["promise.moved"])
    grant(ana, acme, ["promises.read"])
    open_promise(ana, bea)
    stream(aws, "promise-move", set())
    receiver.answers = [503]
    first = send_queued(queue)
    assert len(first["batchItemFailures"]) == 1, "brought back later, not dropped"
    hook = as_partner(acme, "GET", "/partner/v1/webhook").body
    assert hook["failingSince"]
    attrs = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue, AttributeNames=["All"]
    )
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1", (
        "hidden until its next attempt"
    )
    log = as_partner(acme, "GET", "/partner/v1/webhook/deliveries").body["items"]
    assert [(d["attempt"], d["status"], d["outcome"]) for d in log] == [(1, 503, "retry")]

    # Redelivery by hand; the endpoint is gone now.
    receiver.answers = [410]
    again = as_partner(acme, "POST", f"/partner/v1/webhook/deliveries/{log[0]['deliveryId']}/redeliver")
    assert again.status == 202, again.body
    send_queued(queue)
    hook = as_partner(acme, "GET", "/partner/v1/webhook").body
    assert (hook["status"], hook["disabledReason"]) == ("disabled", "The endpoint answered 410 Gone.")
    types = [d["type"] for d in as_partner(acme, "GET", "/partner/v1/webhook/deliveries").body["items"]]
    assert types[0] == "webhook.disabled"


def test_rotation_signs_with_both_secrets_for_a_day(aws: Aws, queue: str, receiver: Receiver) -> None:
    acme = register("Acme Coaching")
    old = webhook(acme, receiver.url, ["promise.moved"])["secret"]
    rotated = as_partner(acme, "POST", "/partner/v1/webhook/rotate-secret")
    assert rotated.status == 200, rotated.body
    new = rotated.body["secret"]
    assert new != old
    assert as_partner(acme, "POST", "/partner/v1/webhook/test").status == 202
    send_queued(queue)
    ((headers, body),) = receiver.got
    wanted = {k: headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    for secret in (old, new):
        Verifier(secret).verify(body, wanted)
    assert json.loads(body)["type"] == "webhook.test"


def _down_then_up(aws: Aws, queue: str, receiver: Receiver, answers: list[int]) -> dict[str, Any]:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    acme = register("Acme Coaching")
    webhook(acme, receiver.url, ["promise.moved"])
    grant(ana, acme, ["promises.read"])
    open_promise(ana, bea)
    stream(aws, "promise-move", set())
    receiver.answers = list(answers)
    return acme


def test_a_receiver_down_for_a_while_gets_the_event_once_it_is_back(
    aws: Aws, queue: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "0,1,1,1")  # the real one spans 37.5 hours
    acme = _down_then_up(aws, queue, receiver, [503, 502, 500])
    deadline = time.monotonic() + 20
    while len(receiver.got) < 4 and time.monotonic() < deadline:
        send_queued(queue)
        time.sleep(0.3)
    assert [json.loads(b)["type"] for _, b in receiver.got] == ["promise.moved"] * 4
    assert len({h["webhook-id"] for h, _ in receiver.got}) == 1, "one event, four attempts"
    log = as_partner(acme, "GET", "/partner/v1/webhook/deliveries").body["items"]
    assert [(d["attempt"], d["outcome"]) for d in reversed(log)] == [
        (1, "retry"),
        (2, "retry"),
        (3, "retry"),
        (4, "delivered"),
    ]
    assert as_partner(acme, "GET", "/partner/v1/webhook").body.get("failingSince") is None, "healthy again"


def test_nothing_reaches_the_dead_letter_queue_without_its_attempts_in_the_log(
    aws: Aws, queue: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    dead = sqs.create_queue(QueueName="webhooks-dead")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2})
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"RedrivePolicy": redrive})
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "0,1")
    acme = _down_then_up(aws, queue, receiver, [500, 500, 500])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        send_queued(queue)
        moved = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", [])
        if moved:
            break
        time.sleep(0.3)
    (message,) = moved
    event_id = json.loads(message["Body"])["eventId"]
    log = as_partner(acme, "GET", "/partner/v1/webhook/deliveries").body["items"]
    assert [(d["eventId"], d["attempt"], d["status"]) for d in reversed(log)] == [
        (event_id, 1, 500),
        (event_id, 2, 500),
    ], "every attempt is in the log before the message is dead"


def test_erasure_takes_the_events_kept_about_the_person(aws: Aws, queue: str, receiver: Receiver) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    acme = register("Acme Coaching")
    webhook(acme, receiver.url, ["promise.moved", "grant.created"])
    grant(ana, acme, ["promises.read"])
    seen: set[str] = set()
    stream(aws, "partner-client", seen)
    open_promise(ana, bea)
    stream(aws, "promise-move", seen)
    kept = [i for i in aws.data_items() if i.get("entity") == "webhook-event"]
    assert len(kept) == 2
    assert ana.profile("DELETE", "/v1/me").status == 204
    left = [(i["type"], i.get("owner")) for i in aws.data_items() if i.get("entity") == "webhook-event"]
    assert left == []


def test_a_partner_never_sees_another_partners_webhook_or_deliveries(
    aws: Aws, queue: str, receiver: Receiver
) -> None:
    acme, beta = register("Acme Coaching"), register("Beta Coaching")
    webhook(acme, receiver.url, ["promise.moved"])
    assert as_partner(acme, "POST", "/partner/v1/webhook/test").status == 202
    send_queued(queue)
    (delivery,) = as_partner(acme, "GET", "/partner/v1/webhook/deliveries").body["items"]
    assert as_partner(beta, "GET", "/partner/v1/webhook").status == 404
    assert as_partner(beta, "GET", "/partner/v1/webhook/deliveries").body["items"] == []
    stolen = as_partner(beta, "POST", f"/partner/v1/webhook/deliveries/{delivery['deliveryId']}/redeliver")
    assert stolen.status == 404


def test_both_sides_of_a_promise_are_events_of_their_own_for_one_partner(
    aws: Aws, queue: str, receiver: Receiver
) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    acme = register("Acme Coaching")
    secret = webhook(acme, receiver.url, ["promise.moved"])["secret"]
    clients = {grant(person, acme, ["promises.read"])["clientId"] for person in (ana, bea)}
    open_promise(ana, bea)
    stream(aws, "promise-move", set())
    send_queued(queue)
    assert sorted(e["data"]["clientId"] for e in receiver.events()) == sorted(clients)
    assert len({h["webhook-id"] for h, _ in receiver.got}) == 2, "two events, two ids"
    for headers, body in receiver.got:
        Verifier(secret).verify(
            body, {k: headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        )
