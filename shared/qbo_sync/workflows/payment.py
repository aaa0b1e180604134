"""A payment-completed event: recorded in QBO once, or parked until its invoice is exported or
QuickBooks is reconnected; then its Payment Recorded event (contracts.md §6)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from qbo_sync import notifications
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.core.statuses import PaymentOutcome
from qbo_sync.events import PaymentCompleted
from qbo_sync.invoices.mappings import mapping_store
from qbo_sync.payments.recorder import PaymentResult, Recorder
from qbo_sync.workflows.refund import record_waiting_refunds

logger = Logger(child=True)


def record_payment(payment: PaymentCompleted) -> PaymentResult:
    connection = services.connections().get(payment.contractor_id)
    if connection is None:
        logger.info(
            "Payment not recorded: QuickBooks is not connected", payment_id=payment.payment_id
        )
        return PaymentResult(PaymentOutcome.SKIPPED, payment.payment_id)
    recorder = recorder_for(connection)
    try:
        if not connection.usable:
            return recorder.park_until_reconnected(payment)
        return recorder.record(payment)
    finally:
        # Recording one payment may record others that waited for the same invoice.
        announce_recorded(recorder)


def recorder_for(connection: Connection) -> Recorder:
    """A recorder that finds an exported invoice's QBO ids in the mapping store."""
    # Built only when asked: most payments find their invoice's QBO ids on the ledger.
    return Recorder(
        connection, lambda invoice_id: mapping_store(connection).exported_invoice(invoice_id)
    )


def announce_recorded(recorder: Recorder) -> None:
    """One Payment Recorded event for each payment the recorder recorded; then the refunds
    that waited for them (contracts.md §9)."""
    for recorded in recorder.recorded:
        notifications.payment_recorded(
            recorder.connection.contractor_id,
            payment_id=recorded.payment_id,
            invoice_id=recorded.invoice_id,
            qbo_payment_id=recorded.qbo_payment_id,
            invoice_paid=recorded.invoice_paid,
        )
    recorder.recorded.clear()
    waiting, recorder.refunds_waiting = recorder.refunds_waiting, []
    if waiting:
        record_waiting_refunds(recorder.connection, waiting)
