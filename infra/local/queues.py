"""SQS queues and SQS event sources, locally.

`create_queues` makes each `AWS::SQS::Queue` of the template in the emulator (its redrive
policy included) and records its Ref (the URL) and Arn. `QueuePoller` does what Lambda's SQS
event source mapping does for a function fed from a queue: receive up to
`BatchSize` messages (with their attributes: the receive count is an attempt's number), invoke
the function, delete the messages it did not report as failed (ReportBatchItemFailures). A
failed message comes back when its visibility timeout ends (the function may have set it), and
after the redrive policy's `maxReceiveCount` receives the emulator moves it to the dead-letter
queue, as SQS does.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.local.streams import is_queue
from infra.local.template import Template, resolve

POLL_SECONDS = 0.2


def create_queues(sqs: Any, template: Template, refs: dict[str, str]) -> dict[str, str]:
    """Make the template's queues (dead-letter queues first); answers logical id -> URL."""
    queues = template.resources_of_type("AWS::SQS::Queue")
    ordered = sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {}))
    made: dict[str, str] = {}
    for logical_id in ordered:
        props = queues[logical_id].get("Properties", {})
        attributes: dict[str, str] = {}
        for name in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if name in props:
                attributes[name] = str(props[name])
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = resolve(redrive["deadLetterTargetArn"], refs)
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": target, "maxReceiveCount": int(redrive["maxReceiveCount"])}
            )
        name = str(resolve(props.get("QueueName", logical_id), refs))
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        refs[logical_id] = url
        refs[f"{logical_id}.Arn"] = arn
        made[logical_id] = url
    return made


@dataclass(frozen=True)
class QueueSource:
    """One function's SQS event source, as its SAM event declares it."""

    function: str
    queue: str  # the queue's logical id
    batch_size: int = 10


def queue_sources(template: Template) -> list[QueueSource]:
    """Every event source mapping of the template that feeds a function from one of its queues
    (`EventSourceArn: !GetAtt <queue>.Arn`; plain mappings, not SAM `Type: SQS` events)."""
    functions = set(template.resources_of_type("AWS::Serverless::Function"))
    sources = []
    for logical_id, mapping in template.resources_of_type("AWS::Lambda::EventSourceMapping").items():
        props = mapping["Properties"]
        arn = props.get("EventSourceArn")
        if not is_queue(arn, template):
            continue
        target = props.get("FunctionName")
        function = target.get("Ref") if isinstance(target, dict) else None
        if function not in functions:
            raise ValueError(f"{logical_id}: the local stack feeds only a template function from a queue")
        attribute = arn["Fn::GetAtt"]
        queue_id = attribute[0] if isinstance(attribute, list) else str(attribute).split(".")[0]
        sources.append(QueueSource(str(function), queue_id, int(props.get("BatchSize", 10))))
    return sources


def lambda_record(message: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    """A received message as Lambda passes it to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


@dataclass
class QueuePoller:
    """Polls each source's queue and feeds its function, in a background thread."""

    sqs: Any  # a boto3 SQS client on the emulator
    sources: Sequence[QueueSource]
    refs: dict[str, str]
    region: str
    invoke: Callable[[str, dict[str, Any]], Any]
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="local-queues", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception as error:  # the emulator stopping, or a bug: say so and go on
                print(f"local stack: queue poller: {error!r}", file=sys.stderr)
                busy = 0
            if not busy:
                self._stop.wait(POLL_SECONDS)

    def poll_once(self) -> int:
        """Receive and deliver one batch per source; answers how many messages were handed on."""
        handed = 0
        for source in self.sources:
            url = self.refs[source.queue]
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10), AttributeNames=["All"]
            ).get("Messages", [])
            if not got:
                continue
            handed += len(got)
            arn = self.refs[f"{source.queue}.Arn"]
            try:
                result = self.invoke(
                    source.function, {"Records": [lambda_record(m, arn, self.region) for m in got]}
                )
                failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            except Exception as error:  # a function error: every message comes back
                print(f"local stack: {source.function} failed a batch: {error!r}", file=sys.stderr)
                continue
            for message in got:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return handed
