"""CloudFormation custom resource `Custom::PlatformApplication`: an SNS mobile push application.

CloudFormation has no resource type for SNS platform applications, so this function makes
them. Properties: `Name`, `Platform` (`APNS`, `APNS_SANDBOX` or `GCM`), `Attributes` (plain
ones: the team and bundle ids), `CredentialsSecretArn` and `SecretAttributes` (each SNS
attribute taken from the secret: a key of its JSON, or `$` for its whole string; CloudFormation
resolves no secret in a custom resource's properties, so the function reads it), and
`Revision` (changed by the operator to make an Update re-read the secret). The physical id,
hence `Ref`, is the ARN.

- Create: CreatePlatformApplication.
- Update: SetPlatformApplicationAttributes; a new name or platform makes a new application
  instead (a new physical id), and CloudFormation then deletes the old one.
- Delete: DeletePlatformApplication (gone already is fine).

Whatever happens, CloudFormation is answered at the pre-signed `ResponseURL`; a stack would
otherwise wait for the resource's `ServiceTimeout`. The event holds the credentials, so
neither the event nor the properties are ever logged.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from shared.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient

_client: SNSClient | None = None
_secrets_client: SecretsManagerClient | None = None
_MAX_REASON_CHARS = 500


def sns() -> SNSClient:
    """The process's SNS client, made on first use."""
    global _client
    if _client is None:
        _client = boto3.client("sns")
    return _client


def secretsmanager() -> SecretsManagerClient:
    """The process's Secrets Manager client, made on first use."""
    global _secrets_client
    if _secrets_client is None:
        _secrets_client = boto3.client("secretsmanager")
    return _secrets_client


class CredentialsError(Exception):
    """The credentials' secret lacks what `SecretAttributes` names (the message shows no value)."""


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Apply one CloudFormation request and answer it, SUCCESS or FAILED."""
    request_type = event.get("RequestType")
    try:
        physical_id = apply(event)
    # Any failure at all must reach CloudFormation as FAILED, or the stack hangs: this is the
    # one place where catching everything is the contract (as in AWS's cfn-response).
    except Exception as error:
        logger.exception("Platform application request failed", extra={"requestType": request_type})
        _respond(
            event,
            "FAILED",
            event.get("PhysicalResourceId") or f"failed-{event.get('RequestId', 'unknown')}",
            reason=_reason(error),
        )
        return
    logger.info("Platform application request done", extra={"requestType": request_type, "arn": physical_id})
    _respond(event, "SUCCESS", physical_id, data={"Arn": physical_id})


def apply(event: dict[str, Any]) -> str:
    """Carry out a Create, Update or Delete; answer the physical id (the application's ARN)."""
    request_type = event["RequestType"]
    properties = event.get("ResourceProperties", {})
    if request_type == "Create":
        return _create(properties)
    if request_type == "Update":
        old = event.get("OldResourceProperties", {})
        if (properties.get("Name"), properties.get("Platform")) != (old.get("Name"), old.get("Platform")):
            return _create(properties)
        arn = str(event["PhysicalResourceId"])
        sns().set_platform_application_attributes(
            PlatformApplicationArn=arn, Attributes=_attributes(properties)
        )
        return arn
    if request_type == "Delete":
        arn = str(event["PhysicalResourceId"])
        # A Create that failed made nothing, and its physical id is no ARN.
        if arn.startswith("arn:"):
            try:
                sns().delete_platform_application(PlatformApplicationArn=arn)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "NotFound":
                    raise
        return arn
    raise ValueError(f"unknown RequestType {request_type!r}")


def _create(properties: dict[str, Any]) -> str:
    response = sns().create_platform_application(
        Name=str(properties["Name"]),
        Platform=str(properties["Platform"]),
        Attributes=_attributes(properties),
    )
    return response["PlatformApplicationArn"]


def _attributes(properties: dict[str, Any]) -> dict[str, str]:
    # CloudFormation hands every scalar property over as a string already; say so for mypy.
    attributes = {str(k): str(v) for k, v in (properties.get("Attributes") or {}).items()}
    secret_arn = properties.get("CredentialsSecretArn")
    if secret_arn:
        attributes.update(_from_secret(str(secret_arn), properties.get("SecretAttributes") or {}))
    return attributes


def _from_secret(secret_arn: str, names: dict[str, Any]) -> dict[str, str]:
    """The SNS attributes `names` maps to the secret's keys (`$`: the whole string)."""
    text = secretsmanager().get_secret_value(SecretId=secret_arn)["SecretString"]
    document: dict[str, Any] | None = None
    attributes = {}
    for attribute, key in names.items():
        if key == "$":
            attributes[str(attribute)] = text
            continue
        if document is None:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise CredentialsError("the credentials secret is not a JSON object")
            document = parsed
        value = document.get(str(key))
        if not isinstance(value, str) or not value:
            raise CredentialsError(f"the credentials secret has no {key!r} text")
        attributes[str(attribute)] = value
    return attributes


def _reason(error: Exception) -> str:
    """Why it failed, for the stack's events: the service's words, never the request."""
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        text = f"{detail.get('Code', 'Error')}: {detail.get('Message', '')}"
    elif isinstance(error, CredentialsError):
        text = str(error)
    elif isinstance(error, KeyError):
        text = f"missing property {error}"
    else:
        text = type(error).__name__
    return text[:_MAX_REASON_CHARS]


def _respond(
    event: dict[str, Any],
    status: str,
    physical_id: str,
    *,
    reason: str | None = None,
    data: dict[str, str] | None = None,
) -> None:
    """PUT the answer to the pre-signed S3 URL CloudFormation gave (a few tries)."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or "See the function's log.",
            "PhysicalResourceId": physical_id,
            "StackId": event.get("StackId"),
            "RequestId": event.get("RequestId"),
            "LogicalResourceId": event.get("LogicalResourceId"),
            "Data": data or {},
        }
    ).encode()
    url = str(event.get("ResponseURL", ""))
    if not url.startswith("https://"):
        logger.error("No https ResponseURL in the event; CloudFormation cannot be answered")
        return
    # S3 signs the URL without a content type, so the request must not send one.
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    for attempt in range(3):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                response.read()
            return
        except OSError:
            logger.warning("Answering CloudFormation failed", extra={"attempt": attempt + 1})
            time.sleep(2**attempt)
    logger.error("CloudFormation was not answered; the stack waits for the ServiceTimeout")
