"""The real handlers on moto, in this process, with everything a call costs recorded.

- DynamoDB: botocore hooks on the code's client (`shared.store.table.dynamodb()`) see every
  request and answer. Reads are sized from what the request read: the item(s) it returned, or
  for a Query (whose filter and projection do not lower its cost) the same key range asked
  again, without filter or projection, from a client without hooks. Writes are sized from the
  table's stream (NEW_AND_OLD_IMAGES): each written item's record gives it before and after;
  a ConditionCheck, or a write that changed nothing (DynamoDB writes no stream record for it),
  is sized from the item as it is.
- The stream consumers: what a call wrote goes, as Lambda's event source mappings would send it
  (the template's filters and batch sizes), to every consumer, whose own requests, writes and
  logs count for the call, and so on until nothing new is written. One invocation per consumer
  per call: the records of one call arrive together, and at a few calls a second per stream
  shard a 1 s batching window holds no other call's records.
- Time: each invocation's wall time, less the time inside DynamoDB and other AWS calls (moto's,
  not AWS's) and inside these hooks. See `billed_ms`.
- Logs: file descriptor 1 goes to a file; what an invocation wrote there (Powertools' JSON lines,
  the metrics' EMF lines) is its log, one event per line.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from bench.bill import model, sizing

# A modelled DynamoDB round trip from Lambda, in ms, by operation (AWS: "single-digit millisecond"
# reads and writes; a transaction's two phases take longer). Replaces moto's own time.
DYNAMODB_LATENCY_MS = {
    "GetItem": 4.0,
    "BatchGetItem": 6.0,
    "Query": 6.0,
    "Scan": 8.0,
    "PutItem": 6.0,
    "UpdateItem": 6.0,
    "DeleteItem": 6.0,
    "BatchWriteItem": 10.0,
    "TransactWriteItems": 15.0,
    "TransactGetItems": 8.0,
}
OTHER_CALL_LATENCY_MS = 20.0
# What API Gateway adds to a response (Date, Content-Length, Connection, apigw-requestid) and
# the status line, in bytes: for data transfer out.
GATEWAY_RESPONSE_OVERHEAD = 160  # SNS Publish, Secrets Manager, SQS...
READS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


# ---------------------------------------------------------------- what one invocation did


@dataclass
class Call:
    """One DynamoDB request and what it costs."""

    operation: str
    read_units: float = 0.0
    write_units: float = 0.0  # the table's, doubled in transactions
    index_units: dict[str, float] = field(default_factory=dict)
    failed: bool = False
    items: list[tuple[str, sizing.WriteCost]] = field(default_factory=list)  # (kind, cost)


@dataclass
class Invocation:
    """One Lambda invocation: its DynamoDB requests, other AWS calls, time and log."""

    function: str
    memory_mb: int
    calls: list[Call] = field(default_factory=list)
    others: Counter[str] = field(default_factory=Counter)  # e.g. "sns.Publish"
    wall_seconds: float = 0.0
    excluded_seconds: float = 0.0  # AWS calls (moto) and these hooks
    log_bytes: int = 0  # as written, newlines included
    log_events: int = 0
    status: int | None = None
    response_bytes: int = 0

    @property
    def own_ms(self) -> float:
        return max(0.0, (self.wall_seconds - self.excluded_seconds) * 1000)

    @property
    def wait_ms(self) -> float:
        """A modelled round trip per AWS call (instead of moto's time): the same at any memory."""
        waits = sum(DYNAMODB_LATENCY_MS.get(c.operation, 6.0) for c in self.calls)
        return waits + OTHER_CALL_LATENCY_MS * sum(self.others.values())

    @property
    def billed_ms(self) -> float:
        """Modelled AWS duration (`model.duration_ms`): our CPU time scaled to the function's
        share of a vCPU, plus the round trips."""
        return model.duration_ms(self.own_ms, self.wait_ms, self.memory_mb)

    @property
    def read_units(self) -> float:
        return sum(c.read_units for c in self.calls)

    @property
    def write_units(self) -> float:
        return sum(c.write_units + sum(c.index_units.values()) for c in self.calls)

    @property
    def index_units(self) -> float:
        return sum(sum(c.index_units.values()) for c in self.calls)


@dataclass
class Sample:
    """One call of a route: the API invocation and every consumer invocation it led to."""

    api: Invocation
    consumers: list[Invocation] = field(default_factory=list)
    unattributed_records: int = 0  # stream records no hooked request accounts for (should be 0)


# ---------------------------------------------------------------- the stream


def _key(item: Mapping[str, Any], table_keys: Sequence[str]) -> str:
    return json.dumps([item.get(k) for k in table_keys], sort_keys=True, default=str)


@dataclass
class StreamTail:
    """Reads what is new on the table's stream, every shard, as the local stack's poller does
    (a fresh iterator after the last sequence number each time)."""

    streams: Any
    arn: str
    positions: dict[str, str | None] = field(default_factory=dict)

    def read(self) -> list[dict[str, Any]]:
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"].get("Shards", [])
        out: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            while True:
                last = self.positions.get(shard_id)
                where: dict[str, str] = (
                    {"ShardIteratorType": "TRIM_HORIZON"}
                    if last is None
                    else {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                )
                iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **where)
                page = self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
                records = page.get("Records", [])
                if not records:
                    break
                self.positions[shard_id] = str(records[-1]["dynamodb"]["SequenceNumber"])
                out += records
        return out


def changed(record: Mapping[str, Any]) -> bool:
    """Whether DynamoDB would have written this record: a MODIFY that changed nothing it would
    not (moto writes one for every write)."""
    images = record["dynamodb"]
    return not (
        record["eventName"] == "MODIFY" and sizing.same_item(images.get("OldImage"), images.get("NewImage"))
    )


def item_kind(item: Mapping[str, Any] | None, key: Mapping[str, Any]) -> str:
    """What an item is, for the write table: its `entity`, else the prefix of its key."""
    if item and "entity" in item:
        return str(item["entity"].get("S"))
    pk = str(key.get("PK", {}).get("S", ""))
    sk = str(key.get("SK", {}).get("S", ""))
    if pk.startswith("ERASED#"):
        return "erasure marker"
    return sk.split("#", 1)[0] or pk.split("#", 1)[0]


# ---------------------------------------------------------------- the hooks


_TOKEN = re.compile(r"[#:][A-Za-z0-9_]+")


def _used(expressions: Sequence[str | None], values: Mapping[str, Any] | None) -> dict[str, Any]:
    tokens = {t for e in expressions if e for t in _TOKEN.findall(e)}
    return {k: v for k, v in (values or {}).items() if k in tokens}


class Meter:
    """botocore hooks on the code's DynamoDB client (and the session, for other services),
    recording into the current invocation."""

    def __init__(
        self,
        oracle: Any,
        tail: StreamTail,
        table_keys: Sequence[str],
        indexes: Sequence[sizing.IndexSpec],
    ) -> None:
        self.oracle = oracle  # a DynamoDB client without hooks: sizes what requests touched
        self.tail = tail
        self.table_keys = tuple(table_keys)
        self.indexes = {i.name: i for i in indexes}
        self.current: Invocation | None = None
        self.records: list[dict[str, Any]] = []  # changed records not yet given to consumers
        self.unmatched = 0

    # -- registration

    def attach(self, client: Any, session: Any) -> Callable[[], None]:
        """Hook the code's DynamoDB client and, for other services, the session (clients made
        from now on). Answers a function that takes the session's hooks off again."""
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._keep_params)
        events.register("before-call.dynamodb", self._start)
        events.register("after-call.dynamodb", self._done)
        session.events.register("before-call", self._other_start)
        session.events.register("after-call", self._other_done)

        def detach() -> None:
            session.events.unregister("before-call", self._other_start)
            session.events.unregister("after-call", self._other_done)

        return detach

    # -- DynamoDB

    def _keep_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        started = time.perf_counter()
        context["bill_params"] = copy.deepcopy(params)
        if self.current is not None:
            self.current.excluded_seconds += time.perf_counter() - started

    def _start(self, context: dict[str, Any], **_: Any) -> None:
        context["bill_started"] = time.perf_counter()

    def _done(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        started = context.get("bill_started", time.perf_counter())
        operation = model.name
        params = context.get("bill_params", {})
        call = Call(operation)
        call.failed = "Error" in parsed
        if operation in READS:
            if not call.failed:
                call.read_units = self._read_units(operation, params, parsed)
        elif operation in WRITES:
            self._write_units(call, operation, params, parsed)
        if self.current is not None:
            self.current.calls.append(call)
            self.current.excluded_seconds += time.perf_counter() - started

    def _full_item(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.oracle.get_item(TableName=table, Key=dict(key), ConsistentRead=True).get("Item")
        return dict(found) if found else None

    def _read_units(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> float:
        if operation == "GetItem":
            consistent = bool(params.get("ConsistentRead"))
            item = parsed.get("Item")
            if item and ("ProjectionExpression" in params or "AttributesToGet" in params):
                item = self._full_item(params["TableName"], params["Key"])
            return sizing.read_units(sizing.item_size(item), consistent=consistent)
        if operation == "BatchGetItem":
            units = 0.0
            for table, spec in params["RequestItems"].items():
                consistent = bool(spec.get("ConsistentRead"))
                left = {
                    _key(k, self.table_keys)
                    for k in parsed.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
                }
                returned = {_key(i, self.table_keys): i for i in parsed.get("Responses", {}).get(table, [])}
                projected = "ProjectionExpression" in spec or "AttributesToGet" in spec
                sizes = []
                for key in spec["Keys"]:
                    name = _key(key, self.table_keys)
                    if name in left:
                        continue
                    item = returned.get(name)
                    if item and projected:
                        item = self._full_item(table, key)
                    sizes.append(sizing.item_size(item))
                units += sizing.batch_get_read_units(sizes, consistent=consistent)
            return units
        if operation == "TransactGetItems":
            units = 0.0
            for entry in params["TransactItems"]:
                get = entry["Get"]
                item = self._full_item(get["TableName"], get["Key"])
                units += sizing.read_units(sizing.item_size(item), consistent=True, transactional=True)
            return units
        # Query, Scan: what was read is the key range (up to Limit items), before any filter.
        ask: dict[str, Any] = {
            k: params[k]
            for k in (
                "TableName", "IndexName", "KeyConditionExpression", "ExclusiveStartKey", "Limit",
                "ScanIndexForward", "ConsistentRead", "Segment", "TotalSegments",
            )
            if k in params
        }  # fmt: skip
        expression = params.get("KeyConditionExpression")
        names = _used([expression], params.get("ExpressionAttributeNames"))
        values = _used([expression], params.get("ExpressionAttributeValues"))
        if names:
            ask["ExpressionAttributeNames"] = names
        if values:
            ask["ExpressionAttributeValues"] = values
        answer = getattr(self.oracle, "query" if operation == "Query" else "scan")(**ask)
        items = answer.get("Items", [])
        index = self.indexes.get(params.get("IndexName", ""))
        sizes = [sizing.item_size((index.entry(i) if index else None) or i) for i in items]
        if len(items) != int(parsed.get("ScannedCount", len(items))):
            self.unmatched += 1  # the re-read disagrees with what the request read
        return sizing.query_read_units(sizes, consistent=bool(params.get("ConsistentRead")))

    def _actions(
        self, operation: str, params: dict[str, Any], parsed: dict[str, Any]
    ) -> list[tuple[str, str, dict[str, Any], bool]]:
        """(action, table, key, transactional) for each item a write request names."""
        if operation == "PutItem":
            item = params["Item"]
            return [("Put", params["TableName"], {k: item[k] for k in self.table_keys}, False)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(operation.removesuffix("Item"), params["TableName"], params["Key"], False)]
        if operation == "TransactWriteItems":
            out = []
            for entry in params["TransactItems"]:
                ((action, spec),) = entry.items()
                key = spec["Item"] if action == "Put" else spec["Key"]
                out.append((action, spec["TableName"], {k: key[k] for k in self.table_keys}, True))
            return out
        out = []  # BatchWriteItem
        for table, requests in params["RequestItems"].items():
            left = {
                _key((r.get("PutRequest", {}).get("Item") or r["DeleteRequest"]["Key"]), self.table_keys)
                for r in parsed.get("UnprocessedItems", {}).get(table, [])
            }
            for request in requests:
                if "PutRequest" in request:
                    action, key = "Put", request["PutRequest"]["Item"]
                else:
                    action, key = "Delete", request["DeleteRequest"]["Key"]
                if _key(key, self.table_keys) not in left:
                    out.append((action, table, {k: key[k] for k in self.table_keys}, False))
        return out

    def _write_units(
        self, call: Call, operation: str, params: dict[str, Any], parsed: dict[str, Any]
    ) -> None:
        actions = self._actions(operation, params, parsed)
        records = self.tail.read()
        by_key = {_key(r["dynamodb"]["Keys"], self.table_keys): r for r in records}
        if call.failed:  # nothing written: each item costs a write of it as it is (once)
            for _, table, key, _ in actions:
                call.write_units += sizing.failed_write_units(self._full_item(table, key))
            self.unmatched += len(by_key)
            return
        for action, table, key, transactional in actions:
            record = by_key.pop(_key(key, self.table_keys), None)
            if record is not None:
                old = record["dynamodb"].get("OldImage")
                new = record["dynamodb"].get("NewImage")
                if changed(record):
                    self.records.append(record)
            else:  # unchanged (or checked): as it is now
                current = self._full_item(table, key)
                old, new = current, (None if action == "ConditionCheck" else current)
            write = sizing.ItemWrite(cast(sizing.Action, action), old, new, transactional)
            cost = sizing.item_write_cost(write, list(self.indexes.values()))
            call.write_units += cost.base
            for name, units in cost.index.items():
                call.index_units[name] = call.index_units.get(name, 0) + units
            kind = item_kind(new or old, key)
            call.items.append((f"{action} {kind}", cost))
        self.unmatched += len(by_key)

    # -- other services (SNS, Secrets Manager, SQS, Cognito): counted and timed

    def _other_start(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name not in ("dynamodb", "dynamodbstreams"):
            context["bill_other_started"] = time.perf_counter()

    def _other_done(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        started = context.get("bill_other_started")
        if started is None or self.current is None:
            return
        self.current.others[f"{model.service_model.service_name}.{model.name}"] += 1
        self.current.excluded_seconds += time.perf_counter() - started

    # -- what the stream holds beyond what the hooks saw

    def take_records(self) -> list[dict[str, Any]]:
        """The changed records written since the last take (read the stream first: a write by a
        client these hooks do not see is counted as unattributed)."""
        extra = [r for r in self.tail.read() if changed(r)]
        self.unmatched += len(extra)
        records, self.records = self.records + extra, []
        return records


# ---------------------------------------------------------------- logs


class LogCapture:
    """File descriptor 1 into a temporary file; what an invocation writes there is its log."""

    def __init__(self) -> None:
        self.file: Any = None

    @contextmanager
    def active(self) -> Iterator[LogCapture]:
        sys.stdout.flush()
        saved = os.dup(1)
        with tempfile.TemporaryFile() as self.file:
            os.dup2(self.file.fileno(), 1)
            try:
                yield self
            finally:
                sys.stdout.flush()
                os.dup2(saved, 1)
                os.close(saved)

    def mark(self) -> int:
        sys.stdout.flush()
        return os.fstat(self.file.fileno()).st_size

    def since(self, mark: int) -> tuple[int, int]:
        """Bytes and lines written since `mark`."""
        sys.stdout.flush()
        end = os.fstat(self.file.fileno()).st_size
        self.file.seek(mark)
        text = self.file.read(end - mark)
        return len(text), text.count(b"\n")


# ---------------------------------------------------------------- summaries


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def mean(values: Sequence[float]) -> float:
    return float(statistics.fmean(values)) if values else 0.0


def billed_log_bytes(invocation: Invocation, overhead: int) -> int:
    """An invocation's log as CloudWatch counts it: each event's bytes (no newline) plus overhead."""
    return invocation.log_bytes - invocation.log_events + overhead * invocation.log_events


def ceil_ms(ms: float) -> int:
    return math.ceil(ms)
