"""Read ahead: the items a batch's messages will read, read in one request before the first.

An invoice consumer's batch (up to 10 messages) used to read, message after message, the items
each export needs (invoices/mappings.py's `export_state`: one BatchGetItem each). Within
`scope()`, `dynamo.read_ahead_items` reads every message's keys at once, and
`dynamo.batch_get_by_sk` serves those keys from what it read (an item that did not exist
included) and reads only the others.

Every write this thread makes through the layer's DynamoDB client (core/aws.py) forgets the
items it names, before it is sent: a botocore hook on the client, so no store has to remember
to. A message therefore never reads the batch's older copy of an item an earlier message of the
batch wrote (its customer, the company's setup, a revision's invoice). A write made by another
invocation during the batch is seen from the next batch on rather than from the next message:
none of the exactly-once decisions rests on these reads (the slot's claim and settle are
conditional writes, and the claim answers what the slot holds: docs/exactly-once.md), so that
is a choice made by the contractor on the settings page (a link, a dismissal, an account)
reaching the invoices of the batch in progress seconds later, as a message sent a moment later
would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qbo_sync.core import aws

# (table, pk, sk) -> the item as read (deserialised), or None: it did not exist.
Items = dict[tuple[str, str, str], dict[str, Any] | None]
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
HOOK = "before-parameter-build.dynamodb"

_local = threading.local()


@contextmanager
def scope() -> Iterator[None]:
    """The batch: what `keep` keeps is served until the scope ends or a write names it."""
    aws.dynamodb().meta.events.register(HOOK, _forget_written, unique_id="qbo-sync-read-ahead")
    _local.items = {}
    try:
        yield
    finally:
        _local.items = None


def keep(table: str, keys: list[dict[str, Any]], found: dict[tuple[str, str], Any]) -> None:
    """What a read of `keys` found (by pk and sk), each key not found kept as absent."""
    items = _items()
    if items is None:
        return
    for key in keys:
        pk, sk = _ids(key)
        items[(table, pk, sk)] = found.get((pk, sk))


def served(
    table: str, keys: list[dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The kept items of `keys` that exist, by sort key, and the keys not kept (to read)."""
    items = _items() or {}
    found: dict[str, dict[str, Any]] = {}
    missing: list[dict[str, Any]] = []
    for key in keys:
        pk, sk = _ids(key)
        if (table, pk, sk) not in items:
            missing.append(key)
        elif (item := items[(table, pk, sk)]) is not None:
            found[sk] = item
    return found, missing


def _forget_written(params: dict[str, Any], model: Any, **_: Any) -> None:
    items = _items()
    if not items or model.name not in WRITES:
        return
    for table, key in _written(model.name, params):
        if "pk" in key and "sk" in key:
            items.pop((table, *_ids(key)), None)
        else:  # a table keyed otherwise (none is kept today): forget all kept of that table
            for kept in [k for k in items if k[0] == table]:
                del items[kept]


def _written(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, key or item) of each item the write names."""
    if operation == "TransactWriteItems":
        for action in params.get("TransactItems", []):
            for spec in action.values():
                yield spec["TableName"], spec.get("Key") or spec.get("Item") or {}
    elif operation == "BatchWriteItem":
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                put, delete = request.get("PutRequest", {}), request.get("DeleteRequest", {})
                yield table, put.get("Item") or delete.get("Key") or {}
    else:
        yield params["TableName"], params.get("Key") or params.get("Item") or {}


def _ids(key: dict[str, Any]) -> tuple[str, str]:
    return str(key["pk"]["S"]), str(key["sk"]["S"])


def _items() -> Items | None:
    return getattr(_local, "items", None)
