"""export_invoice: one sent platform invoice becomes exactly one QBO Invoice."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger

from qbo_sync import services
from qbo_sync.connections import Connection
from qbo_sync.events import Client, InvoiceSent
from qbo_sync.mappings import ExportedInvoice, MappingStore
from qbo_sync.qbo import DuplicateName, QboClient, StaleObject, quote, request_id
from qbo_sync.qbo_fields import (
    MAX_DISPLAY_NAME,
    customer_fields,
    invoice_fields,
    item_name,
    qbo_name,
    service_item_fields,
)

logger = Logger(child=True)

EXPORTED, UPDATED, UNCHANGED, SKIPPED, PENDING = (
    "exported",
    "updated",
    "unchanged",
    "skipped",
    "pending",
)


@dataclass(frozen=True)
class ExportResult:
    status: str
    qbo_invoice_id: str | None = None


def export_invoice(message: InvoiceSent) -> ExportResult:
    connection = services.connections().get(message.contractor_id)
    if connection is None:
        logger.info(
            "Invoice not exported: QuickBooks is not connected", invoice_id=message.invoice.id
        )
        return ExportResult(SKIPPED)
    if not connection.usable:
        logger.info("Invoice kept until QuickBooks is reconnected", invoice_id=message.invoice.id)
        return ExportResult(PENDING)
    result = InvoiceExporter(connection).export(message)
    services.connections().touch_last_export(connection.contractor_id)
    from qbo_sync.payments import apply_parked_payments  # payments import export's results

    apply_parked_payments(connection, message.invoice.id)
    return result


class InvoiceExporter:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._qbo: QboClient = services.qbo_client(connection)
        self._mappings: MappingStore = services.mappings(connection)

    def export(self, message: InvoiceSent) -> ExportResult:
        invoice = message.invoice
        known = self._mappings.exported_invoice(invoice.id)
        if known and known.revision >= invoice.revision:
            logger.info(
                "Invoice already exported at this revision", qbo_invoice_id=known.qbo_invoice_id
            )
            return ExportResult(UNCHANGED, known.qbo_invoice_id)
        customer_id = known.qbo_customer_id if known else self._customer(message.client)
        fields = invoice_fields(message, customer_id, self._item(invoice.id, invoice.number))
        if known:
            written = self._update(known, fields, invoice.revision)
        else:
            requestid = self._request_id("invoice", invoice.id, invoice.revision)
            written = self._qbo.create("Invoice", fields, requestid)
        self._mappings.remember_invoice(
            ExportedInvoice(
                invoice_id=invoice.id,
                revision=invoice.revision,
                qbo_invoice_id=str(written["Id"]),
                qbo_customer_id=customer_id,
                sync_token=str(written["SyncToken"]),
                doc_number=invoice.number,
            )
        )
        status = UPDATED if known else EXPORTED
        logger.info(f"Invoice {status}", qbo_invoice_id=written["Id"], revision=invoice.revision)
        return ExportResult(status, str(written["Id"]))

    def _update(
        self, known: ExportedInvoice, fields: dict[str, object], revision: int
    ) -> dict[str, object]:
        body = {**fields, "Id": known.qbo_invoice_id, "SyncToken": known.sync_token}
        try:
            requestid = self._request_id("invoice", known.invoice_id, revision, known.sync_token)
            return self._qbo.update("Invoice", body, requestid)
        except StaleObject:
            # Someone edited it in QuickBooks since; the platform's sent invoice wins, once.
            current = self._qbo.read("Invoice", known.qbo_invoice_id)
            body["SyncToken"] = str(current["SyncToken"])
            requestid = self._request_id("invoice", known.invoice_id, revision, body["SyncToken"])
            return self._qbo.update("Invoice", body, requestid)

    def _customer(self, client: Client) -> str:
        known = self._mappings.qbo_id("customer", client.id)
        if known:
            return known
        display_name = qbo_name(client.display_name, MAX_DISPLAY_NAME)
        customer_id = self._find_or_create_customer(client, display_name)
        self._mappings.remember("customer", client.id, customer_id)
        return customer_id

    def _find_or_create_customer(self, client: Client, display_name: str) -> str:
        # Create first, look up on a name clash: a new client then costs one request, not two.
        try:
            return self._create_customer(client, display_name)
        except DuplicateName:
            pass
        found = self._qbo.query(f"select * from Customer where DisplayName = {quote(display_name)}")
        if found:
            return str(found[0]["Id"])
        # The name belongs to a vendor or employee (DisplayName is unique across all three).
        suffix = f" ({client.id})"
        return self._create_customer(
            client, display_name[: MAX_DISPLAY_NAME - len(suffix)] + suffix
        )

    def _create_customer(self, client: Client, display_name: str) -> str:
        fields = customer_fields(client, display_name)
        created = self._qbo.create(
            "Customer", fields, self._request_id("customer", client.id, display_name)
        )
        return str(created["Id"])

    def _item(self, invoice_id: str, invoice_number: str) -> str:
        known = self._mappings.qbo_id("item", invoice_id)
        if known:
            return known
        name = item_name(invoice_number)
        try:
            fields = service_item_fields(invoice_number, self._income_account())
            item_id = str(self._qbo.create("Item", fields, self._request_id("item", name))["Id"])
        except DuplicateName:
            found = self._qbo.query(f"select * from Item where Name = {quote(name)}")
            item_id = str(found[0]["Id"])
        self._mappings.remember("item", invoice_id, item_id)
        return item_id

    def _income_account(self) -> str:
        known = self._mappings.qbo_id("account", "income")
        if known:
            return known
        accounts = self._qbo.query("select * from Account where AccountType = 'Income'")
        if not accounts:
            raise LookupError("the QuickBooks company has no income account")
        preferred = [a for a in accounts if a.get("Name") == "Services"] or accounts
        account_id = str(preferred[0]["Id"])
        self._mappings.remember("account", "income", account_id)
        return account_id

    def _request_id(self, kind: str, *parts: object) -> str:
        return request_id(
            self._connection.contractor_id, self._connection.realm_id, kind, *map(repr, parts)
        )
