"""local/moto_transactions.py: TransactWriteItems stays all-or-nothing without copying the table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from local_support import aws_pointed_at
from moto.dynamodb.models import dynamodb_backends

from local import moto_transactions

TABLE = "moto-transactions-test"


@pytest.fixture(scope="module")
def dynamodb(moto_endpoint: str) -> Iterator[Any]:
    moto_transactions.install()
    with aws_pointed_at(moto_endpoint):
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        for n in range(50):
            client.put_item(TableName=TABLE, Item=_item(f"old-{n}", "v1"))
        yield client


def _item(sk: str, version: str) -> dict[str, Any]:
    return {"pk": {"S": "contractor"}, "sk": {"S": sk}, "version": {"S": version}}


def _key(sk: str) -> dict[str, Any]:
    return {"pk": {"S": "contractor"}, "sk": {"S": sk}}


def _moto_table() -> Any:
    return dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE]


def _stream_length() -> int:
    return len(_moto_table().stream_shard.items)


def _writes(condition_holds: bool) -> list[dict[str, Any]]:
    return [
        {"Put": {"TableName": TABLE, "Item": _item("new", "v1")}},
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key("old-1"),
                "UpdateExpression": "SET version = :v",
                "ExpressionAttributeValues": {":v": {"S": "v2"}},
            }
        },
        {"Delete": {"TableName": TABLE, "Key": _key("old-2")}},
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": _key("old-3"),
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"S": "v1" if condition_holds else "x"}},
            }
        },
    ]


def _version(client: Any, sk: str) -> str | None:
    item = client.get_item(TableName=TABLE, Key=_key(sk)).get("Item")
    return item["version"]["S"] if item else None


def test_a_cancelled_transaction_leaves_every_item_and_the_stream_as_they_were(
    dynamodb: Any,
) -> None:
    table, records = _moto_table(), _stream_length()
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(TransactItems=_writes(condition_holds=False))
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _version(dynamodb, "new") is None
    assert _version(dynamodb, "old-1") == "v1"
    assert _version(dynamodb, "old-2") == "v1"
    assert _stream_length() == records  # no record of a write DynamoDB never made
    # The table was not replaced by a backup copy: moto's own rollback does that.
    assert _moto_table() is table


def test_a_transaction_whose_conditions_hold_makes_every_write(dynamodb: Any) -> None:
    records = _stream_length()
    dynamodb.transact_write_items(TransactItems=_writes(condition_holds=True))
    assert _version(dynamodb, "new") == "v1"
    assert _version(dynamodb, "old-1") == "v2"
    assert _version(dynamodb, "old-2") is None
    assert _stream_length() == records + 3
