"""A payment-refunded event (docs/interface.md §9): recorded in QBO once, or waiting for its
payment (or a reconnect). Its Refund Recorded event (§12) comes from the write that recorded it
(the outbox)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.core.delivery import Deferred
from qbo_sync.core.statuses import Outcome
from qbo_sync.events.payments import PaymentRefunded
from qbo_sync.invoices.mappings import mapping_store
from qbo_sync.refunds.recorder import RefundRecorder, RefundResult

logger = Logger(child=True)


def record_refund(refund: PaymentRefunded) -> RefundResult:
    connection = services.connections().get(refund.contractor_id)
    if connection is None:
        logger.info("Refund not recorded: QuickBooks is not connected", refund_id=refund.refund_id)
        return RefundResult(Outcome.SKIPPED, refund.refund_id)
    recorder = refund_recorder(connection)
    try:
        return recorder.record(refund)
    finally:
        resume_payouts_of(recorder)


def record_waiting_refunds(connection: Connection, waiting: list[tuple[str, str]]) -> None:
    """The refunds that waited for these (invoice id, payment id) payments, just recorded."""
    recorder = refund_recorder(connection)
    try:
        for invoice_id, payment_id in waiting:
            recorder.record_waiting(invoice_id, payment_id)
    finally:
        resume_payouts_of(recorder)


def record_refunds_of(connection: Connection, invoice_ids: list[str]) -> None:
    """After a reconnect: the invoices' refunds that waited (for it, or for their payment)."""
    recorder = refund_recorder(connection)
    try:
        for invoice_id in invoice_ids:
            try:
                recorder.record_waiting(invoice_id)
            except Deferred as error:
                # The reconnect must not fail for it: it waits, and its event comes again.
                logger.error("Waiting refund not recorded after reconnect", reason=str(error))
    finally:
        resume_payouts_of(recorder)


def refund_recorder(connection: Connection) -> RefundRecorder:
    """A recorder that finds an exported invoice's QBO item in the mapping store."""

    def item_of(invoice_id: str) -> str | None:
        exported = mapping_store(connection).exported_invoice(invoice_id)
        return exported.qbo_item_id if exported else None

    return RefundRecorder(connection, item_of)


def resume_payouts_of(recorder: RefundRecorder) -> None:
    """Sends again the payouts that waited for a refund the recorder recorded."""
    if recorder.payouts_waiting:
        # Imported here: a payout's modules load only when a payout waited for a refund.
        from qbo_sync.workflows.payout import resume_payouts

        resume_payouts(recorder.connection, recorder.payouts_waiting)
        recorder.payouts_waiting.clear()
