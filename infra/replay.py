"""Replay what landed in a failure queue:
`python -m infra.replay --stack STACK --queue LOGICAL_ID [--region R] [--dry-run] [--max N]`.

The queue is named by its logical id in template.yaml; its URL is the stack's physical id of
that resource (`DescribeStackResource`). Two kinds of queue, told apart by the template:

- **A stream function's on-failure queue** (an event source mapping's
  `DestinationConfig.OnFailure`: `NotifierFailures`, `WebhookFanoutFailures`,
  `HandleFollowerFailures`, `ChangeLogFailures`). Lambda puts there, for a batch it gave up on,
  an invocation record: `requestContext` (`functionArn`, `condition`,
  `approximateInvokeCount`), `responseContext`, and `DDBStreamBatchInfo` (`shardId`,
  `startSequenceNumber`, `endSequenceNumber`, `approximateArrivalOfFirstRecord`,
  `approximateArrivalOfLastRecord`, `batchSize`, `streamArn`): where the batch was, never the
  records. A replay reads the records again from the stream (`GetShardIterator`
  AT_SEQUENCE_NUMBER the start, `GetRecords` until past the end or the shard's end), makes the
  event Lambda would have sent (`{"Records": [...]}`, each record as GetRecords gives it with
  `ApproximateCreationDateTime` in epoch seconds and the stream's ARN as `eventSourceARN`),
  invokes the function the record names synchronously, and deletes the message only when the
  function answered without a `FunctionError` and with no `batchItemFailures`. Anything else
  keeps the message, with the reason in the summary.

  A stream keeps records 24 hours: a batch older than that is gone (`TrimmedDataAccessException`,
  the shard itself gone, or no records where the batch was). Its message is kept and reported;
  nothing can replay it (docs/operations.md, "Replaying a failure queue", says what each
  consumer then misses).

  The range between the batch's first and last sequence numbers holds every record written
  there, also those the mapping's filter criteria kept from the function: they are passed on
  as they are. The stream functions check the kind of every record in code and ignore what
  their filter would have dropped, and each is idempotent on a replay: the change log skips
  what it logged from a record already (source sequence numbers), the handle follower's
  writes are conditioned on what they replace, the webhook fan-out sends a record's event
  under the same `webhook-id` (receivers drop duplicates), and the notifier reads its push
  receipts, which it writes for every record Lambda would deliver again (those of a failed
  batch), so a device that had the push does not get it twice.

- **The webhook dead-letter queue** (`WebhookDeadLetters`, the `WebhookQueue`'s
  `RedrivePolicy` target): its messages are the original deliveries, which go back to the
  queue they came from (`StartMessageMoveTask` with the dead-letter queue as the source; SQS
  moves the messages asynchronously). `--max` does not apply: a move task moves them all.

`--dry-run` reads every message and rebuilds its events (or counts the dead letters) but
invokes, deletes and moves nothing. The command prints one JSON summary: messages seen,
replayed (or replayable in a dry run), kept and why. It names messages, shards, sequence
numbers and functions only, never what a record holds (people's data). The exit status is 1
when any message was kept (or AWS refused), 2 for a wrong command line.

Messages this command receives are hidden from other readers while it runs; the ones it keeps
are made visible again before it ends, so a second run can start at once.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

# `invoke(function_arn, event)` answers as Lambda's Invoke does, the payload decoded:
# `{"StatusCode": int, "FunctionError": str (only when the function failed), "Payload": Any}`.
Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]

# What one synchronous invocation may carry is 6 MB; batches stay well under it.
MAX_EVENT_BYTES = 5 * 1024 * 1024
DEFAULT_BATCH_SIZE = 100
# Long enough for the slowest stream function (300 s) several times over: a message being
# replayed must not come back to another reader meanwhile.
VISIBILITY_SECONDS = 900
# GetRecords may answer an empty page before the records of an open shard; this many in a row
# and the range counts as read to its end.
MAX_EMPTY_READS = 10
# What DynamoDB Streams answers for records past retention, and for a shard or stream gone since.
_GONE = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})

# Reasons a message is kept (the summary's `reason`).
NOT_A_FAILURE_RECORD = "not-a-stream-failure-record"
RECORDS_TRIMMED = "records-trimmed"
RECORDS_INCOMPLETE = "records-incomplete"
STREAM_UNREADABLE = "stream-unreadable"
INVOKE_REFUSED = "invoke-refused"
FUNCTION_ERROR = "function-error"
BATCH_ITEM_FAILURES = "batch-item-failures"
MOVE_REFUSED = "move-task-refused"


class UsageError(Exception):
    """The command line or the stack does not allow the replay."""


# ---------------------------------------------------------------- the template's queues


@dataclass(frozen=True)
class Queues:
    """The queues this command replays, by logical id: the stream functions' on-failure queues
    (each with the function it serves) and the dead-letter queues of other queues."""

    stream_failures: Mapping[str, str]
    dead_letters: frozenset[str]

    @property
    def names(self) -> list[str]:
        return sorted({*self.stream_failures, *self.dead_letters})


def template_queues(template: Any = None) -> Queues:
    """The replayable queues template.yaml declares."""
    if template is None:
        from infra.local.template import load

        template = load()
    queues = template.resources_of_type("AWS::SQS::Queue")
    failures: dict[str, str] = {}
    for mapping in template.resources_of_type("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        destination = _get_att_arn(props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"))
        from_stream = (_get_att(props.get("EventSourceArn")) or [])[1:] == ["StreamArn"]
        function = props.get("FunctionName")
        if destination is not None and destination in queues and from_stream and isinstance(function, dict):
            failures[destination] = str(function.get("Ref"))
    dead: set[str] = set()
    for queue in queues.values():
        target = _get_att_arn(queue.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn"))
        if target is not None and target in queues:
            dead.add(target)
    return Queues(failures, frozenset(dead))


def _get_att(value: Any) -> list[str] | None:
    """`[resource, attribute]` of a `Fn::GetAtt` (short or long form), else None."""
    target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    if isinstance(target, str):
        target = target.split(".", 1)
    return [str(t) for t in target] if isinstance(target, list) else None


def _get_att_arn(value: Any) -> str | None:
    """The resource whose `Arn` a value is (`!GetAtt Queue.Arn`), else None."""
    target = _get_att(value)
    return target[0] if target is not None and len(target) == 2 and target[1] == "Arn" else None


def queue_url(cloudformation: Any, stack: str, logical_id: str) -> str:
    """The URL of the stack's queue `logical_id` (its physical id)."""
    detail = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)[
        "StackResourceDetail"
    ]
    if detail.get("ResourceType") != "AWS::SQS::Queue":
        raise UsageError(f"{logical_id} in {stack} is a {detail.get('ResourceType')}, not a queue")
    return str(detail["PhysicalResourceId"])


# ---------------------------------------------------------------- the summary


@dataclass
class Outcome:
    """What became of one message: `replayed`, `replayable` (a dry run) or `kept`."""

    message_id: str
    outcome: str
    reason: str | None = None
    detail: str | None = None
    function: str | None = None
    shard_id: str | None = None
    start: str | None = None
    end: str | None = None
    records: int = 0
    invocations: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"messageId": self.message_id, "outcome": self.outcome}
        optional = {
            "reason": self.reason,
            "detail": self.detail,
            "function": self.function,
            "shardId": self.shard_id,
            "startSequenceNumber": self.start,
            "endSequenceNumber": self.end,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.shard_id is not None:
            out["records"] = self.records
            out["invocations"] = self.invocations
        return out


@dataclass
class Summary:
    """The run, as printed: counts, and each message's outcome (ids and counts only)."""

    queue: str
    kind: str
    dry_run: bool
    seen: int = 0
    replayed: int = 0
    replayable: int = 0
    kept: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    messages: list[Outcome] = field(default_factory=list)
    move_task: str | None = None

    def add(self, outcome: Outcome) -> None:
        self.messages.append(outcome)
        self.seen += 1
        if outcome.outcome == "replayed":
            self.replayed += 1
        elif outcome.outcome == "replayable":
            self.replayable += 1
        else:
            self.kept += 1
            self.reasons[outcome.reason or "unknown"] += 1

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "queue": self.queue,
            "kind": self.kind,
            "dryRun": self.dry_run,
            "seen": self.seen,
            "replayed": self.replayed,
        }
        if self.dry_run:
            out["replayable"] = self.replayable
        out["kept"] = self.kept
        out["keptReasons"] = dict(sorted(self.reasons.items()))
        if self.move_task is not None:
            out["moveTask"] = self.move_task
        if self.kind == "stream-failures":
            out["messages"] = [m.as_dict() for m in self.messages]
        return out


# ---------------------------------------------------------------- stream on-failure queues


class _Kept(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def replay_stream_failures(
    sqs: Any,
    streams: Any,
    invoke: Invoke,
    queue_url: str,
    *,
    queue: str | None = None,
    dry_run: bool = False,
    max_messages: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    wait_seconds: int = 2,
    visibility_seconds: int = VISIBILITY_SECONDS,
) -> Summary:
    """Replay (or, dry, rebuild) every message of a stream function's on-failure queue, at most
    `max_messages`; `sqs` and `streams` are boto3 clients (SQS, DynamoDB Streams)."""
    summary = Summary(queue or queue_url, "stream-failures", dry_run)
    hidden: list[str] = []  # receipts of kept messages, to show again at the end
    seen: set[str] = set()
    try:
        for message in _receive(sqs, queue_url, max_messages, wait_seconds, visibility_seconds):
            if message["MessageId"] in seen:
                continue
            seen.add(message["MessageId"])
            outcome = _replay_one(message, streams, invoke, dry_run=dry_run, batch_size=batch_size)
            if outcome.outcome == "replayed":
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                hidden.append(message["ReceiptHandle"])
            summary.add(outcome)
    finally:
        _show_again(sqs, queue_url, hidden)
    return summary


def _receive(
    sqs: Any, url: str, limit: int | None, wait_seconds: int, visibility_seconds: int
) -> Iterator[dict[str, Any]]:
    taken = 0
    while limit is None or taken < limit:
        wanted = 10 if limit is None else min(10, limit - taken)
        page = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=wanted,
            VisibilityTimeout=visibility_seconds,
            WaitTimeSeconds=wait_seconds,
        )
        messages = page.get("Messages", [])
        if not messages:
            return
        for message in messages:
            taken += 1
            yield message


def _show_again(sqs: Any, url: str, receipts: Sequence[str]) -> None:
    for start in range(0, len(receipts), 10):
        entries = [
            {"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": 0}
            for i, r in enumerate(receipts[start : start + 10])
        ]
        try:
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        except (BotoCoreError, ClientError) as exc:  # they come back after the timeout anyway
            print(f"replay: kept messages stay hidden until their visibility timeout: {exc}", file=sys.stderr)


def _replay_one(
    message: Mapping[str, Any], streams: Any, invoke: Invoke, *, dry_run: bool, batch_size: int
) -> Outcome:
    outcome = Outcome(str(message["MessageId"]), "kept")
    try:
        body = json.loads(message["Body"])
        info = body["DDBStreamBatchInfo"]
        function_arn = str(body["requestContext"]["functionArn"])
        stream_arn = str(info["streamArn"])
        outcome.shard_id = str(info["shardId"])
        outcome.start = str(info["startSequenceNumber"])
        outcome.end = str(info["endSequenceNumber"])
    except (ValueError, KeyError, TypeError):
        outcome.reason = NOT_A_FAILURE_RECORD
        outcome.detail = (
            "no DDBStreamBatchInfo and requestContext.functionArn: not Lambda's on-failure record"
        )
        return outcome
    outcome.function = function_arn.split(":")[6] if function_arn.count(":") >= 6 else function_arn
    try:
        records = read_batch(streams, stream_arn, outcome.shard_id, outcome.start, outcome.end)
        outcome.records = len(records)
        for event in batches(records, batch_size):
            if dry_run:
                continue
            outcome.invocations += 1
            _check_answer(_invoke(invoke, function_arn, event))
    except _Kept as kept:
        outcome.reason, outcome.detail = kept.reason, kept.detail
        return outcome
    outcome.outcome = "replayable" if dry_run else "replayed"
    return outcome


def read_batch(
    streams: Any,
    stream_arn: str,
    shard_id: str,
    start: str,
    end: str,
    *,
    max_empty_reads: int = MAX_EMPTY_READS,
) -> list[dict[str, Any]]:
    """The records of one shard from sequence number `start` to `end`, as Lambda delivers them."""
    first, last = int(start), int(end)
    records: list[dict[str, Any]] = []
    try:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=start,
        )["ShardIterator"]
        empty = 0
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for raw in page.get("Records", []):
                sequence = int(raw["dynamodb"]["SequenceNumber"])
                if sequence > last:
                    return _whole(records, last)
                if sequence >= first:
                    records.append(lambda_record(raw, stream_arn))
            if records and int(records[-1]["dynamodb"]["SequenceNumber"]) >= last:
                return records
            empty = 0 if page.get("Records") else empty + 1
            if empty >= max_empty_reads:
                break
            iterator = page.get("NextShardIterator")
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
        if code in _GONE:
            gone = "past the stream's 24-hour retention, or the stream is gone"
            raise _Kept(RECORDS_TRIMMED, f"{code}: the records are {gone}") from exc
        raise _Kept(STREAM_UNREADABLE, code) from exc
    return _whole(records, last)


def _whole(records: list[dict[str, Any]], last: int) -> list[dict[str, Any]]:
    if not records:
        raise _Kept(RECORDS_TRIMMED, "no records where the batch was: past the stream's 24-hour retention")
    if int(records[-1]["dynamodb"]["SequenceNumber"]) < last:
        raise _Kept(RECORDS_INCOMPLETE, f"read {len(records)} records, not up to endSequenceNumber")
    return records


def lambda_record(raw: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda puts it in an event: the same fields, its creation time in
    epoch seconds (rounded down, as Lambda sends it), binary values base64, the stream's ARN."""
    record: dict[str, Any] = {
        k: raw[k] for k in ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion") if k in raw
    }
    stream = dict(raw["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = math.floor(created.timestamp())
    record["dynamodb"] = _plain(stream)
    if "userIdentity" in raw:  # TTL deletions: {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        record["userIdentity"] = _plain(raw["userIdentity"])
    record["eventSourceARN"] = stream_arn
    return record


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def batches(records: Sequence[dict[str, Any]], batch_size: int) -> Iterator[dict[str, Any]]:
    """Events of at most `batch_size` records and well under Invoke's payload limit, in order."""
    batch: list[dict[str, Any]] = []
    size = 0
    for record in records:
        length = len(json.dumps(record))
        if batch and (len(batch) >= batch_size or size + length > MAX_EVENT_BYTES):
            yield {"Records": batch}
            batch, size = [], 0
        batch.append(record)
        size += length
    if batch:
        yield {"Records": batch}


def _invoke(invoke: Invoke, function_arn: str, event: dict[str, Any]) -> dict[str, Any]:
    try:
        return invoke(function_arn, event)
    except ClientError as exc:
        raise _Kept(INVOKE_REFUSED, str(exc.response.get("Error", {}).get("Code", "ClientError"))) from exc
    except BotoCoreError as exc:
        raise _Kept(INVOKE_REFUSED, type(exc).__name__) from exc


def _check_answer(result: Mapping[str, Any]) -> None:
    payload = result.get("Payload")
    if result.get("FunctionError"):
        kind = payload.get("errorType") if isinstance(payload, Mapping) else None
        raise _Kept(
            FUNCTION_ERROR, f"{result['FunctionError']}: {kind}" if kind else str(result["FunctionError"])
        )
    failures = payload.get("batchItemFailures") if isinstance(payload, Mapping) else None
    if failures:
        raise _Kept(BATCH_ITEM_FAILURES, f"the function reported {len(failures)} record(s) for a retry")


def lambda_invoker(client: Any) -> Invoke:
    """`invoke` for a boto3 Lambda client: synchronous (RequestResponse), the answer decoded."""

    def invoke(function_arn: str, event: dict[str, Any]) -> dict[str, Any]:
        response = client.invoke(
            FunctionName=function_arn, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
        raw = response["Payload"].read()
        result: dict[str, Any] = {
            "StatusCode": response.get("StatusCode"),
            "Payload": json.loads(raw) if raw else None,
        }
        if response.get("FunctionError"):
            result["FunctionError"] = response["FunctionError"]
        return result

    return invoke


# ---------------------------------------------------------------- dead-letter queues


def redrive_dead_letters(
    sqs: Any, queue_url: str, *, queue: str | None = None, dry_run: bool = False
) -> Summary:
    """Move a dead-letter queue's messages back to the queue each came from (or, dry, count them)."""
    summary = Summary(queue or queue_url, "dead-letters", dry_run)
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"]
    )["Attributes"]
    count = int(attributes.get("ApproximateNumberOfMessages", 0))
    summary.seen = count
    if dry_run or count == 0:
        summary.replayable = count if dry_run else 0
        return summary
    try:
        task = sqs.start_message_move_task(SourceArn=attributes["QueueArn"])
    except ClientError as exc:
        summary.kept = count
        summary.reasons[MOVE_REFUSED] = count
        print(f"replay: SQS refused the move: {exc.response.get('Error', {}).get('Code')}", file=sys.stderr)
        return summary
    summary.replayed = count
    summary.move_task = str(task.get("TaskHandle"))
    return summary


# ---------------------------------------------------------------- command line


def parser(queues: Queues) -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(
        prog="python -m infra.replay",
        description="Replay a failure queue: stream batches Lambda gave up on, or dead letters.",
    )
    top.add_argument("--stack", required=True, metavar="STACK_NAME", help="the deployed CloudFormation stack")
    top.add_argument(
        "--queue", required=True, choices=queues.names, help="the queue's logical id in template.yaml"
    )
    top.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    top.add_argument(
        "--dry-run", action="store_true", help="read and rebuild, but invoke, delete and move nothing"
    )
    top.add_argument("--max", type=int, metavar="N", help="at most N messages (stream failure queues only)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the summary goes to stdout as JSON. 0: nothing kept; 1: something kept
    or AWS refused; 2: a wrong command line."""
    queues = template_queues()
    args = parser(queues).parse_args(argv)
    try:
        if args.max is not None and args.max < 1:
            raise UsageError("--max wants a positive number")
        if args.queue in queues.dead_letters and args.max is not None:
            raise UsageError("--max applies to stream failure queues: a move task moves every dead letter")
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(region_name=args.region)
        url = queue_url(session.client("cloudformation"), args.stack, args.queue)
        sqs = session.client("sqs")
        if args.queue in queues.dead_letters:
            summary = redrive_dead_letters(sqs, url, queue=args.queue, dry_run=args.dry_run)
        else:
            # A replayed batch may take as long as the slowest stream function may run (300 s).
            lambda_client = session.client(
                "lambda", config=Config(read_timeout=910, retries={"mode": "standard", "max_attempts": 3})
            )
            summary = replay_stream_failures(
                sqs,
                session.client("dynamodbstreams"),
                lambda_invoker(lambda_client),
                url,
                queue=args.queue,
                dry_run=args.dry_run,
                max_messages=args.max,
            )
    except UsageError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        print(f"replay: AWS refused: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary.as_dict(), indent=2))
    return 1 if summary.kept else 0


if __name__ == "__main__":
    sys.exit(main())
