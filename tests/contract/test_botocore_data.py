"""The layer ships botocore data only for the services the code creates clients for
(`infra/botocore_data.py`): the finder reads the code, and a trimmed botocore still makes every
client the code needs.

A service added to the code shows up here (the finder reads `ast`, not a list), so it cannot be
missing from the layer and fail only in AWS. The trimmed copy is the venv's own botocore and
boto3 (the layer pins the same versions, `test_layer.py`), loaded in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore
import pytest

from infra import botocore_data

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / ".aws-sam" / "build" / "SharedLayer" / "python"

# What reading functions/ and shared/ gives today: DynamoDB (the table, and Powertools'
# idempotency store), Cognito (ProfileFunction deletes users), SNS (push), SQS (webhooks), and
# Secrets Manager (key rotation, platform apps, and `shared/secrets.py` through Powertools).
USED = {"cognito-idp", "dynamodb", "secretsmanager", "sns", "sqs"}


@pytest.fixture(scope="module")
def found() -> list[botocore_data.Use]:
    return botocore_data.uses(botocore_data.CODE_ROOTS)


def _plant(tmp_path: Path, source: str) -> Path:
    package = tmp_path / "functions" / "planted"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(textwrap.dedent(source))
    return tmp_path / "functions"


def test_the_code_creates_clients_for_these_services(found: list[botocore_data.Use]) -> None:
    assert {use.service for use in found} == USED


def test_clients_powertools_makes_for_us_are_found_in_powertools_own_code(
    found: list[botocore_data.Use],
) -> None:
    made_by_libraries = {(use.service, use.where, use.via) for use in found if use.via}

    assert made_by_libraries == {
        ("secretsmanager", "shared/secrets.py", "aws_lambda_powertools.utilities.parameters.get_secret"),
        (
            "dynamodb",
            "shared/api/idempotency.py",
            "aws_lambda_powertools.utilities.idempotency.DynamoDBPersistenceLayer",
        ),
    }


@pytest.mark.parametrize(
    ("source", "service"),
    [
        ('import boto3\n_s3 = boto3.client("s3")\n', "s3"),
        ('import boto3\nTABLE = boto3.session.Session().resource("dynamodb").Table("t")\n', "dynamodb"),
        ('from boto3 import client as make\ndef f():\n    return make(service_name="kms")\n', "kms"),
        (
            'import boto3\nSERVICE = "events"\ndef f():\n    return boto3.Session().client(SERVICE)\n',
            "events",
        ),
        (
            "from aws_lambda_powertools.utilities import parameters\n"
            'def f():\n    return parameters.get_parameter("/x")\n',
            "ssm",
        ),
        # Not made in the name's own module: Powertools' AppConfigStore uses its parameters'
        # AppConfigProvider, and the finder follows that.
        (
            "from aws_lambda_powertools.utilities.feature_flags import AppConfigStore\n"
            'STORE = AppConfigStore(environment="e", application="a", name="n")\n',
            "appconfigdata",
        ),
    ],
)
def test_a_client_planted_in_the_code_is_found(tmp_path: Path, source: str, service: str) -> None:
    assert botocore_data.services_used([_plant(tmp_path, source)]) == {service}


def test_type_checking_imports_and_libraries_that_make_no_client_count_for_nothing(tmp_path: Path) -> None:
    source = """\
        from typing import TYPE_CHECKING

        from aws_lambda_powertools import Logger, Metrics
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
        from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
        from boto3.dynamodb.types import TypeDeserializer

        if TYPE_CHECKING:
            from aws_lambda_powertools.utilities.streaming import S3Object

        processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
        """

    assert botocore_data.services_used([_plant(tmp_path, source)]) == set()


def test_a_client_whose_service_cannot_be_read_fails(tmp_path: Path) -> None:
    root = _plant(tmp_path, "import boto3, os\n\ndef f():\n    return boto3.client(os.environ['SERVICE'])\n")

    with pytest.raises(botocore_data.UnresolvedClient, match=r"functions/planted/app\.py:4"):
        botocore_data.services_used([root])


def test_trim_refuses_a_service_botocore_has_no_model_for(tmp_path: Path) -> None:
    (tmp_path / "botocore" / "data" / "sns").mkdir(parents=True)

    with pytest.raises(ValueError, match="no model for no-such-service"):
        botocore_data.trim(tmp_path, {"sns", "no-such-service"})
    assert (tmp_path / "botocore" / "data" / "sns").is_dir()


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The venv's botocore and boto3, copied and trimmed to the services the code uses."""
    copy = tmp_path_factory.mktemp("layer")
    for package in (botocore, boto3):
        source = Path(str(package.__file__)).parent
        shutil.copytree(source, copy / source.name, symlinks=True)
    result = botocore_data.trim(copy, botocore_data.services_used())
    assert result.removed > 400, result
    assert result.bytes_after < result.bytes_before
    yield copy
    shutil.rmtree(copy, ignore_errors=True)


def _make_clients(site: Path, services: list[str]) -> dict[str, str]:
    """Create each service's client (and resource, where boto3 has its model) in a fresh
    interpreter that loads botocore and boto3 from `site`: fake credentials, no network."""
    script = textwrap.dedent(
        """
        import json, sys
        import boto3, botocore
        from botocore.exceptions import UnknownServiceError

        site, services = sys.argv[1], json.loads(sys.argv[2])
        assert botocore.__file__.startswith(site) and boto3.__file__.startswith(site), botocore.__file__
        session = boto3.session.Session(
            region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        results = {}
        for service in services:
            try:
                client = session.client(service)
                # The model itself, not only its name; then paginators-1 and waiters-2.
                operations = client.meta.service_model.operation_names
                client.can_paginate(botocore.xform_name(operations[0])), client.waiter_names
                if service in session.get_available_resources():
                    session.resource(service)
                results[service] = "ok"
            except UnknownServiceError:
                results[service] = "unknown"
        print(json.dumps(results))
        """
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    # Nothing but the copy may supply a model: botocore also reads ~/.aws/models and AWS_DATA_PATH.
    env.update(PYTHONPATH=str(site), HOME=str(site), AWS_CONFIG_FILE=os.devnull)
    done = subprocess.run(
        [sys.executable, "-c", script, str(site), json.dumps(services)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_a_trimmed_botocore_creates_every_client_the_code_uses_and_no_other(trimmed: Path) -> None:
    used = sorted(botocore_data.services_used())
    trimmed_away = ["s3", "ssm", "lambda"]

    results = _make_clients(trimmed, [*used, *trimmed_away])

    assert results == {**dict.fromkeys(used, "ok"), **dict.fromkeys(trimmed_away, "unknown")}
    assert sorted(path.name for path in (trimmed / "botocore" / "data").iterdir() if path.is_dir()) == used
    # The files botocore loads for any client stay.
    for name in ("endpoints.json", "partitions.json", "_retry.json", "sdk-default-configuration.json"):
        assert (trimmed / "botocore" / "data" / name).is_file(), name


def test_the_build_trims_the_layer_before_compiling_it() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^build:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no build target"
    steps = recipe[1]

    assert "-m infra.botocore_data $(LAYER_BUILD)" in steps
    assert steps.index("infra.botocore_data") > steps.index("$(SAM) build")
    assert steps.index("infra.botocore_data") < steps.index("infra.bytecode")


@pytest.mark.skipif(not LAYER.is_dir(), reason="no `make build` output")
def test_the_built_layer_has_a_model_for_every_service_the_code_uses() -> None:
    # The layer's own Powertools is what decides which clients it makes.
    used = botocore_data.services_used(search_path=[LAYER])
    shipped = {path.name for path in (LAYER / "botocore" / "data").iterdir() if path.is_dir()}

    assert used - shipped == set(), "run `make build`: the layer lacks these services' botocore data"
