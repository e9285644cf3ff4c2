"""Partner webhooks on the local stack: time from a promise move to its webhook at the receiver.

Starts one local stack (`reminders-throughput`'s `local_stack`) and a receiver on 127.0.0.1
(`ThreadingHTTPServer` in a thread) that records each delivery's arrival time, `webhook-id` and
body, checks its signature with `standardwebhooks` and answers 204. The demo partner
(stack.json `partners[0]`) gets a client-credentials token and points its webhook at the
receiver for `promise.moved`; PEOPLE people sign up in pairs and each grants it
`promises.read`. Every move of a promise between two of them is then one event per side (the
partner hears of it from both of its clients): stream -> fan-out -> SQS -> sender -> receiver.

- Latency: LATENCY_MOVES moves one after the other (request, promise, report_completion,
  declare_satisfied, on the pairs in turn), each waiting for its first delivery: arrival minus
  the instant the API answered, p50, p95 and max.
- Throughput: THROUGHPUT_MOVES moves back to back, as fast as the API takes them (one client
  per pair, in threads), then until every delivery arrived: moves (and deliveries) per second from the
  first move sent to the last arrival, next to the API's own move rate in the same run.

Deliveries are matched to moves after the run by the partner's promise id (the partner API
lists each client's promises with their `what`, unique per promise) and the act.

What dominates the figures is the local stack, not the code or AWS: its stream poller reads
the table's stream every 0.1 s and its queue poller receives from SQS every 0.2 s (so a move
waits about 0.15 s on average in the pollers alone), and moto takes DynamoDB requests one at a
time and deep-copies the whole table (its stream records included) for every transaction (a
move is one), so a move's answer grows from under 0.1 s on a fresh stack to seconds, and the
API, the fan-out and the sender queue behind each other on that one lock, in one process.
Under back-to-back moves the fan-out and the sender, many small requests each waiting behind a
move's transaction, fall far behind: most events arrive after the moves have stopped.

Two more things of the local stack show here. A transaction that waits on moto's lock past
the function's 5 s read timeout is sent again by botocore; DynamoDB would answer the copy as
the first (its ClientRequestToken), moto ignores the token and cancels it, so the API answers
409 for a move it applied, or 500 when every attempt timed out (counted as "error, applied";
a move not applied after a 5xx is sent again). And the gateway calls each function's handler
in the request's own thread while Powertools' resolver keeps the event being handled on
`BaseRouter`, a class attribute shared by every function: a request reading it after waiting
on I/O may read another's (seen: a problem whose `instance` named another request's path).
Lambda runs one invocation per execution environment, so AWS has no such mix. Every move here
is checked (each delivery matched to the move that made it, an error answer against the
promise's log), so a mixed-up move would show; in the runs so far none did. THROUGHPUT_THREADS
stays at 2: with 5, moto's queue grew past the functions' three 5 s attempts (500s).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import requests
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from bench.scenarios import Context, Report, Table, scenario
from bench.scenarios.profile_requests import _percentile
from bench.scenarios.reminders_throughput import _expect, local_stack

PEOPLE = 10  # in pairs: a customer and a performer
LATENCY_MOVES = 60
THROUGHPUT_MOVES = 100
THROUGHPUT_THREADS = 2  # clients, each moving its pairs' promises (more only lengthen moto's queue)
MOVE_ATTEMPTS = 3  # a move answered 5xx and not applied is sent again
ARRIVAL_TIMEOUT_SECONDS = 30  # one move's first delivery, in the latency phase
DRAIN_TIMEOUT_SECONDS = 180  # every delivery of the throughput phase
DUE_AT = "2031-01-01T09:00:00Z"
# A promise's whole life between two app users: (who moves, the act); the opening is a move too.
LIFECYCLE = (
    ("customer", "request"),
    ("performer", "promise"),
    ("performer", "report_completion"),
    ("customer", "declare_satisfied"),
)
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver took: when (perf_counter), its id, its body, its signature's check."""

    arrived: float
    webhook_id: str
    body: bytes
    verified: bool

    def event(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body).get("data", {})
        return data


class Receiver:
    """A partner's endpoint on 127.0.0.1: records every delivery and answers 204."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.arrived = threading.Condition()
        self.verifier: Webhook | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.perf_counter()
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.record(arrived, headers, body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="bench-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks"

    def record(self, arrived: float, headers: dict[str, str], body: bytes) -> None:
        verified = False
        if self.verifier is not None:
            try:
                self.verifier.verify(body, {k: headers.get(k, "") for k in SIGNATURE_HEADERS})
                verified = True
            except WebhookVerificationError:
                verified = False
        delivery = Delivery(arrived, headers.get("webhook-id", ""), body, verified)
        with self.arrived:
            self.deliveries.append(delivery)
            self.arrived.notify_all()

    def wait_for(self, done: Callable[[list[Delivery]], bool], timeout: float) -> bool:
        """Wait until `done(deliveries)` holds (checked on every arrival) or `timeout` passes."""
        with self.arrived:
            return self.arrived.wait_for(lambda: done(self.deliveries), timeout)

    def snapshot(self) -> list[Delivery]:
        with self.arrived:
            return list(self.deliveries)


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver serving in a thread; always shut down."""
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        receiver.thread.join(timeout=5)


@dataclass(frozen=True)
class Move:
    """One move made over the API: the app's promise id, the act, when it was sent and answered."""

    promise_id: str
    act: str
    sent: float
    answered: float
    status: int  # its last answer: 409 or 5xx when applied all the same (see `Pair.step`)
    attempts: int  # sent again after a 5xx that had not applied it


@dataclass
class Pair:
    """Two people with one promise at a time between them, moved through LIFECYCLE."""

    label: str
    customer: Any  # tests.support.stack.Person
    performer: Any
    performer_handle: str
    customer_client: str  # the partner's ids for the two of them
    performer_client: str
    promise_by_what: dict[str, str] = field(default_factory=dict)
    promise_id: str = ""
    step_index: int = 0

    @property
    def client_ids(self) -> frozenset[str]:
        return frozenset((self.customer_client, self.performer_client))

    def step(self) -> Move:
        """The pair's next move. An error answer is checked against the promise's log: applied,
        it counts as made (with its status); not applied, a 5xx is sent again."""
        role, act = LIFECYCLE[self.step_index]
        who = self.customer if role == "customer" else self.performer
        what = f"Bench {self.label} promise {len(self.promise_by_what) + 1}"
        sent = time.perf_counter()
        for attempt in range(1, MOVE_ATTEMPTS + 1):
            if act == "request":
                body = {
                    "opening": "request",
                    "counterpart": {"handle": self.performer_handle},
                    "what": what,
                    "dueAt": DUE_AT,
                }
                reply = who.api.post("/v1/me/promises", json=body)
            else:
                reply = who.api.post(f"/v1/me/promises/{self.promise_id}/moves", json={"act": act})
            answered = time.perf_counter()
            if reply.status_code in (200, 201):
                if act == "request":
                    self.promise_id = str(reply.json()["promiseId"])
                break
            if reply.status_code == 409 or reply.status_code >= 500:
                if self._applied(act, what):
                    break
                if reply.status_code >= 500 and attempt < MOVE_ATTEMPTS:
                    continue
            raise RuntimeError(f"{act} ({what}): {reply.status_code} {reply.text[:500]}")
        if act == "request":
            self.promise_by_what[what] = self.promise_id
        self.step_index = (self.step_index + 1) % len(LIFECYCLE)
        return Move(self.promise_id, act, sent, answered, reply.status_code, attempt)

    # Why a move may be answered as failed though applied: the function's TransactWriteItems
    # outwaited its client's 5 s read timeout on moto's lock and botocore sent it again; moto
    # ignores the ClientRequestToken that makes the copy idempotent on DynamoDB and cancels it
    # (a 409), or every attempt timed out (a 500) while the first was applied all the same.

    def _applied(self, act: str, what: str) -> bool:
        """Whether the move was made after all (an opening: `what` is among my promises)."""
        if act == "request":
            mine = self.customer.api.get("/v1/me/promises", params={"role": "customer", "limit": "100"})
            for item in _expect(mine, 200)["items"]:
                if item["what"] == what:
                    self.promise_id = str(item["promiseId"])
                    return True
            return False
        log = _expect(self.customer.api.get(f"/v1/me/promises/{self.promise_id}/moves"), 200)["items"]
        return len(log) == self.step_index + 1 and log[-1]["act"] == act


def _set_webhook(api_url: str, headers: dict[str, str], url: str) -> str:
    """Point the partner's webhook at `url` for promise.moved; answers the signing secret."""
    made = requests.put(
        f"{api_url}/partner/v1/webhook",
        json={"url": url, "events": ["promise.moved"]},
        headers=headers,
        timeout=10,
    )
    if made.status_code not in (200, 201):
        raise RuntimeError(f"PUT /partner/v1/webhook: {made.status_code} {made.text[:500]}")
    secret = made.json().get("secret")
    if not secret:  # not the first PUT: only a rotation shows a secret again
        rotated = requests.post(f"{api_url}/partner/v1/webhook/rotate-secret", headers=headers, timeout=10)
        secret = _expect(rotated, 200)["secret"]
    return str(secret)


def _pairs(info: dict[str, Any]) -> list[Pair]:
    """Sign PEOPLE people up with a profile, each granting the demo partner promises.read."""
    from tests.support.stack import new_person

    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=info["awsEndpointUrl"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the emulator's dummy credentials)
    )
    partner_id = info["partners"][0]["partnerId"]
    pairs = []
    for n in range(PEOPLE // 2):
        two = []
        handles = []
        client_ids = []
        for side in ("customer", "performer"):
            person = new_person(info, cognito, prefix=f"bench-webhook-{side}")
            two.append(person)
            handle = f"w{uuid.uuid4().hex[:12]}"
            handles.append(handle)
            profile = {"displayName": f"Bench {side} {n}", "handle": handle, "currentLevel": "expert"}
            _expect(person.api.put("/v1/me", json=profile | {"timeZone": "UTC"}), 201)
            grant = {"partnerId": partner_id, "scopes": ["promises.read"]}
            client_ids.append(str(_expect(person.api.post("/v1/me/grants", json=grant), 201)["clientId"]))
        pairs.append(Pair(f"pair {n}", two[0], two[1], handles[1], client_ids[0], client_ids[1]))
    return pairs


def _partner_promise_ids(api_url: str, headers: dict[str, str], pairs: list[Pair]) -> dict[str, str]:
    """The partner's promise id -> the app's, from each customer's promises as the partner sees
    them (matched by `what`, unique per promise)."""
    by_partner: dict[str, str] = {}
    for pair in pairs:
        cursor: str | None = None
        while True:
            params = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
            reply = requests.get(
                f"{api_url}/partner/v1/clients/{pair.customer_client}/promises",
                params=params,
                headers=headers,
                timeout=30,
            )
            page = _expect(reply, 200)
            for item in page["items"]:
                if item["what"] in pair.promise_by_what:
                    by_partner[str(item["promiseId"])] = pair.promise_by_what[item["what"]]
            cursor = page.get("nextCursor")
            if not cursor:
                break
    return by_partner


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _latencies(moves: list[Move], first: dict[tuple[str, str], float]) -> dict[str, Any]:
    """p50, p95 and max of first arrival minus the API's answer, over the moves that arrived."""
    seconds = [first[(m.promise_id, m.act)] - m.answered for m in moves if (m.promise_id, m.act) in first]
    api = [m.answered - m.sent for m in moves]
    errors = {
        "errors_applied": sum(1 for m in moves if m.status >= 300),
        "errors_409_applied": sum(1 for m in moves if m.status == 409),
        "sent_again": sum(m.attempts - 1 for m in moves),
    }
    if not seconds:
        return {**errors, "arrived": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    return {
        "api_p50_ms": _ms(_percentile(api, 0.50)),
        "api_max_ms": _ms(max(api)),
        **errors,
        "arrived": len(seconds),
        "p50_ms": _ms(_percentile(seconds, 0.50)),
        "p95_ms": _ms(_percentile(seconds, 0.95)),
        "max_ms": _ms(max(seconds)),
    }


@dataclass
class Matched:
    """The deliveries of one phase's moves, matched by (app promise id, act)."""

    moves: list[Move]
    deliveries: list[Delivery]
    first: dict[tuple[str, str], float]
    clients: dict[tuple[str, str], set[str]]
    expected_events: int

    @property
    def missing_moves(self) -> int:
        return sum(1 for m in self.moves if (m.promise_id, m.act) not in self.first)

    @property
    def missing_events(self) -> int:
        """(move, client) events never received (a move is an event for each side's client)."""
        return self.expected_events - sum(
            len(self.clients.get((m.promise_id, m.act), ())) for m in self.moves
        )


def _match(moves: list[Move], deliveries: list[Delivery], app_id: dict[str, str], per_move: int) -> Matched:
    keys = {(m.promise_id, m.act) for m in moves}
    mine: list[Delivery] = []
    first: dict[tuple[str, str], float] = {}
    clients: dict[tuple[str, str], set[str]] = {}
    for delivery in deliveries:
        data = delivery.event()
        key = (app_id.get(str(data.get("promiseId")), ""), str(data.get("act")))
        if key not in keys:
            continue
        mine.append(delivery)
        first[key] = min(first.get(key, delivery.arrived), delivery.arrived)
        clients.setdefault(key, set()).add(str(data.get("clientId")))
    return Matched(moves, mine, first, clients, per_move * len(moves))


def _latency_phase(pairs: list[Pair], receiver: Receiver) -> list[Move]:
    """LATENCY_MOVES moves one after the other, each waiting for a delivery of its act from one
    of its pair's clients (consecutive acts differ, so a late second delivery is not taken)."""
    moves = []
    for i in range(LATENCY_MOVES):
        pair = pairs[(i // len(LIFECYCLE)) % len(pairs)]
        move = pair.step()
        moves.append(move)

        def arrived(deliveries: list[Delivery], move: Move = move, pair: Pair = pair) -> bool:
            return any(
                d.arrived >= move.sent
                and d.event().get("act") == move.act
                and d.event().get("clientId") in pair.client_ids
                for d in reversed(deliveries)
            )

        receiver.wait_for(arrived, ARRIVAL_TIMEOUT_SECONDS)
    return moves


def _throughput_phase(pairs: list[Pair]) -> list[Move]:
    """THROUGHPUT_MOVES moves back to back, as fast as the API takes them: THROUGHPUT_THREADS
    clients, each moving its pairs' promises in turn (one move on each, then round again)."""
    for pair in pairs:
        pair.step_index = 0  # each starts a new promise
    groups = [pairs[w::THROUGHPUT_THREADS] for w in range(THROUGHPUT_THREADS)]
    each, extra = divmod(THROUGHPUT_MOVES, THROUGHPUT_THREADS)

    def run(w: int) -> list[Move]:
        group = groups[w]
        return [group[i % len(group)].step() for i in range(each + (1 if w < extra else 0))]

    with ThreadPoolExecutor(max_workers=THROUGHPUT_THREADS, thread_name_prefix="bench-mover") as pool:
        return [move for moves in pool.map(run, range(THROUGHPUT_THREADS)) for move in moves]


@scenario("webhook-latency")
def webhook_latency(ctx: Context) -> Report:
    """Partner webhooks on the local stack: promise move to receiver p50/p95, deliveries per second."""
    with local_stack() as info, receiving() as receiver:
        api_url = str(info["apiUrl"])
        started = time.perf_counter()
        from tests.support.stack import partner_token

        partner = {"Authorization": f"Bearer {partner_token(info)}"}
        receiver.verifier = Webhook(_set_webhook(api_url, partner, receiver.url))
        pairs = _pairs(info)
        setup_seconds = time.perf_counter() - started
        per_move = len(pairs[0].client_ids)
        try:
            latency_moves = _latency_phase(pairs, receiver)
            # The second side's deliveries of the last moves, before the throughput phase starts.
            receiver.wait_for(lambda d: len(d) >= per_move * LATENCY_MOVES, ARRIVAL_TIMEOUT_SECONDS)
            before = len(receiver.snapshot())
            throughput_moves = _throughput_phase(pairs)
            expected = before + per_move * THROUGHPUT_MOVES
            drained = receiver.wait_for(lambda d: len(d) >= expected, DRAIN_TIMEOUT_SECONDS)
            time.sleep(1)  # anything sent twice or late
            deliveries = receiver.snapshot()
            app_id = _partner_promise_ids(api_url, partner, pairs)
        finally:
            for pair in pairs:
                pair.customer.api.close()
                pair.performer.api.close()

    latency = _match(latency_moves, deliveries, app_id, per_move)
    load = _match(throughput_moves, deliveries, app_id, per_move)
    first_sent = min(m.sent for m in throughput_moves)
    last_answer = max(m.answered for m in throughput_moves)
    last_arrival = max((d.arrived for d in load.deliveries), default=first_sent)
    span = last_arrival - first_sent
    ids = [d.webhook_id for d in deliveries]
    unmatched = len(deliveries) - len(latency.deliveries) - len(load.deliveries)
    data: dict[str, Any] = {
        "people": len(pairs) * 2,
        "partner_clients_per_move": per_move,
        "setup_seconds": round(setup_seconds, 1),
        "latency": {
            "moves": LATENCY_MOVES,
            **_latencies(latency_moves, latency.first),
            "moves_never_arrived": latency.missing_moves,
            "events_expected": latency.expected_events,
            "events_missing": latency.missing_events,
            "deliveries": len(latency.deliveries),
        },
        "throughput": {
            "moves": THROUGHPUT_MOVES,
            "threads": THROUGHPUT_THREADS,
            **_latencies(throughput_moves, load.first),
            "moves_never_arrived": load.missing_moves,
            "events_expected": load.expected_events,
            "events_missing": load.missing_events,
            "deliveries": len(load.deliveries),
            "all_arrived_within_timeout": drained,
            "api_seconds": round(last_answer - first_sent, 2),
            "api_moves_per_second": round(THROUGHPUT_MOVES / (last_answer - first_sent), 1),
            "last_arrival_seconds": round(span, 2),
            "moves_delivered_per_second": round((THROUGHPUT_MOVES - load.missing_moves) / span, 1),
            "deliveries_per_second": round(len(load.deliveries) / span, 1),
        },
        "deliveries": len(deliveries),
        "unmatched_deliveries": unmatched,
        "signature_failures": sum(1 for d in deliveries if not d.verified),
        "distinct_webhook_ids": len(set(ids)),
        "webhook_ids_repeated": len(ids) - len(set(ids)),
    }
    lat, thr = data["latency"], data["throughput"]
    latency_table = Table(
        f"move -> webhook at the receiver, ms ({data['people']} people in pairs, each granting the demo "
        f"partner promises.read: {per_move} events per move), local stack",
        [
            "phase",
            "moves",
            "API p50 ms",
            "API max ms",
            "error, applied",
            "sent again",
            "arrived",
            "p50 ms",
            "p95 ms",
            "max ms",
            "never arrived",
            "events missing",
        ],
        [
            [
                phase,
                figures["moves"],
                figures.get("api_p50_ms"),
                figures.get("api_max_ms"),
                figures["errors_applied"],
                figures["sent_again"],
                figures["arrived"],
                figures["p50_ms"],
                figures["p95_ms"],
                figures["max_ms"],
                figures["moves_never_arrived"],
                f"{figures['events_missing']} of {figures['events_expected']}",
            ]
            for phase, figures in (("one at a time", lat), ("back to back", thr))
        ],
    )
    throughput_table = Table(
        f"{THROUGHPUT_MOVES} moves as fast as the API takes them ({THROUGHPUT_THREADS} clients, "
        f"{len(pairs)} pairs)",
        [
            "API moves/s",
            "API s",
            "last arrival s",
            "moves delivered/s",
            "deliveries",
            "deliveries/s",
            "bad signatures",
            "repeated webhook-ids",
        ],
        [
            [
                thr["api_moves_per_second"],
                thr["api_seconds"],
                thr["last_arrival_seconds"],
                thr["moves_delivered_per_second"],
                thr["deliveries"],
                thr["deliveries_per_second"],
                data["signature_failures"],
                data["webhook_ids_repeated"],
            ]
        ],
    )
    notes = [
        "latency: the first delivery of a move minus the instant its API call answered; "
        "per second: from the first move sent to the last delivery's arrival",
        "the local stack polls the stream every 0.1 s and the queue every 0.2 s, and moto serialises "
        "DynamoDB and copies the table on every transaction: these are the local stack's figures",
    ]
    if data["webhook_ids_repeated"]:
        notes.append(
            f"{data['webhook_ids_repeated']} deliveries repeated a webhook-id "
            f"({data['distinct_webhook_ids']} distinct ids in {len(deliveries)} deliveries)"
        )
    if lat["events_missing"] or thr["events_missing"]:
        notes.append(
            f"{lat['events_missing'] + thr['events_missing']} (move, client) events never arrived "
            f"of {lat['events_expected'] + thr['events_expected']} expected"
        )
    errors = lat["errors_applied"] + thr["errors_applied"]
    if errors:
        conflicts = lat["errors_409_applied"] + thr["errors_409_applied"]
        notes.append(
            f"{errors} moves answered an error though applied ({conflicts} 409, {errors - conflicts} 5xx): "
            "a TransactWriteItems past the function's 5 s read timeout on moto's lock, sent again by "
            "botocore, and moto ignores the ClientRequestToken that makes that copy idempotent"
        )
    sent_again = lat["sent_again"] + thr["sent_again"]
    if sent_again:
        notes.append(f"{sent_again} moves were sent again after a 5xx that had not applied them")
    if data["signature_failures"]:
        notes.append(f"{data['signature_failures']} deliveries failed the signature check")
    if not drained:
        notes.append(f"not every delivery of the throughput phase arrived within {DRAIN_TIMEOUT_SECONDS} s")
    if unmatched:
        notes.append(f"{unmatched} deliveries matched no move")
    return Report([latency_table, throughput_table], data, within_budget=None, notes=notes)
