"""The support staff's view across contractors (contracts.md §18): which contractors have
failing exports or payouts, must reconnect, or will have to soon. Reads only; never a token.

Served by ConnectionsTable's index ConnectionsByStatus (partition `status`, order
`contractor_id`, only the non-token fields projected: the index cannot hand out a token), one
Query a page, never a scan:
- `reauthorization_required`: that partition, as it is;
- `expiring`: the `connected` partition, filtered on the two refresh expiries (fewer than 30
  days to the sooner);
- `failing`: the connections of both partitions that have a failed export or payout, each
  counted by a Query COUNT on the export and payout indexes of that contractor. This reads at
  most MAX_EXAMINED connections a request: a page may hold fewer items than asked, with a
  cursor to go on (as DynamoDB's own filtered pages do);
- no status: every connection, connected then reauthorization_required.
An item's `failed_exports` counts failed exports, `waiting_payouts` the payouts not deposited
yet and waiting; `failed_payouts` (added) the failed ones: each a small Query COUNT.
The cursor is opaque: base64 JSON of the filter, the partition and the last contractor id.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from qbo_sync.api.errors import InvalidRequest
from qbo_sync.core import aws
from qbo_sync.core.clock import iso_at, now
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ConnectionStatus, PayoutStatus
from qbo_sync.payouts.listing import payout_listing
from qbo_sync.views.connection import failed_exports

BY_STATUS = "ConnectionsByStatus"
DEFAULT_LIMIT, MAX_LIMIT = 25, 100
MAX_EXAMINED = 200  # connections one request reads at most for a filtered list
EXPIRING_SECONDS = 30 * 86400
PARTITIONS = (ConnectionStatus.CONNECTED, ConnectionStatus.REAUTHORIZATION_REQUIRED)


class SupportFilter(StrEnum):
    FAILING = "failing"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    EXPIRING = "expiring"


class InvalidSupportRequest(InvalidRequest):
    """A parameter is wrong: a 400 with this code and message."""


def list_contractors(status: str | None, limit: str | None, cursor: str | None) -> dict[str, Any]:
    wanted = _filter(status)
    page_size = _limit(limit)
    partitions = _partitions(wanted)
    partition, after = _start(cursor, wanted, partitions)
    items: list[dict[str, Any]] = []
    connections = _connections(partitions, partition, after)
    for examined, connection in enumerate(connections, start=1):
        last = (connection["status"], connection["contractor_id"])
        item = _item(connection, wanted)
        if item is not None:
            items.append(item)
        if len(items) == page_size or (wanted and examined >= MAX_EXAMINED):
            return {"items": items, "cursor": _cursor(wanted, last)}
    return {"items": items, "cursor": None}


# -- reading ------------------------------------------------------------------------------------


def _connections(
    partitions: tuple[ConnectionStatus, ...], first: ConnectionStatus, after: str | None
) -> Iterator[dict[str, Any]]:
    """The connections of the partitions from `first` on, by contractor id, after `after`."""
    dynamodb = aws.dynamodb()
    table = get_settings().connections_table
    for partition in partitions[partitions.index(first) :]:
        request: dict[str, Any] = {
            "TableName": table,
            "IndexName": BY_STATUS,
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": {"S": partition}},
            "Limit": MAX_LIMIT,
        }
        if after is not None and partition == first:
            request["ExclusiveStartKey"] = {
                "status": {"S": partition},
                "contractor_id": {"S": after},
            }
        while True:
            response = dynamodb.query(**request)
            for raw in response.get("Items", []):
                yield {name: next(iter(value.values())) for name, value in raw.items()}
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _item(connection: dict[str, Any], wanted: SupportFilter | None) -> dict[str, Any] | None:
    expires = _refresh_expires_at(connection)
    if wanted == SupportFilter.EXPIRING and (
        expires is None or expires - now() >= EXPIRING_SECONDS
    ):
        return None
    contractor_id = str(connection["contractor_id"])
    failed = failed_exports(contractor_id, connection.get("realm_id"))
    payouts = payout_listing(contractor_id)
    failed_payouts = payouts.count(PayoutStatus.FAILED)
    if wanted == SupportFilter.FAILING and failed + failed_payouts == 0:
        return None
    return {
        "contractor_id": contractor_id,
        "realm_id": connection.get("realm_id"),
        "company_name": connection.get("company_name"),
        "status": connection["status"],
        "failed_exports": failed,
        "failed_payouts": failed_payouts,
        # A payout being deposited shows as waiting, as on the contractor's own list.
        "waiting_payouts": payouts.count(PayoutStatus.WAITING)
        + payouts.count(PayoutStatus.DEPOSITING),
        "refresh_expires_at": iso_at(expires) if expires else None,
        "last_export_at": connection.get("last_export_at"),
    }


def _refresh_expires_at(connection: dict[str, Any]) -> int | None:
    """The sooner of Intuit's rolling and hard expiries, as connection/store.py reads it."""
    known = [
        int(connection[name])
        for name in ("refresh_rolling_expires_at", "refresh_hard_expires_at")
        if connection.get(name)
    ]
    return min(known) if known else None


# -- parameters and cursor -----------------------------------------------------------------------


def _filter(value: str | None) -> SupportFilter | None:
    if not value:
        return None
    try:
        return SupportFilter(value)
    except ValueError:
        names = ", ".join(each.value for each in SupportFilter)
        raise InvalidSupportRequest("invalid_status", "status must be one of: " + names) from None


def _limit(value: str | None) -> int:
    if not value:
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidSupportRequest(
            "invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}"
        )
    return int(value)


def _partitions(wanted: SupportFilter | None) -> tuple[ConnectionStatus, ...]:
    if wanted == SupportFilter.REAUTHORIZATION_REQUIRED:
        return (ConnectionStatus.REAUTHORIZATION_REQUIRED,)
    if wanted == SupportFilter.EXPIRING:
        return (ConnectionStatus.CONNECTED,)
    return PARTITIONS


def _cursor(wanted: SupportFilter | None, last: tuple[str, str]) -> str:
    document = {"v": 1, "f": wanted or "", "p": last[0], "c": last[1]}
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _start(
    cursor: str | None, wanted: SupportFilter | None, partitions: tuple[ConnectionStatus, ...]
) -> tuple[ConnectionStatus, str | None]:
    if not cursor:
        return partitions[0], None
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        partition = ConnectionStatus(document["p"])
        valid = (
            document["v"] == 1
            and document["f"] == (wanted or "")
            and partition in partitions
            and isinstance(document["c"], str)
        )
    except (binascii.Error, ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise InvalidSupportRequest(
            "invalid_cursor", "The cursor is not one this list gave out; start again without it."
        )
    return partition, str(document["c"])
