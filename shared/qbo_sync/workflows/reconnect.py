"""The OAuth callback, and what a successful reconnect sets going: the invoices kept while the
connection needed reauthorization go back on the queue, the parked payments whose invoice
is exported are recorded, and the waiting payouts are sent again."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.flow import CallbackOutcome
from qbo_sync.connection.flow import complete_connect as store_grant
from qbo_sync.core.statuses import Outcome

logger = Logger(child=True)


def complete_connect(
    *, state: str, browser_binding: str, code: str, realm_id: str, error: str, redirect_uri: str
) -> CallbackOutcome:
    outcome = store_grant(
        state=state,
        browser_binding=browser_binding,
        code=code,
        realm_id=realm_id,
        error=error,
        redirect_uri=redirect_uri,
    )
    if outcome.connected and outcome.contractor_id is not None:
        after_reconnect(outcome.contractor_id)
    return outcome


def after_reconnect(contractor_id: str) -> None:
    """Kept invoices and parked payments go on now. A failure leaves them kept or parked for
    the next reconnect or export: the connection is made either way."""
    try:
        invoices = resume_kept_invoices(contractor_id)
        payments = resume_parked_payments(contractor_id)
        from qbo_sync.workflows.payout import resume_all_waiting  # as resume_kept_invoices'

        payouts = resume_all_waiting(contractor_id)
    except Exception as failure:
        logger.error(
            "Kept work not resumed after reconnect",
            contractor_id=contractor_id,
            error=type(failure).__name__,
        )
        return
    logger.info(
        "Kept work resumed",
        resent_invoices=invoices,
        applied_payments=payments,
        resent_payouts=payouts,
    )


def resume_kept_invoices(contractor_id: str) -> int:
    """Sends the contractor's kept invoice-sent messages back to the FIFO queue, in the
    contractor's message group; returns how many. One whose send fails stays kept."""
    # Imported here: only a successful callback resumes anything, and the event models and the
    # HTTP stack they bring are a third of the settings page's cold start.
    from qbo_sync.invoices.kept import kept_invoices
    from qbo_sync.invoices.queue import send_kept

    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        return 0
    store = kept_invoices(contractor_id)
    sent = send_kept(contractor_id, store.kept())
    for kept in sent:
        store.release(kept)
    if sent:
        logger.info("Kept invoices sent for export", contractor_id=contractor_id, count=len(sent))
    return len(sent)


def resume_parked_payments(contractor_id: str) -> int:
    """Records every parked payment whose invoice is exported, then the refunds that waited for
    the reconnect; returns how many payments were recorded. The others stay parked until their
    invoice is exported (or their payment recorded)."""
    from qbo_sync.core.delivery import Deferred  # as above
    from qbo_sync.workflows.payment import after_recording, recorder_for
    from qbo_sync.workflows.refund import record_refunds_of

    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        return 0
    recorder = recorder_for(connection)
    recorded = 0
    invoices = recorder.ledger.invoices_waiting_for_reconnect()
    try:
        for invoice_id in invoices:
            try:
                results = recorder.resume(invoice_id)
            except Deferred as error:
                # The reconnect must not fail for it; it stays parked for the next export.
                logger.error("Parked payment not recorded after reconnect", reason=str(error))
                continue
            recorded += sum(result.outcome == Outcome.WRITTEN for result in results)
    finally:
        after_recording(recorder)
    record_refunds_of(connection, invoices)
    return recorded
