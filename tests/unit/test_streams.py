"""The local stack's stream event sources: filter patterns, batching, retries."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.streams import StreamPoller, StreamSource, matches, stream_sources
from infra.local.template import Template, load

NOTIFICATIONS = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["notification"]}}}}


def _record(seq: int, name: str = "INSERT", entity: str | None = "notification") -> dict[str, Any]:
    image = {"PK": {"S": "USER#a"}, **({"entity": {"S": entity}} if entity else {})}
    return {"eventName": name, "dynamodb": {"NewImage": image, "SequenceNumber": str(seq)}}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (_record(1), True),
        (_record(1, name="MODIFY"), False),
        (_record(1, entity="promise"), False),
        (_record(1, entity=None), False),
        ({"eventName": "INSERT"}, False),
    ],
)
def test_the_notifier_pattern(record: dict[str, Any], expected: bool) -> None:
    assert matches(NOTIFICATIONS, record) is expected


def test_matchers() -> None:
    assert matches({"a": [{"exists": True}]}, {"a": 1})
    assert not matches({"a": [{"exists": True}]}, {"b": 1})
    assert matches({"a": [{"exists": False}]}, {"b": 1})
    assert matches({"a": [{"prefix": "USER#"}]}, {"a": "USER#1"})
    assert not matches({"a": [{"prefix": "USER#"}]}, {"a": "HANDLE#1"})
    assert matches({"a": [{"anything-but": ["x"]}]}, {"a": "y"})
    assert not matches({"a": [{"anything-but": ["x"]}]}, {"a": "x"})
    with pytest.raises(ValueError, match="lists"):
        matches({"a": "not a list"}, {"a": "x"})


def test_the_template_declares_the_notifiers_source() -> None:
    (source,) = [s for s in stream_sources(load()) if s.function == "NotifierFunction"]
    assert source.patterns == (NOTIFICATIONS,)
    assert (source.batch_size, source.max_retries) == (25, 5)


def _mapping(function: Any, source: Any) -> Template:
    return Template(
        {
            "Resources": {
                "Fn": {"Type": "AWS::Serverless::Function", "Properties": {}},
                "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
                "Feed": {
                    "Type": "AWS::Lambda::EventSourceMapping",
                    "Properties": {"FunctionName": function, "EventSourceArn": source},
                },
            }
        }
    )


def test_a_mapping_defaults_like_lambda() -> None:
    (source,) = stream_sources(_mapping({"Ref": "Fn"}, {"Fn::GetAtt": ["Table", "StreamArn"]}))
    assert source == StreamSource("Fn", batch_size=100, max_retries=2, patterns=())


@pytest.mark.parametrize(
    ("function", "source"),
    [
        ({"Ref": "Fn"}, "arn:aws:dynamodb:us-east-1:123456789012:table/other/stream/x"),
        ("some-function-name", {"Fn::GetAtt": ["Table", "StreamArn"]}),
        ({"Ref": "Queue"}, {"Fn::GetAtt": ["Table", "StreamArn"]}),
    ],
)
def test_the_local_stack_refuses_a_mapping_it_cannot_feed(function: Any, source: Any) -> None:
    with pytest.raises(ValueError, match="Feed"):
        stream_sources(_mapping(function, source))


def test_a_queue_mapping_is_no_stream_source_but_a_queue_source() -> None:
    from infra.local.queues import QueueSource, queue_sources

    template = _mapping({"Ref": "Fn"}, {"Fn::GetAtt": ["Queue", "Arn"]})
    assert stream_sources(template) == []
    assert queue_sources(template) == [QueueSource("Fn", "Queue", batch_size=10)]
    with pytest.raises(ValueError, match="Feed"):
        queue_sources(_mapping({"Ref": "Queue"}, {"Fn::GetAtt": ["Queue", "Arn"]}))


def test_the_template_feeds_the_webhook_sender_from_its_queue() -> None:
    from infra.local.queues import QueueSource, queue_sources

    assert queue_sources(load()) == [QueueSource("WebhookSenderFunction", "WebhookQueue", batch_size=3)]


class FakeStreams:
    """GetRecords answering the given pages, one per call; remembers where it was asked to read."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.asked: list[dict[str, Any]] = []

    def get_shard_iterator(self, **where: Any) -> dict[str, Any]:
        self.asked.append(where)
        return {"ShardIterator": "it"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        records = self.pages.pop(0) if self.pages else []
        return {"Records": records, "NextShardIterator": "next"}


def _poller(pages: list[list[dict[str, Any]]], invoke: Any, **source: Any) -> StreamPoller:
    poller = StreamPoller(FakeStreams(pages), "arn:stream", [StreamSource("Fn", **source)], invoke)
    poller._positions["shard-1"] = None
    return poller


def test_each_poll_reads_after_the_last_record_seen() -> None:
    streams = FakeStreams([[_record(7), _record(8)], []])
    poller = StreamPoller(streams, "arn:stream", [StreamSource("Fn")], lambda f, e: {"batchItemFailures": []})
    poller._positions["shard-1"] = None
    poller.poll_once()
    poller.poll_once()
    assert streams.asked[0]["ShardIteratorType"] == "TRIM_HORIZON"
    assert streams.asked[1] == {
        "StreamArn": "arn:stream",
        "ShardId": "shard-1",
        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
        "SequenceNumber": "8",
    }


def test_only_matching_records_are_delivered_in_batches() -> None:
    calls: list[list[str]] = []

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        calls.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        assert all(r["eventSourceARN"] == "arn:stream" for r in event["Records"])
        return {"batchItemFailures": []}

    records = [_record(1), _record(2, name="MODIFY"), _record(3), _record(4), _record(5, entity="x")]
    poller = _poller([records], invoke, batch_size=2, patterns=(NOTIFICATIONS,))
    assert poller.poll_once() == 5
    assert calls == [["1", "3"], ["4"]]


def test_reported_failures_are_retried_alone_then_dropped() -> None:
    calls: list[list[str]] = []

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        seqs = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        calls.append(seqs)
        return {"batchItemFailures": [{"itemIdentifier": "2"}] if "2" in seqs else []}

    poller = _poller([[_record(1), _record(2)]], invoke, max_retries=2)
    poller.poll_once()
    assert calls == [["1", "2"], ["2"], ["2"]], "the first try, then two retries of the failed one"


def test_a_function_error_retries_the_whole_batch() -> None:
    calls: list[int] = []

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("boom")
        return {"batchItemFailures": []}

    _poller([[_record(1), _record(2)]], invoke).poll_once()
    assert calls == [2, 2]
