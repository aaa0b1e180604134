"""moto's TransactWriteItems, without a deep copy of the whole table on every call.

moto 5.2.5 backs up each table a transaction names with `copy.deepcopy(table)` (every item and
stream record) before it writes, and puts the copy in the table's place when the transaction is
cancelled. So each transaction costs time and memory in proportion to the table: a benchmark of
a few thousand invoices slowed the whole local stack down and grew past 18 GB. The rollback
also put back the whole table, losing what other requests wrote meanwhile.

`install()` keeps moto's own transaction logic (conditions, cancellation reasons, validation)
and changes only what is backed up: the items the transaction names and the length of each
table's stream. On a cancelled transaction those items are put back, and the stream records the
transaction wrote are dropped, as DynamoDB never shows a cancelled transaction's writes.
Every DynamoDB and DynamoDB Streams request is served under one lock, so that a transaction is
isolated from other requests as DynamoDB's are (moto's server serves requests on threads).
"""

from __future__ import annotations

import copy
import threading
import types
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_installed = False
Restore = Callable[[], None]


def install() -> None:
    """Idempotent: patches moto's DynamoDB backend and the two services' request handlers."""
    global _installed
    if _installed:
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        # The table backup is replaced by `_backup` below; items are still copied.
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            restore = _backup(self, transact_items)
            try:
                original(self, transact_items)
            except BaseException:
                restore()
                raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        _serialise(handler)
    _installed = True


def _serialise(handler: Any) -> None:
    call_action = handler.call_action

    def locked(self: Any) -> Any:
        with _LOCK:
            return call_action(self)

    handler.call_action = locked


def _backup(backend: Any, transact_items: list[dict[str, Any]]) -> Restore:
    """What the transaction may change, and how to put it back."""
    saved: list[tuple[Any, Any, Any, Any]] = []
    streams: dict[int, tuple[Any, int]] = {}
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue  # moto reports it; nothing of it can be written
            hash_value, range_value = _key(table, op)
            if hash_value is None:
                continue
            keyed = _has_key(table, range_value)
            current = table.get_item(hash_value, range_value) if keyed else None
            saved.append((table, hash_value, range_value, copy.deepcopy(current)))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))

    def restore() -> None:
        for table, hash_value, range_value, item in reversed(saved):
            _put_back(table, hash_value, range_value, item)
        for shard, length in streams.values():
            del shard.items[length:]

    return restore


def _key(table: Any, op: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    attributes = op.get("Item") if "Item" in op else op.get("Key")
    if not isinstance(attributes, dict) or table.hash_key_attr not in attributes:
        return None, None
    hash_value = DynamoType(attributes[table.hash_key_attr])
    range_attr = table.range_key_attr
    range_value = DynamoType(attributes[range_attr]) if range_attr in attributes else None
    return hash_value, range_value


def _has_key(table: Any, range_value: Any) -> bool:
    return not table.has_range_key or range_value is not None


def _put_back(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if table.has_range_key:
        if range_value is None:
            return
        if item is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item
