"""payment-completed events through the EventBridge consumer, asserting on the emulated QBO:
what a recorded payment looks like, partial and over-payments, and payments that must wait."""

from __future__ import annotations

from decimal import Decimal

import pytest
from payments_support import balance, export, pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture, by_doc_number


def test_payment_is_linked_to_the_invoice_and_it_shows_paid(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "1042", "1234.56")

    pay(
        env,
        samples.payment_completed(contractor, "inv_1042", "1042", "1234.56", payment_id="pay_55"),
    )

    [payment] = qbo.entities(realm, "Payment")
    invoice = by_doc_number(qbo, realm)["1042"]
    [line] = payment["Line"]
    assert line["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    assert line["Amount"] == payment["TotalAmt"] == Decimal("1234.56")
    assert payment["CustomerRef"]["value"] == invoice["CustomerRef"]["value"]
    assert payment["TxnDate"] == "2026-11-25"
    assert payment["PaymentRefNum"] == "pay_55"
    assert "pay_55" in payment["PrivateNote"]
    assert payment["UnappliedAmt"] == 0
    assert balance(qbo, realm, "1042") == 0


def test_payment_goes_to_undeposited_funds_unless_a_deposit_account_is_configured(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qbo_sync.core import settings
    from qbo_sync.payments import recorder as payments

    accounts = {account["Name"]: account["Id"] for account in qbo.entities(realm, "Account")}
    export(env, contractor, "20", "50.00")
    pay(env, samples.payment_completed(contractor, "inv_20", "20", "20.00", payment_id="pay_a"))
    configured = settings.get_settings()._replace(deposit_account_id=accounts["Checking"])
    monkeypatch.setattr(payments, "get_settings", lambda: configured)
    pay(env, samples.payment_completed(contractor, "inv_20", "20", "30.00", payment_id="pay_b"))

    deposits = {
        payment["PaymentRefNum"]: payment["DepositToAccountRef"]["value"]
        for payment in qbo.entities(realm, "Payment")
    }
    assert deposits == {"pay_a": accounts["Undeposited Funds"], "pay_b": accounts["Checking"]}


def test_long_payment_ids_sharing_their_first_21_characters_keep_distinct_references(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "21", "20.00")
    long_ids = [f"pay_2026_11_25_batch_000{n}" for n in (1, 2)]

    for payment_id in long_ids:
        pay(
            env,
            samples.payment_completed(contractor, "inv_21", "21", "10.00", payment_id=payment_id),
        )

    payments = qbo.entities(realm, "Payment")
    references = {payment["PaymentRefNum"] for payment in payments}
    assert len(references) == 2
    assert all(len(reference) <= 21 for reference in references)
    notes = " ".join(payment["PrivateNote"] for payment in payments)
    assert all(payment_id in notes for payment_id in long_ids)
    assert balance(qbo, realm, "21") == 0


def test_three_partial_payments_bring_the_balance_to_zero_and_the_invoice_shows_paid(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "6", "300.00")
    balances = []

    for index, amount in enumerate(("100.00", "150.00", "50.00")):
        result = pay(
            env,
            samples.payment_completed(
                contractor, "inv_6", "6", amount, payment_id=f"pay_6_{index}"
            ),
        )
        assert result.succeeded == 1
        balances.append(balance(qbo, realm, "6"))

    assert balances == [Decimal("200.00"), Decimal("50.00"), Decimal("0.00")]
    assert len(qbo.entities(realm, "Payment")) == 3
    [invoice] = qbo.entities(realm, "Invoice")
    assert len(invoice["LinkedTxn"]) == 3  # QBO's Paid status: Balance 0 with payments linked


def test_overpayment_is_recorded_and_the_excess_stays_as_customer_credit(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    export(env, contractor, "7", "100.00")
    pay(env, samples.payment_completed(contractor, "inv_7", "7", "60.00", payment_id="pay_7a"))

    pay(env, samples.payment_completed(contractor, "inv_7", "7", "70.00", payment_id="pay_7b"))

    over = next(p for p in qbo.entities(realm, "Payment") if p["PaymentRefNum"] == "pay_7b")
    assert over["TotalAmt"] == Decimal("70.00")
    assert [line["Amount"] for line in over["Line"]] == [Decimal("40.00")]
    assert over["UnappliedAmt"] == Decimal("30.00")
    assert balance(qbo, realm, "7") == 0
    [customer] = [c for c in qbo.entities(realm, "Customer") if c["DisplayName"] == "Payer Co"]
    assert customer["Balance"] == Decimal("-30.00")  # the client's credit
    [warning] = logs.records(
        "Payment is more than the invoice's open balance: "
        "QuickBooks keeps the excess as the customer's credit"
    )
    assert warning["levelname"] == "WARNING"
    assert (warning["payment_id"], warning["unapplied"]) == ("pay_7b", "30.00")


def test_payment_of_a_paid_invoice_is_credit_and_costs_one_qbo_request(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "10", "100.00")
    pay(env, samples.payment_completed(contractor, "inv_10", "10", "100.00", payment_id="p1"))
    # The invoice's total is learned from QBO's refusal of the first over-applied line...
    pay(env, samples.payment_completed(contractor, "inv_10", "10", "20.00", payment_id="p2"))
    before = qbo.count_requests(realm)

    pay(env, samples.payment_completed(contractor, "inv_10", "10", "5.00", payment_id="p3"))

    # ...so the next payment is sent as credit at once.
    assert qbo.count_requests(realm) - before == 1
    credit = next(p for p in qbo.entities(realm, "Payment") if p["PaymentRefNum"] == "p3")
    assert "Line" not in credit or credit["Line"] == []
    assert credit["UnappliedAmt"] == Decimal("5.00")
    assert balance(qbo, realm, "10") == 0


def test_payment_before_its_invoice_is_parked_then_applied_after_export(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    result = pay(
        env, samples.payment_completed(contractor, "inv_8", "8", "80.00", payment_id="pay_early")
    )
    assert (result.succeeded, result.failed) == (1, 0)
    assert qbo.entities(realm, "Payment") == []
    assert logs.records("Payment parked: invoice not exported yet")

    export(env, contractor, "8", "80.00")

    assert len(qbo.entities(realm, "Payment")) == 1
    assert balance(qbo, realm, "8") == 0


def test_payment_after_its_invoice_is_applied_at_once(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    export(env, contractor, "11", "80.00")

    pay(env, samples.payment_completed(contractor, "inv_11", "11", "80.00", payment_id="pay_late"))

    assert len(qbo.entities(realm, "Payment")) == 1
    assert balance(qbo, realm, "11") == 0
    assert not logs.records("Payment parked: invoice not exported yet")


def test_payment_parked_while_its_invoice_finishes_exporting_is_applied_at_once(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qbo_sync.core import aws
    from qbo_sync.invoices.mappings import MappingStore

    export(env, contractor, "12", "80.00")
    real = MappingStore.exported_invoice
    calls: list[str] = []

    def export_finishing_meanwhile(self: MappingStore, invoice_id: str) -> object:
        calls.append(invoice_id)  # the first look comes just before the export's write
        return None if len(calls) == 1 else real(self, invoice_id)

    monkeypatch.setattr(MappingStore, "exported_invoice", export_finishing_meanwhile)
    # No ledger yet, as when the export has not reached its apply_parked_payments call.
    aws.dynamodb().delete_item(
        TableName=env.stack.environment["MAPPINGS_TABLE"],
        Key={"pk": {"S": contractor}, "sk": {"S": f"{realm}#payments#inv_12"}},
    )

    pay(env, samples.payment_completed(contractor, "inv_12", "12", "80.00", payment_id="pay_12"))

    assert len(qbo.entities(realm, "Payment")) == 1
    assert balance(qbo, realm, "12") == 0


def test_payment_for_a_contractor_without_quickbooks_is_acknowledged_as_skipped(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, logs: LogCapture
) -> None:
    result = pay(env, samples.payment_completed("ctr_none", "inv_1", "1", "5.00"))

    assert (result.invocations, result.succeeded, result.failed) == (1, 1, 0)
    assert qbo.entities(realm, "Payment") == []
    assert logs.records("Payment not recorded: QuickBooks is not connected")


def test_payments_parked_while_quickbooks_needs_reauthorization_are_applied_on_reconnect(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    from qbo_sync.workflows.reconnect import resume_parked_payments

    export(env, contractor, "30", "100.00")
    qbo.revoke_refresh_tokens(realm)
    qbo.expire_access_tokens(realm)
    # The first payment finds out (its token refresh is refused); the second is parked at once.
    for payment_id, amount in (("pay_30a", "40.00"), ("pay_30b", "60.00")):
        result = pay(
            env,
            samples.payment_completed(contractor, "inv_30", "30", amount, payment_id=payment_id),
        )
        assert (result.succeeded, result.failed) == (1, 0)
    assert qbo.entities(realm, "Payment") == []
    assert len(logs.records("Payment parked: QuickBooks needs reauthorization")) == 2

    assert env.platform.connect_quickbooks(contractor).endswith("quickbooks=connected")
    resume_parked_payments(contractor)  # the callback's job; calling it again changes nothing

    assert sorted(p["PaymentRefNum"] for p in qbo.entities(realm, "Payment")) == [
        "pay_30a",
        "pay_30b",
    ]
    assert balance(qbo, realm, "30") == 0
    assert resume_parked_payments(contractor) == 0


def test_resume_parked_payments_counts_what_it_recorded_and_leaves_unexported_invoices_parked(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    from qbo_sync.connection import services
    from qbo_sync.core.statuses import ConnectionStatus
    from qbo_sync.workflows.reconnect import resume_parked_payments

    export(env, contractor, "31", "100.00")
    export(env, contractor, "32", "100.00")
    connections = services.connections()
    connected = connections.get(contractor)
    assert connected is not None
    assert connections.mark_reauthorization_required(connected)
    for invoice, payment_id in (("31", "p31"), ("32", "p32"), ("33", "p33")):
        pay(
            env,
            samples.payment_completed(
                contractor, f"inv_{invoice}", invoice, "100.00", payment_id=payment_id
            ),
        )
    reconnected = connections.get(contractor)
    assert reconnected is not None
    connections.put(reconnected._replace(status=ConnectionStatus.CONNECTED))

    assert resume_parked_payments(contractor) == 2

    assert sorted(p["PaymentRefNum"] for p in qbo.entities(realm, "Payment")) == ["p31", "p32"]
    export(env, contractor, "33", "100.00")  # invoice 33 was never exported: its payment waited
    assert balance(qbo, realm, "33") == 0
    assert len(qbo.entities(realm, "Payment")) == 3
