"""ConnectionStore: one QuickBooks connection per contractor, tokens held only as KMS ciphertext.

The index ConnectionsByRealm (partition `realm_id`) finds a company's connections for
Intuit's Disconnect URL, which names only the realm."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now, now
from qbo_sync.core.dynamo import Update, from_item, to_item
from qbo_sync.core.statuses import ConnectionStatus

BY_REALM = "ConnectionsByRealm"
# What a token write changes; everything else on the item (last_export_at, the expiry notice)
# is left as it is, so a refresh never undoes a write made since it read the connection.
TOKEN_FIELDS = (
    "access_token",
    "refresh_token",
    "access_expires_at",
    "refreshed_at",
    "refresh_rolling_expires_at",
    "refresh_hard_expires_at",
)


class Connection(NamedTuple):
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
    # Epoch seconds: when Intuit last granted tokens (connect or refresh), and when the refresh
    # token dies unused (rolling) or at the latest (hard). None: stored before they were kept.
    refreshed_at: int | None = None
    refresh_rolling_expires_at: int | None = None
    refresh_hard_expires_at: int | None = None
    expiring_notified_at: str | None = None  # the Connection Expiring event went out

    @property
    def usable(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED

    @property
    def refresh_expires_at(self) -> int | None:
        """When the contractor must reconnect at the latest: the sooner of the two expiries."""
        known = [t for t in (self.refresh_rolling_expires_at, self.refresh_hard_expires_at) if t]
        return min(known) if known else None


class StaleConnection(Exception):
    """Another invocation changed the connection first (a refresh or a reconnect)."""


class ConnectionStore:
    def __init__(self, table: str) -> None:
        self._table = table
        # The connections read in the current batch, per thread (one invocation per Lambda
        # container; tests race invocations on threads): see `batch`.
        self._local = threading.local()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """A batch's messages read each contractor's connection once (`get_in_batch`): the
        first message's read serves the others, unless this invocation writes the connection
        meanwhile (each write below forgets or updates it). Only a message's first read goes
        through it; the reads that must see another invocation's write (a reconnect that
        finished, a refresh made elsewhere) call `get`, which always reads."""
        self._local.read = {}
        try:
            yield
        finally:
            self._local.read = None

    def get_in_batch(self, contractor_id: str) -> Connection | None:
        read: dict[str, Connection | None] | None = getattr(self._local, "read", None)
        if read is None:
            return self.get(contractor_id)
        if contractor_id not in read:
            read[contractor_id] = self.get(contractor_id)
        return read[contractor_id]

    def usable_in_batch(self, contractor_id: str) -> Connection | None:
        """The batch's connection of the contractor when QuickBooks may be written with it
        (what a batch plans its read-ahead and carried claims for); else None."""
        connection = self.get_in_batch(contractor_id)
        return connection if connection is not None and connection.usable else None

    def _forget(self, contractor_id: str) -> None:
        read: dict[str, Connection | None] | None = getattr(self._local, "read", None)
        if read is not None:
            read.pop(contractor_id, None)

    def get(self, contractor_id: str) -> Connection | None:
        response = aws.dynamodb().get_item(
            TableName=self._table, Key={"contractor_id": {"S": contractor_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return connection_of(from_item(item)) if item else None

    def put(self, connection: Connection) -> None:
        self._forget(connection.contractor_id)
        aws.dynamodb().put_item(TableName=self._table, Item=to_item(_to_values(connection)))

    def replace_tokens(self, old: Connection, new: Connection) -> None:
        """Writes rotated tokens only if nobody else wrote tokens since `old` was read, and
        ends the refresh lease."""
        self._forget(old.contractor_id)
        update = Update()
        for name in TOKEN_FIELDS:
            value = getattr(new, name)
            if value is not None:
                update.set(name, value)
        update.set("token_version", old.token_version + 1)
        update.remove("lease_until")
        seen = update.value(old.token_version)
        request = update.request(
            self._table, _key(old.contractor_id), f"{update.name('token_version')} = {seen}"
        )
        dynamodb = aws.dynamodb()
        try:
            dynamodb.update_item(**request)
        except dynamodb.exceptions.ConditionalCheckFailedException as error:
            raise StaleConnection(old.contractor_id) from error

    def scan(self) -> Iterator[Connection]:
        """Every connection, page after page (the daily keeper; never on a request path)."""
        paginator = aws.dynamodb().get_paginator("scan")
        for page in paginator.paginate(TableName=self._table):
            for item in page.get("Items", []):
                yield connection_of(from_item(item))

    def of_realm(self, realm_id: str) -> list[Connection]:
        """The connections to one company (usually one), read again consistently: an index
        read is eventually consistent."""
        response = aws.dynamodb().query(
            TableName=self._table,
            IndexName=BY_REALM,
            KeyConditionExpression="realm_id = :realm",
            ExpressionAttributeValues={":realm": {"S": realm_id}},
            ProjectionExpression="contractor_id",
            Limit=10,
        )
        found = (self.get(item["contractor_id"]["S"]) for item in response.get("Items", []))
        return [each for each in found if each is not None and each.realm_id == realm_id]

    def mark_expiring_notified(self, seen: Connection) -> bool:
        """True only for the write that marks this grant's expiry notice (so its event is
        emitted once per grant: a reconnect writes a new item without the mark)."""
        self._forget(seen.contractor_id)
        dynamodb = aws.dynamodb()
        try:
            dynamodb.update_item(
                TableName=self._table,
                Key=_key(seen.contractor_id),
                UpdateExpression="SET expiring_notified_at = :now",
                ConditionExpression=(
                    "connected_at = :grant AND attribute_not_exists(expiring_notified_at)"
                ),
                ExpressionAttributeValues={
                    ":now": {"S": iso_now()},
                    ":grant": {"S": seen.connected_at},
                },
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def acquire_refresh_lease(self, seen: Connection, seconds: int) -> bool:
        """True if this caller may refresh: nobody changed the tokens and no live lease exists."""
        self._forget(seen.contractor_id)
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
        self._forget(old.contractor_id)
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
        touched = iso_now()
        aws.dynamodb().update_item(
            TableName=self._table,
            Key={"contractor_id": {"S": contractor_id}},
            UpdateExpression="SET last_export_at = :now",
            ConditionExpression="attribute_exists(contractor_id)",
            ExpressionAttributeValues={":now": {"S": touched}},
        )
        read: dict[str, Connection | None] | None = getattr(self._local, "read", None)
        known = read.get(contractor_id) if read is not None else None
        if read is not None and known is not None:
            # The batch's next exports see the touch, and do not touch again within the minute.
            read[contractor_id] = known._replace(last_export_at=touched)

    def delete(self, contractor_id: str) -> None:
        self._forget(contractor_id)
        aws.dynamodb().delete_item(
            TableName=self._table, Key={"contractor_id": {"S": contractor_id}}
        )


def _key(contractor_id: str) -> dict[str, Any]:
    return {"contractor_id": {"S": contractor_id}}


def _to_values(connection: Connection) -> dict[str, Any]:
    return connection._asdict()


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def connection_of(values: dict[str, Any]) -> Connection:
    """A connection item's attributes (deserialised: an item read, or a stream image)."""
    return Connection(
        contractor_id=values["contractor_id"],
        realm_id=values["realm_id"],
        status=ConnectionStatus(values["status"]),
        access_token=_binary(values["access_token"]),
        refresh_token=_binary(values["refresh_token"]),
        access_expires_at=int(values["access_expires_at"]),
        token_version=int(values["token_version"]),
        connected_at=values["connected_at"],
        company_name=values.get("company_name"),
        last_export_at=values.get("last_export_at"),
        refreshed_at=_optional_int(values.get("refreshed_at")),
        refresh_rolling_expires_at=_optional_int(values.get("refresh_rolling_expires_at")),
        refresh_hard_expires_at=_optional_int(values.get("refresh_hard_expires_at")),
        expiring_notified_at=values.get("expiring_notified_at"),
    )


def _binary(value: bytes | str) -> bytes:
    # A stream image in Lambda's event carries binary attributes as base64 text.
    return base64.b64decode(value) if isinstance(value, str) else bytes(value)
