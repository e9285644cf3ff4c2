"""The emulator's Query correction (`infra.local.moto_dynamodb`) under parallel queries: the
export reads promise partitions from a thread pool, and each query must read its own partition."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from shared.store.table import dynamodb, query_all, table_name
from tests.support.aws import Aws

PARTITIONS = 8
ITEMS = 5


def test_parallel_queries_each_read_their_own_partition(aws: Aws) -> None:
    for p in range(PARTITIONS):
        for n in range(ITEMS):
            dynamodb().put_item(
                TableName=table_name(), Item={"PK": {"S": f"TEST#{p}"}, "SK": {"S": f"ITEM#{n}"}}
            )

    def read(p: int) -> list[str]:
        params = {
            "TableName": table_name(),
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"TEST#{p}"}},
        }
        return [str(i["PK"]) for i in query_all(params)]

    with ThreadPoolExecutor(max_workers=PARTITIONS) as pool:
        results = list(pool.map(read, [p for _ in range(40) for p in range(PARTITIONS)]))
    expected = [[f"TEST#{p}"] * ITEMS for _ in range(40) for p in range(PARTITIONS)]
    assert results == expected
