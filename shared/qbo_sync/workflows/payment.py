"""A payment-completed event: recorded in QBO once, or parked until its invoice is exported or
QuickBooks is reconnected; then the refunds and payouts that waited for it go on (docs/interface.md
§9, §10). Its Payment Recorded event comes from the ledger item's change (the outbox)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.core.statuses import Outcome
from qbo_sync.events.payments import PaymentCompleted
from qbo_sync.invoices.mappings import mapping_store
from qbo_sync.payments.recorder import PaymentResult, Recorder

logger = Logger(child=True)


def record_payment(payment: PaymentCompleted) -> PaymentResult:
    connection = services.connections().get_in_batch(payment.contractor_id)
    if connection is None:
        logger.info(
            "Payment not recorded: QuickBooks is not connected", payment_id=payment.payment_id
        )
        return PaymentResult(Outcome.SKIPPED, payment.payment_id)
    recorder = recorder_for(connection)
    try:
        return recorder.record(payment)
    finally:
        # Recording one payment may record others that waited for the same invoice.
        after_recording(recorder)


def recorder_for(connection: Connection) -> Recorder:
    """A recorder that finds an exported invoice's QBO ids in the mapping store."""
    # Built only when asked: most payments find their invoice's QBO ids on the ledger.
    return Recorder(
        connection, lambda invoice_id: mapping_store(connection).exported_invoice(invoice_id)
    )


def after_recording(recorder: Recorder) -> None:
    """What waited for the payments the recorder recorded: their refunds (§9), then the
    payouts that list them (§10). Their events come from the writes (the outbox)."""
    waiting, recorder.refunds_waiting = recorder.refunds_waiting, []
    if waiting:
        # Imported here, as the payouts below: a refund's modules load only when one waited.
        from qbo_sync.workflows.refund import record_waiting_refunds

        record_waiting_refunds(recorder.connection, waiting)
    if recorder.payouts_waiting:
        # Imported here: a payout's modules load only when a payout waited for a payment.
        from qbo_sync.workflows.payout import resume_payouts

        resume_payouts(recorder.connection, recorder.payouts_waiting)
        recorder.payouts_waiting.clear()
