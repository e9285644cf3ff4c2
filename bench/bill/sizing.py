"""DynamoDB's sizing rules, as the bill counts them: pure functions of attribute values.

Items are in DynamoDB's wire form (`{"PK": {"S": "USER#1"}, "n": {"N": "3"}}`), as the
low-level client sends and receives them and as stream records carry them.

Sources (AWS DynamoDB Developer Guide, read 2026-12-01):
- "DynamoDB item sizes and formats" (CapacityUnitCalculations.html): an item's size is the sum
  of its attribute names' and values' lengths; strings and binary by their (UTF-8 / raw) bytes;
  a number about 1 byte per two significant digits plus 1 (leading and trailing zeros trimmed);
  null and Boolean 1 byte; a List or Map 3 bytes plus its elements, each element 1 byte more.
- "Read/write capacity mode" (HowItWorks.ReadWriteCapacityMode.html): a read unit is 4 KB,
  strongly consistent (half a unit eventually consistent; index reads always are); a write unit
  is 1 KB; 1 KB = 1,024 bytes. A Query's items are summed, then rounded; a BatchGetItem rounds
  each item; an absent item costs the minimum.
- "Amazon DynamoDB Transactions: How it works" (transaction-apis.html, capacity management):
  two underlying reads or writes of every item in a transaction (prepare, commit); after the
  commit the change propagates to the indexes, as any write does. A ConditionCheck is billed as a
  write of the item it checks (as docs/data-model.md counts it: 2 units for a small item).
- "Global secondary indexes: provisioned throughput considerations" (GSI.html#GSI.Writes): an
  index write is needed when an item enters the index (a put of the entry), leaves it (a
  delete), or changes a key of the index (both); an update that changes only projected
  attributes is one write; one that changes neither costs the index nothing. An entry's size is
  the index's keys, the table's keys and the projected attributes. The index is kept up to date
  after the write (transactional or not): its writes are ordinary, not doubled.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Item = Mapping[str, Any]
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


# ---------------------------------------------------------------- sizes


def number_size(text: str) -> int:
    """A number's bytes: one per two significant digits, plus one (zeros at either end trimmed)."""
    mantissa = text.strip().lstrip("+-").lower().split("e", 1)[0]
    digits = mantissa.replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def _binary_size(value: Any) -> int:
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    return len(base64.b64decode(str(value)))  # the JSON form (a stream record as Lambda sends it)


def value_size(value: Mapping[str, Any]) -> int:
    """The bytes of one attribute value, without its name."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return number_size(str(inner))
    if kind == "B":
        return _binary_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in inner)
    if kind == "NS":
        return sum(number_size(str(v)) for v in inner)
    if kind == "BS":
        return sum(_binary_size(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(name.encode()) + 1 + value_size(v) for name, v in inner.items())
    raise ValueError(f"not a DynamoDB attribute value type: {kind}")


def item_size(item: Item | None) -> int:
    """An item's size as DynamoDB counts it for capacity: names plus values (0 for no item)."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


# ---------------------------------------------------------------- reads


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """One item read (GetItem, one item of a BatchGetItem or TransactGetItems): 4 KB units,
    at least one (an item that does not exist costs the minimum), halved when eventually
    consistent, doubled in a transaction (always strongly consistent)."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def query_read_units(sizes: Iterable[int], *, consistent: bool) -> float:
    """A Query or Scan page: the sizes of the items it read (before any filter) summed, then
    rounded up to 4 KB, at least one unit; halved when eventually consistent (every index)."""
    units = max(1, math.ceil(sum(sizes) / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def batch_get_read_units(sizes: Iterable[int], *, consistent: bool) -> float:
    """BatchGetItem: each item rounded up on its own (a missing one costs the minimum)."""
    return sum(read_units(size, consistent=consistent) for size in sizes)


# ---------------------------------------------------------------- writes


def write_units(size: int) -> int:
    """1 KB units, at least one."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index: its keys, the table's keys and what it projects."""

    name: str
    keys: tuple[str, ...]
    table_keys: tuple[str, ...]
    projection: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "KEYS_ONLY"
    include: frozenset[str] = frozenset()

    def entry(self, item: Item | None) -> dict[str, Any] | None:
        """The item's entry in this index, or None when it lacks a key of the index (sparse)."""
        if not item or any(key not in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        kept = {*self.keys, *self.table_keys, *(self.include if self.projection == "INCLUDE" else ())}
        return {name: value for name, value in item.items() if name in kept}


def indexes_of(table_properties: Mapping[str, Any]) -> list[IndexSpec]:
    """The global secondary indexes of a CloudFormation `AWS::DynamoDB::Table`'s properties."""
    table_keys = tuple(k["AttributeName"] for k in table_properties["KeySchema"])
    specs = []
    for index in table_properties.get("GlobalSecondaryIndexes", []):
        projection = index.get("Projection", {})
        specs.append(
            IndexSpec(
                name=index["IndexName"],
                keys=tuple(k["AttributeName"] for k in index["KeySchema"]),
                table_keys=table_keys,
                projection=projection.get("ProjectionType", "KEYS_ONLY"),
                include=frozenset(projection.get("NonKeyAttributes", [])),
            )
        )
    return specs


def _canonical(value: Any) -> Any:
    """An attribute value comparable regardless of set order and number spelling."""
    if isinstance(value, Mapping):
        if len(value) == 1:
            ((kind, inner),) = value.items()
            if kind in ("SS", "BS"):
                return (kind, tuple(sorted(inner)))
            if kind == "NS":
                return (kind, tuple(sorted(_number(v) for v in inner)))
            if kind == "N":
                return (kind, _number(inner))
            if kind == "L":
                return (kind, tuple(_canonical(v) for v in inner))
            if kind == "M":
                return (kind, tuple(sorted((k, _canonical(v)) for k, v in inner.items())))
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def _number(text: Any) -> Any:
    from decimal import Decimal

    return Decimal(str(text)).normalize()


def same_item(a: Item | None, b: Item | None) -> bool:
    """Whether two items (or index entries) hold the same attributes and values."""
    if a is None or b is None:
        return a is b
    return bool(_canonical(dict(a)) == _canonical(dict(b)))


Action = Literal["Put", "Update", "Delete", "ConditionCheck"]


@dataclass(frozen=True)
class ItemWrite:
    """One item of a write request: what it was before and after (None: absent)."""

    action: Action
    old: Item | None
    new: Item | None
    transactional: bool = False


@dataclass(frozen=True)
class WriteCost:
    """Write units of one item write: the table's, and each index's."""

    base: int
    index: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.base + sum(self.index.values())


def index_write_units(index: IndexSpec, old: Item | None, new: Item | None) -> int:
    """What one item write costs one index (see the module docstring)."""
    before, after = index.entry(old), index.entry(new)
    if before is None and after is None:
        return 0
    if before is None:
        return write_units(item_size(after))
    if after is None:
        return write_units(item_size(before))
    if same_item({k: before[k] for k in index.keys}, {k: after[k] for k in index.keys}):
        return 0 if same_item(before, after) else write_units(item_size(after))
    return write_units(item_size(before)) + write_units(item_size(after))


def item_write_cost(write: ItemWrite, indexes: Sequence[IndexSpec]) -> WriteCost:
    """The table's units (the larger of the item before and after, 1 KB units, doubled in a
    transaction; a ConditionCheck as a write of the item it checks) and each index's."""
    factor = 2 if write.transactional else 1
    if write.action == "ConditionCheck":
        return WriteCost(factor * write_units(item_size(write.old)))
    base = factor * write_units(max(item_size(write.old), item_size(write.new)))
    index = {i.name: units for i in indexes if (units := index_write_units(i, write.old, write.new))}
    return WriteCost(base, index)


def failed_write_units(existing: Item | None) -> int:
    """A single write whose condition failed: a write of the item as it is (at least one unit)."""
    return write_units(item_size(existing))
