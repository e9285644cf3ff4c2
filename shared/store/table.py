"""The DynamoDB client (one per process, made lazily), item (de)serialisation, error mapping."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

from shared.config import settings
from shared.domain.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_client: DynamoDBClient | None = None
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

_ABSENT = "attribute_not_exists(PK)"
_THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)


# Standard retry mode already retries throttling with backoff; what still fails after that is
# answered as a 503 with Retry-After rather than holding the caller. Three attempts in all
# (`total_max_attempts`: `max_attempts` in this dict counts retries after the first), each at
# most 1 + 2 s: the worst case, with backoff, stays inside the API functions' 10 s timeout, so
# the caller gets the 503 rather than a Lambda timeout. DynamoDB answers in milliseconds.
# `DYNAMODB_READ_TIMEOUT_SECONDS` is for the local stack only, whose emulator is far slower.
def _client_config() -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": 3},
        connect_timeout=1,
        read_timeout=float(os.environ.get("DYNAMODB_READ_TIMEOUT_SECONDS", "2")),
    )


def dynamodb() -> DynamoDBClient:
    """The process's DynamoDB client."""
    global _client
    if _client is None:
        _client = boto3.client("dynamodb", config=_client_config())
    return _client


def reset_clients() -> None:
    """Forget cached clients (tests switch emulators between cases)."""
    global _client
    _client = None


def table_name() -> str:
    """The single table's name."""
    return settings().table_name


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict -> DynamoDB attribute values (None values are left out)."""
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> a plain dict with ints where numbers are whole."""
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    """A primary key as DynamoDB wants it."""
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return sorted(_from_dynamo(v) for v in value)
    return value


def new_item_put(item: Mapping[str, Any]) -> dict[str, Any]:
    """A transaction's Put of a new item: it fails rather than overwrite an existing one."""
    return {"Put": {"TableName": table_name(), "Item": serialize(item), "ConditionExpression": _ABSENT}}


def error_code(error: ClientError) -> str:
    """The AWS error code of a client error."""
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_codes(error: ClientError) -> list[str]:
    """Per-item reasons of a cancelled transaction, in the order of its items ('None' = fine)."""
    reasons = error.response.get("CancellationReasons", [])
    return [str(r.get("Code", "None")) for r in reasons]


@contextlib.contextmanager
def throttling_as_unavailable() -> Iterator[None]:
    """Turn throttling or a 5xx that survived the client's retries, or no answer at all (a read
    or connect timeout, a dropped connection), into a 503 for the
    caller."""
    try:
        yield
    except ClientError as error:
        if error_code(error) in _THROTTLING:
            raise ServiceUnavailable("The database is busy; retry shortly.", retry_after_seconds=2) from error
        raise
    except (HTTPClientError, AwsConnectionError) as error:
        raise ServiceUnavailable(
            "The database did not answer; retry shortly.", retry_after_seconds=2
        ) from error


def query_prefix(
    pk: str,
    prefix: str,
    *,
    limit: int | None = None,
    start: Mapping[str, Any] | None = None,
    newest_first: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of Query PK = :pk AND begins_with(SK, :prefix): items and LastEvaluatedKey."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
        "ScanIndexForward": not newest_first,
    }
    if limit:
        params["Limit"] = limit
    if start:
        params["ExclusiveStartKey"] = dict(start)
    with throttling_as_unavailable():
        response = dynamodb().query(**params)
    return [deserialize(i) for i in response.get("Items", [])], response.get("LastEvaluatedKey")


def query_all(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every page of one Query (`params` as for the client's `query`), deserialised."""
    request = dict(params)
    out: list[dict[str, Any]] = []
    while True:
        with throttling_as_unavailable():
            response = dynamodb().query(**request)
        out.extend(deserialize(i) for i in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return out
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


BATCH_WRITE_LIMIT = 25  # BatchWriteItem's limit


def batch_write(requests: Sequence[Mapping[str, Any]], throttled: ServiceUnavailable) -> None:
    """Put and delete requests (`{"PutRequest": ...}`, `{"DeleteRequest": ...}`) in
    BatchWriteItems of 25, in order, each sent again for what DynamoDB left unprocessed (with
    backoff, 8 tries); `throttled` is raised when some never got through. Not atomic: each item
    is written once, at its size."""
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending: list[Any] = list(requests[start : start + BATCH_WRITE_LIMIT])
        for attempt in range(8):
            with throttling_as_unavailable():
                response = dynamodb().batch_write_item(RequestItems={table_name(): pending})
            pending = list[Any](response.get("UnprocessedItems", {}).get(table_name(), []))
            if not pending:
                break
            time.sleep(min(0.02 * 2**attempt, 1.0))
        else:
            raise throttled
