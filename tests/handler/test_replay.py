"""`python -m infra.replay`: what a stream function's on-failure queue holds is replayed from the
table's stream (moto's, in-process) through the real handler; dead letters are moved back."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.change_log.app import lambda_handler as change_log_handler
from functions.handle_follower.app import lambda_handler as follower_handler
from functions.notifier.app import lambda_handler as notifier_handler
from functions.sync.app import lambda_handler as sync_handler
from infra import replay
from shared.store import devices
from shared.store.table import dynamodb, table_name
from tests.handler.test_promises import Person, get, new_person, open_promise
from tests.support.aws import REGION, Aws, LambdaContext, http_event, invoke

ACCOUNT = "123456789012"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:career-journey-{name}-test"


HANDLERS: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {
    function_arn("change-log"): change_log_handler,
    function_arn("notifier"): notifier_handler,
    function_arn("handle-follower"): follower_handler,
}


# ---------------------------------------------------------------- fixtures and helpers


@dataclass
class Stream:
    """The table's stream on moto: its ARN, its one shard, and what was written since a mark."""

    arn: str
    client: Any
    shard_id: str
    mark: int = 0

    def all(self) -> list[dict[str, Any]]:
        iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=self.shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records: list[dict[str, Any]] = self.client.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        return records

    def since_mark(self) -> list[dict[str, Any]]:
        """The records written since the last `since_mark` (all of them the first time)."""
        records = self.all()
        fresh, self.mark = records[self.mark :], len(records)
        return fresh


@pytest.fixture
def stream(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Stream:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # moto's streams in-process
    arn = dynamodb().describe_table(TableName=table_name())["Table"]["LatestStreamArn"]
    client = boto3.client("dynamodbstreams", region_name=REGION)
    (shard,) = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return Stream(arn, client, shard["ShardId"])


@pytest.fixture
def sqs(aws: Aws) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def failures(sqs: Any) -> str:
    """An on-failure queue as the template makes it."""
    url: str = sqs.create_queue(QueueName="career-journey-change-log-failures-test")["QueueUrl"]
    return url


@dataclass
class InProcess:
    """`invoke` with the real handlers in this process, as Lambda's Invoke answers."""

    calls: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, arn: str, event: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((arn, len(event["Records"])))
        sent = json.loads(json.dumps(event))  # what Invoke's JSON payload allows
        try:
            answer = HANDLERS[arn](sent, LambdaContext())
        except Exception as error:
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": {"errorType": type(error).__name__},
            }
        return {"StatusCode": 200, "Payload": json.loads(json.dumps(answer))}


def on_failure_record(function: str, stream: Stream, records: list[dict[str, Any]]) -> str:
    """What Lambda sends to an SQS on-failure destination for a DynamoDB stream batch it gave up
    on (docs: "Retaining discarded records for a DynamoDB event source in Lambda")."""
    first, last = records[0], records[-1]

    def arrival(record: dict[str, Any]) -> str:
        created: datetime = record["dynamodb"]["ApproximateCreationDateTime"]
        return created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return json.dumps(
        {
            "requestContext": {
                "requestId": "316aa6d0-8154-4b4a-9af7-85d5f4a6bc81",
                "functionArn": function,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 21,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "DDBStreamBatchInfo": {
                "shardId": stream.shard_id,
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrival(first),
                "approximateArrivalOfLastRecord": arrival(last),
                "batchSize": len(records),
                "streamArn": stream.arn,
            },
        }
    )


def queued(sqs: Any, url: str) -> int:
    """Messages in the queue, visible or not."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def visible(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def run(sqs: Any, stream: Stream, url: str, invoker: replay.Invoke, **kwargs: Any) -> replay.Summary:
    return replay.replay_stream_failures(sqs, stream.client, invoker, url, wait_seconds=0, **kwargs)


def changes(person: Person) -> list[dict[str, Any]]:
    """Everything in the person's change log (GET /v1/me/changes from the start)."""
    reply = invoke(sync_handler, http_event("GET", "/v1/me/changes", user=person.sub, query={"limit": "200"}))
    assert reply.status == 200, reply.body
    items: list[dict[str, Any]] = reply.body["items"]
    return items


def _register(person: Person, token: str) -> None:
    reply = person.profile("POST", "/v1/me/devices", body={"platform": "ios", "pushToken": token})
    assert reply.status == 201, reply.body


# ---------------------------------------------------------------- stream on-failure queues


def test_a_change_log_batch_is_replayed_into_the_persons_log(
    aws: Aws, stream: Stream, sqs: Any, failures: str
) -> None:
    ana = new_person(aws, "ana")
    care = ana.care("POST", "/v1/me/cares", body={"statement": "Growing people", "domain": "others"}).body
    records = stream.since_mark()
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("change-log"), stream, records)
    )
    assert changes(ana) == [], "the batch never reached the change log"

    invoker = InProcess()
    summary = run(sqs, stream, failures, invoker)

    assert (summary.seen, summary.replayed, summary.kept) == (1, 1, 0)
    assert invoker.calls == [(function_arn("change-log"), len(records))]
    logged = {(entry["type"], entry["id"]) for entry in changes(ana)}
    assert {("profile", "me"), ("care", care["careId"])} <= logged
    assert queued(sqs, failures) == 0, "a replayed message is deleted"
    (message,) = summary.as_dict()["messages"]
    assert message["outcome"] == "replayed"
    assert message["function"] == "career-journey-change-log-test"
    assert message["records"] == len(records)


def test_the_event_is_the_one_lambda_would_have_sent(
    aws: Aws, stream: Stream, sqs: Any, failures: str
) -> None:
    new_person(aws, "ana")
    records = stream.since_mark()
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("change-log"), stream, records)
    )
    events: list[dict[str, Any]] = []

    def capture(arn: str, event: dict[str, Any]) -> dict[str, Any]:
        events.append(json.loads(json.dumps(event)))
        return {"StatusCode": 200, "Payload": {"batchItemFailures": []}}

    run(sqs, stream, failures, capture)
    (event,) = events
    assert [r["dynamodb"]["SequenceNumber"] for r in event["Records"]] == [
        r["dynamodb"]["SequenceNumber"] for r in records
    ]
    for sent, raw in zip(event["Records"], records, strict=True):
        assert sent["eventSourceARN"] == stream.arn
        for key in ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion"):
            assert sent[key] == raw[key]
        created = sent["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(created, int), "epoch seconds, as Lambda sends them"
        assert created == int(raw["dynamodb"]["ApproximateCreationDateTime"].timestamp())
        assert sent["dynamodb"]["Keys"] == raw["dynamodb"]["Keys"]
        assert sent["dynamodb"].get("NewImage") == raw["dynamodb"].get("NewImage"), "DynamoDB JSON"


def test_a_notification_batch_is_pushed(
    aws: Aws, stream: Stream, sqs: Any, failures: str, pushes: list[dict[str, Any]]
) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    _register(bea, "bea-ios-token-000000000001")
    stream.since_mark()
    pid = open_promise(ana, bea)["promiseId"]
    # The whole range: the notification and the promise's other items, which the mapping's
    # filter would have kept away and the notifier ignores.
    records = stream.since_mark()
    assert len(records) > 1
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("notifier"), stream, records)
    )

    summary = run(sqs, stream, failures, InProcess())

    assert (summary.replayed, summary.kept) == (1, 0)
    (sent,) = pushes
    assert sent["message"]["data"] == {"promiseId": pid, "state": "requested", "act": "request"}
    assert queued(sqs, failures) == 0


def test_a_handle_change_is_followed(aws: Aws, stream: Stream, sqs: Any, failures: str) -> None:
    carol, renamer = new_person(aws, "carol"), new_person(aws, "renamer")
    asked = open_promise(carol, renamer)["promiseId"]
    stream.since_mark()
    assert renamer.profile("PATCH", "/v1/me", body={"handle": "renamed_now"}).status == 200
    records = stream.since_mark()
    message = on_failure_record(function_arn("handle-follower"), stream, records)
    sqs.send_message(QueueUrl=failures, MessageBody=message)
    assert get(carol, asked)["performer"]["handle"] != "renamed_now"

    assert run(sqs, stream, failures, InProcess()).replayed == 1
    assert get(carol, asked)["performer"]["handle"] == "renamed_now"
    # Replaying it again changes nothing (the follower's writes are conditioned on what they replace).
    sqs.send_message(QueueUrl=failures, MessageBody=message)
    assert run(sqs, stream, failures, InProcess()).replayed == 1
    assert get(carol, asked)["performer"]["handle"] == "renamed_now"


def test_a_failing_function_keeps_the_message(aws: Aws, stream: Stream, sqs: Any, failures: str) -> None:
    new_person(aws, "ana")
    records = stream.since_mark()
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("change-log"), stream, records)
    )

    def failing(arn: str, event: dict[str, Any]) -> dict[str, Any]:
        return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": {"errorType": "ClientError"}}

    summary = run(sqs, stream, failures, failing)

    assert (summary.seen, summary.replayed, summary.kept) == (1, 0, 1)
    (message,) = summary.as_dict()["messages"]
    assert message["reason"] == replay.FUNCTION_ERROR
    assert message["detail"] == "Unhandled: ClientError"
    assert visible(sqs, failures) == 1, "kept, and visible again for the next run"


def test_a_raising_handler_keeps_the_message(aws: Aws, stream: Stream, sqs: Any, failures: str) -> None:
    new_person(aws, "ana")
    records = stream.since_mark()
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record("arn:aws:lambda:x:1:function:gone", stream, records)
    )

    def missing(arn: str, event: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "Invoke")

    summary = run(sqs, stream, failures, missing)
    assert summary.reasons == {replay.INVOKE_REFUSED: 1}
    assert visible(sqs, failures) == 1


def test_reported_batch_item_failures_keep_the_message(
    aws: Aws,
    stream: Stream,
    sqs: Any,
    failures: str,
    pushes: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ana, bea = new_person(aws, "ana"), new_person(aws, "bea")
    _register(bea, "bea-ios-token-000000000001")
    stream.since_mark()
    open_promise(ana, bea)
    records = stream.since_mark()
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("notifier"), stream, records)
    )

    def unreadable(user_id: str) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "Query")

    monkeypatch.setattr(devices, "push_targets", unreadable)
    summary = run(sqs, stream, failures, InProcess())

    assert summary.reasons == {replay.BATCH_ITEM_FAILURES: 1}
    assert pushes == []
    assert visible(sqs, failures) == 1


def test_a_dry_run_rebuilds_but_invokes_and_deletes_nothing(
    aws: Aws, stream: Stream, sqs: Any, failures: str
) -> None:
    ana = new_person(aws, "ana")
    records = stream.since_mark()
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("change-log"), stream, records)
    )
    invoker = InProcess()

    summary = run(sqs, stream, failures, invoker, dry_run=True)

    assert invoker.calls == []
    assert (summary.seen, summary.replayed, summary.replayable, summary.kept) == (1, 0, 1, 0)
    (message,) = summary.as_dict()["messages"]
    assert (message["outcome"], message["records"], message["invocations"]) == ("replayable", len(records), 0)
    assert changes(ana) == []
    assert visible(sqs, failures) == 1


def test_trimmed_records_keep_the_message_with_the_reason(
    aws: Aws, stream: Stream, sqs: Any, failures: str
) -> None:
    new_person(aws, "ana")
    records = stream.since_mark()
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("change-log"), stream, records)
    )

    def trimmed(**_: Any) -> Any:  # DynamoDB Streams' answer for a sequence number past retention
        parsed = {
            "Error": {"Code": "TrimmedDataAccessException", "Message": "trimmed"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return _Http(), parsed

    stream.client.meta.events.register("before-call.dynamodb-streams.GetShardIterator", trimmed)
    invoker = InProcess()
    summary = run(sqs, stream, failures, invoker)

    assert invoker.calls == []
    assert summary.reasons == {replay.RECORDS_TRIMMED: 1}
    (message,) = summary.as_dict()["messages"]
    assert message["detail"].startswith("TrimmedDataAccessException")
    assert visible(sqs, failures) == 1


def test_a_batch_with_no_records_left_is_kept(aws: Aws, stream: Stream, sqs: Any, failures: str) -> None:
    new_person(aws, "ana")
    (*_, last) = stream.since_mark()
    past = dict(
        last,
        dynamodb=dict(last["dynamodb"], SequenceNumber=str(int(last["dynamodb"]["SequenceNumber"]) + 500)),
    )
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("change-log"), stream, [past])
    )

    summary = run(sqs, stream, failures, InProcess())

    assert summary.reasons == {replay.RECORDS_TRIMMED: 1}
    assert summary.as_dict()["messages"][0]["records"] == 0


def test_only_ids_and_counts_are_printed(aws: Aws, stream: Stream, sqs: Any, failures: str) -> None:
    ana = new_person(aws, "ana")
    statement = "Secret-statement-nobody-may-read"
    ana.care("POST", "/v1/me/cares", body={"statement": statement, "domain": "others"})
    records = stream.since_mark()
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("change-log"), stream, records)
    )
    sqs.send_message(QueueUrl=failures, MessageBody="not json")

    summary = run(sqs, stream, failures, InProcess())

    printed = json.dumps(summary.as_dict())
    for private in (statement, ana.handle, ana.sub):
        assert private not in printed
    assert (summary.seen, summary.replayed, summary.kept) == (2, 1, 1)
    assert summary.reasons == {replay.NOT_A_FAILURE_RECORD: 1}


def test_max_limits_the_messages_handled(aws: Aws, stream: Stream, sqs: Any, failures: str) -> None:
    new_person(aws, "ana")
    records = stream.since_mark()
    for _ in range(3):
        sqs.send_message(
            QueueUrl=failures, MessageBody=on_failure_record(function_arn("change-log"), stream, records)
        )

    summary = run(sqs, stream, failures, InProcess(), max_messages=2)

    assert (summary.seen, summary.replayed) == (2, 2)
    assert queued(sqs, failures) == 1


def test_long_ranges_go_in_batches(aws: Aws, stream: Stream, sqs: Any, failures: str) -> None:
    ana = new_person(aws, "ana")
    for n in range(4):
        ana.care("POST", "/v1/me/cares", body={"statement": f"Care {n}", "domain": "others"})
    records = stream.since_mark()
    sqs.send_message(
        QueueUrl=failures, MessageBody=on_failure_record(function_arn("change-log"), stream, records)
    )
    invoker = InProcess()

    assert run(sqs, stream, failures, invoker, batch_size=3).replayed == 1
    sizes = [n for _, n in invoker.calls]
    assert len(sizes) == -(-len(records) // 3)
    assert max(sizes) == 3
    assert sum(sizes) == len(records)


class _Http:
    status_code = 400
    headers: dict[str, str] = {}
    content = b""


# ---------------------------------------------------------------- the webhook dead-letter queue


def test_dead_letters_are_moved_back_to_their_source_queue() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/career-journey-webhooks-dead-test"
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:career-journey-webhooks-dead-test"
    with Stubber(sqs) as stub:  # moto has no StartMessageMoveTask
        stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": arn, "ApproximateNumberOfMessages": "3"}},
            {"QueueUrl": url, "AttributeNames": ["QueueArn", "ApproximateNumberOfMessages"]},
        )
        stub.add_response("start_message_move_task", {"TaskHandle": "task-1"}, {"SourceArn": arn})
        summary = replay.redrive_dead_letters(sqs, url, queue="WebhookDeadLetters")
        stub.assert_no_pending_responses()
    assert summary.as_dict() == {
        "queue": "WebhookDeadLetters",
        "kind": "dead-letters",
        "dryRun": False,
        "seen": 3,
        "replayed": 3,
        "kept": 0,
        "keptReasons": {},
        "moveTask": "task-1",
    }


def test_a_refused_move_keeps_the_dead_letters() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dead"
    with Stubber(sqs) as stub:
        stub.add_response(
            "get_queue_attributes", {"Attributes": {"QueueArn": arn, "ApproximateNumberOfMessages": "2"}}
        )
        stub.add_client_error("start_message_move_task", "AWS.SimpleQueueService.UnsupportedOperation")
        summary = replay.redrive_dead_letters(sqs, "https://q")
    assert (summary.replayed, summary.kept) == (0, 2)
    assert summary.reasons == {replay.MOVE_REFUSED: 2}


def test_a_dry_run_counts_the_dead_letters(aws: Aws, sqs: Any) -> None:
    url = sqs.create_queue(QueueName="career-journey-webhooks-dead-test")["QueueUrl"]
    for n in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    summary = replay.redrive_dead_letters(sqs, url, dry_run=True)
    assert (summary.seen, summary.replayed, summary.replayable, summary.kept) == (2, 0, 2, 0)
    assert visible(sqs, url) == 2


# ---------------------------------------------------------------- the template and the command line


def test_the_template_names_the_queues_to_replay() -> None:
    queues = replay.template_queues()
    assert queues.stream_failures == {
        "NotifierFailures": "NotifierFunction",
        "WebhookFanoutFailures": "WebhookFanoutFunction",
        "HandleFollowerFailures": "HandleFollowerFunction",
        "ChangeLogFailures": "ChangeLogFunction",
    }
    assert queues.dead_letters == {"WebhookDeadLetters"}


STACK_TEMPLATE = {
    "Resources": {
        "ChangeLogFailures": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "cl-failures"}},
        "WebhookDeadLetters": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "hooks-dead"}},
    }
}


def test_the_command_finds_the_queue_in_the_stack(
    aws: Aws, stream: Stream, sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="career-journey-test", TemplateBody=json.dumps(STACK_TEMPLATE)
    )
    url = sqs.get_queue_url(QueueName="cl-failures")["QueueUrl"]
    new_person(aws, "ana")
    records = stream.since_mark()
    sqs.send_message(QueueUrl=url, MessageBody=on_failure_record(function_arn("change-log"), stream, records))

    code = replay.main(
        ["--stack", "career-journey-test", "--queue", "ChangeLogFailures", "--dry-run", "--max", "1"]
    )

    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["queue"], printed["seen"], printed["replayable"], printed["kept"]) == (
        "ChangeLogFailures",
        1,
        1,
        0,
    )
    assert visible(sqs, url) == 1


def test_a_kept_message_fails_the_command(
    aws: Aws, stream: Stream, sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="career-journey-test", TemplateBody=json.dumps(STACK_TEMPLATE)
    )
    url = sqs.get_queue_url(QueueName="cl-failures")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")

    code = replay.main(["--stack", "career-journey-test", "--queue", "ChangeLogFailures", "--max", "1"])

    assert code == 1
    assert json.loads(capsys.readouterr().out)["keptReasons"] == {replay.NOT_A_FAILURE_RECORD: 1}


def test_max_is_refused_for_a_dead_letter_queue(capsys: pytest.CaptureFixture[str]) -> None:
    code = replay.main(["--stack", "s", "--queue", "WebhookDeadLetters", "--max", "3"])
    assert code == 2
    assert "--max" in capsys.readouterr().err
