"""DynamoDB stream event sources, locally: poll the table's stream and invoke the functions.

Lambda's event source mapping reads the stream, keeps the records its filter criteria match,
and invokes the function with batches of them. Here one thread does the same against the
emulator's DynamoDB Streams API, from the moment the stack starts (StartingPosition LATEST):
records a function reports as failed (ReportBatchItemFailures) or that raise are retried up to
the mapping's MaximumRetryAttempts, then dropped with a line on stderr (where AWS would send
them to the on-failure destination).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.local.template import Template

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class StreamSource:
    """One function's DynamoDB event source, as the template declares it."""

    function: str
    batch_size: int = 100
    max_retries: int = 2
    patterns: tuple[Mapping[str, Any], ...] = ()

    def wants(self, record: Mapping[str, Any]) -> bool:
        """Whether the filter criteria let this record through (no filter: every record)."""
        return not self.patterns or any(matches(p, record) for p in self.patterns)


def stream_sources(template: Template) -> list[StreamSource]:
    """Every event source mapping of the template that feeds a function from the table's stream.

    The template declares them as `AWS::Lambda::EventSourceMapping` resources (a SAM
    `Type: DynamoDB` event would grant the function every stream in the account), with
    `FunctionName: !Ref <function>` and `EventSourceArn: !GetAtt <table>.StreamArn`.
    """
    functions = set(template.resources_of_type("AWS::Serverless::Function"))
    sources = []
    for logical_id, mapping in template.resources_of_type("AWS::Lambda::EventSourceMapping").items():
        props = mapping["Properties"]
        if is_queue(props.get("EventSourceArn"), template):
            continue  # an SQS event source: `infra.local.queues`
        target = props.get("FunctionName")
        function = target.get("Ref") if isinstance(target, dict) else None
        if function not in functions or not _is_table_stream(props.get("EventSourceArn"), template):
            raise ValueError(
                f"{logical_id}: the local stack feeds only a template function from the table's stream"
            )
        filters = props.get("FilterCriteria", {}).get("Filters", [])
        sources.append(
            StreamSource(
                function=str(function),
                batch_size=int(props.get("BatchSize", 100)),
                max_retries=int(props.get("MaximumRetryAttempts", 2)),
                patterns=tuple(json.loads(f["Pattern"]) for f in filters),
            )
        )
    return sources


def is_queue(arn: Any, template: Template) -> bool:
    """Whether an event source is one of the template's SQS queues (`!GetAtt <queue>.Arn`)."""
    if not (isinstance(arn, dict) and "Fn::GetAtt" in arn):
        return False
    target = arn["Fn::GetAtt"]
    name = target[0] if isinstance(target, list) else str(target).split(".")[0]
    return name in template.resources_of_type("AWS::SQS::Queue")


def _is_table_stream(arn: Any, template: Template) -> bool:
    tables = template.resources_of_type("AWS::DynamoDB::Table")
    target = arn.get("Fn::GetAtt") if isinstance(arn, dict) else None
    return isinstance(target, list) and target[0] in tables and target[1:] == ["StreamArn"]


def matches(pattern: Mapping[str, Any], value: Any) -> bool:
    """Event filtering's pattern syntax, the part templates use: nested keys, lists of allowed
    values, and `{"exists": bool}` / `{"prefix": str}` / `{"anything-but": [...]}` matchers."""
    if not isinstance(value, Mapping):
        return False
    for key, expected in pattern.items():
        present = key in value
        actual = value.get(key)
        if isinstance(expected, Mapping):
            if not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if not any(_allows(option, present, actual) for option in expected):
                return False
        else:
            raise ValueError(f"a filter pattern's leaves are lists, not {expected!r}")
    return True


def _allows(option: Any, present: bool, actual: Any) -> bool:
    if isinstance(option, Mapping):
        if "exists" in option:
            return bool(option["exists"]) == present
        if "prefix" in option:
            return isinstance(actual, str) and actual.startswith(str(option["prefix"]))
        if "anything-but" in option:
            excluded = option["anything-but"]
            return present and actual not in (excluded if isinstance(excluded, list) else [excluded])
        raise ValueError(f"unsupported filter matcher {option!r}")
    return present and actual == option


def lambda_record(raw: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it (epoch seconds, the stream's ARN)."""
    record: dict[str, Any] = json.loads(json.dumps(raw, default=_plain))
    record["eventSourceARN"] = stream_arn
    return record


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"not JSON: {type(value).__name__}")


@dataclass
class _Pending:
    records: list[dict[str, Any]]
    attempts: int = 0


@dataclass
class StreamPoller:
    """Polls one stream and feeds each source's function, in a background thread."""

    streams: Any  # a boto3 dynamodbstreams client on the emulator
    stream_arn: str
    sources: Sequence[StreamSource]
    invoke: Callable[[str, dict[str, Any]], Any]
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    # Per shard, the last sequence number read (None: nothing was on the shard yet). A fresh
    # iterator is asked for on every poll: moto's iterators hold the shard object itself, which a
    # cancelled transaction replaces (moto restores a copy of the table), so a kept iterator
    # would go on reading a shard that no longer receives records.
    _positions: dict[str, str | None] = field(default_factory=dict)

    def start(self) -> None:
        """Take the stream's position now (what is on it already is skipped) and start polling."""
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            self._positions[shard["ShardId"]] = None
            while self._read(shard["ShardId"]):
                pass  # skip what was written before the stack was up (StartingPosition LATEST)
        self._thread = threading.Thread(target=self._run, name="local-streams", daemon=True)
        self._thread.start()

    def _read(self, shard: str) -> list[dict[str, Any]]:
        last = self._positions[shard]
        where: dict[str, str] = (
            {"ShardIteratorType": "TRIM_HORIZON"}
            if last is None
            else {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
        )
        iterator = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard, **where)
        response = self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
        records = [lambda_record(r, self.stream_arn) for r in response.get("Records", [])]
        if records:
            self._positions[shard] = str(records[-1]["dynamodb"]["SequenceNumber"])
        return records

    def stop(self) -> None:
        """Stop polling (records not yet read are left, as a disabled mapping leaves them)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def poll_once(self) -> int:
        """Read what is new on every shard and deliver it; answers how many records were read."""
        read = 0
        for shard in list(self._positions):
            records = self._read(shard)
            read += len(records)
            for source in self.sources:
                wanted = [r for r in records if source.wants(r)]
                for start in range(0, len(wanted), source.batch_size):
                    self._deliver(source, _Pending(wanted[start : start + source.batch_size]))
        return read

    def _deliver(self, source: StreamSource, pending: _Pending) -> None:
        while pending.records:
            try:
                result = self.invoke(source.function, {"Records": pending.records})
                failed_ids = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            except Exception as error:  # a function error: Lambda retries the whole batch
                print(f"local stack: {source.function} failed on a stream batch: {error!r}", file=sys.stderr)
                failed_ids = {r["dynamodb"]["SequenceNumber"] for r in pending.records}
            pending.records = [r for r in pending.records if r["dynamodb"]["SequenceNumber"] in failed_ids]
            pending.attempts += 1
            if pending.records and pending.attempts > source.max_retries:
                print(
                    f"local stack: {source.function} gave up on {len(pending.records)} stream record(s)"
                    " after its retries (AWS would send them to the on-failure destination)",
                    file=sys.stderr,
                )
                return

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as error:  # the emulator going away at shutdown, mostly
                if not self._stop.is_set():
                    print(f"local stack: reading the stream failed: {error!r}", file=sys.stderr)
            self._stop.wait(POLL_SECONDS)
