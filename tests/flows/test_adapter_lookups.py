"""Each adapter of once.py, once: its lookup recognises what its create wrote in the
emulated QuickBooks (so an attempt that may have reached QuickBooks finds its entity instead
of making a second one). The mechanism itself is proven by tests/unit/test_exactly_once_model.py.
"""

from __future__ import annotations

from typing import Any

from payments_support import export
from payouts_support import choose_bank, paid, payment

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

LEASE_UNTIL, AT = 2_000_000_000, 1_000_000_000.0


def _connection(contractor: str) -> Any:
    from qbo_sync.connection import services

    connection = services.connections().get(contractor)
    assert connection is not None and connection.usable
    return connection


def _create_then_find(write: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    held = write.claim("attempt-1", LEASE_UNTIL, AT)
    plan = write.plan(held)
    created = write.create(plan, f"lookup-test-{write.what}")
    return created, write.find(plan)


def test_the_invoice_lookup_finds_the_invoice_its_create_wrote(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    from qbo_sync.events.invoices import InvoiceSent
    from qbo_sync.invoices.exporter import InvoiceExporter
    from qbo_sync.invoices.invoice_write import InvoiceWrite

    message = InvoiceSent.model_validate(
        samples.invoice_sent(contractor, "LK-1", "Lou", [("A", "1", "12.00")])
    )
    exporter = InvoiceExporter(_connection(contractor))
    state, found = exporter.mappings.export_state(message.invoice.id, message.client.id, also=[])

    created, looked_up = _create_then_find(InvoiceWrite(exporter, message, state, found, 1))

    assert looked_up is not None and looked_up["Id"] == created["Id"]
    assert [row["Id"] for row in qbo.entities(realm, "Invoice")] == [created["Id"]]


def test_the_payment_lookup_finds_the_payment_its_create_wrote(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    from qbo_sync.events.payments import PaymentCompleted
    from qbo_sync.payments.recorder import PaymentWrite
    from qbo_sync.workflows.payment import recorder_for

    export(env, contractor, "LK-2", "40.00")
    detail = samples.payment_completed(contractor, "inv_LK-2", "LK-2", "40.00")
    recorder = recorder_for(_connection(contractor))

    created, looked_up = _create_then_find(
        PaymentWrite(recorder, PaymentCompleted.model_validate(detail))
    )

    assert looked_up is not None and looked_up["Id"] == created["Id"]


def test_the_refund_lookup_finds_the_receipt_its_create_wrote(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    from qbo_sync.events.payments import PaymentRefunded
    from qbo_sync.refunds.recorder import RefundWrite
    from qbo_sync.workflows.refund import refund_recorder

    paid(env, contractor, "LK-3", "50.00", "pay_LK-3")
    detail = samples.payment_refunded(contractor, "inv_LK-3", "LK-3", "pay_LK-3", "20.00")
    recorder = refund_recorder(_connection(contractor))

    created, looked_up = _create_then_find(
        RefundWrite(recorder, PaymentRefunded.model_validate(detail))
    )

    assert looked_up is not None and looked_up["Id"] == created["Id"]


def test_the_payout_lookup_finds_the_deposit_its_create_wrote(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    from qbo_sync.events.payouts import PayoutPaid
    from qbo_sync.workflows.payout import PayoutWrite

    paid(env, contractor, "LK-4", "70.00", "pay_LK-4")
    choose_bank(env, qbo, realm, contractor)
    detail = samples.payout_paid(contractor, "po_LK-4", [payment("pay_LK-4", "70.00", "2.30")])

    created, looked_up = _create_then_find(
        PayoutWrite(_connection(contractor), PayoutPaid.model_validate(detail))
    )

    assert looked_up is not None and looked_up["Id"] == created["Id"]
