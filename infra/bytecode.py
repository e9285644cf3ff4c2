"""Ship compiled bytecode in the `sam build` artifacts, because Lambda cannot write it.

SAM's pip builder unpacks wheels and copies sources with every `.pyc` and `__pycache__`
left out. Lambda's `/var/task` and `/opt` are read-only, so a function shipped that way
compiles every module it imports from source on every cold start: boto3, botocore,
Powertools, pydantic and our own code. `make bench` (scenario `bytecode`) measures what that
costs. `make build` therefore runs `python -m infra.bytecode` after `sam build`: it compiles
every artifact, then checks that every source file has its bytecode.

The bytecode is "unchecked-hash" (PEP 552): the interpreter uses it without looking at the
source. A timestamp pyc would be ignored whenever the source's mtime changed on its way
through the deployment zip, and checking a hash means reading every source file. Unchecked
is safe here because the build directory is rebuilt by every `sam build`, and the check
below fails the build if any pyc does not match its source.

Run it with the interpreter of the template's runtime (python3.12): bytecode is specific to
the minor version, and the module refuses any other.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import py_compile
import sys
from pathlib import Path, PurePosixPath

from infra.local.template import ROOT, load

BUILD_DIR = ROOT / ".aws-sam" / "build"
# Where Lambda mounts each kind of artifact: tracebacks then name the files as Lambda sees them.
TASK_ROOT = PurePosixPath("/var/task")
LAYER_ROOT = PurePosixPath("/opt")
# The pyc header's flags (PEP 552): bit 0 = hash-based, bit 1 = check the source.
UNCHECKED_HASH_FLAGS = 0b01


def runtime_version() -> tuple[int, int]:
    """The Python version the template's functions run on (Globals.Function.Runtime)."""
    runtime = str(load().raw["Globals"]["Function"]["Runtime"])
    major, _, minor = runtime.removeprefix("python").partition(".")
    return int(major), int(minor)


def artifacts(build_dir: Path) -> dict[Path, PurePosixPath]:
    """Each artifact directory of a `sam build`, with where Lambda mounts it."""
    mounts = {"AWS::Serverless::Function": TASK_ROOT, "AWS::Serverless::LayerVersion": LAYER_ROOT}
    found: dict[Path, PurePosixPath] = {}
    for resource in load(build_dir / "template.yaml").resources.values():
        mount = mounts.get(resource.get("Type", ""))
        properties = resource.get("Properties", {})
        uri = properties.get("CodeUri", properties.get("ContentUri"))
        if mount is not None and isinstance(uri, str) and (build_dir / uri).is_dir():
            found[build_dir / uri] = mount
    return found


def compile_tree(root: Path, mount: PurePosixPath) -> bool:
    """Compile every `.py` under `root` to unchecked-hash bytecode. False if one does not compile."""
    return bool(
        compileall.compile_dir(
            root,
            ddir=str(mount),
            quiet=1,
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    )


def problems(root: Path) -> list[str]:
    """Every source file under `root` whose bytecode is missing, of another Python, or stale."""
    found = []
    for source in sorted(root.rglob("*.py")):
        cached = Path(importlib.util.cache_from_source(str(source)))
        name = source.relative_to(root)
        if not cached.is_file():
            found.append(f"{name}: no bytecode")
            continue
        header = cached.read_bytes()[:16]
        if header[:4] != importlib.util.MAGIC_NUMBER:
            found.append(f"{name}: bytecode of another Python version")
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH_FLAGS:
            found.append(f"{name}: bytecode is not unchecked-hash")
        elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
            found.append(f"{name}: bytecode does not match the source")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bytecode", description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", type=Path, default=BUILD_DIR)
    parser.add_argument("--check", action="store_true", help="only check, compile nothing")
    args = parser.parse_args(argv)

    wanted = runtime_version()
    if sys.version_info[:2] != wanted:
        print(
            f"bytecode: this is Python {sys.version_info[0]}.{sys.version_info[1]}, the functions run "
            f"python{wanted[0]}.{wanted[1]}: run it with that interpreter",
            file=sys.stderr,
        )
        return 2
    targets = artifacts(args.build_dir)
    if not targets:
        print(f"bytecode: no artifacts in {args.build_dir}: run `sam build` first", file=sys.stderr)
        return 2
    failed = False
    for root, mount in targets.items():
        if not args.check and not compile_tree(root, mount):
            print(f"bytecode: some files under {root} do not compile", file=sys.stderr)
            failed = True
        for line in problems(root):
            print(f"bytecode: {root.name}/{line}", file=sys.stderr)
            failed = True
    if not failed:
        count = sum(1 for root in targets for _ in root.rglob("*.py"))
        print(f"bytecode: {count} source files in {len(targets)} artifacts have unchecked-hash bytecode")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
