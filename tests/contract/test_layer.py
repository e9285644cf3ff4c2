"""The shared layer as SAM builds it: pinned like uv.lock, and holding the repo's `shared/`.

`make build` takes infra/layer/ as the layer's source: requirements.txt (exported from uv.lock)
and `shared`, a symlink to the repo's shared/ that SAM copies as real files. These checks stay
fast (no `sam build`): they catch a stale export and a broken link before a deploy ships a layer
that does not match what the tests ran against.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "infra" / "layer"
REQUIREMENTS = LAYER / "requirements.txt"
UV = ROOT / ".tools" / "bin" / "uv"
# Everything in infra/layer/ ships in the layer, so nothing else may live there.
LAYER_CONTENTS = {"requirements.txt", "shared"}


def _layer_export_command() -> list[str]:
    """The `uv export` command of the Makefile's `layer-requirements`, writing to stdout."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^LAYER_EXPORT\s*:=\s*(.+)$", makefile, re.MULTILINE)
    assert match, "Makefile no longer defines LAYER_EXPORT, the layer's `uv export` command"
    args = shlex.split(match.group(1))
    assert args[0] == "$(UV)", f"LAYER_EXPORT should start with $(UV), not {args[0]!r}"
    assert "-o" not in args, "LAYER_EXPORT must write to stdout; the target adds -o"
    return [str(UV), *args[1:]]


def _pin_names(requirements: str) -> dict[str, str]:
    pins = {}
    for line in requirements.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_normalise(name)] = version.split(";")[0].strip()
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_layer_requirements_match_uv_lock() -> None:
    if not UV.exists():
        pytest.fail(f"{UV.relative_to(ROOT)} is missing: run `make install` first")
    exported = subprocess.run(
        _layer_export_command(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    ).stdout
    assert REQUIREMENTS.read_text(encoding="utf-8") == exported, (
        "infra/layer/requirements.txt is stale against uv.lock: run `make layer-requirements`"
    )


def test_layer_pins_every_runtime_dependency_and_no_dev_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = _pin_names(REQUIREMENTS.read_text(encoding="utf-8"))
    for requirement in project["project"]["dependencies"]:
        name, _, version = requirement.partition("==")
        assert pins.get(_normalise(name)) == version, f"the layer does not pin {requirement}"
    for dev_tool in ("moto", "pytest", "mypy", "ruff", "cfn-lint", "aws-sam-translator"):
        assert dev_tool not in pins, f"{dev_tool} is a dev dependency and must not ship in the layer"


def test_layer_source_holds_only_requirements_and_shared() -> None:
    assert {p.name for p in LAYER.iterdir()} == LAYER_CONTENTS


def test_layer_shared_is_a_relative_symlink_to_the_repo_shared() -> None:
    link = LAYER / "shared"
    assert link.is_symlink(), "infra/layer/shared must be a symlink to the repo's shared/"
    target = os.readlink(link)
    # Relative, so it resolves in every checkout, not only the one that created it.
    assert not os.path.isabs(target), f"the link points to an absolute path: {target}"
    assert link.resolve() == (ROOT / "shared").resolve()


def test_shared_imports_from_the_layer_alone(tmp_path: Path) -> None:
    """Import every module of `shared` with only the layer and the dependencies on sys.path.

    That is Lambda's view (/opt/python): a module of shared/ importing from functions/,
    infra/ or tests/ would work in tests and fail in the cloud.
    """
    child = textwrap.dedent(
        """
        import json, pkgutil, sys
        sys.path.insert(0, sys.argv[1])
        import shared
        names = [m.name for m in pkgutil.walk_packages(shared.__path__, "shared.")]
        for name in names:
            __import__(name)
        print(json.dumps({
            "path": list(shared.__path__),
            "modules": names,
            "leaked": sorted(
                m for m in sys.modules if m.split(".")[0] in ("functions", "infra", "tests", "bench")
            ),
        }))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        TABLE_NAME="career-journey-test",
        POWERTOOLS_SERVICE_NAME="career-journey",
    )
    # -P: the child's cwd (a temp dir) is not on sys.path, so only the layer provides `shared`.
    done = subprocess.run(
        [sys.executable, "-P", "-c", child, str(LAYER)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"importing shared from the layer failed:\n{done.stderr}"
    report = json.loads(done.stdout)
    assert report["path"], "shared has no location"
    assert all(p.startswith(str(LAYER)) for p in report["path"]), report["path"]
    assert report["leaked"] == [], f"shared imports code that is not in the layer: {report['leaked']}"
