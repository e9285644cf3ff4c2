"""Schemathesis fuzzes every operation of docs/openapi.json against the running local stack.

Two passes: the mobile API as a signed-in person, the partner API with a partner's
client-credentials token (all its scopes). Every check on (ignored_auth included), every phase
(examples, coverage, fuzzing, and the stateful phase, which follows the document's links from a
created promise, reflection, care or plan into the routes that take its id), a bounded number
of examples per operation and a fixed seed: findings are fixed in the code or the schema, never
silenced.
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
from tests.support.stack import Person, partner_token

MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "25")
# The partner API's operations mostly answer 404 here (the demo partner has no client yet), so
# fewer examples find as much there.
PARTNER_MAX_EXAMPLES = os.environ.get("FUZZ_PARTNER_MAX_EXAMPLES", "10")
SEED = os.environ.get("FUZZ_SEED", "20261127")
PARTNER_PATHS = "^/partner/"


def _fuzz(
    stack: dict[str, Any], token: str, paths: list[str], report_dir: Path, max_examples: str = MAX_EXAMPLES
) -> tuple[int, str]:
    """One schemathesis run; answers how many operations it tested and its output."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(ROOT / "tests" / "contract" / "schemathesis.toml"),
        "run",
        str(ROOT / "docs" / "openapi.json"),
        "--url",
        stack["apiUrl"],
        "--header",
        f"Authorization: Bearer {token}",
        *paths,
        "--checks",
        "all",
        "--max-examples",
        max_examples,
        "--seed",
        SEED,
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
    ]
    report_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(command, capture_output=True, text=True, timeout=480, check=False, cwd=report_dir)
    report = result.stdout[-12000:] + result.stderr[-4000:]
    assert result.returncode == 0, report
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert tested is not None, report
    return int(tested.group(1)), result.stdout


def test_api_conforms_to_its_openapi_document(
    local_stack: dict[str, Any], person: Person, tmp_path: Path
) -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    operations = sum(len(item) for item in document["paths"].values())
    partner_operations = sum(
        len(item) for path, item in document["paths"].items() if re.match(PARTNER_PATHS, path)
    )
    assert partner_operations > 0
    mobile, output = _fuzz(
        local_stack, person.access_token, ["--exclude-path-regex", PARTNER_PATHS], tmp_path / "mobile"
    )
    assert "Stateful" in output, "the stateful phase ran (links from created resources)"
    partner, _ = _fuzz(
        local_stack,
        partner_token(local_stack),
        ["--include-path-regex", PARTNER_PATHS],
        tmp_path / "partner",
        PARTNER_MAX_EXAMPLES,
    )
    assert partner == partner_operations, "every partner operation, with a partner's token"
    assert mobile + partner == operations, "every operation must be fuzzed"
