"""Consent and the partner API's reads.

A person grants a registered partner some of its scopes (`grant`), and may revoke the grant at
any time (`revoke`). A partner request names a client by the partner-specific `clientId`; it is
served only while that grant is active and both the grant and the token carry the scope the
route needs (`client_for`), and every read or write of the person's data is recorded in their
access log before it is answered (`record`): nothing is read unrecorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain.errors import FieldError, Forbidden, InvalidInput, NotFound
from shared.domain.partners import client_id as make_client_id
from shared.domain.partners import partner_ref
from shared.domain.timeutil import parse_rfc3339, to_rfc3339
from shared.secrets import client_id_key
from shared.store import grants, partners
from shared.store import plans as plan_store


def _expired(expires_at: str | None, now: datetime) -> bool:
    return expires_at is not None and parse_rfc3339(expires_at) <= now


def grant_active(grant: Mapping[str, Any], now: datetime) -> bool:
    """A grant (either side of it) that has not expired."""
    return not _expired(grant.get("expiresAt"), now)


def grant_view(grant: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A grant as the API shows it to its person."""
    return {**grant, "status": "expired" if _expired(grant.get("expiresAt"), now) else "active"}


def grant(user_id: str, request: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any], bool]:
    """Grant a partner some of its scopes; answers (the grant, new?). Granting again replaces."""
    partner = partners.get_partner(str(request["partnerId"]))
    if partner is None:
        raise InvalidInput(
            "No partner has that id.",
            [FieldError("body", "partnerId", "not_found", "must be a partner of GET /v1/partners")],
        )
    offered = set(partner["scopes"])
    refused = [
        FieldError("body", f"scopes.{i}", "not_offered", "this partner does not ask for it")
        for i, scope in enumerate(request["scopes"])
        if scope not in offered
    ]
    if refused:
        raise InvalidInput("Some scopes are not among what the partner may ask for.", refused)
    expires = request.get("expiresAt")
    if expires is not None and parse_rfc3339(str(expires)) <= now:
        raise InvalidInput(
            "A grant cannot expire in the past.",
            [FieldError("body", "expiresAt", "in_past", "must be in the future")],
        )
    at = to_rfc3339(now)
    current = grants.get_grant(user_id, partner["partnerId"])
    made = {
        "partnerId": partner["partnerId"],
        "partnerName": partner["name"],
        "scopes": list(request["scopes"]),
        "clientId": make_client_id(client_id_key(), partner["partnerId"], user_id),
        "expiresAt": to_rfc3339(parse_rfc3339(str(expires))) if expires is not None else None,
        "createdAt": current["createdAt"] if current else at,
        "updatedAt": at,
    }
    made = {k: v for k, v in made.items() if v is not None}
    grants.save_grant(user_id, made)
    return grant_view(made, now), current is None


def revoke(user_id: str, partner_id: str) -> None:
    """Revoke my grant to a partner: its next request for me is a 404, at once."""
    current = grants.get_grant(user_id, partner_id)
    if current is None:
        raise NotFound("You have granted nothing to this partner.")
    grants.delete_grant(user_id, partner_id, str(current["clientId"]))


# --- the partner's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """The partner calling, from its token: who, and the scopes the token carries (bare)."""

    partner_id: str
    partner_name: str
    token_scopes: frozenset[str]


@dataclass(frozen=True)
class ClientAccess:
    """A client the caller may act for, with one scope checked."""

    caller: Caller
    client_id: str
    user_id: str
    scope: str

    def ref(self, kind: str, thing_id: str) -> str:
        """The partner's id for one of this client's things."""
        return partner_ref(client_id_key(), self.caller.partner_id, kind, thing_id)


def client_for(caller: Caller, client_id: str, scope: str, now: datetime) -> ClientAccess:
    """The client behind `client_id` if I may use `scope` on them: a 404 without an active grant
    (unknown, revoked, expired, or another partner's: never which), a 403 when my token or the
    person's grant lacks the scope."""
    (access,) = client_for_any(caller, client_id, (scope,), now)
    return access


def client_for_any(
    caller: Caller, client_id: str, scopes: Sequence[str], now: datetime
) -> list[ClientAccess]:
    """`client_for` for a route that serves any of `scopes`: one read of the grant, an access
    per scope both the token and the grant carry (a 403 when there is none)."""
    carried = [s for s in scopes if s in caller.token_scopes]
    if not carried:
        raise Forbidden(f"The access token does not carry the scope {' or '.join(scopes)}.")
    found = grants.partner_client(caller.partner_id, client_id)
    if found is None or not grant_active(found, now):
        raise NotFound("No client with that id has granted you access.")
    granted = [s for s in carried if s in found.get("scopes", [])]
    if not granted:
        raise Forbidden(f"The client has not granted {' or '.join(carried)}.")
    return [ClientAccess(caller, client_id, str(found["userId"]), s) for s in granted]


def record(access: ClientAccess, resource: str, now: datetime) -> None:
    """Write the person's access-log entry for this read or write (before it is answered)."""
    grants.log_access(
        access.user_id,
        {
            "partnerId": access.caller.partner_id,
            "partnerName": access.caller.partner_name,
            "action": access.scope,
            "resource": resource,
            "at": to_rfc3339(now),
        },
    )


def clients(
    caller: Caller, now: datetime, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A page of my clients whose grants are active (an expired one is left out)."""
    if "clients.read" not in caller.token_scopes:
        raise Forbidden("The access token does not carry the scope clients.read.")
    found, last = grants.partner_clients(caller.partner_id, limit, start)
    shown = [
        {
            "clientId": c["clientId"],
            "scopes": c.get("scopes", []),
            "expiresAt": c.get("expiresAt"),
            "grantedAt": c["createdAt"],
        }
        for c in found
        if not _expired(c.get("expiresAt"), now)
    ]
    return [{k: v for k, v in c.items() if v is not None} for c in shown], last


def plan_views(access: ClientAccess, plans: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A client's plans as the partner sees them: partner-specific ids, no obstacles."""
    return [
        {
            "planId": access.ref("plan", str(p["planId"])),
            "title": p["title"],
            "transition": p.get("transition"),
            "targetDate": p.get("targetDate"),
            "createdAt": p["createdAt"],
            "updatedAt": p["updatedAt"],
            "items": [
                {
                    "itemId": access.ref("plan-item", str(i["itemId"])),
                    **{
                        k: i[k]
                        for k in ("kind", "title", "status", "progress", "dueDate", "lastDoneAt")
                        if k in i
                    },
                }
                for i in p.get("items", [])
            ],
        }
        for p in plans
    ]


def plan_of_ref(access: ClientAccess, ref: str) -> str | None:
    """The client's plan whose partner-specific id is `ref`, or None (a few list pages: a person
    has few plans)."""
    start: dict[str, Any] | None = None
    while True:
        summaries, start = plan_store.list_plans(access.user_id, 100, start)
        for summary in summaries:
            if access.ref("plan", str(summary["planId"])) == ref:
                return str(summary["planId"])
        if not start:
            return None
