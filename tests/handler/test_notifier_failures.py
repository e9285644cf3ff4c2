"""The notifier when SNS fails for one device of three: the others get their push; a disabled
endpoint goes with its device; a throttled one is retried without pushing twice to the others;
every record reported for a retry (and so, in the end, for the on-failure queue) is logged and
counted."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from functions.notifier import app as notifier
from shared import push
from shared.observability import metrics
from shared.store import devices, keys, profiles, table
from tests.handler import test_promises
from tests.handler.test_notifier import _invoke, _new_items, _record, _register
from tests.handler.test_promises import Person, open_promise
from tests.support.aws import REGION, Aws, LambdaContext, fail_next

make_person, ana, bea = test_promises.make_person, test_promises.ana, test_promises.bea

TOKENS = ("bea-ios-token-000000000001", "bea-ios-token-000000000002", "bea-ios-token-000000000003")


# ---------------------------------------------------------------- helpers


@pytest.fixture
def emf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Metrics printed as CloudWatch receives them (EMF on stdout), from nothing."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()


def _outputs(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _metrics(outputs: list[dict[str, Any]]) -> Counter[str]:
    """Every metric flushed, summed by name."""
    totals: Counter[str] = Counter()
    for blob in (o for o in outputs if "_aws" in o):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                totals[metric["Name"]] += int(sum(values) if isinstance(values, list) else values)
    return totals


def _field(record: logging.LogRecord, name: str) -> Any:
    """A key the log line carries (Powertools' `extra`)."""
    return record.__dict__[name]


def _logs(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    """The notifier's log lines (Powertools' logger) whose message holds `words`."""
    return [r for r in caplog.records if r.name == "career-journey" and words in r.getMessage()]


def _three_devices(bea: Person) -> dict[str, str]:
    """Bea's three devices: endpoint ARN -> device id, in the order they registered."""
    for token in TOKENS:
        _register(bea, token)
    targets = devices.push_targets(bea.sub)
    assert len(targets) == 3
    return {str(t["endpointArn"]): str(t["deviceId"]) for t in targets}


def _bea_is_told(aws: Aws, ana: Person, bea: Person) -> dict[str, Any]:
    """Ana asks Bea for something: Bea's new inbox item, as the stream brings it."""
    open_promise(ana, bea)
    (item,) = _new_items(aws, "notification")
    return item


def _sent_to(pushes: list[dict[str, Any]]) -> Counter[str]:
    return Counter(p["endpoint"] for p in pushes)


class _Answer:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


def fail_publish_to(arn: str, code: str, *, status: int = 400, times: int = 1) -> None:
    """The next `times` SNS Publish calls to `arn` only fail with `code`, before the SDK's
    retries (one failure stands for all attempts); other endpoints are answered by moto."""
    left = [times]

    def answer(params: dict[str, Any], **_: Any) -> Any:
        if params["body"].get("TargetArn") != arn or left[0] <= 0:
            return None
        left[0] -= 1
        error = {"Code": code, "Message": "injected by the test"}
        return _Answer(status), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}

    push.sns().meta.events.register("before-call.sns.Publish", answer)


def _sns() -> Any:
    return boto3.client("sns", region_name=REGION)


def _endpoint_exists(arn: str) -> bool:
    sns = _sns()
    return any(
        endpoint["EndpointArn"] == arn
        for application in sns.list_platform_applications()["PlatformApplications"]
        for endpoint in sns.list_endpoints_by_platform_application(
            PlatformApplicationArn=application["PlatformApplicationArn"]
        )["Endpoints"]
    )


def _technical_items(aws: Aws, user_id: str) -> dict[str, dict[str, Any]]:
    """Bea's token items, device count and push receipts, by sort key."""
    return {
        str(i["SK"]): i
        for i in aws.all_items()
        if i["PK"] == keys.user_pk(user_id)
        and str(i["SK"]).startswith((keys.PUSH_TOKEN_PREFIX, keys.DEVICE_COUNT_SK, notifier.RECEIPT_PREFIX))
    }


# ---------------------------------------------------------------- a disabled endpoint


def test_a_disabled_endpoint_goes_with_its_device_and_the_others_get_their_push(
    aws: Aws,
    ana: Person,
    bea: Person,
    pushes: list[dict[str, Any]],
    emf: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoints = _three_devices(bea)
    dead, *alive = endpoints
    _sns().set_endpoint_attributes(EndpointArn=dead, Attributes={"Enabled": "false"})
    item = _bea_is_told(aws, ana, bea)
    capsys.readouterr()

    assert _invoke([_record(item)]) == {"batchItemFailures": []}, "nothing to retry"

    assert _sent_to(pushes) == dict.fromkeys(alive, 1)
    listed = bea.profile("GET", "/v1/me/devices").body["items"]
    assert {d["deviceId"] for d in listed} == {endpoints[a] for a in alive}
    assert {d["pushToken"] for d in listed} == set(TOKENS[1:])
    technical = _technical_items(aws, bea.sub)
    assert technical[keys.DEVICE_COUNT_SK]["count"] == 2
    assert len([sk for sk in technical if sk.startswith(keys.PUSH_TOKEN_PREFIX)]) == 2
    assert not _endpoint_exists(dead), "the disabled endpoint is deleted from SNS"
    assert all(_endpoint_exists(a) for a in alive)
    outputs = _outputs(capsys.readouterr().out)
    (removed,) = _logs(caplog, "Removed a device whose push endpoint is disabled")
    assert _field(removed, "deviceId") == endpoints[dead]
    counted = _metrics(outputs)
    assert counted["DisabledDevicesRemoved"] == 1
    assert counted["PushesSent"] == 2
    assert counted["NotificationRecordsFailed"] == 0


def test_sns_refusing_a_disabled_endpoint_removes_the_device_but_keeps_an_endpoint_enabled_since(
    aws: Aws, ana: Person, bea: Person, pushes: list[dict[str, Any]]
) -> None:
    """SNS answered EndpointDisabled, but the endpoint reads as enabled now (its token was
    registered again meanwhile): the device goes; the endpoint, which a new registration of the
    same token takes up, stays."""
    endpoints = _three_devices(bea)
    dead, *alive = endpoints
    fail_publish_to(dead, "EndpointDisabled")
    item = _bea_is_told(aws, ana, bea)

    assert _invoke([_record(item)]) == {"batchItemFailures": []}

    assert _sent_to(pushes) == dict.fromkeys(alive, 1)
    assert {str(d["deviceId"]) for d in devices.push_targets(bea.sub)} == {endpoints[a] for a in alive}
    assert _technical_items(aws, bea.sub)[keys.DEVICE_COUNT_SK]["count"] == 2
    assert _endpoint_exists(dead)


def test_a_disabled_device_that_cannot_be_removed_is_logged_and_counted(
    aws: Aws,
    ana: Person,
    bea: Person,
    pushes: list[dict[str, Any]],
    emf: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoints = _three_devices(bea)
    dead, *alive = endpoints
    _sns().set_endpoint_attributes(EndpointArn=dead, Attributes={"Enabled": "false"})
    item = _bea_is_told(aws, ana, bea)
    fail_next(table.dynamodb(), "TransactWriteItems", "ProvisionedThroughputExceededException")
    capsys.readouterr()

    assert _invoke([_record(item)]) == {"batchItemFailures": []}, "the next push tries again"

    assert _sent_to(pushes) == dict.fromkeys(alive, 1)
    assert len(devices.push_targets(bea.sub)) == 3
    assert _endpoint_exists(dead)
    outputs = _outputs(capsys.readouterr().out)
    assert _logs(caplog, "Could not remove a device whose push endpoint is disabled")
    assert _metrics(outputs)["DisabledDevicesNotRemoved"] == 1


# ---------------------------------------------------------------- throttled, or a 5xx


@pytest.mark.parametrize(
    ("code", "status"), [("Throttling", 400), ("Throttled", 429), ("InternalError", 500)]
)
def test_a_device_sns_could_not_serve_is_retried_and_the_others_are_not_pushed_twice(
    aws: Aws,
    ana: Person,
    bea: Person,
    pushes: list[dict[str, Any]],
    emf: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    code: str,
    status: int,
) -> None:
    endpoints = _three_devices(bea)
    busy, *served = endpoints
    fail_publish_to(busy, code, status=status)
    item = _bea_is_told(aws, ana, bea)
    capsys.readouterr()

    assert _invoke([_record(item, seq=7)]) == {"batchItemFailures": [{"itemIdentifier": "7"}]}

    assert _sent_to(pushes) == dict.fromkeys(served, 1)
    receipt = _technical_items(aws, bea.sub)[f"{notifier.RECEIPT_PREFIX}{item['notificationId']['S']}"]
    assert set(receipt["pushedTo"]) == {endpoints[s] for s in served}
    outputs = _outputs(capsys.readouterr().out)
    (failed,) = _logs(caplog, "on-failure queue")
    assert (_field(failed, "notificationId"), _field(failed, "reason")) == (
        item["notificationId"]["S"],
        "PushesToRetry",
    )
    assert _metrics(outputs)["NotificationRecordsFailed"] == 1

    # Lambda's retry of the record: only the device that missed it is pushed.
    assert _invoke([_record(item, seq=7)]) == {"batchItemFailures": []}
    assert _sent_to(pushes) == dict.fromkeys(endpoints, 1)
    assert len(devices.push_targets(bea.sub)) == 3, "a busy push service removes no device"
    assert _metrics(_outputs(capsys.readouterr().out))["PushesSentBefore"] == 2


def test_records_after_a_failed_one_are_delivered_again_without_pushing_twice(
    aws: Aws, ana: Person, bea: Person, pushes: list[dict[str, Any]]
) -> None:
    """Lambda resumes a stream from the first failed record: the ones after it in the batch
    come again, pushed or not."""
    endpoints = _three_devices(bea)
    busy = next(iter(endpoints))
    _register(ana, "ana-ios-token-000000000001")
    (ana_endpoint,) = {str(t["endpointArn"]) for t in devices.push_targets(ana.sub)}
    open_promise(ana, bea)  # Bea is told
    open_promise(bea, ana)  # Ana is told
    items = {i["PK"]["S"].removeprefix("USER#"): i for i in _new_items(aws, "notification")}
    batch = [_record(items[bea.sub], seq=1), _record(items[ana.sub], seq=2)]
    fail_publish_to(busy, "Throttling")

    assert _invoke(batch) == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    assert _invoke(batch) == {"batchItemFailures": []}

    assert _sent_to(pushes) == {**dict.fromkeys(endpoints, 1), ana_endpoint: 1}


def test_devices_not_started_for_lack_of_time_are_left_to_the_retry(
    aws: Aws, ana: Person, bea: Person, pushes: list[dict[str, Any]]
) -> None:
    """Rather than a timeout, which retries the whole batch (and pushes again what was sent)."""
    endpoints = _three_devices(bea)
    first = next(iter(endpoints))
    item = _bea_is_told(aws, ana, bea)

    class RunningOut(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return 10_000 if not pushes else notifier.TIME_MARGIN_MS - 1

    response = notifier.lambda_handler({"Records": [_record(item, seq=3)]}, RunningOut())

    assert response == {"batchItemFailures": [{"itemIdentifier": "3"}]}
    assert _sent_to(pushes) == {first: 1}
    assert _invoke([_record(item, seq=3)]) == {"batchItemFailures": []}
    assert _sent_to(pushes) == dict.fromkeys(endpoints, 1)


# ---------------------------------------------------------------- every failure is logged and counted


def _devices_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    fail_next(table.dynamodb(), "Query", "InternalServerError")


def _profile_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    fail_next(table.dynamodb(), "GetItem", "ProvisionedThroughputExceededException")


def _receipt_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    real = profiles.get_profile

    def then_throttled(user_id: str) -> Any:
        stored = real(user_id)
        fail_next(table.dynamodb(), "GetItem", "ProvisionedThroughputExceededException")
        return stored

    monkeypatch.setattr("functions.notifier.app.get_profile", then_throttled)


def _out_of_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", lambda self: 1_000)


def _a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("title")

    monkeypatch.setattr(notifier, "push_to_person", broken)


@pytest.mark.parametrize(
    ("breaks", "reason", "level"),
    [
        (_devices_unreadable, "DevicesUnreadable", "WARNING"),
        (_profile_unreadable, "ServiceUnavailable", "ERROR"),
        (_receipt_unreadable, "ServiceUnavailable", "ERROR"),
        (_out_of_time, "OutOfTime", "WARNING"),
        (_a_bug, "KeyError", "ERROR"),
    ],
)
def test_every_record_reported_for_a_retry_is_logged_and_counted(
    aws: Aws,
    ana: Person,
    bea: Person,
    pushes: list[dict[str, Any]],
    emf: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    breaks: Callable[[pytest.MonkeyPatch], None],
    reason: str,
    level: str,
) -> None:
    """Lambda sends a record to the on-failure queue after its last retry, which the function
    cannot tell from the others: each report of a failed record leaves a log line and a count."""
    _three_devices(bea)
    item = _bea_is_told(aws, ana, bea)
    breaks(monkeypatch)
    capsys.readouterr()

    assert _invoke([_record(item, seq=5)]) == {"batchItemFailures": [{"itemIdentifier": "5"}]}

    assert pushes == []
    outputs = _outputs(capsys.readouterr().out)
    (failed,) = _logs(caplog, "on-failure queue")
    assert _field(failed, "notificationId") == item["notificationId"]["S"]
    assert (_field(failed, "reason"), failed.levelname) == (reason, level)
    assert bool(failed.exc_info) == (level == "ERROR"), "a traceback for what was not foreseen"
    assert _metrics(outputs)["NotificationRecordsFailed"] == 1


def test_a_receipt_that_cannot_be_written_is_logged_and_counted(
    aws: Aws,
    ana: Person,
    bea: Person,
    pushes: list[dict[str, Any]],
    emf: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoints = _three_devices(bea)
    busy = next(iter(endpoints))
    fail_publish_to(busy, "Throttling")
    item = _bea_is_told(aws, ana, bea)
    fail_next(table.dynamodb(), "UpdateItem", "ProvisionedThroughputExceededException")
    capsys.readouterr()

    assert _invoke([_record(item, seq=9)]) == {"batchItemFailures": [{"itemIdentifier": "9"}]}

    outputs = _outputs(capsys.readouterr().out)
    (unwritten,) = _logs(caplog, "Could not note which devices got a notification")
    assert _field(unwritten, "notificationId") == item["notificationId"]["S"]
    assert _metrics(outputs)["PushReceiptsNotWritten"] == 1
