"""Webhooks: a partner's endpoint, the events fanned out to it, and their delivery.

Events come from the table's stream (`fan_out`): a promise's move, a customer's assessment, an
item completed, a grant made or revoked. Each goes to the partners whose active grant from the
person covers it (and whose webhook asks for that type), as an event kept 30 days and a message
on the webhook queue; the sender (`deliver_one`) signs it with the `standardwebhooks` library and
posts it, logs every attempt, and retries on the Standard Webhooks schedule through the queue's
visibility timeout. A grant revoked meanwhile stops the event at once: the sender checks again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from shared import webhook_send
from shared.domain import partners as partner_rules
from shared.domain import webhooks as webhook_rules
from shared.domain.errors import FieldError, InvalidInput, NotFound
from shared.domain.timeutil import parse_rfc3339, to_rfc3339
from shared.logic.partners import grant_active
from shared.secrets import client_id_key
from shared.store import grants
from shared.store import webhooks as store

# Which scope of the grant an event type needs (grant events concern the grant itself).
EVENT_SCOPES = {
    "promise.moved": "promises.read",
    "promise.assessed": "promises.read",
    "plan.item_completed": "plans.read",
}


@dataclass(frozen=True)
class PersonEvent:
    """Something that happened to a person that partners may hear of."""

    type: str
    user_id: str
    source: str  # what made it (the stream item's key and sequence): the event id's seed
    at: str
    # name -> (kind, value): a kind names an app id to turn into the partner's own; None keeps it
    data: dict[str, tuple[str | None, Any]]


@dataclass(frozen=True)
class Outgoing:
    """One event for one partner."""

    partner_id: str
    event_id: str
    type: str
    client_id: str | None
    payload: str
    user_id: str | None = None  # whom it is about: erasure deletes the kept event with them


def event_id(partner_id: str, source: str) -> str:
    """Stable for one partner and one source: a fan-out retried sends the same id (receivers drop
    duplicates by `webhook-id`)."""
    return "evt_" + hashlib.sha256(f"{partner_id}|{source}".encode()).hexdigest()[:32]


def person_events(event: PersonEvent, now: datetime) -> list[Outgoing]:
    """The event for each partner the person's active grants let hear of it (one Query of the
    person's grants), with the partner's own ids for the person and their things."""
    scope = EVENT_SCOPES[event.type]
    key = client_id_key()
    out = []
    start: dict[str, Any] | None = None
    while True:
        found, start = grants.my_grants(event.user_id, 100, start)
        for grant in found:
            if scope not in grant.get("scopes", []) or not grant_active(grant, now):
                continue
            partner_id = str(grant["partnerId"])
            data = {
                name: (partner_rules.partner_ref(key, partner_id, kind, str(value)) if kind else value)
                for name, (kind, value) in event.data.items()
            }
            # One stream item can concern two clients of one partner (both sides of a promise):
            # each gets its own event, so the person is part of the id's seed.
            seed = f"{event.source}|{event.user_id}"
            made = _outgoing(partner_id, event.type, str(grant["clientId"]), seed, event.at, data)
            out.append(replace(made, user_id=event.user_id))
        if not start:
            return out


def grant_event(partner_id: str, kind: str, client: Mapping[str, Any], source: str, at: str) -> Outgoing:
    """`grant.created` or `grant.revoked`, for the partner of the grant."""
    data = {"scopes": list(client.get("scopes", [])), "expiresAt": client.get("expiresAt")}
    made = _outgoing(partner_id, kind, str(client["clientId"]), source, at, data)
    return replace(made, user_id=str(client["userId"]) if client.get("userId") else None)


def _outgoing(
    partner_id: str, kind: str, client_id: str, source: str, at: str, data: dict[str, Any]
) -> Outgoing:
    identifier = event_id(partner_id, source)
    body = {
        "type": kind,
        "eventId": identifier,
        "occurredAt": at,
        "data": {"clientId": client_id, **{k: v for k, v in data.items() if v is not None}},
    }
    return Outgoing(partner_id, identifier, kind, client_id, json.dumps(body, separators=(",", ":")))


# --- the partner's configuration ---------------------------------------------------------------

SECRET_OVERLAP_HOURS = 24


def retry_schedule() -> tuple[float, ...]:
    """The Standard Webhooks schedule, or a shorter one (seconds, comma-separated in
    WEBHOOK_RETRY_SCHEDULE) for tests and the local stack."""
    configured = os.environ.get("WEBHOOK_RETRY_SCHEDULE")
    if not configured:
        return tuple(webhook_rules.RETRY_SCHEDULE)
    return tuple(float(part) for part in configured.split(","))


def loopback_allowed() -> bool:
    """Only the local stack sends to loopback addresses (it sets WEBHOOKS_ALLOW_LOOPBACK)."""
    return os.environ.get("WEBHOOKS_ALLOW_LOOPBACK") == "true"


def check_endpoint(url: str) -> None:
    """A webhook URL a partner may give: https, resolving to public addresses only (the sender
    checks again at every delivery, against DNS rebinding); 422 naming `url` otherwise."""
    try:
        webhook_send.check_url(url, allow_loopback=loopback_allowed())
        webhook_send.resolve_public(url, allow_loopback=loopback_allowed())
    except webhook_send.UnsafeUrl as refused:
        raise InvalidInput(
            "The webhook URL is not one we send to.",
            [FieldError("body", "url", "unsafe_url", str(refused))],
        ) from refused


def view(hook: Mapping[str, Any], secret: str | None = None) -> dict[str, Any]:
    """The webhook as its partner sees it (the secret only when just made)."""
    shown = {k: v for k, v in hook.items() if k not in ("secrets", "version")}
    return {**shown, "secret": secret} if secret else shown


def configure(partner_id: str, request: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any], bool]:
    """Set my webhook's URL and events (enabled again if it was disabled); answers (its view,
    new?). A new webhook gets its secret, shown in this answer only."""
    check_endpoint(str(request["url"]))
    current = store.get_webhook(partner_id)
    at = to_rfc3339(now)
    secret = None
    if current is None:
        secret = webhook_rules.new_secret()
        secrets = [{"secret": secret, "createdAt": at}]
    else:
        secrets = list(current["secrets"])
    hook = {
        "url": request["url"],
        "events": list(request["events"]),
        "secrets": secrets,
        "status": "enabled",
        "version": (int(current["version"]) if current else 0) + 1,
        "createdAt": current["createdAt"] if current else at,
        "updatedAt": at,
    }
    store.put_webhook(partner_id, hook, int(current["version"]) if current else None)
    return view(hook, secret), current is None


def rotate_secret(partner_id: str, now: datetime) -> dict[str, Any]:
    """A new secret signs from now on; the one before signs too for 24 hours, then expires."""
    current = store.get_webhook(partner_id)
    if current is None:
        raise NotFound("You have no webhook; PUT /partner/v1/webhook first.")
    at = to_rfc3339(now)
    overlap = to_rfc3339(now + timedelta(hours=SECRET_OVERLAP_HOURS))
    kept = [
        {**s, "expiresAt": s.get("expiresAt") or overlap}
        for s in current["secrets"]
        if not s.get("expiresAt") or parse_rfc3339(str(s["expiresAt"])) > now
    ]
    secret = webhook_rules.new_secret()
    hook = {**current, "secrets": [{"secret": secret, "createdAt": at}, *kept], "updatedAt": at}
    hook["version"] = int(current["version"]) + 1
    store.put_webhook(partner_id, hook, int(current["version"]))
    return view(hook, secret)


def signing_secrets(hook: Mapping[str, Any], now: datetime) -> list[str]:
    """The secrets that sign now: the newest, and any older one not yet expired."""
    return [
        str(s["secret"])
        for s in hook.get("secrets", [])
        if not s.get("expiresAt") or parse_rfc3339(str(s["expiresAt"])) > now
    ]


# --- delivery ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt came to, and when to try again (None: not again)."""

    outcome: str  # delivered, retry, gone, refused
    delay: float | None


def _still_granted(partner_id: str, event: Mapping[str, Any], now: datetime) -> bool:
    """A revoked or expired grant stops an event at once (grant events excepted)."""
    client_id = event.get("clientId")
    if not client_id or event.get("type") in ("grant.created", "grant.revoked"):
        return True
    client = grants.partner_client(partner_id, str(client_id))
    if client is None or not grant_active(client, now):
        return False
    scope = EVENT_SCOPES.get(str(event.get("type")))
    return scope is None or scope in client.get("scopes", [])


def deliver_one(partner_id: str, event_id: str, attempt: int, now: datetime) -> Attempt:
    """Send one kept event to the partner's webhook, signed, and log the attempt."""
    hook = store.get_webhook(partner_id)
    event = store.get_event(partner_id, event_id)
    if event is None:
        return Attempt("refused", None)  # older than 30 days: nothing to send
    logged = {"eventId": event_id, "type": event["type"], "attempt": attempt}
    if hook is None or hook.get("status") != "enabled" or not _still_granted(partner_id, event, now):
        reason = "no enabled webhook" if hook is None or hook.get("status") != "enabled" else "grant revoked"
        store.log_delivery(partner_id, {**logged, "outcome": "refused", "error": reason}, now)
        return Attempt("refused", None)
    payload = str(event["payload"]).encode()
    headers = {
        "content-type": "application/json",
        "user-agent": "career-journey-webhooks/1",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": webhook_rules.sign(signing_secrets(hook, now), event_id, now, payload),
    }
    try:
        result = webhook_send.deliver(str(hook["url"]), payload, headers, allow_loopback=loopback_allowed())
    except webhook_send.UnsafeUrl as unsafe:  # resolved to a private address now: never sent
        store.log_delivery(partner_id, {**logged, "outcome": "refused", "error": str(unsafe)}, now)
        _failing(partner_id, hook, now)
        return Attempt("retry", webhook_rules.next_delay(attempt, None, None, retry_schedule()))
    outcome = webhook_rules.outcome(result.status)
    delay = (
        webhook_rules.next_delay(attempt, result.status, result.retry_after, retry_schedule())
        if outcome == "retry"
        else None
    )
    store.log_delivery(
        partner_id,
        {
            **logged,
            "status": result.status,
            "outcome": outcome,
            "latencyMs": result.latency_ms,
            "error": result.error,
        },
        now,
    )
    if outcome == "delivered" and hook.get("failingSince"):
        store.mark_webhook(partner_id, {}, ("failingSince",))
    elif outcome == "gone":
        _disable(partner_id, "The endpoint answered 410 Gone.", now)
    elif outcome == "retry":
        _failing(partner_id, hook, now)
    return Attempt(outcome, delay)


def _failing(partner_id: str, hook: Mapping[str, Any], now: datetime) -> None:
    since = hook.get("failingSince")
    if since is None:
        store.mark_webhook(partner_id, {"failingSince": to_rfc3339(now)})
    elif now - parse_rfc3339(str(since)) >= webhook_rules.FAILING_DISABLE_AFTER:
        _disable(partner_id, "The endpoint failed every delivery for 5 days.", now)


def _disable(partner_id: str, reason: str, now: datetime) -> None:
    """Disable the webhook, and tell the partner in its delivery log (its endpoint cannot hear
    it): a `webhook.disabled` entry with the reason; PUT the webhook again to enable it."""
    store.mark_webhook(partner_id, {"status": "disabled", "disabledReason": reason})
    store.log_delivery(
        partner_id,
        {"eventId": "-", "type": "webhook.disabled", "attempt": 0, "outcome": "gone", "error": reason},
        now + timedelta(milliseconds=1),  # after the attempt that disabled it, in the log's order
    )
