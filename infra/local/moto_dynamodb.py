"""Faithful corrections to moto's DynamoDB, for the local stack, the tests and the bench.

1. **What a transaction costs.** moto backs a transaction up by deep-copying every table it
   names (items, stream records and all) before writing, to put the copy back when a condition
   fails: seconds per transaction once a table holds 100,000 items, so the local stack's write
   throughput fell as its table grew and load tests measured moto's copying instead of our code.
   Here the backup is what the transaction can change: the items it names, and the length of
   each table's stream. A cancelled transaction puts those items back and drops the stream
   records its partial writes made, which is what restoring the whole table did. Isolation is
   unchanged: the local emulator serialises DynamoDB requests (`infra.local.emulator`), and
   in-process transactions take a lock here.
2. **`ClientRequestToken`.** DynamoDB makes a repeat of a successful TransactWriteItems with the
   same token (within 10 minutes) a success that changes nothing; botocore fills the token in
   and keeps it across its retries, so a transaction whose answer was lost on the way back (the
   client's read timeout, then the SDK's retry) is not applied twice and does not come back as a
   conflict. moto ignores the token: a slow emulator turned stored writes into 409s. Here a
   repeat is answered as DynamoDB answers it; the same token with other items is the
   `IdempotentParameterMismatchException` DynamoDB raises.

3. **What a Query costs.** A Query of the table by partition key reads that partition (moto
   sorted the whole table for each one); index Queries are still moto's (they walk the table).

`install()` is idempotent; the local emulator, the handler tests' `aws` fixture and the bench
install it (`uninstall()` puts moto back as shipped: the bench compares the two).
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from typing import Any

TOKEN_SECONDS = 600  # how long DynamoDB remembers a ClientRequestToken
_installed = False
_originals: list[tuple[Any, str, Any]] = []  # (class, attribute, moto's own function)
_this_query = threading.local()  # the partition a query in this thread reads (see _patch_query)
_lock = threading.RLock()
_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}


def install() -> None:
    """Patch moto's DynamoDB backend and handler (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _patch_backend()
        _patch_handler()
        _patch_query()
        _installed = True


def uninstall() -> None:
    """Put moto's own TransactWriteItems back."""
    global _installed
    with _lock:
        for cls, name, function in reversed(_originals):
            setattr(cls, name, function)
        _originals.clear()
        _installed = False


def _patch_backend() -> None:
    from moto.dynamodb import models as moto_models
    from moto.dynamodb.models.table import Table

    models: Any = moto_models
    backend: Any = models.DynamoDBBackend
    original = backend.transact_write_items

    class _TablesAsTheyAre:
        """`copy` as moto's module sees it during a transaction: tables are not copied."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _lock:
            saved: list[tuple[Any, dict[str, Any], Any]] = []
            streams: dict[int, tuple[Any, int]] = {}
            for entry in transact_items:
                op = next(iter(entry.values()))
                if op.get("TableName") not in self.tables:
                    continue  # moto answers the unknown table itself
                table = self.get_table(op["TableName"])
                names = [a for a in (table.hash_key_attr, table.range_key_attr) if a is not None]
                key = op.get("Key") or {a: op["Item"][a] for a in names if a in op.get("Item", {})}
                if len(key) != len(names):
                    continue  # a malformed key: moto refuses it before writing anything
                saved.append((table, key, copy.deepcopy(self.get_item(op["TableName"], key))))
                shard = table.stream_shard
                if shard is not None and id(table) not in streams:
                    streams[id(table)] = (shard, len(shard.items))
            models.copy = _TablesAsTheyAre
            try:
                original(self, transact_items)
            except Exception:
                for table, key, item in reversed(saved):
                    _put_back(table, key, item)
                for shard, length in streams.values():
                    del shard.items[length:]
                raise
            finally:
                models.copy = copy

    _originals.append((backend, "transact_write_items", original))
    backend.transact_write_items = transact_write_items


def _put_back(table: Any, key: dict[str, Any], item: Any) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_value = DynamoType(key[table.hash_key_attr])
    if table.range_key_attr is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
        return
    range_value = DynamoType(key[table.range_key_attr])
    if item is None:
        table.items[hash_value].pop(range_value, None)
        if not table.items[hash_value]:
            table.items.pop(hash_value, None)
    else:
        table.items[hash_value][range_value] = item


def _patch_query() -> None:
    """A Query of the table by its partition key reads that partition, not the whole table.

    moto answers it by sorting every item of the table and keeping those of the partition:
    a request's cost grew with the table (0.3 s per Query at 100,000 items), where DynamoDB
    reads the partition's key range. Index Queries are left as moto does them.
    """
    import inspect

    from moto.dynamodb.models.table import Table

    table_class: Any = Table
    original = table_class.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        hash_key = bound.arguments.get("hash_key")
        if bound.arguments.get("index_name") or hash_key is None or not self.range_key_attr:
            return original(self, *args, **kwargs)
        partition = self.items.get(hash_key)
        items = sorted(partition.values(), key=lambda item: item.range_key) if partition else []
        # This call only, in this thread (queries run in parallel: the export's thread pool):
        # the partition, in key order.
        outer = getattr(_this_query, "items", None)
        _this_query.items = (self, items)
        try:
            return original(self, *args, **kwargs)
        finally:
            _this_query.items = outer

    original_all_items = table_class.all_items

    def all_items(self: Any) -> Any:
        current = getattr(_this_query, "items", None)
        if current is not None and current[0] is self:
            return current[1]
        return original_all_items(self)

    _originals.append((table_class, "query", original))
    _originals.append((table_class, "all_items", original_all_items))
    table_class.query = query
    table_class.all_items = all_items


def _patch_handler() -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    handler: Any = DynamoHandler
    original = handler.transact_write_items

    class IdempotentParameterMismatch(DynamodbException):
        def __init__(self) -> None:
            super().__init__(
                ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
                message="The ClientRequestToken was used with other TransactItems",
            )

    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        digest = hashlib.sha256(json.dumps(self.body["TransactItems"], sort_keys=True).encode()).hexdigest()
        name = (str(self.current_account), str(self.region), str(token))
        now = time.monotonic()
        with _lock:
            for old in [k for k, (_, at) in _tokens.items() if now - at > TOKEN_SECONDS]:
                del _tokens[old]
            seen = _tokens.get(name)
            if seen is not None:
                if seen[0] != digest:
                    raise IdempotentParameterMismatch()
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
            result = original(self)
            _tokens[name] = (digest, now)
            return result

    _originals.append((handler, "transact_write_items", original))
    handler.transact_write_items = transact_write_items
