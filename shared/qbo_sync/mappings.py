"""MappingStore: which QBO entity stands for which platform thing, per contractor and company.

The mapping table is the record of truth for exactly-once: an invoice or payment is exported when
its mapping exists. Keys: pk = contractor id, sk = "<realm>#<kind>#<platform id>".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qbo_sync import aws
from qbo_sync.clock import iso_now
from qbo_sync.dynamo import from_item, to_item


@dataclass(frozen=True)
class ExportedInvoice:
    invoice_id: str
    revision: int
    qbo_invoice_id: str
    qbo_customer_id: str
    sync_token: str
    doc_number: str


@dataclass(frozen=True)
class ParkedPayment:
    payment_id: str
    detail: dict[str, Any]


class MappingStore:
    def __init__(self, table: str, contractor_id: str, realm_id: str) -> None:
        self._table = table
        self._pk = contractor_id
        self._realm = realm_id

    def qbo_id(self, kind: str, platform_id: str) -> str | None:
        item = self._get(f"{kind}#{platform_id}")
        return str(item["qbo_id"]) if item else None

    def remember(self, kind: str, platform_id: str, qbo_id: str) -> None:
        self._put(f"{kind}#{platform_id}", {"qbo_id": qbo_id})

    def exported_invoice(self, invoice_id: str) -> ExportedInvoice | None:
        item = self._get(f"invoice#{invoice_id}")
        if not item:
            return None
        return ExportedInvoice(
            invoice_id=invoice_id,
            revision=int(item["revision"]),
            qbo_invoice_id=str(item["qbo_id"]),
            qbo_customer_id=str(item["qbo_customer_id"]),
            sync_token=str(item["sync_token"]),
            doc_number=str(item["doc_number"]),
        )

    def remember_invoice(self, exported: ExportedInvoice) -> None:
        self._put(
            f"invoice#{exported.invoice_id}",
            {
                "qbo_id": exported.qbo_invoice_id,
                "revision": exported.revision,
                "qbo_customer_id": exported.qbo_customer_id,
                "sync_token": exported.sync_token,
                "doc_number": exported.doc_number,
            },
        )

    def park_payment(self, invoice_id: str, payment_id: str, detail: dict[str, Any]) -> None:
        self._put(f"parked#{invoice_id}#{payment_id}", {"detail": detail})

    def parked_payments(self, invoice_id: str) -> list[ParkedPayment]:
        prefix = f"{self._realm}#parked#{invoice_id}#"
        response = aws.client("dynamodb").query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": self._pk}, ":prefix": {"S": prefix}},
            ConsistentRead=True,
        )
        items = [from_item(item) for item in response.get("Items", [])]
        return [ParkedPayment(str(i["sk"])[len(prefix) :], dict(i["detail"])) for i in items]

    def unpark_payment(self, invoice_id: str, payment_id: str) -> None:
        aws.client("dynamodb").delete_item(
            TableName=self._table, Key=self._key(f"parked#{invoice_id}#{payment_id}")
        )

    def _key(self, suffix: str) -> dict[str, Any]:
        return {"pk": {"S": self._pk}, "sk": {"S": f"{self._realm}#{suffix}"}}

    def _get(self, suffix: str) -> dict[str, Any] | None:
        response = aws.client("dynamodb").get_item(
            TableName=self._table, Key=self._key(suffix), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def _put(self, suffix: str, values: dict[str, Any]) -> None:
        item = {"pk": self._pk, "sk": f"{self._realm}#{suffix}", "updated_at": iso_now(), **values}
        aws.client("dynamodb").put_item(TableName=self._table, Item=to_item(item))
