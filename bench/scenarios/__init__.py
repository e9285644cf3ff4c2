"""The scenario registry: a benchmark is a function decorated with `@scenario("name")`.

To add one, put a module in this package with a decorated function taking a `Context` and
returning a `Report`; `discover()` imports every module here, so nothing else needs editing.
A scenario that cannot run yet (the code it measures does not exist) raises `Skip`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Cell = str | int | float | None


@dataclass(frozen=True)
class Context:
    """Knobs every scenario may read (set on the command line)."""

    runs: int = 21
    calls: int = 200


@dataclass
class Table:
    """A table to print: one row per measured thing."""

    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class Report:
    """What a scenario found: tables for the reader, `data` for results/latest.json.

    `within_budget` is None when the scenario has no budget, else whether it met it.
    """

    tables: list[Table]
    data: dict[str, Any]
    within_budget: bool | None = None
    notes: list[str] = field(default_factory=list)


class Skip(Exception):
    """The scenario cannot run here yet; the message says why."""


Runner = Callable[[Context], Report]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    run: Runner


_REGISTRY: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Runner], Runner]:
    """Register a benchmark under `name`; its docstring's first line describes it."""

    def register(run: Runner) -> Runner:
        if name in _REGISTRY:
            raise ValueError(f"scenario {name!r} is registered twice")
        description = (run.__doc__ or name).strip().splitlines()[0]
        _REGISTRY[name] = Scenario(name, description, run)
        return run

    return register


def discover() -> dict[str, Scenario]:
    """Import every module of this package so their scenarios register; return them by name."""
    for module in pkgutil.iter_modules(__path__, f"{__name__}."):
        importlib.import_module(module.name)
    return dict(_REGISTRY)
