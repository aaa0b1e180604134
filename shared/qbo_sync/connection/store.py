"""ConnectionStore: one QuickBooks connection per contractor, tokens held only as KMS ciphertext."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now, now
from qbo_sync.core.dynamo import from_item, to_item
from qbo_sync.core.statuses import ConnectionStatus


@dataclass(frozen=True)
class Connection:
    contractor_id: str
    realm_id: str
    status: ConnectionStatus
    access_token: bytes  # ciphertext
    refresh_token: bytes  # ciphertext
    access_expires_at: int
    token_version: int
    connected_at: str
    company_name: str | None = None
    last_export_at: str | None = None

    @property
    def usable(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED


class StaleConnection(Exception):
    """Another invocation changed the connection first (a refresh or a reconnect)."""


class ConnectionStore:
    def __init__(self, table: str) -> None:
        self._table = table

    def get(self, contractor_id: str) -> Connection | None:
        response = aws.dynamodb().get_item(
            TableName=self._table, Key={"contractor_id": {"S": contractor_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _to_connection(from_item(item)) if item else None

    def put(self, connection: Connection) -> None:
        aws.dynamodb().put_item(TableName=self._table, Item=to_item(_to_values(connection)))

    def replace_tokens(self, old: Connection, new: Connection) -> None:
        """Writes rotated tokens only if nobody else wrote since `old` was read."""
        dynamodb = aws.dynamodb()
        try:
            dynamodb.put_item(
                TableName=self._table,
                Item=to_item(_to_values(replace(new, token_version=old.token_version + 1))),
                ConditionExpression="token_version = :seen",
                ExpressionAttributeValues={":seen": {"N": str(old.token_version)}},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException as error:
            raise StaleConnection(old.contractor_id) from error

    def acquire_refresh_lease(self, seen: Connection, seconds: int) -> bool:
        """True if this caller may refresh: nobody changed the tokens and no live lease exists."""
        current = int(now())
        dynamodb = aws.dynamodb()
        try:
            dynamodb.update_item(
                TableName=self._table,
                Key={"contractor_id": {"S": seen.contractor_id}},
                UpdateExpression="SET lease_until = :until",
                ConditionExpression=(
                    "token_version = :seen AND (attribute_not_exists(lease_until) "
                    "OR lease_until < :now)"
                ),
                ExpressionAttributeValues={
                    ":seen": {"N": str(seen.token_version)},
                    ":now": {"N": str(current)},
                    ":until": {"N": str(current + seconds)},
                },
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark_reauthorization_required(self, old: Connection) -> bool:
        """True only for the write that flips the connection (so its event is emitted once)."""
        dynamodb = aws.dynamodb()
        try:
            dynamodb.update_item(
                TableName=self._table,
                Key={"contractor_id": {"S": old.contractor_id}},
                UpdateExpression="SET #s = :reauth",
                ConditionExpression="token_version = :seen AND #s <> :reauth",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":reauth": {"S": ConnectionStatus.REAUTHORIZATION_REQUIRED.value},
                    ":seen": {"N": str(old.token_version)},
                },
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def touch_last_export(self, contractor_id: str) -> None:
        aws.dynamodb().update_item(
            TableName=self._table,
            Key={"contractor_id": {"S": contractor_id}},
            UpdateExpression="SET last_export_at = :now",
            ConditionExpression="attribute_exists(contractor_id)",
            ExpressionAttributeValues={":now": {"S": iso_now()}},
        )

    def delete(self, contractor_id: str) -> None:
        aws.dynamodb().delete_item(
            TableName=self._table, Key={"contractor_id": {"S": contractor_id}}
        )


def _to_values(connection: Connection) -> dict[str, Any]:
    return dict(connection.__dict__)


def _to_connection(values: dict[str, Any]) -> Connection:
    return Connection(
        contractor_id=values["contractor_id"],
        realm_id=values["realm_id"],
        status=ConnectionStatus(values["status"]),
        access_token=bytes(values["access_token"]),
        refresh_token=bytes(values["refresh_token"]),
        access_expires_at=int(values["access_expires_at"]),
        token_version=int(values["token_version"]),
        connected_at=values["connected_at"],
        company_name=values.get("company_name"),
        last_export_at=values.get("last_export_at"),
    )
