"""Secrets Manager rotation of the cursor keys (the `CursorSigningKey` secret, `shared.secrets`).

Secrets Manager calls this function four times per rotation, with the same `SecretId` and
`ClientRequestToken` (the new version's id, already staged `AWSPENDING`) and each `Step`:

- `createSecret`: unless the pending version has a value already (a retried step), write it:
  a new random key as `current`, the old `current` as `previous`, and `rotatedAt` now. The
  previous key keeps verifying cursors for a day after that (`shared.secrets.PREVIOUS_KEY_GRACE`).
- `setSecret`: nothing: the key lives only in the secret, no other system holds it.
- `testSecret`: the pending value is what the functions can read (`CursorKeys.from_secret`).
- `finishSecret`: move `AWSCURRENT` to the new version (Secrets Manager then labels the old one
  `AWSPREVIOUS`). Functions pick the new key up within their cache time.

As AWS's rotation templates do, every step first checks that rotation is enabled and that the
token is a version staged for this rotation. Secret values are never logged.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import logger
from shared.secrets import CursorKeys, rotated_cursor_keys

CURRENT_STAGE = "AWSCURRENT"
PENDING_STAGE = "AWSPENDING"
# As the template's GenerateSecretString makes the first key: 64 letters and digits.
KEY_LENGTH = 64
KEY_ALPHABET = string.ascii_letters + string.digits

_client: Any = None


def secretsmanager() -> Any:
    """The process's Secrets Manager client, made on first use."""
    global _client
    if _client is None:
        _client = boto3.client("secretsmanager")
    return _client


def reset_clients() -> None:
    """Forget the client (tests switch emulators between cases)."""
    global _client
    _client = None


def new_key() -> str:
    """A fresh cursor key, from the operating system's random source."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    """One step of a rotation; any failure raises, and Secrets Manager retries or gives up."""
    arn = str(event["SecretId"])
    token = str(event["ClientRequestToken"])
    step = str(event["Step"])
    steps: dict[str, Callable[[Any, str, str], None]] = {
        "createSecret": create_secret,
        "setSecret": set_secret,
        "testSecret": check_secret,
        "finishSecret": finish_secret,
    }
    if step not in steps:
        raise ValueError(f"unknown rotation step {step!r}")
    where = {"rotationStep": step, "secretVersion": token}
    client = secretsmanager()
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError("the secret is not enabled for rotation")
    versions: dict[str, list[str]] = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise ValueError("the token is no version of the secret")
    if CURRENT_STAGE in versions[token]:
        logger.info("The version is current already: nothing to do", extra=where)
        return
    if PENDING_STAGE not in versions[token]:
        raise ValueError("the token's version is not staged AWSPENDING")
    steps[step](client, arn, token)
    logger.info("Rotation step done", extra=where)


def create_secret(client: Any, arn: str, token: str) -> None:
    """Write the pending value, unless a retried step wrote it already."""
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING_STAGE)
    except client.exceptions.ResourceNotFoundException:
        pass
    else:
        logger.info("The pending version has its value already", extra={"secretVersion": token})
        return
    current = client.get_secret_value(SecretId=arn, VersionStage=CURRENT_STAGE)
    value = rotated_cursor_keys(json.loads(current["SecretString"]), new_key(), datetime.now(UTC))
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(value),
        VersionStages=[PENDING_STAGE],
    )
    logger.info("Pending version written", extra={"secretVersion": token})


def set_secret(client: Any, arn: str, token: str) -> None:
    """Nothing to set: no other system holds the cursor keys."""


def check_secret(client: Any, arn: str, token: str) -> None:
    """`testSecret` (not named test_*, which pytest would collect): the pending value is one the
    functions can read, with a new key."""
    pending = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING_STAGE)
    keys = CursorKeys.from_secret(json.loads(pending["SecretString"]))
    if keys.previous is None or keys.current == keys.previous:
        raise ValueError("the pending value does not hold a new current key and the previous one")


def finish_secret(client: Any, arn: str, token: str) -> None:
    """Make the pending version current."""
    metadata = client.describe_secret(SecretId=arn)
    current_version = next(
        (version for version, stages in metadata["VersionIdsToStages"].items() if CURRENT_STAGE in stages),
        None,
    )
    if current_version == token:
        return
    client.update_secret_version_stage(
        SecretId=arn, VersionStage=CURRENT_STAGE, MoveToVersionId=token, RemoveFromVersionId=current_version
    )
