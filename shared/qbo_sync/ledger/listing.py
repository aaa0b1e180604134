"""Where the settings page finds export records: the sparse indexes records.py keeps
(template.yaml declares them), as the partitions one page reads (views/listing.py pages them).

A list shows the connected company's records and the skipped ones (docs/interface.md §14): one
partition of the chosen index per scope, never an earlier company's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from qbo_sync.core.dynamo import BATCH_GET, batch_get_by_sk, key, query_items
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ExportStatus
from qbo_sync.ledger.records import SKIPPED_SCOPE

BY_CONTRACTOR, BY_STATUS = "ExportsByContractor", "ExportsByStatus"
BY_CLIENT, BY_NUMBER = "ExportsByClient", "ExportsByNumber"
ORDER_ATTRIBUTE = "exports_sk"


@dataclass(frozen=True)
class ExportFilter:
    status: ExportStatus | None = None
    client_id: str | None = None
    number: str | None = None

    def index(self) -> tuple[str, str, str]:
        """The index a listing reads, its partition key attribute, and the key's suffix after
        the scope ("" for the unfiltered list). A number is one invoice: the status, if any,
        is checked on its record (views/exports.py), never paged past."""
        if self.number:
            return BY_NUMBER, "exports_number_pk", f"#{self.number}"
        if self.client_id:
            return BY_CLIENT, "exports_client_pk", f"#{self.client_id}"
        if self.status:
            return BY_STATUS, "exports_status_pk", f"#{self.status}"
        return BY_CONTRACTOR, "exports_pk", ""

    def signature(self) -> str:
        """What a page's cursor is bound to."""
        parts = [self.status or "", self.client_id or "", self.number or ""]
        return "" if not any(parts) else "|".join(parts) if any(parts[1:]) else parts[0]


# Projected KEYS_ONLY (template.yaml): a page of them reads its items by key afterwards.
KEYS_ONLY = (BY_CLIENT, BY_NUMBER)


def export_partitions(
    contractor_id: str, realm_id: str | None, wanted: ExportFilter
) -> list[tuple[str, str, str, bool]]:
    """(index, attribute, value, keys only) of each partition a list reads: the realm's and the
    skipped records'."""
    index, attribute, suffix = wanted.index()
    scopes = [realm_id, SKIPPED_SCOPE] if realm_id else [SKIPPED_SCOPE]
    value = f"{contractor_id}#{{}}{suffix}"
    return [(index, attribute, value.format(scope), index in KEYS_ONLY) for scope in scopes]


def skipped_bodies(contractor_id: str) -> Iterator[str]:
    """The invoice-sent bodies of the contractor's skipped invoices (sent while nothing was
    connected), from the status index: what a history request sends back on its way."""
    index, attribute, suffix = ExportFilter(status=ExportStatus.SKIPPED).index()
    for item in query_items(
        {
            "TableName": get_settings().mappings_table,
            "IndexName": index,
            "KeyConditionExpression": f"{attribute} = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"{contractor_id}#{SKIPPED_SCOPE}{suffix}"}},
        }
    ):
        if item.get("export_body"):
            yield str(item["export_body"])


def client_records(contractor_id: str, realm_id: str, client_id: str) -> list[dict[str, Any]]:
    """Every export record of one client in the realm (docs/interface.md §16: the link checks
    their currency and sends back their failures): the client index's keys, then the items."""
    index, attribute, suffix = ExportFilter(client_id=client_id).index()
    table = get_settings().mappings_table
    keys = [
        key(str(item["pk"]), str(item["sk"]))
        for item in query_items(
            {
                "TableName": table,
                "IndexName": index,
                "KeyConditionExpression": f"{attribute} = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"{contractor_id}#{realm_id}{suffix}"}},
            }
        )
    ]
    records: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET):
        found = batch_get_by_sk(table, keys[start : start + BATCH_GET])
        records.extend(item for item in found.values() if "export_status" in item)
    return records
