"""record_payment: one platform payment becomes exactly one QBO Payment linked to its invoice."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger

from qbo_sync import services
from qbo_sync.connections import Connection
from qbo_sync.events import PaymentCompleted
from qbo_sync.qbo import request_id
from qbo_sync.qbo_fields import payment_fields
from qbo_sync.settings import get_settings

logger = Logger(child=True)

RECORDED, ALREADY_RECORDED, PARKED, SKIPPED = "recorded", "already_recorded", "parked", "skipped"


@dataclass(frozen=True)
class PaymentResult:
    status: str
    qbo_payment_id: str | None = None


def record_payment(payment: PaymentCompleted) -> PaymentResult:
    connection = services.connections().get(payment.contractor_id)
    if connection is None:
        logger.info(
            "Payment not recorded: QuickBooks is not connected", payment_id=payment.payment_id
        )
        return PaymentResult(SKIPPED)
    if not connection.usable:
        return _park(connection, payment, "QuickBooks needs reauthorization")
    return _record(connection, payment)


def apply_parked_payments(connection: Connection, invoice_id: str) -> list[PaymentResult]:
    """Records the payments that arrived before their invoice was exported."""
    mappings = services.mappings(connection)
    results = []
    for parked in mappings.parked_payments(invoice_id):
        payment = PaymentCompleted.model_validate(parked.detail)
        results.append(_record(connection, payment))
        mappings.unpark_payment(invoice_id, parked.payment_id)
    return results


def _record(connection: Connection, payment: PaymentCompleted) -> PaymentResult:
    mappings = services.mappings(connection)
    known = mappings.qbo_id("payment", payment.payment_id)
    if known:
        logger.info("Payment already recorded", payment_id=payment.payment_id, qbo_payment_id=known)
        return PaymentResult(ALREADY_RECORDED, known)
    invoice = mappings.exported_invoice(payment.invoice_id)
    if invoice is None:
        return _park(connection, payment, "invoice not exported yet")
    fields = payment_fields(
        payment, invoice.qbo_customer_id, invoice.qbo_invoice_id, get_settings().deposit_account_id
    )
    requestid = request_id(
        connection.contractor_id, connection.realm_id, "payment", payment.payment_id
    )
    created = services.qbo_client(connection).create("Payment", fields, requestid)
    mappings.remember("payment", payment.payment_id, str(created["Id"]))
    logger.info(
        "Payment recorded",
        payment_id=payment.payment_id,
        qbo_payment_id=created["Id"],
        qbo_invoice_id=invoice.qbo_invoice_id,
    )
    return PaymentResult(RECORDED, str(created["Id"]))


def _park(connection: Connection, payment: PaymentCompleted, why: str) -> PaymentResult:
    services.mappings(connection).park_payment(
        payment.invoice_id, payment.payment_id, payment.model_dump(mode="json")
    )
    logger.info(
        f"Payment parked: {why}", payment_id=payment.payment_id, invoice_id=payment.invoice_id
    )
    return PaymentResult(PARKED)
