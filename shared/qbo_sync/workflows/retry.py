"""The contractor's retry of an export (docs/interface.md §5), and their dismissal of one (§14).

The latest received revision's message goes to the invoice-sent queue again, as a reconnect's
does: the consumer runs it through the one exactly-once export, so retrying an invoice that did
export creates nothing in QuickBooks, and its run then records the invoice's parked payments,
which the retry's failed payments have become.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.api.errors import AlreadyExported, ExportNotFound, InvoiceVoided, NotConnected
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.core.statuses import EntryStatus, ExportStatus, RefundStatus
from qbo_sync.invoices.queue import send_retry
from qbo_sync.ledger.entries import entries_of
from qbo_sync.ledger.records import export_records
from qbo_sync.ledger.refunds import refund_ledger, refunds_of

logger = Logger(child=True)


def retry_export(contractor_id: str, invoice_id: str) -> None:
    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        raise NotConnected(contractor_id)
    store = export_records(contractor_id)
    record, skipped = store.find(connection.realm_id, invoice_id)
    if record is None or not record.get("export_body"):
        raise ExportNotFound(invoice_id)
    resend(connection, record, skipped)


def resend(connection: Connection, record: dict[str, Any], skipped: bool = False) -> None:
    """The one way an export record goes back on its way, as the contractor's Retry: their
    retry, and their link of a client (workflows/customers.py) for the failures it fixes."""
    contractor_id, invoice_id = connection.contractor_id, str(record["invoice_id"])
    store = export_records(contractor_id)
    failed_payments = sorted(
        entry.payment_id
        for entry in entries_of(record).values()
        if entry.status == EntryStatus.FAILED
    )
    failed_refunds = sorted(
        entry.refund_id
        for entry in refunds_of(record).values()
        if entry.status == RefundStatus.FAILED
    )
    # Marked first, then queued: once queued, the consumer may finish before this returns.
    store.mark_retry(connection.realm_id, record, failed_payments)
    # Failed refunds wait again: the export's run records those whose payment is recorded.
    refund_ledger(contractor_id, connection.realm_id).wait_again(invoice_id, failed_refunds)
    if skipped:
        # The record now lives in the connected company's ledger item.
        store.delete_skipped(invoice_id)
    send_retry(contractor_id, str(record["export_body"]))
    logger.info(
        "Export retry queued",
        contractor_id=contractor_id,
        invoice_id=invoice_id,
        payments=len(failed_payments),
    )


def dismiss_export(contractor_id: str, invoice_id: str) -> None:
    """The invoice will not go to QuickBooks: one conditional write on its record (in the
    connected company, or its skipped record), which the export then acknowledges without a
    QBO request until a retry. Refused for an exported (or voided) invoice."""
    connection = services.connections().get(contractor_id)
    realm_id = connection.realm_id if connection is not None else None
    store = export_records(contractor_id)
    if realm_id is None:
        record, skipped = store.find_skipped(invoice_id), True
    else:
        record, skipped = store.find(realm_id, invoice_id)
    if record is None:
        raise ExportNotFound(invoice_id)
    if record.get("export_status") == ExportStatus.VOIDED:
        raise InvoiceVoided(invoice_id)
    if not store.dismiss(None if skipped else realm_id, invoice_id):
        raise AlreadyExported(invoice_id)
    logger.info("Export dismissed", contractor_id=contractor_id, invoice_id=invoice_id)
