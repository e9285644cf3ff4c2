"""Grants (a person's consent to a partner) and the access log of what partners did.

- `USER#<sub>` / `GRANT#<partnerId>` (entity `grant`): partnerId, partnerName (as registered
  when granted), scopes (bare), clientId, expiresAt (RFC 3339, optional), createdAt, updatedAt.
- `PARTNER#<partnerId>` / `CLIENT#<clientId>` (entity `partner-client`): the partner's side of the
  same grant, what a partner request reads (one consistent GetItem, so a revocation holds on the
  partner's very next request): clientId, userId, scopes, expiresAt, createdAt; `owner` = the
  person (erasure finds it through the ByOwner index).
- `USER#<sub>` / `ACCESS#<ulid>` (entity `access`): one partner read or write of my data:
  partnerId, partnerName, action (the scope used), resource, at; expires after a year (TTL).

A grant's two items change together, in one transaction with the person's account check.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from shared.domain.errors import Conflict, NotFound
from shared.domain.ids import new_id
from shared.domain.timeutil import parse_rfc3339
from shared.store import keys
from shared.store.partners import PARTNER_SK, partner_pk
from shared.store.table import (
    deserialize,
    dynamodb,
    error_code,
    key,
    query_prefix,
    serialize,
    table_name,
    throttling_as_unavailable,
)
from shared.store.transaction import Transaction, TransactionCancelled

GRANT_PREFIX = "GRANT#"
CLIENT_PREFIX = "CLIENT#"
ACCESS_PREFIX = "ACCESS#"
ACCESS_KEPT = timedelta(days=365)
GRANT_FIELDS = ("partnerId", "partnerName", "scopes", "clientId", "expiresAt", "createdAt", "updatedAt")
CLIENT_FIELDS = ("clientId", "userId", "scopes", "expiresAt", "createdAt")
ACCESS_FIELDS = ("accessId", "partnerId", "partnerName", "action", "resource", "at")


def grant_sk(partner_id: str) -> str:
    return f"{GRANT_PREFIX}{partner_id}"


def client_sk(client_id: str) -> str:
    return f"{CLIENT_PREFIX}{client_id}"


def save_grant(user_id: str, grant: dict[str, Any]) -> None:
    """Put my grant and the partner's side of it (over an earlier grant to that partner), if
    the partner is registered and my account stands; Conflict when the partner is gone."""
    user_item = {"PK": keys.user_pk(user_id), "SK": grant_sk(grant["partnerId"]), "entity": "grant", **grant}
    partner_item: dict[str, Any] = {
        "PK": partner_pk(grant["partnerId"]),
        "SK": client_sk(grant["clientId"]),
        "entity": "partner-client",
        "userId": user_id,
        "owner": user_id,
        **{k: grant[k] for k in ("clientId", "scopes", "expiresAt", "createdAt") if k in grant},
    }
    tx = Transaction()
    tx.add("grant", [{"Put": {"TableName": table_name(), "Item": serialize(user_item)}}])
    tx.add("client", [{"Put": {"TableName": table_name(), "Item": serialize(partner_item)}}])
    check = {
        "TableName": table_name(),
        "Key": key(partner_pk(grant["partnerId"]), PARTNER_SK),
        "ConditionExpression": "attribute_exists(PK)",
    }
    tx.add("partner", [{"ConditionCheck": check}])
    tx.require_account(user_id)
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("partner"):
            raise NotFound("No such partner.") from error
        raise Conflict("The grant is being changed by another request; retry.") from error


def delete_grant(user_id: str, partner_id: str, client_id: str) -> None:
    """Revoke: delete my grant and the partner's side of it together; NotFound without one."""
    tx = Transaction()
    tx.add(
        "grant",
        [
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": key(keys.user_pk(user_id), grant_sk(partner_id)),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            }
        ],
    )
    tx.add(
        "client",
        [{"Delete": {"TableName": table_name(), "Key": key(partner_pk(partner_id), client_sk(client_id))}}],
    )
    try:
        tx.commit()
    except TransactionCancelled as error:
        if error.failed_on("grant"):
            raise NotFound("You have granted nothing to this partner.") from error
        raise Conflict("The grant is being changed by another request; retry.") from error


def get_grant(user_id: str, partner_id: str) -> dict[str, Any] | None:
    """My grant to a partner (consistent GetItem), or None."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(), Key=key(keys.user_pk(user_id), grant_sk(partner_id)), ConsistentRead=True
        )
    item = deserialize(found.get("Item", {}))
    return {k: item[k] for k in GRANT_FIELDS if k in item} if item else None


def my_grants(
    user_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of my grants (a Query of my partition)."""
    items, last = query_prefix(keys.user_pk(user_id), GRANT_PREFIX, limit=limit, start=start)
    return [{k: i[k] for k in GRANT_FIELDS if k in i} for i in items], last


def partner_client(partner_id: str, client_id: str) -> dict[str, Any] | None:
    """The partner's side of a grant (consistent GetItem: a revocation holds at once), or None."""
    with throttling_as_unavailable():
        found = dynamodb().get_item(
            TableName=table_name(), Key=key(partner_pk(partner_id), client_sk(client_id)), ConsistentRead=True
        )
    item = deserialize(found.get("Item", {}))
    return {k: item[k] for k in CLIENT_FIELDS if k in item} if item else None


def partner_clients(
    partner_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a partner's clients (a Query of the partner's partition)."""
    items, last = query_prefix(partner_pk(partner_id), CLIENT_PREFIX, limit=limit, start=start)
    return [{k: i[k] for k in CLIENT_FIELDS if k in i} for i in items], last


def log_access(user_id: str, entry: dict[str, Any]) -> None:
    """Record one partner read or write of my data (PutItem), kept a year."""
    access_id = new_id()
    expires = parse_rfc3339(str(entry["at"])) + ACCESS_KEPT
    item = {
        "PK": keys.user_pk(user_id),
        "SK": f"{ACCESS_PREFIX}{access_id}",
        "entity": "access",
        "accessId": access_id,
        **entry,
        "expiresAt": int(expires.timestamp()),
    }
    try:
        with throttling_as_unavailable():
            dynamodb().put_item(
                TableName=table_name(), Item=serialize(item), ConditionExpression="attribute_not_exists(PK)"
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":  # an id collision: never in practice
            raise Conflict("Retry.") from error
        raise


def access_log(
    user_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of my access log, newest first (a Query of my partition)."""
    items, last = query_prefix(
        keys.user_pk(user_id), ACCESS_PREFIX, limit=limit, start=start, newest_first=True
    )
    return [{k: i[k] for k in ACCESS_FIELDS if k in i} for i in items], last
