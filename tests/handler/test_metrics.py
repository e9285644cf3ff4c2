"""Powertools metrics as CloudWatch sees them (EMF on stdout): a ColdStart count per process."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider import cold_start

from functions.edge.app import lambda_handler as edge
from tests.support.aws import Aws, LambdaContext, http_event, invoke


def _metric_blobs(stdout: str) -> list[dict[str, Any]]:
    blobs = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [b for b in blobs if "_aws" in b]


def _cold_starts(stdout: str) -> list[dict[str, Any]]:
    return [b for b in _metric_blobs(stdout) if "ColdStart" in b]


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if this were the process's first invocation (Powertools keeps one flag per process)."""
    monkeypatch.setattr(cold_start, "is_cold_start", True)


@pytest.mark.usefixtures("fresh_process")
def test_an_api_functions_first_invocation_counts_one_cold_start(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke(edge, http_event("GET", "/v1/health")).status == 200
    assert invoke(edge, http_event("GET", "/v1/health")).status == 200

    (blob,) = _cold_starts(capsys.readouterr().out)
    assert blob["ColdStart"] == [1.0]
    assert blob["function_name"] == LambdaContext.function_name
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Metrics"] == [{"Name": "ColdStart", "Unit": "Count"}]
    assert ["function_name", "service"] in directive["Dimensions"]


def test_a_warm_invocation_counts_none(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    cold_start.is_cold_start = False
    assert invoke(edge, http_event("GET", "/v1/health")).status == 200

    assert _cold_starts(capsys.readouterr().out) == []
