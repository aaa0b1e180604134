"""An invoice-sent message: exported once, kept until a reconnect, or refused with its reason.

The order is the point: QBO is written (invoices/exporter.py), then the mapping (inside the
exporter), then the export record in the same write that attaches the invoice to its payments'
ledger (`after_export`). That write is the event: the outbox derives Invoice Exported or Export
Failed from the ledger item's change, so a death right after it loses nothing. Each step is
safe to repeat, so a death between any two is healed by the next delivery. What a QBO fault
means for the message is qbo/faults.py's `refusal`: refused for good (dead-letter queue,
failed record), or back to SQS.
"""

from __future__ import annotations

from dataclasses import replace

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired
from qbo_sync.core.clock import now, seconds_since
from qbo_sync.core.delivery import delay_for, gives_up
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import EntryStatus, ExportOutcome, ExportStatus
from qbo_sync.events import InvoiceSent
from qbo_sync.invoices.exporter import Exported, InvoiceExporter, VoidedOnPlatform
from qbo_sync.invoices.kept import kept_invoices
from qbo_sync.ledger.entries import payment_ledger
from qbo_sync.ledger.records import ExportRecord, RecordState, export_records
from qbo_sync.qbo.faults import QboError, Refused, refusal
from qbo_sync.workflows.payment import after_recording, recorder_for
from qbo_sync.workflows.refund import record_waiting_refunds

__all__ = ["ExportDeferred", "Refused", "export_invoice"]

logger = Logger(child=True)


class ExportDeferred(Exception):
    """A temporary failure: the message is to come back after `delay_seconds` (through its
    visibility), for its attempt number `attempt` + 1."""

    def __init__(self, attempt: int) -> None:
        super().__init__(f"export attempt {attempt} failed for a temporary reason")
        self.attempt = attempt
        self.delay_seconds = delay_for(attempt)


# last_export_at is for the settings page: to the minute is enough, and a burst of exports then
# pays one connection write a minute, not one per invoice.
LAST_EXPORT_RESOLUTION_SECONDS = 60


def export_invoice(message: InvoiceSent, *, receive_count: int = 1) -> ExportOutcome:
    """`receive_count`: SQS's ApproximateReceiveCount. Above 1 the message was delivered before,
    so an earlier attempt may have created the invoice without writing it down; at the queue's
    maxReceiveCount a temporary failure shows as failed, not as retrying for ever.

    Raises Refused (retrying cannot fix it) or what SQS should retry."""
    connection = services.connections().get(message.contractor_id)
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
        exported = InvoiceExporter(connection).export(message, redelivered=receive_count > 1)
    except VoidedOnPlatform:
        # Its record already says voided, with the reason the list shows.
        logger.info("Invoice not exported: it was voided on the platform")
        return ExportOutcome.VOIDED
    except QboError as fault:
        refused = refusal(fault)
        if refused is None:
            return _retry_later(connection, message, receive_count, fault)
        _record(ExportRecord.of(message, ExportStatus.FAILED, refused.reason, connection.realm_id))
        raise refused from fault
    except Refused as refused:
        _record(ExportRecord.of(message, ExportStatus.FAILED, refused.reason, connection.realm_id))
        raise
    if exported.outcome != ExportOutcome.UNCHANGED:
        _touch(connection)
    after_export(connection, message, exported)
    return exported.outcome


def after_export(connection: Connection, message: InvoiceSent, exported: Exported) -> None:
    """After every export of the invoice, a redelivery's too: its export record, in the same
    write that gives its payments' ledger the QBO invoice, then the payments that waited for
    it (a payment whose recording failed here is tried again with the message)."""
    record = _exported_record(connection, message, exported)
    invoice = exported.invoice
    ledger, _ = payment_ledger(connection.contractor_id, connection.realm_id).attach_invoice(
        invoice.invoice_id, invoice.qbo_invoice_id, invoice.qbo_customer_id, exported.total, record
    )
    if ledger.waiting(now()):
        recorder = recorder_for(connection)
        try:
            recorder.record_waiting(ledger)
        finally:
            after_recording(recorder)
    # Refunds still waiting for a payment recorded before this run: an earlier run's attempt
    # failed for a while (it raised, so this message came again).
    stuck = [
        (invoice.invoice_id, payment_id)
        for payment_id in sorted(ledger.waiting_refunds)
        if payment_id in ledger.entries
        and ledger.entries[payment_id].status == EntryStatus.RECORDED
    ]
    if stuck:
        record_waiting_refunds(connection, stuck)
    if exported.skipped_record:
        # Sent before QuickBooks was connected, exported now: listed once, as exported.
        export_records(message.contractor_id).delete_skipped(message.invoice.id)


def _exported_record(
    connection: Connection, message: InvoiceSent, exported: Exported
) -> ExportRecord:
    record = ExportRecord.of(message, ExportStatus.EXPORTED, realm_id=connection.realm_id)
    if message.invoice.revision >= exported.invoice.revision:
        return record
    # A late message of an older revision: the record stays about the newer one.
    newer = exported.invoice
    return replace(record, revision=newer.revision, invoice_number=newer.doc_number, latest=False)


def _retry_later(
    connection: Connection, message: InvoiceSent, receive_count: int, fault: QboError
) -> ExportOutcome:
    """A temporary failure: pending, counted as an attempt, and back on the queue later
    (ExportDeferred); failed for good once the window of attempts is over, or on the last
    receive SQS allows, and then acknowledged: the contractor's Retry exports it."""
    temporary = reason(ReasonCode.TEMPORARY)
    pending = ExportRecord.of(message, ExportStatus.PENDING, temporary, connection.realm_id)
    pending = replace(pending, counts_attempt=True)
    before = _record(pending)
    attempt = before.attempts + 1 if before is not None else receive_count
    last = receive_count >= get_settings().invoice_sent_max_receive_count
    if not (gives_up(attempt) or last):
        raise ExportDeferred(attempt) from fault
    logger.warning("QuickBooks kept failing; the export gives up", attempts=attempt)
    gave_up = replace(pending, status=ExportStatus.FAILED, reason=reason(ReasonCode.GAVE_UP))
    _record(replace(gave_up, counts_attempt=False))
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
