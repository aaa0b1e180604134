"""The small amount of DynamoDB plumbing the stores share: typed (de)serialisation."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

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
