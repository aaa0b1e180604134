"""An invoice-voided message (docs/interface.md §8): the exported invoice voided in QBO once, or,
voided before its export, marked so that it never is exported.

The order is export's: QBO first (invoices/voider.py: unlink its payments, then void), then the
record on the invoice's ledger item (export_status `voided`), whose change is the Invoice
Voided event (the outbox). A redelivery after that write costs no QBO request; one
after a death between QBO's answer and the write finds the invoice voided in QBO (a stale
SyncToken, read again) or gets QBO's replay of its requestid, and writes the record.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired
from qbo_sync.core.delivery import Deferred
from qbo_sync.core.statuses import EntryStatus, ExportStatus, VoidOutcome
from qbo_sync.events.invoices import InvoiceVoided
from qbo_sync.invoices.kept import kept_invoices
from qbo_sync.invoices.mappings import ExportedInvoice, mapping_store
from qbo_sync.invoices.retainage import retainage_store
from qbo_sync.invoices.voider import void_exported
from qbo_sync.ledger.entries import entries_of
from qbo_sync.ledger.records import export_records
from qbo_sync.qbo.faults import BusinessValidation, QboError, refusal

logger = Logger(child=True)


def void_invoice(message: InvoiceVoided, *, receive_count: int = 1) -> VoidOutcome:
    """Raises Refused (QBO refused the void for good) or Deferred (try again later)."""
    connection = services.connections().get(message.contractor_id)
    if connection is None:
        export_records(message.contractor_id).write_voided(message, None)
        logger.info("Invoice voided before QuickBooks was connected: it is never exported")
        return VoidOutcome.NOT_EXPORTED
    exported = mapping_store(connection).exported_invoice(message.invoice.id)
    if exported is None:
        export_records(message.contractor_id).write_voided(message, connection.realm_id)
        logger.info("Invoice voided before its export: it is never exported")
        return VoidOutcome.NOT_EXPORTED
    record, _ = export_records(message.contractor_id).find(connection.realm_id, exported.invoice_id)
    if record is not None and record.get("export_status") == ExportStatus.VOIDED:
        logger.info("Invoice already voided", qbo_invoice_id=exported.qbo_invoice_id)
        return VoidOutcome.ALREADY_VOIDED
    if not connection.usable:
        return _keep(message, connection, receive_count)
    try:
        return _void(connection, message, exported, _linked_payments(record or {}), receive_count)
    except ReauthorizationRequired:
        # Intuit refused the refresh token during this void.
        return _keep(message, connection, receive_count)


def _keep(message: InvoiceVoided, seen: Connection, receive_count: int) -> VoidOutcome:
    """Kept, as invoices are, until the contractor reconnects (the reconnect sends it back to
    the queue); voided now if a reconnect finished since `seen` was read."""
    store = kept_invoices(message.contractor_id)
    kept = store.keep(message)
    latest = services.connections().get(message.contractor_id)
    if latest is not None and latest.usable and latest.token_version != seen.token_version:
        outcome = void_invoice(message, receive_count=receive_count)
        if kept is not None:
            store.release(kept)
        return outcome
    logger.info("Void kept until QuickBooks is reconnected")
    return VoidOutcome.KEPT


def _void(
    connection: Connection,
    message: InvoiceVoided,
    exported: ExportedInvoice,
    payments: list[str],
    receive_count: int,
) -> VoidOutcome:
    records = export_records(message.contractor_id)
    try:
        voided = void_exported(connection, exported, payments)
    except QboError as fault:
        refused = refusal(fault, what="void")
        # 6000: most likely a payment applied since the ledger was read (the payment events
        # run beside this queue); the next delivery reads it and unlinks it too.
        if refused is None or isinstance(fault, BusinessValidation):
            raise Deferred(f"void not written: {fault}", receive_count) from fault
        raise refused from fault
    # Its retainage stops counting (§17) before the record that makes a redelivery stop here.
    retainage_store(connection).forget(message.invoice.id)
    # Its Invoice Voided event, if this voids it, comes from this write (the outbox).
    records.write_voided(message, connection.realm_id)
    return VoidOutcome.VOIDED if voided else VoidOutcome.ALREADY_VOIDED


def _linked_payments(record: dict[str, object]) -> list[str]:
    """The QBO Payments the ledger recorded against the invoice (a payment recorded whole as
    credit links nothing)."""
    return [
        entry.qbo_payment_id
        for entry in entries_of(record).values()
        if entry.status == EntryStatus.RECORDED
        and entry.qbo_payment_id
        and (entry.applied is None or entry.applied > 0)
    ]
