"""Writes whose answer was lost (issue 13): the transaction was applied, the client's read timed
out, and the SDK sent it again. The retry carries the same `ClientRequestToken`, so DynamoDB
(and the emulator, with `infra.local.moto_dynamodb`) answers it as a success that changes
nothing: the route answers as if nothing had happened, and stores one thing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from moto.core.models import botocore_stubber

from shared.store import table
from tests.handler.test_care import reflection_body
from tests.handler.test_promises import Person, move, new_person, open_promise
from tests.support.aws import REGION, Aws


def lose_answers(client: Any, operation: str, times: int = 1) -> list[str]:
    """Apply the next `times` calls of `operation`, then lose their answers (a read timeout):
    the SDK's retry sends the same request again. Answers the tokens the lost calls carried."""
    tokens: list[str] = []

    def apply_then_time_out(request: Any, event_name: str, **_: Any) -> None:
        if len(tokens) >= times:
            return
        tokens.append(__import__("json").loads(request.body).get("ClientRequestToken", ""))
        botocore_stubber(request=request, event_name=event_name)  # it reaches DynamoDB...
        raise ReadTimeoutError(endpoint_url=request.url)  # ...and its answer does not come back

    client.meta.events.register_first(f"before-send.dynamodb.{operation}", apply_then_time_out)
    return tokens


@pytest.fixture
def people(aws: Aws) -> tuple[Person, Person]:
    return new_person(aws, "ana"), new_person(aws, "ben")


def _items(aws: Aws, prefix: str) -> list[dict[str, Any]]:
    return [i for i in aws.data_items() if str(i["SK"]).startswith(prefix) or str(i["PK"]).startswith(prefix)]


def test_an_opened_promise_whose_answer_was_lost_is_opened_once(
    aws: Aws, people: tuple[Person, Person]
) -> None:
    ana, ben = people
    lost = lose_answers(table.dynamodb(), "TransactWriteItems")
    opened = open_promise(ana, ben)
    assert lost, "the first attempt's answer was lost"
    assert all(lost), "every attempt carries a ClientRequestToken (botocore fills it in)"
    promises = [i for i in aws.data_items() if i["SK"] == "PROMISE" and str(i["PK"]).startswith("PROMISE#")]
    assert [p["promiseId"] for p in promises] == [opened["promiseId"]]
    assert len(_items(aws, f"PROMISE#{opened['promiseId']}")) >= 2, "the promise and its first move"


def test_a_move_whose_answer_was_lost_is_applied_once_and_is_not_a_conflict(
    aws: Aws, people: tuple[Person, Person]
) -> None:
    ana, ben = people
    opened = open_promise(ana, ben)
    lose_answers(table.dynamodb(), "TransactWriteItems")
    reply = move(ben, opened["promiseId"], "promise", note="On it")
    assert reply.status == 200, reply.body
    assert reply.body["state"] == "promised"
    moves = [
        i
        for i in aws.data_items()
        if i["PK"] == f"PROMISE#{opened['promiseId']}" and str(i["SK"]).startswith("MOVE#")
    ]
    assert [m["act"] for m in sorted(moves, key=lambda m: m["seq"])] == ["request", "promise"]


@pytest.mark.parametrize(
    ("path", "body", "entity"),
    [
        ("/v1/me/cares", {"statement": "Growing people", "domain": "others"}, "care"),
        ("/v1/me/reflections", None, "reflection"),
    ],
)
def test_a_create_whose_answer_was_lost_makes_one_thing(
    aws: Aws, people: tuple[Person, Person], path: str, body: dict[str, Any] | None, entity: str
) -> None:
    ana, _ = people
    body = body if body is not None else reflection_body()
    lose_answers(table.dynamodb(), "TransactWriteItems")
    reply = ana.care("POST", path, body=body)
    assert reply.status == 201, reply.body
    made = [i for i in aws.data_items() if i["PK"] == f"USER#{ana.sub}" and i.get("entity") == entity]
    assert len(made) == 1


def test_the_same_token_with_other_items_is_refused(aws: Aws) -> None:
    client: Any = boto3.client("dynamodb", region_name=REGION)
    name = table.table_name()
    put: Callable[[str], dict[str, Any]] = lambda sk: {  # noqa: E731
        "Put": {"TableName": name, "Item": {"PK": {"S": "T"}, "SK": {"S": sk}}}
    }
    client.transact_write_items(TransactItems=[put("A")], ClientRequestToken="token-1")
    client.transact_write_items(TransactItems=[put("A")], ClientRequestToken="token-1")
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(TransactItems=[put("B")], ClientRequestToken="token-1")
    assert refused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert [i["SK"] for i in aws.all_items() if i["PK"] == "T"] == ["A"]


def test_a_repeat_succeeds_even_when_its_conditions_no_longer_hold(aws: Aws) -> None:
    client: Any = boto3.client("dynamodb", region_name=REGION)
    new = {
        "Put": {
            "TableName": table.table_name(),
            "Item": {"PK": {"S": "T"}, "SK": {"S": "A"}},
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }
    client.transact_write_items(TransactItems=[new], ClientRequestToken="token-2")
    client.transact_write_items(TransactItems=[new], ClientRequestToken="token-2")  # DynamoDB: a success
    with pytest.raises(ClientError) as again:  # without the token it is a new transaction
        client.transact_write_items(TransactItems=[new], ClientRequestToken="token-3")
    assert again.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.models.table import Table

    def no_table_copies(self: Any, memo: Any) -> Any:
        raise AssertionError("a transaction copied a whole table")

    monkeypatch.setattr(Table, "__deepcopy__", no_table_copies, raising=False)
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    client: Any = boto3.client("dynamodb", region_name=REGION)
    name = table.table_name()
    client.put_item(TableName=name, Item={"PK": {"S": "T"}, "SK": {"S": "A"}, "n": {"N": "1"}})
    arn = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]

    def stream_length() -> int:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return len(streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])

    before = stream_length()
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"PK": {"S": "T"}, "SK": {"S": "A"}, "n": {"N": "2"}}}},
                {"Put": {"TableName": name, "Item": {"PK": {"S": "T"}, "SK": {"S": "B"}}}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"PK": {"S": "T"}, "SK": {"S": "C"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    assert [(i["SK"], i.get("n")) for i in aws.all_items() if i["PK"] == "T"] == [("A", 1)]
    assert stream_length() == before, "the partial writes' stream records are gone with them"
