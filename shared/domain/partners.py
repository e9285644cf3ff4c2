"""Partners: coaching companies that integrate with the app (DOMAIN.md "Partners").

A partner is registered by an operator (`python -m infra.partners register`) with the scopes it
may ask for; it gets OAuth2 client credentials (a Cognito app client with the
client-credentials grant in AWS, the local stack's token endpoint locally) and calls
`/partner/v1` with access tokens whose scopes the API checks per route. A person grants a
partner some of those scopes; the partner then knows them by a partner-specific `clientId`.

Scopes travel in tokens as Cognito writes them, prefixed by the resource server's identifier
(`partner/clients.read`); grants, the directory and the API's documents name them bare
(`clients.read`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

RESOURCE_SERVER = "partner"
SCOPES = (
    "clients.read",
    "profile.read",
    "cares.read",
    "promises.read",
    "plans.read",
    "requests.write",
    "plans.suggest",
    "webhooks.manage",
)
SCOPE_DESCRIPTIONS = {
    "clients.read": "List the people who granted access",
    "profile.read": "Read a client's profile",
    "cares.read": "Read a client's cares",
    "promises.read": "Read a client's promises and their moves",
    "plans.read": "Read a client's learning plans",
    "requests.write": "Ask a client for a promise",
    "plans.suggest": "Suggest plan items to a client",
    "webhooks.manage": "Manage the partner's webhook",
}
NAME_MAX = 80
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")


def token_scope(scope: str) -> str:
    """A scope as an access token carries it (`partner/clients.read`)."""
    return f"{RESOURCE_SERVER}/{scope}"


def bare_scope(scope: str) -> str | None:
    """A token's scope without its resource server, or None when it is not one of ours."""
    prefix = f"{RESOURCE_SERVER}/"
    if not scope.startswith(prefix):
        return None
    bare = scope.removeprefix(prefix)
    return bare if bare in SCOPES else None


def valid_name(name: str) -> bool:
    """A partner's display name: 1 to 80 characters, no control characters."""
    return bool(_NAME.fullmatch(name)) and name.strip() == name and bool(name)


def _keyed(key: bytes, *parts: str) -> str:
    digest = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:15]).decode().lower()  # 24 characters, 120 bits


def client_id(key: bytes, partner_id: str, user_id: str) -> str:
    """How a partner knows a person: stable for that partner, unlinkable across partners (a keyed
    hash of the partner and the person; without the key nobody can tell two partners' ids of one
    person apart from two people's)."""
    return "c" + _keyed(key, "client", partner_id, user_id)


def partner_ref(key: bytes, partner_id: str, kind: str, thing_id: str) -> str:
    """A partner's id for one of the person's things (a care, a promise, a plan, an item): the
    app's own ids are global, so two partners comparing them could link their clients."""
    return _keyed(key, kind, partner_id, thing_id)
