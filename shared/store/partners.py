"""The partner registry: who may call `/partner/v1`, with which scopes.

- `PARTNER#<partnerId>` / `PARTNER` (entity `partner`): partnerId (ULID), name, scopes (bare
  names), appClientId (the OAuth2 client id: a Cognito app client), createdAt; in the directory
  through the generic list index (`listAll` = `PARTNERS`, `dueKey` = `<name lowercased>#<id>`,
  the public fields projected as `summary`).
- `APPCLIENT#<appClientId>` / `APPCLIENT` (entity `partner-app-client`): partnerId. A token's
  `client_id` names the app client; this maps it to the partner (one GetItem, cached briefly).

Written by the registration command (`infra/partners.py`), read by the API.
"""

from __future__ import annotations

from typing import Any

from shared.store import keys
from shared.store.table import (
    deserialize,
    dynamodb,
    key,
    new_item_put,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction

PARTNER_SK = "PARTNER"
APP_CLIENT_SK = "APPCLIENT"
DIRECTORY = "PARTNERS"
PUBLIC_FIELDS = ("partnerId", "name", "scopes", "createdAt")
_LIST_INDEX, _LIST_ATTRIBUTE = keys.PROMISE_LISTS["all"]


def partner_pk(partner_id: str) -> str:
    """A partner's own partition: the partner, and later its clients, webhook and deliveries."""
    return f"PARTNER#{partner_id}"


def app_client_pk(app_client_id: str) -> str:
    """The lookup from an OAuth2 client id to its partner."""
    return f"APPCLIENT#{app_client_id}"


def register(partner: dict[str, Any]) -> None:
    """One transaction: the partner and the lookup of its app client (both new)."""
    item = {
        "PK": partner_pk(partner["partnerId"]),
        "SK": PARTNER_SK,
        "entity": "partner",
        **partner,
        _LIST_ATTRIBUTE: DIRECTORY,
        "dueKey": f"{str(partner['name']).lower()}#{partner['partnerId']}",
        "summary": {k: partner[k] for k in PUBLIC_FIELDS if k in partner},  # what the index projects
    }
    lookup = {
        "PK": app_client_pk(partner["appClientId"]),
        "SK": APP_CLIENT_SK,
        "entity": "partner-app-client",
        "partnerId": partner["partnerId"],
    }
    tx = Transaction()
    tx.add("partner", [new_item_put(item)])
    tx.add("lookup", [new_item_put(lookup)])
    tx.commit()


def get_partner(partner_id: str) -> dict[str, Any] | None:
    """A partner as registered (GetItem), or None."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(TableName=table_name(), Key=key(partner_pk(partner_id), PARTNER_SK))
    item = deserialize(found.get("Item", {}))
    return {k: item[k] for k in (*PUBLIC_FIELDS, "appClientId") if k in item} if item else None


def partner_of_app_client(app_client_id: str) -> str | None:
    """The partner whose OAuth2 client this is (GetItem), or None."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(), Key=key(app_client_pk(app_client_id), APP_CLIENT_SK)
        )
    item = deserialize(found.get("Item", {}))
    return str(item["partnerId"]) if item else None


def directory(limit: int, start: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of the directory, by name (a Query of the list index)."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": _LIST_INDEX,
        "KeyConditionExpression": "#list = :list",
        "ExpressionAttributeNames": {"#list": _LIST_ATTRIBUTE},
        "ExpressionAttributeValues": {":list": {"S": DIRECTORY}},
        "Limit": limit,
    }
    if start:
        params["ExclusiveStartKey"] = start
    with throttling_as_unavailable():
        response = dynamodb().query(**params)
    items = [deserialize(i)["summary"] for i in response.get("Items", [])]
    return items, response.get("LastEvaluatedKey")


# --- partners' requests ----------------------------------------------------------------------------

REQUEST_PREFIX = "REQUEST#"


def request_put(
    partner_id: str, request_id: str, promise_id: str, client_id: str, user_id: str, at: str
) -> dict[str, Any]:
    """A transaction's Put of a partner's record of its request: its own id for the promise it
    opened (`owner` = the person, so erasure finds it)."""
    return new_item_put(
        {
            "PK": partner_pk(partner_id),
            "SK": f"{REQUEST_PREFIX}{request_id}",
            "entity": "partner-request",
            "requestId": request_id,
            "promiseId": promise_id,
            "clientId": client_id,
            "owner": user_id,
            "createdAt": at,
        }
    )


def get_request(partner_id: str, request_id: str) -> dict[str, Any] | None:
    """A partner's request record (GetItem), or None."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(), Key=key(partner_pk(partner_id), f"{REQUEST_PREFIX}{request_id}")
        )
    item = deserialize(found.get("Item", {}))
    return item or None
