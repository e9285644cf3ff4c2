"""The app's DynamoDB table, created in the current (moto) account from template.yaml.

Built from the template's own properties so the benchmark measures the real key schema and
indexes; CloudFormation-only settings (point-in-time recovery, encryption) are left out as they
do not change what a request costs.
"""

from __future__ import annotations

from typing import Any

import boto3
import requests

from bench.lambda_env import REGION, table_name
from infra.local.template import load


def create_table_request(properties: dict[str, Any], name: str) -> dict[str, Any]:
    """The `CreateTable` arguments for a CloudFormation `AWS::DynamoDB::Table`'s properties."""
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(kind):
            request[kind] = [
                {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
                for index in properties[kind]
            ]
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    return request


def create_app_table() -> str:
    """Create the template's table (with its TTL setting) in the current account; return its name."""
    properties = load().table_properties
    name = table_name()
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(**create_table_request(properties, name))
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    return name


def reset_emulator(url: str) -> None:
    """Empty a moto server (every service) before a scenario uses it: moto keeps its state per
    process, so a server an earlier scenario started in this process leaves its tables behind."""
    requests.post(f"{url}/moto-api/reset", timeout=30).raise_for_status()
