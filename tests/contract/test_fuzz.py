"""Schemathesis fuzzes every operation of docs/openapi.json against the running local stack.

As a signed-in person, every check on (ignored_auth included), a bounded number of examples per
operation and a fixed seed: findings are fixed in the code or the schema, never silenced.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.local.template import ROOT
from tests.support.stack import Person

MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "25")
SEED = os.environ.get("FUZZ_SEED", "20261127")


def test_api_conforms_to_its_openapi_document(
    local_stack: dict[str, Any], person: Person, tmp_path: Path
) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(ROOT / "tests" / "contract" / "schemathesis.toml"),
        "run",
        str(ROOT / "docs" / "openapi.json"),
        "--url",
        local_stack["apiUrl"],
        "--header",
        f"Authorization: Bearer {person.access_token}",
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=480, check=False, cwd=tmp_path)
    report = result.stdout[-12000:] + result.stderr[-4000:]
    assert result.returncode == 0, report
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    operations = sum(len(item) for item in document["paths"].values())
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert tested is not None, report
    assert int(tested.group(1)) == operations, "every operation must be fuzzed"
