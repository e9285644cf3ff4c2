"""The change log fed from moto's stream, in-process: what Lambda's event source mapping does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from functions.change_log.app import lambda_handler as change_log_handler
from infra.local.streams import StreamSource, lambda_record, stream_sources
from infra.local.template import load
from shared.store.table import dynamodb, table_name
from tests.support.aws import REGION, Aws, LambdaContext

(CHANGE_LOG,) = [s for s in stream_sources(load()) if s.function == "ChangeLogFunction"]


@dataclass
class ChangeLogFeed:
    """Tails the table's stream; `drain()` delivers what the template's filter lets through to
    the change log function, in batches as Lambda would, and answers those records."""

    source: StreamSource
    arn: str
    streams: Any
    iterators: dict[str, str] = field(default_factory=dict)
    delivered: list[dict[str, Any]] = field(default_factory=list)

    def read(self) -> list[dict[str, Any]]:
        """Every record written since the last read (all shards)."""
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        out: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            while True:
                page = self.streams.get_records(ShardIterator=self.iterators[shard_id], Limit=1000)
                self.iterators[shard_id] = page["NextShardIterator"]
                out += [lambda_record(r, self.arn) for r in page["Records"]]
                if not page["Records"]:
                    break
        return out

    def drain(self, batch_size: int = 100) -> list[dict[str, Any]]:
        wanted = [r for r in self.read() if self.source.wants(r)]
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start : start + batch_size]
            result = change_log_handler({"Records": batch}, LambdaContext())
            assert result == {"batchItemFailures": []}, result
        self.delivered += wanted
        return wanted


@pytest.fixture
def change_log(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> ChangeLogFeed:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    arn = dynamodb().describe_table(TableName=table_name())["Table"]["LatestStreamArn"]
    return ChangeLogFeed(CHANGE_LOG, arn, boto3.client("dynamodbstreams", region_name=REGION))
