"""`Idempotency-Key` on creating routes, through Powertools idempotency on the single table.

Records live in the caller's own partition (PK = USER#<sub>, SK = IDEMPOTENCY#...), so keys of
different people never collide and account erasure removes them with everything else; an
outside counterpart's live in the promise's partition (PK = PROMISE#<id>). The
record keeps the first response for 24 hours; the same key with another body is a 422.

A Lambda timeout in the middle of a keyed request leaves the record in progress: until it
expires (at the invocation's deadline) the same key is a 409 with `Retry-After`; after that the
retry runs again. If the first run had already committed, running again must not create a second
thing: on the routes whose body may carry an app-made id (`id_field`: reflectionId, careId,
promiseId, planId, itemId, obstacleId, moveId), a keyed request without one gets the id bound
to its key, `IDEMPOTENCY#<operation>#id#<sha256 of the key>` (a new ULID kept the first time,
read back by every later run with that key, one conditional PutItem), so a run after the timeout
writes the same id and the replay machinery (`shared.domain.replay`) answers it as the first
time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shared.api.resolver import json_response
from shared.domain.errors import Conflict, FieldError, InvalidInput, ServiceUnavailable
from shared.domain.ids import new_id
from shared.domain.timeutil import utc_now
from shared.store import keys
from shared.store.table import dynamodb, error_code, table_name, throttling_as_unavailable
from shared.store.table import key as item_key

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
# How long a client should wait before retrying a request whose first run still holds its key.
IN_PROGRESS_RETRY_AFTER_SECONDS = 2


class RequestInProgress(Conflict):
    """A request with this Idempotency-Key is running, or died mid-way and its record has not
    expired yet (409 with Retry-After)."""

    def __init__(self) -> None:
        super().__init__("A request with this Idempotency-Key is still in progress; retry shortly.")
        self.retry_after_seconds = IN_PROGRESS_RETRY_AFTER_SECONDS


def _bad_key(message: str) -> InvalidInput:
    return InvalidInput(
        "The Idempotency-Key header is not valid.",
        [FieldError("header", "Idempotency-Key", "idempotency_key_invalid", message)],
    )


def idempotent(
    *,
    context: LambdaContext,
    user_id: str | None = None,
    partition: str | None = None,
    operation: str,
    key: str | None,
    payload: Any,
    produce: Callable[[], Response[Any]],
    id_field: str | None = None,
) -> Response[Any]:
    """Run `produce` once per (person, operation, key); replays return the first response.

    The record lives in the caller's partition (`user_id`), or, for a caller without an account
    (an outside counterpart, whose credential is a promise's link), in `partition`, the
    promise's own, which is erased with it.

    `id_field`: the body (`payload`, the dict `produce` reads) may carry an app-made id under
    this name; a keyed request without one gets the id bound to the key (module docstring), set
    in `payload` before `produce` runs.
    """
    if (user_id is None) == (partition is None):
        raise TypeError("give exactly one of user_id and partition")
    if key is None:
        return produce()
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise _bad_key("must be 1 to 255 printable characters")

    # Imported here: only requests that carry a key pay for the idempotency utility.
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    pk = partition or keys.user_pk(str(user_id))
    store = DynamoDBPersistenceLayer(
        table_name=table_name(),
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=pk,
        expiry_attr="expiresAt",
        boto3_client=dynamodb(),
    )
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload",
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
        raise_on_no_idempotency_key=True,
    )
    config.register_lambda_context(context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request",
        persistence_store=store,
        config=config,
        key_prefix=f"{keys.IDEMPOTENCY_PREFIX}{operation}",
    )
    def run(request: dict[str, Any]) -> dict[str, Any]:
        if id_field is not None and isinstance(payload, dict) and payload.get(id_field) is None:
            payload[id_field] = _id_for_key(pk, operation, str(key))
        response = produce()
        return {"status": response.status_code, "headers": response.headers, "body": response.body}

    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    try:
        result = run(request={"key": key, "payload": digest})
    except IdempotencyPersistenceLayerError as error:
        # The record could not be written or read: a dependency failure, never the client's.
        raise ServiceUnavailable("The database is busy; retry shortly.", retry_after_seconds=2) from error
    except IdempotencyValidationError:
        raise InvalidInput(
            "This Idempotency-Key was used with another body.",
            [
                FieldError(
                    "header", "Idempotency-Key", "idempotency_key_reused", "already used with another body"
                )
            ],
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgress() from None
    return json_response(int(result["status"]), result["body"], result["headers"])


def _id_for_key(partition: str, operation: str, key: str) -> str:
    """The id bound to (partition, operation, key): a new ULID the first time, the same one on
    every later run until it expires with the key's record. One conditional PutItem, which
    answers the id kept before when it fails (ReturnValuesOnConditionCheckFailure)."""
    now = utc_now()
    made = new_id(int(now.timestamp() * 1000))
    digest = hashlib.sha256(key.encode()).hexdigest()
    try:
        with throttling_as_unavailable():
            dynamodb().put_item(
                TableName=table_name(),
                Item={
                    **item_key(partition, f"{keys.IDEMPOTENCY_PREFIX}{operation}#id#{digest}"),
                    "madeId": {"S": made},
                    "expiresAt": {"N": str(int(now.timestamp()) + IDEMPOTENCY_TTL_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(PK) OR expiresAt < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        kept: dict[str, Any] = dict(error.response.get("Item", {}))  # type: ignore[call-overload]
        return str(kept["madeId"]["S"])
    return made
