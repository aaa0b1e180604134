"""An invoice-sent message: exported once, kept until a reconnect, or refused with its reason.

A new invoice is created through once.py (invoices/exporter.py is its adapter): the slot's
settle writes the mapping and the export record in one request, and that write is the event (the
outbox derives Invoice Exported or Export Failed from the ledger item's change). What follows
here, each step safe to repeat: the payments that waited for the invoice, the refunds that
waited for them, the skipped record that goes. A revision's update is judged here with the same
verdict (once.py's `verdict`) and deferral (core/delivery.py's `Deferred`).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired
from qbo_sync.core.clock import now, seconds_since
from qbo_sync.core.delivery import Deferred, gives_up
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import EntryStatus, ExportOutcome, ExportStatus
from qbo_sync.events.invoices import InvoiceSent
from qbo_sync.invoices.exported import Exported
from qbo_sync.invoices.exporter import (
    Dismissed,
    InvoiceExporter,
    RevisionNotWritten,
    VoidedOnPlatform,
)
from qbo_sync.ledger.entries import Ledger, payment_ledger
from qbo_sync.ledger.records import ExportRecord, RecordState, export_records
from qbo_sync.once import Verdict, verdict
from qbo_sync.qbo.faults import QboError, Refused

__all__ = ["Refused", "export_invoice"]

logger = Logger(child=True)

# last_export_at is for the settings page: to the minute is enough, and a burst of exports then
# pays one connection write a minute, not one per invoice.
LAST_EXPORT_RESOLUTION_SECONDS = 60


def export_invoice(message: InvoiceSent, *, receive_count: int = 1) -> ExportOutcome:
    """`receive_count`: SQS's ApproximateReceiveCount (at the queue's maxReceiveCount a
    temporary failure shows as failed). Raises Refused (retrying cannot fix it) or Deferred."""
    connection = services.connections().get_in_batch(message.contractor_id)
    if connection is None:
        record = ExportRecord.of(message, ExportStatus.SKIPPED, reason(ReasonCode.NOT_CONNECTED))
        export_records(message.contractor_id).write_skipped(record)
        logger.info("Invoice not exported: QuickBooks is not connected")
        return ExportOutcome.SKIPPED
    if not connection.usable:
        return _keep(message, connection)
    try:
        return _export(connection, message, receive_count)
    except ReauthorizationRequired:
        # Intuit refused the refresh token during this export.
        return _keep(message, connection)


def _export(connection: Connection, message: InvoiceSent, receive_count: int) -> ExportOutcome:
    try:
        exported = InvoiceExporter(connection).export(message, receive_count)
    except VoidedOnPlatform:
        # Its record already says voided, with the reason the list shows.
        logger.info("Invoice not exported: it was voided on the platform")
        return ExportOutcome.VOIDED
    except Dismissed:
        # Kept as the latest revision received, for the Retry that undoes the dismissal.
        why = reason(ReasonCode.INVOICE_DISMISSED)
        record = ExportRecord.of(message, ExportStatus.DISMISSED, why, connection.realm_id)
        _record(record._replace(history=None))
        logger.info("Invoice not exported: the contractor dismissed it")
        return ExportOutcome.DISMISSED
    except RevisionNotWritten as failed:
        assert isinstance(failed.__cause__, Exception)
        return _revision_failed(connection, message, receive_count, failed.__cause__)
    if exported.outcome == ExportOutcome.GAVE_UP:
        return exported.outcome
    if exported.outcome != ExportOutcome.UNCHANGED:
        _touch(connection)
    after_export(connection, message, exported)
    return exported.outcome


def after_export(connection: Connection, message: InvoiceSent, exported: Exported) -> None:
    """After every export of the invoice, a redelivery's too: its export record, in the same
    write that gives its payments' ledger the QBO invoice (a new invoice's settle made that
    write already), then the payments that waited for it (a payment whose recording failed
    here is tried again with the message)."""
    invoice = exported.invoice
    assert invoice is not None
    ledger = exported.ledger
    if ledger is None:
        record = _exported_record(connection, message, exported)
        ledger, _ = payment_ledger(connection.contractor_id, connection.realm_id).attach_invoice(
            invoice.invoice_id,
            invoice.qbo_invoice_id,
            invoice.qbo_customer_id,
            exported.total,
            record,
        )
    _record_waiting(connection, ledger, invoice.invoice_id)
    if exported.skipped_record:
        # Sent before QuickBooks was connected, exported now: listed once, as exported.
        export_records(message.contractor_id).delete_skipped(message.invoice.id)


def _record_waiting(connection: Connection, ledger: Ledger, invoice_id: str) -> None:
    """The payments that came before their invoice, and the refunds that wait for a payment.
    Few exports have any: their workflows (and the payment event models) are imported here
    when there are, not on each cold start of the invoice function (bench figure 1)."""
    if ledger.waiting(now()):
        from qbo_sync.workflows.payment import after_recording, recorder_for

        recorder = recorder_for(connection)
        try:
            recorder.record_waiting(ledger)
        finally:
            after_recording(recorder)
    # Refunds still waiting for a payment recorded before this run: an earlier run's attempt
    # failed for a while (it raised, so this message came again), or the contractor's retry.
    stuck = [
        (invoice_id, payment_id)
        for payment_id in sorted(ledger.waiting_refunds)
        if payment_id in ledger.entries
        and ledger.entries[payment_id].status == EntryStatus.RECORDED
    ]
    if stuck:
        from qbo_sync.workflows.refund import record_waiting_refunds

        record_waiting_refunds(connection, stuck)


def _exported_record(
    connection: Connection, message: InvoiceSent, exported: Exported
) -> ExportRecord:
    record = ExportRecord.of(message, ExportStatus.EXPORTED, realm_id=connection.realm_id)
    newer = exported.invoice
    assert newer is not None
    if message.invoice.revision >= newer.revision:
        return record
    # A late message of an older revision: the record stays about the newer one.
    return record._replace(revision=newer.revision, invoice_number=newer.doc_number, latest=False)


def _revision_failed(
    connection: Connection, message: InvoiceSent, receive_count: int, fault: Exception
) -> ExportOutcome:
    """A revision's update failed: refused (its record failed, then the dead-letter queue), a
    reconnect to wait for, or a temporary fault, counted on its record and deferred, given up
    once the window of attempts is over or on the last receive SQS allows."""
    judged = verdict(fault, "invoice")
    if judged is None:
        raise fault
    kind, why = judged
    if kind == Verdict.RECONNECT:
        raise ReauthorizationRequired() from fault
    if kind == Verdict.REFUSED:
        _record(ExportRecord.of(message, ExportStatus.FAILED, why, connection.realm_id))
        if isinstance(fault, Refused):
            raise fault
        assert isinstance(fault, QboError)
        raise Refused(
            f"QuickBooks refused the invoice: {fault}", why, fault.code, fault.detail, fault.element
        ) from fault
    pending = ExportRecord.of(message, ExportStatus.PENDING, why, connection.realm_id)
    before = _record(pending._replace(counts_attempt=True))
    attempt = before.attempts + 1 if before is not None else receive_count
    last = receive_count >= get_settings().invoice_sent_max_receive_count
    if not (gives_up(attempt) or last):
        raise Deferred(f"invoice not exported: {fault}", attempt) from fault
    logger.warning("QuickBooks kept failing; the export gives up", attempts=attempt)
    gave_up = pending._replace(status=ExportStatus.FAILED, reason=reason(ReasonCode.GAVE_UP))
    _record(gave_up)
    return ExportOutcome.GAVE_UP


def _record(record: ExportRecord) -> RecordState | None:
    """Writes a record that is not an export (its event, if it changed, comes from the write).
    None when the write failed: the message's own fate (retry, or the dead-letter queue) must
    not change for it."""
    try:
        return export_records(record.contractor_id).write(record)
    except Exception:
        logger.exception("Export record not written", status=record.status)
        return None


def _keep(message: InvoiceSent, seen: Connection) -> ExportOutcome:
    # Imported here: only a company that must be reconnected keeps invoices.
    from qbo_sync.invoices.kept import kept_invoices

    store = kept_invoices(message.contractor_id)
    kept = store.keep(message)
    if kept is not None:
        why = reason(ReasonCode.REAUTHORIZATION)
        record = ExportRecord.of(message, ExportStatus.PENDING, why, seen.realm_id)
        export_records(message.contractor_id).write(record)
    # A reconnect that finished since `seen` was read may have resumed the kept invoices before
    # this one was kept: then export it now rather than wait for the next reconnect.
    latest = services.connections().get(message.contractor_id)
    if latest is not None and latest.usable and latest.token_version != seen.token_version:
        try:
            outcome = _export(latest, message, receive_count=1)
        except ReauthorizationRequired:
            pass
        else:
            if kept is not None:
                store.release(kept)
            return outcome
    logger.info("Invoice kept until QuickBooks is reconnected")
    return ExportOutcome.PENDING


def _touch(connection: Connection) -> None:
    last = connection.last_export_at
    if last and seconds_since(last) < LAST_EXPORT_RESOLUTION_SECONDS:
        return
    services.connections().touch_last_export(connection.contractor_id)
