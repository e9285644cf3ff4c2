"""Ship botocore's data only for the AWS services the functions create clients for.

botocore carries a model for every AWS service (about 450 directories under `botocore/data`,
23 MB of the layer's 53 MB) and the functions call five. `make build` therefore runs
`python -m infra.botocore_data` on the layer after `sam build` (before `infra.bytecode`): it
finds the services by reading the code and deletes every other service's directory from
`botocore/data` and `boto3/data` (boto3's resource models).

The services are found with `ast`, never from a list kept by hand:

- a call `<anything>.client("x")` or `<anything>.resource("x")` (`boto3.client`,
  `boto3.resource`, `session.client`, `boto3.session.Session().client`...), or a name imported
  from boto3 that is its `client`/`resource`. The service must be a literal (or a module-level
  string constant): a call whose service cannot be read fails the build, as the layer might
  lack it.
- clients a library makes for us (Powertools' `parameters.get_secret` makes a Secrets Manager
  client, its idempotency `DynamoDBPersistenceLayer` a DynamoDB one). Every name our code uses
  from an installed package is followed, through the package's re-exports, to the module that
  defines it, and that module is read the same way; a library module's own uses of its package
  are followed in turn. That over-approximates (a module's every client counts, reached or not)
  and so errs on the side of shipping a model.

What a client needs is kept whole: each used service's directory (`service-2`, the endpoint
rules, paginators, waiters, in whichever form botocore ships them, `.json` or `.json.gz`) and
the top-level files botocore loads when it creates any client (`endpoints.json`,
`partitions.json`, `_retry.json`, `sdk-default-configuration.json`): only service directories
are ever deleted. Credentials on Lambda come from the environment, so no STS or SSO client is
made at run time.

`tests/contract/test_botocore_data.py` checks the finder against the code, and that a trimmed
copy of botocore creates a client for every service found and none for a service trimmed away.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The deployed code: each function's app.py and the layer's shared/.
CODE_ROOTS = (ROOT / "functions", ROOT / "shared")
LAYER_BUILD = ROOT / ".aws-sam" / "build" / "SharedLayer" / "python"
FACTORIES = frozenset({"client", "resource"})
# The SDK itself: its client calls take the service from the caller.
SDK_PACKAGES = frozenset({"boto3", "botocore", "s3transfer"})


class UnresolvedClient(Exception):
    """Our code creates a client whose service is not a literal: the layer might lack it."""


@dataclass(frozen=True)
class Use:
    service: str
    where: str  # path:line of the call
    via: str = ""  # the library name our code used, for a client a library makes


@dataclass
class _Module:
    path: Path
    name: str
    defined: set[str] = field(default_factory=set)
    bound: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    star: list[str] = field(default_factory=list)  # modules of `from x import *`
    calls: list[tuple[str | None, int]] = field(default_factory=list)  # (service or None, line)
    references: set[str] = field(default_factory=set)  # qualified names used


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, leaving out `if TYPE_CHECKING:` bodies (imports for the type checker only)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _parse(path: Path, name: str) -> _Module:
    stat = path.stat()
    return _parse_version(path, name, stat.st_mtime_ns, stat.st_size)


@cache
def _parse_version(path: Path, name: str, mtime_ns: int, size: int) -> _Module:
    """One reading per version of a file (the same libraries are read by every call)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    info = _Module(path, name)
    is_package = path.name == "__init__.py"
    constants: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            info.defined.add(statement.name)
        elif isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            value = statement.value
            for target in targets:
                if isinstance(target, ast.Name):
                    info.defined.add(target.id)
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        constants[target.id] = value.value
    nodes = list(_runtime_nodes(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    info.bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    info.bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(name, is_package, node.level, node.module)
            for alias in node.names:
                if alias.name == "*":
                    info.star.append(source)
                else:
                    # An imported name counts as used: importing it is how code reaches it.
                    info.bound[alias.asname or alias.name] = f"{source}.{alias.name}"
                    info.references.add(f"{source}.{alias.name}")
    inner: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
    for node in nodes:
        if isinstance(node, ast.Call) and _is_factory(node.func, info.bound):
            info.calls.append((_service_of(node, constants), node.lineno))
        if isinstance(node, ast.Name | ast.Attribute) and id(node) not in inner:
            qualified = _qualified(node, info.bound)
            if qualified:
                info.references.add(qualified)
    return info


def _is_factory(func: ast.expr, bound: dict[str, str]) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr in FACTORIES
    if isinstance(func, ast.Name) and func.id in bound:
        qualified = bound[func.id].split(".")
        return qualified[0] == "boto3" and qualified[-1] in FACTORIES
    return False


def _service_of(call: ast.Call, constants: dict[str, str]) -> str | None:
    argument = call.args[0] if call.args else None
    for keyword in call.keywords:
        if keyword.arg == "service_name":
            argument = keyword.value
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.Name):
        return constants.get(argument.id)
    return None


def _qualified(node: ast.expr, bound: dict[str, str]) -> str | None:
    """`parameters.get_secret` -> `aws_lambda_powertools.utilities.parameters.get_secret`."""
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in bound:
        return None
    return ".".join([bound[node.id], *reversed(attributes)])


class _Libraries:
    """Installed packages read as source: which module defines a name, and what clients it makes."""

    def __init__(self, search_path: Sequence[Path], own: Iterable[str]) -> None:
        self.search_path = [path for path in search_path if path.is_dir()]
        self.own = frozenset(own)
        self.module = cache(self._module)
        self._services: dict[str, frozenset[str]] = {}

    def _module(self, name: str) -> _Module | None:
        if not name or name.split(".")[0] in sys.stdlib_module_names | self.own:
            return None
        relative = Path(*name.split("."))
        for base in self.search_path:
            for candidate in (base / relative / "__init__.py", base / relative.with_suffix(".py")):
                if candidate.is_file():
                    try:
                        return _parse(candidate, name)
                    except (SyntaxError, ValueError):
                        return None
        return None

    def definition(self, qualified: str, seen: frozenset[str] = frozenset()) -> str | None:
        """The module that defines the name `qualified`, re-exports followed; None for a module
        itself (what code uses from a module is counted by name) and for what is not installed."""
        if qualified in seen:
            return None
        parts = qualified.split(".")
        for end in range(len(parts), 0, -1):
            module = self.module(".".join(parts[:end]))
            if module is not None:
                break
        else:
            return None
        rest = parts[end:]
        if not rest:
            return None
        if rest[0] in module.defined:
            return module.name
        tail = "".join(f".{part}" for part in rest[1:])
        if rest[0] in module.bound:
            return self.definition(module.bound[rest[0]] + tail, seen | {qualified})
        for source in module.star:
            found = self.definition(f"{source}.{rest[0]}{tail}", seen | {qualified})
            if found is not None:
                return found
        return module.name

    def services(self, name: str) -> frozenset[str]:
        """What clients the module `name` makes, itself or through its own package's names."""
        if name in self._services:
            return self._services[name]
        self._services[name] = frozenset()  # a cycle contributes nothing more
        module = self.module(name)
        if module is None:
            return frozenset()
        found = {service for service, _ in module.calls if service}
        package = name.split(".")[0]
        for reference in module.references:
            if reference.split(".")[0] != package:
                continue
            defined_in = self.definition(reference)
            if defined_in is not None and defined_in != name:
                found |= self.services(defined_in)
        self._services[name] = frozenset(found)
        return self._services[name]


def _sources(roots: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            relative = path.relative_to(root.parent).with_suffix("")
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            yield path, ".".join(parts)


def uses(roots: Iterable[Path], search_path: Sequence[Path] | None = None) -> list[Use]:
    """Every client the code under `roots` creates, or has a library create, with where.

    Libraries are read from `search_path` (the running interpreter's `sys.path` by default;
    the build passes the layer's own directory). Raises UnresolvedClient for a client call
    whose service is not a literal."""
    roots = [Path(root) for root in roots]
    paths = [Path(entry) for entry in (sys.path if search_path is None else search_path) if entry]
    libraries = _Libraries(paths, own={root.name for root in roots} | {"functions", "shared"})
    found: list[Use] = []
    unresolved: list[str] = []
    for path, name in _sources(roots):
        module = _parse(path, name)
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for service, line in module.calls:
            if service is None:
                unresolved.append(f"{where}:{line}")
            else:
                found.append(Use(service, f"{where}:{line}"))
        for reference in sorted(module.references):
            if reference.split(".")[0] in SDK_PACKAGES:
                continue
            defined_in = libraries.definition(reference)
            if defined_in is None:
                continue
            for service in sorted(libraries.services(defined_in)):
                found.append(Use(service, str(where), via=reference))
    if unresolved:
        raise UnresolvedClient(
            "these calls create a client whose service is not a string literal, so the layer's "
            f"botocore data cannot be trimmed to what they need: {', '.join(unresolved)}"
        )
    return found


def services_used(
    roots: Iterable[Path] = CODE_ROOTS, search_path: Sequence[Path] | None = None
) -> frozenset[str]:
    """The AWS services the code under `roots` creates clients for (see `uses`)."""
    return frozenset(use.service for use in uses(roots, search_path))


@dataclass(frozen=True)
class Trimmed:
    kept: tuple[str, ...]
    removed: int
    bytes_before: int
    bytes_after: int


def size(path: Path) -> int:
    return sum(
        entry.stat().st_size for entry in path.rglob("*") if entry.is_file() and not entry.is_symlink()
    )


def trim(layer_python_dir: Path, services: Iterable[str]) -> Trimmed:
    """Delete every service's model from `botocore/data` and `boto3/data` under the layer's
    `python/` except `services`'. Raises ValueError if botocore has no model for one of them."""
    wanted = set(services)
    botocore_data = layer_python_dir / "botocore" / "data"
    if not botocore_data.is_dir():
        raise ValueError(f"{botocore_data} is not a directory: not a layer with botocore")
    missing = wanted - {entry.name for entry in botocore_data.iterdir() if entry.is_dir()}
    if missing:
        raise ValueError(f"botocore in {layer_python_dir} has no model for {', '.join(sorted(missing))}")
    before = size(layer_python_dir)
    removed = 0
    for data in (botocore_data, layer_python_dir / "boto3" / "data"):
        if not data.is_dir():
            continue
        for entry in sorted(data.iterdir()):
            # Only service directories go: the top-level files are loaded for every client.
            if entry.is_dir() and entry.name not in wanted and entry.name != "__pycache__":
                shutil.rmtree(entry)
                removed += 1
    return Trimmed(tuple(sorted(wanted)), removed, before, size(layer_python_dir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.botocore_data", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "layer", nargs="?", type=Path, default=LAYER_BUILD, help="the layer's python/ directory"
    )
    parser.add_argument("--list", action="store_true", help="only print the services found and where")
    args = parser.parse_args(argv)

    # The layer's own packages are the libraries whose clients count: they are what ships.
    search_path = None if args.list else [args.layer]
    try:
        found = uses(CODE_ROOTS, search_path)
    except UnresolvedClient as error:
        print(f"botocore_data: {error}", file=sys.stderr)
        return 1
    if args.list:
        for use in sorted(found, key=lambda use: (use.service, use.where)):
            print(f"{use.service:16} {use.where}" + (f" ({use.via})" if use.via else ""))
        return 0
    services = {use.service for use in found}
    try:
        trimmed = trim(args.layer, services)
    except ValueError as error:
        print(f"botocore_data: {error}", file=sys.stderr)
        return 1
    megabytes = 1024 * 1024
    print(
        f"botocore_data: kept {', '.join(trimmed.kept)}; removed {trimmed.removed} service models; "
        f"layer {trimmed.bytes_before / megabytes:.1f} MB -> {trimmed.bytes_after / megabytes:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
