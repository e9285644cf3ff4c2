"""`make build` ships bytecode Lambda will use: unchecked-hash pycs, checked against the source.

These run on small trees in a temporary directory (no `sam build`), with the interpreter that
runs the tests.
"""

from __future__ import annotations

import marshal
import os
import py_compile
import re
import subprocess
import sys
import textwrap
from pathlib import Path, PurePosixPath

import pytest

from infra import bytecode

ROOT = Path(__file__).resolve().parents[2]


def _filename_in(pyc: Path) -> str:
    """The file name compiled into a pyc (what tracebacks show). Our own build's output."""
    return str(marshal.loads(pyc.read_bytes()[16:]).co_filename)  # noqa: S302


def _tree(root: Path) -> Path:
    package = root / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("VALUE = 'compiled'\n")
    return package


def test_compiled_tree_is_unchecked_hash_and_names_files_as_lambda_mounts_them(tmp_path: Path) -> None:
    package = _tree(tmp_path)

    assert bytecode.compile_tree(tmp_path, PurePosixPath("/var/task"))

    assert bytecode.problems(tmp_path) == []
    pyc = package / "__pycache__" / f"mod.{sys.implementation.cache_tag}.pyc"
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == bytecode.UNCHECKED_HASH_FLAGS
    assert _filename_in(pyc) == "/var/task/pkg/mod.py"


def test_the_interpreter_uses_the_shipped_bytecode_without_reading_the_source(tmp_path: Path) -> None:
    package = _tree(tmp_path)
    bytecode.compile_tree(tmp_path, PurePosixPath("/var/task"))
    # Had the interpreter compiled the source, it would see this and fail.
    (package / "mod.py").write_text("raise SystemExit('the source was compiled')\n")

    done = subprocess.run(
        [sys.executable, "-c", "import pkg.mod; print(pkg.mod.VALUE)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert (done.returncode, done.stdout.strip()) == (0, "compiled"), done.stderr
    # ... which is why the build checks every pyc against its source.
    assert bytecode.problems(tmp_path) == ["pkg/mod.py: bytecode does not match the source"]


def test_problems_names_missing_and_timestamp_bytecode(tmp_path: Path) -> None:
    package = _tree(tmp_path)
    bytecode.compile_tree(tmp_path, PurePosixPath("/var/task"))
    (package / "new.py").write_text("X = 1\n")
    (package / "stamped.py").write_text("Y = 2\n")
    py_compile.compile(str(package / "stamped.py"))  # the default: timestamp-checked

    assert bytecode.problems(tmp_path) == [
        "pkg/new.py: no bytecode",
        "pkg/stamped.py: bytecode is not unchecked-hash",
    ]


def test_a_file_that_does_not_compile_fails_the_compilation(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "pkg" / "broken.py").write_text("def (:\n")

    assert not bytecode.compile_tree(tmp_path, PurePosixPath("/opt"))
    assert bytecode.problems(tmp_path) == ["pkg/broken.py: no bytecode"]


def _build_dir(root: Path) -> Path:
    (root / "AppFunction").mkdir(parents=True)
    (root / "AppFunction" / "app.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    _tree(root / "SharedLayer" / "python")
    (root / "template.yaml").write_text(
        textwrap.dedent(
            """\
            Resources:
              AppFunction:
                Type: AWS::Serverless::Function
                Properties: {CodeUri: AppFunction, Handler: app.lambda_handler}
              SharedLayer:
                Type: AWS::Serverless::LayerVersion
                Properties: {ContentUri: SharedLayer}
              Table:
                Type: AWS::DynamoDB::Table
                Properties: {}
            """
        )
    )
    return root


def test_artifacts_are_read_from_the_built_template(tmp_path: Path) -> None:
    build = _build_dir(tmp_path)

    assert bytecode.artifacts(build) == {
        build / "AppFunction": PurePosixPath("/var/task"),
        build / "SharedLayer": PurePosixPath("/opt"),
    }


def test_main_compiles_every_artifact_then_checks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build = _build_dir(tmp_path)
    monkeypatch.setattr(bytecode, "runtime_version", lambda: sys.version_info[:2])

    assert bytecode.main([str(build), "--check"]) == 1
    assert "AppFunction/app.py: no bytecode" in capsys.readouterr().err

    assert bytecode.main([str(build)]) == 0
    assert "3 source files in 2 artifacts" in capsys.readouterr().out
    layer_pyc = build / "SharedLayer" / "python" / "pkg" / "__pycache__"
    assert _filename_in(layer_pyc / f"mod.{sys.implementation.cache_tag}.pyc") == "/opt/python/pkg/mod.py"


def test_main_refuses_an_interpreter_other_than_the_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build = _build_dir(tmp_path)
    monkeypatch.setattr(bytecode, "runtime_version", lambda: (3, sys.version_info[1] + 1))

    assert bytecode.main([str(build)]) == 2
    assert "run it with that interpreter" in capsys.readouterr().err
    assert not list(build.rglob("*.pyc"))


def test_runtime_version_is_the_templates() -> None:
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    runtime = re.search(r"^\s+Runtime: python(\d+)\.(\d+)$", template, re.MULTILINE)
    assert runtime
    assert bytecode.runtime_version() == (int(runtime[1]), int(runtime[2]))


def test_make_build_ships_bytecode_after_sam_build() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^build:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no build target"
    lines = recipe[1].splitlines()
    sam = next(i for i, line in enumerate(lines) if "$(SAM) build" in line)
    compile_step = next(i for i, line in enumerate(lines) if "-m infra.bytecode .aws-sam/build" in line)
    assert compile_step > sam
