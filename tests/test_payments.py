"""payment-completed events through the EventBridge consumer, asserting on the emulated QBO."""

from __future__ import annotations

from decimal import Decimal

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

CONSUMER = "PaymentCompletedFunction"


def _export(env: LocalEnvironment, contractor: str, number: str, amount: str) -> dict[str, object]:
    message = samples.invoice_sent(contractor, number, "Payer Co", [("Job", "1", amount)])
    env.platform.send_invoice(message)
    env.runtime.poll_sqs("InvoiceSentFunction")
    return message


def _balance(qbo: QboEmulator, realm: str, number: str) -> Decimal:
    return Decimal(str(by_doc_number(qbo, realm)[number]["Balance"]))


def test_payment_is_linked_to_the_invoice_and_it_shows_paid(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    _export(env, contractor, "1042", "1234.56")

    env.platform.complete_payment(
        samples.payment_completed(contractor, "inv_1042", "1042", "1234.56", payment_id="pay_55")
    )
    env.runtime.poll_eventbridge(CONSUMER)

    payments = qbo.entities(realm, "Payment")
    assert len(payments) == 1
    invoice = by_doc_number(qbo, realm)["1042"]
    linked = payments[0]["Line"][0]["LinkedTxn"][0]
    assert (linked["TxnId"], linked["TxnType"]) == (invoice["Id"], "Invoice")
    assert Decimal(str(payments[0]["TotalAmt"])) == Decimal("1234.56")
    assert payments[0]["CustomerRef"]["value"] == invoice["CustomerRef"]["value"]
    assert _balance(qbo, realm, "1042") == 0


def test_duplicate_payment_events_record_one_payment(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    _export(env, contractor, "5", "100.00")
    detail = samples.payment_completed(contractor, "inv_5", "5", "100.00", payment_id="pay_dup")

    for _ in range(3):
        env.platform.complete_payment(detail)
    env.runtime.poll_eventbridge(CONSUMER)

    assert len(qbo.entities(realm, "Payment")) == 1


def test_partial_payments_bring_the_balance_to_zero(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    _export(env, contractor, "6", "300.00")

    for index, amount in enumerate(("100.00", "150.00", "50.00")):
        env.platform.complete_payment(
            samples.payment_completed(contractor, "inv_6", "6", amount, payment_id=f"pay_6_{index}")
        )
        env.runtime.poll_eventbridge(CONSUMER)
        if index == 0:
            assert _balance(qbo, realm, "6") == Decimal("200.00")

    assert len(qbo.entities(realm, "Payment")) == 3
    assert _balance(qbo, realm, "6") == 0


def test_payment_before_its_invoice_is_parked_then_applied_after_export(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    env.platform.complete_payment(
        samples.payment_completed(contractor, "inv_8", "8", "80.00", payment_id="pay_early")
    )
    env.runtime.poll_eventbridge(CONSUMER)
    assert qbo.entities(realm, "Payment") == []

    _export(env, contractor, "8", "80.00")

    assert len(qbo.entities(realm, "Payment")) == 1
    assert _balance(qbo, realm, "8") == 0


def test_invalid_payment_event_is_refused_without_retry(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    _export(env, contractor, "9", "10.00")
    detail = samples.payment_completed(contractor, "inv_9", "9", "10.001")

    env.platform.complete_payment(detail)
    result = env.runtime.poll_eventbridge(CONSUMER)

    assert result.failed == 0
    assert qbo.entities(realm, "Payment") == []


def test_payment_for_a_contractor_without_quickbooks_is_acknowledged(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    env.platform.complete_payment(samples.payment_completed("ctr_none", "inv_1", "1", "5.00"))
    result = env.runtime.poll_eventbridge(CONSUMER)

    assert result.failed == 0
    assert qbo.entities(realm, "Payment") == []
