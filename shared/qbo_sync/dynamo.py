"""The small amount of DynamoDB plumbing the stores share: typed (de)serialisation, and reading
a few items of one table in one request."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from qbo_sync import aws

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def is_conditional_failure(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    return bool(code == "ConditionalCheckFailedException")


def batch_get_by_sk(table: str, keys: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The items of `keys` (pk/sk keys) that exist, by sort key: one consistent BatchGetItem,
    and another only for keys DynamoDB left unprocessed."""
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
    found: dict[str, dict[str, Any]] = {}
    while request:
        response = aws.client("dynamodb").batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(table, []):
            values = from_item(item)
            found[str(values["sk"])] = values
        request = response.get("UnprocessedKeys") or {}
    return found
