"""`Idempotency-Key` on creating routes, through Powertools idempotency on the single table.

Records live in the caller's own partition (PK = USER#<sub>, SK = IDEMPOTENCY#...), so keys of
different people never collide and account erasure removes them with everything else; an
outside counterpart's live in the promise's partition (PK = PROMISE#<id>). The
record keeps the first response for 24 hours; the same key with another body is a 422.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.api.resolver import json_response
from shared.domain.errors import Conflict, FieldError, InvalidInput
from shared.store import keys
from shared.store.table import dynamodb, table_name

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60


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
) -> Response[Any]:
    """Run `produce` once per (person, operation, key); replays return the first response.

    The record lives in the caller's partition (`user_id`), or, for a caller without an account
    (an outside counterpart, whose credential is a promise's link), in `partition`, the
    promise's own, which is erased with it.
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
        IdempotencyValidationError,
    )

    store = DynamoDBPersistenceLayer(
        table_name=table_name(),
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=partition or keys.user_pk(str(user_id)),
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
        response = produce()
        return {"status": response.status_code, "headers": response.headers, "body": response.body}

    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    try:
        result = run(request={"key": key, "payload": digest})
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
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.") from None
    return json_response(int(result["status"]), result["body"], result["headers"])
