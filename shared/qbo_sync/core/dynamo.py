"""The DynamoDB plumbing the stores share: typed (de)serialisation, an UpdateExpression builder,
pagination through boto3's paginators, reading a few items of one table in one request, and
the one check of a transaction cancelled by a condition."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qbo_sync.core import aws, read_ahead
from qbo_sync.core.dynamo_types import deserialize, serialize

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputPaginateTypeDef

Key = dict[str, Any]
BATCH_GET = 100  # DynamoDB's BatchGetItem limit


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {key: serialize(value) for key, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: deserialize(value) for key, value in item.items()}


def key(pk: str, sk: str) -> Key:
    """The key of an item in the mapping table (pk, sk)."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def query_items(request: QueryInputPaginateTypeDef) -> Iterator[dict[str, Any]]:
    """Every item a Query finds, deserialised, page after page."""
    for page in aws.dynamodb().get_paginator("query").paginate(**request):
        for item in page.get("Items", []):
            yield from_item(item)


def query_count(request: QueryInputPaginateTypeDef) -> int:
    counted: QueryInputPaginateTypeDef = {**request, "Select": "COUNT"}
    pages = aws.dynamodb().get_paginator("query").paginate(**counted)
    return sum(int(page.get("Count", 0)) for page in pages)


def batch_get_by_sk(table: str, keys: list[Key]) -> dict[str, dict[str, Any]]:
    """The items of `keys` (pk/sk keys) that exist, by sort key: one consistent BatchGetItem,
    and another only for keys DynamoDB left unprocessed. Within a batch's read-ahead
    (core/read_ahead.py), the keys it read are served from it and only the others are read."""
    found, missing = read_ahead.served(table, keys)
    for item in _batch_get(table, missing):
        found[str(item["sk"])] = item
    return found


def read_ahead_items(table: str, keys: list[Key]) -> None:
    """Reads `keys` (pk/sk keys, duplicates allowed) for the batch in progress, in requests of
    DynamoDB's 100 keys at most; a message's `batch_get_by_sk` then serves them."""
    unique = list({(k["pk"]["S"], k["sk"]["S"]): k for k in keys}.values())
    for start in range(0, len(unique), BATCH_GET):
        chunk = unique[start : start + BATCH_GET]
        found = {(str(i["pk"]), str(i["sk"])): i for i in _batch_get(table, chunk)}
        read_ahead.keep(table, chunk, found)


def _batch_get(table: str, keys: list[Key]) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}} if keys else {}
    while request:
        response = aws.dynamodb().batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(table, []):
            yield from_item(item)
        request = dict(response.get("UnprocessedKeys") or {})


def cancelled_items(error: Exception) -> set[int]:
    """The positions of a cancelled TransactWriteItems' items whose condition did not hold."""
    reasons = getattr(error, "response", {}).get("CancellationReasons") or []
    return {i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"}


@dataclass
class Update:
    """An UpdateExpression under construction, with its placeholders."""

    sets: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def name(self, attribute: str) -> str:
        """The placeholder of an attribute name (the same one each time it is asked for)."""
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def set(self, attribute: str, value: Any, *, keep_if_present: bool = False) -> None:
        name, placeholder = self.name(attribute), self.value(value)
        if keep_if_present:
            self.sets.append(f"{name} = if_not_exists({name}, {placeholder})")
        else:
            self.sets.append(f"{name} = {placeholder}")

    def remove(self, attribute: str) -> None:
        self.removes.append(self.name(attribute))

    def add(self, attribute: str, value: Any) -> None:
        self.adds.append(f"{self.name(attribute)} {self.value(value)}")

    def expression(self) -> str:
        parts = [
            f"{verb} " + ", ".join(clauses)
            for verb, clauses in (
                ("SET", self.sets),
                ("REMOVE", self.removes),
                ("ADD", self.adds),
            )
            if clauses
        ]
        return " ".join(parts)

    def request(self, table: str, key: Key, condition: str = "") -> dict[str, Any]:
        """The UpdateItem arguments: table, key, expression, placeholders, and the condition
        (written with this update's own placeholders)."""
        request: dict[str, Any] = {
            "TableName": table,
            "Key": key,
            "UpdateExpression": self.expression(),
        }
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = to_item(self.values)
        if condition:
            request["ConditionExpression"] = condition
        return request
