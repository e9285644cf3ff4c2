"""The alarms, read from template.yaml: what an operator is told about, found from the template
itself (its functions, stream consumers and failure queues), so a new one cannot go unwatched."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.template import load

TEMPLATE = load()
ALARMS = TEMPLATE.resources_of_type("AWS::CloudWatch::Alarm")
# Made only with push credentials, and a custom resource: its failures show in the stack's
# events, where whoever deploys is looking.
UNWATCHED = {"PlatformApplicationsFunction"}
TOPIC_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def _alarms_on(namespace: str, metric: str) -> dict[str, dict[str, Any]]:
    """Alarms on one metric (not metric math), by the value of their one dimension."""
    found = {}
    for alarm in ALARMS.values():
        props = alarm["Properties"]
        if (props.get("Namespace"), props.get("MetricName")) == (namespace, metric):
            (dimension,) = props["Dimensions"]
            value = dimension["Value"]  # a literal, a Ref, or a GetAtt of a queue's name
            if isinstance(value, dict):
                value = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
            found[str(value)] = props
    return found


def _functions() -> set[str]:
    return set(TEMPLATE.resources_of_type("AWS::Serverless::Function")) - UNWATCHED


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm(metric: str) -> None:
    alarms = _alarms_on("AWS/Lambda", metric)
    assert set(alarms) == _functions()
    for props in alarms.values():
        assert (props["Statistic"], props["Threshold"], props["ComparisonOperator"]) == (
            "Sum",
            1,
            "GreaterThanOrEqualToThreshold",
        )


def test_every_stream_consumer_has_an_iterator_age_alarm() -> None:
    consumers = {
        m["Properties"]["FunctionName"]["Ref"]
        for m in TEMPLATE.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if "StreamArn" in str(m["Properties"]["EventSourceArn"])
    }
    alarms = _alarms_on("AWS/Lambda", "IteratorAge")
    assert set(alarms) == consumers
    assert {p["Statistic"] for p in alarms.values()} == {"Maximum"}


def test_every_failure_and_dead_letter_queue_has_a_depth_alarm() -> None:
    destinations = {
        m["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        for m in TEMPLATE.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if "DestinationConfig" in m["Properties"]
    }
    dead_letters = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in TEMPLATE.resources_of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    }
    assert len(destinations) == 4
    assert dead_letters == {"WebhookDeadLetters"}
    assert set(_alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible")) == destinations | dead_letters


def test_the_api_the_table_the_dispatcher_and_unhandled_errors_are_watched() -> None:
    assert set(_alarms_on("CareerJourney", "UnhandledErrors")) == {"career-journey"}
    assert set(_alarms_on("AWS/ApiGateway", "Latency")) == {"HttpApi"}
    assert _alarms_on("AWS/ApiGateway", "Latency")["HttpApi"]["ExtendedStatistic"] == "p99"
    lag = _alarms_on("CareerJourney", "ReminderLagSeconds")["career-journey"]
    assert lag["TreatMissingData"] == "breaching", "a dispatcher that stopped reporting is down"
    math = {
        metric["MetricStat"]["Metric"]["MetricName"]
        for alarm in ALARMS.values()
        for metric in alarm["Properties"].get("Metrics", [])
        if "MetricStat" in metric
    }
    assert {"5xx", "Count", "ReadThrottleEvents", "WriteThrottleEvents"} <= math


def test_every_alarm_notifies_the_topic_on_alarm_and_on_recovery() -> None:
    assert TEMPLATE.raw["Conditions"]["HasAlarmTopic"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]
    }
    for name, alarm in ALARMS.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == props["OKActions"] == TOPIC_ACTIONS, name
        assert props["AlarmName"]["Fn::Sub"].startswith("career-journey-${Stage}-"), name
