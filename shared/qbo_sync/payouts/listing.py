"""The payout items as the settings page lists them: one Query a page, newest arrival first,
through the two sparse indexes records.py keeps (template.yaml declares them)."""

from __future__ import annotations

from typing import Any

from qbo_sync.core import aws
from qbo_sync.core.dynamo import from_item, query_count, query_items
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import PayoutStatus

BY_CONTRACTOR, BY_STATUS = "PayoutsByContractor", "PayoutsByStatus"
ORDER_ATTRIBUTE = "payouts_sk"


class PayoutListing:
    def __init__(self, table: str, contractor_id: str) -> None:
        self._table, self._pk = table, contractor_id

    def page(
        self, status: PayoutStatus | None, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        request = self._query(status)
        request.update(ScanIndexForward=False, Limit=limit)
        if start:
            request["ExclusiveStartKey"] = start
        response = aws.dynamodb().query(**request)
        items = [from_item(raw) for raw in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, dict(last) if last else None

    def waiting(self) -> list[str]:
        """Every waiting payout's id (of any company the contractor connected)."""
        request = self._query(PayoutStatus.WAITING)
        request["ProjectionExpression"] = "payout_id, sk"
        return [str(item["payout_id"]) for item in query_items(request)]  # type: ignore[arg-type]

    def count(self, status: PayoutStatus) -> int:
        """How many of the contractor's payouts are in `status`: one Query COUNT."""
        return query_count(self._query(status))  # type: ignore[arg-type]

    def key_attributes(self, status: PayoutStatus | None) -> tuple[str, str, str]:
        _, partition, value = self._index(status)
        return partition, ORDER_ATTRIBUTE, value

    def _query(self, status: PayoutStatus | None) -> dict[str, Any]:
        index, partition, value = self._index(status)
        return {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": partition},
            "ExpressionAttributeValues": {":k": {"S": value}},
        }

    def _index(self, status: PayoutStatus | None) -> tuple[str, str, str]:
        if status:
            return BY_STATUS, "payouts_status_pk", f"{self._pk}#{status}"
        return BY_CONTRACTOR, "payouts_pk", self._pk


def payout_listing(contractor_id: str) -> PayoutListing:
    return PayoutListing(get_settings().mappings_table, contractor_id)
