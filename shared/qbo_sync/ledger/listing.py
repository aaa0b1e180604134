"""The export records as the settings page lists and counts them: one Query a page, newest
first, through the two sparse indexes records.py keeps (template.yaml declares them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qbo_sync.core import aws
from qbo_sync.core.dynamo import from_item, query_count
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ExportStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

BY_CONTRACTOR, BY_STATUS = "ExportsByContractor", "ExportsByStatus"
ORDER_ATTRIBUTE = "exports_sk"


class ExportListing:
    def __init__(self, table: str, contractor_id: str) -> None:
        self._table = table
        self._pk = contractor_id

    def page(
        self, status: ExportStatus | None, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of records, newest first: one Query."""
        request = self._query(status)
        request["ScanIndexForward"] = False
        request["Limit"] = limit
        if start:
            request["ExclusiveStartKey"] = start
        response = aws.dynamodb().query(**request)
        items = [from_item(raw) for raw in response.get("Items", [])]
        return items, dict(response["LastEvaluatedKey"]) if "LastEvaluatedKey" in response else None

    def count(self, status: ExportStatus) -> int:
        return query_count(self._query(status))  # type: ignore[arg-type]

    def key_attributes(self, status: ExportStatus | None) -> tuple[str, str, str]:
        """A page cursor's attributes: the index's partition key and order key, and this
        contractor's partition value (the table's own pk and sk come with them)."""
        _, partition, value = self._index(status)
        return partition, ORDER_ATTRIBUTE, value

    def _query(self, status: ExportStatus | None) -> QueryInputTypeDef:
        index, partition, value = self._index(status)
        return {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": partition},
            "ExpressionAttributeValues": {":k": {"S": value}},
        }

    def _index(self, status: ExportStatus | None) -> tuple[str, str, str]:
        """The index a listing reads (all records, or those in one status), its partition key
        attribute, and this contractor's value of it."""
        if status:
            return BY_STATUS, "exports_status_pk", f"{self._pk}#{status}"
        return BY_CONTRACTOR, "exports_pk", self._pk


def export_listing(contractor_id: str) -> ExportListing:
    return ExportListing(get_settings().mappings_table, contractor_id)
