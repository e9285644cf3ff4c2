"""The local stack's emulator keeps DynamoDB transactions isolated, as DynamoDB does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.local.emulator import Emulator
from tests.support.stack import free_port

RACERS = 8
ROUNDS = 10
BACKGROUND_ITEMS = 2000


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    emulator = Emulator("127.0.0.1", free_port())
    emulator.start()
    client = boto3.client(
        "dynamodb",
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # No retries: a request that failed inside the emulator must show, not be retried away.
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # moto copies every table on each transaction: a full table widens the window a race needs.
    for start in range(0, BACKGROUND_ITEMS, 25):
        batch: list[Any] = [
            {"PutRequest": {"Item": {"PK": {"S": f"BG#{n}"}}}} for n in range(start, start + 25)
        ]
        client.batch_write_item(RequestItems={"t": batch})
    yield client
    emulator.stop()


def test_racing_transactions_one_wins_and_nothing_is_lost(dynamodb: Any) -> None:
    """Each round, racers claim one name with their own item: one wins, and its item survives.

    moto alone restores a deep copy of the tables when a transaction is cancelled, which undoes a
    winner that committed meanwhile; the emulator must not.
    """

    def claim(round_: int, racer: int, barrier: threading.Barrier) -> str:
        """The error code the racer got, or "" when its transaction committed."""
        barrier.wait()
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"PK": {"S": f"OWNER#{round_}#{racer}"}}}},
                    {
                        "Put": {
                            "TableName": "t",
                            "Item": {"PK": {"S": f"NAME#{round_}"}, "owner": {"N": str(racer)}},
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return ""

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        for round_ in range(ROUNDS):
            barrier = threading.Barrier(RACERS)
            outcomes = list(pool.map(lambda r: claim(round_, r, barrier), range(RACERS)))  # noqa: B023
            assert sorted(outcomes) == [""] + ["TransactionCanceledException"] * (RACERS - 1), outcomes
            winner = outcomes.index("")
            name = dynamodb.get_item(TableName="t", Key={"PK": {"S": f"NAME#{round_}"}})
            assert name["Item"]["owner"] == {"N": str(winner)}
            owner = dynamodb.get_item(TableName="t", Key={"PK": {"S": f"OWNER#{round_}#{winner}"}})
            assert "Item" in owner, "the winner's write was undone by a cancelled transaction"
