"""payout-paid events through the EventBridge consumer (docs/interface.md §10), asserting on the
emulated QBO company: one Deposit per payout into the chosen bank account, the bank transfer to
the cent, fees and adjustments on the fees account, nothing left in Undeposited Funds; and the
payouts that must wait, or fail, with their reasons."""

from __future__ import annotations

from decimal import Decimal

from connection_support import capture_events
from payments_support import CONSUMER, export, pay
from payouts_support import (
    accounts,
    adjustment,
    choose_bank,
    paid,
    pay_out,
    payment,
    payouts_list,
    posted_to,
    refund,
    undeposited,
)

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture

DEPOSITED = "QuickBooks Payout Deposited"
WAITING = "QuickBooks Payout Waiting"


def test_payout_is_one_deposit_of_the_bank_transfer_with_fees_on_the_expense_account(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "1042", "1234.56", "pay_55")
    paid(env, contractor, "1043", "1000.00", "pay_56")
    bank = choose_bank(env, qbo, realm, contractor)
    detail = samples.payout_paid(
        contractor,
        "po_88",
        [
            payment("pay_55", "1234.56", fee="36.10"),
            payment("pay_56", "1000.00", fee="29.30"),
            adjustment("Dispute fee", "-7.76"),
        ],
    )
    assert detail["amount"] == "2161.40"

    with capture_events("payouts") as emitted:
        result = pay_out(env, detail)

    assert result.failed == 0, result.errors
    [deposit] = qbo.entities(realm, "Deposit")
    assert deposit["TotalAmt"] == Decimal("2161.40")
    assert deposit["DepositToAccountRef"]["value"] == bank
    assert deposit["TxnDate"] == "2026-12-04"
    fees = accounts(qbo, realm)["Payment processing fees"]
    assert fees["AccountType"] == "Expense"
    assert posted_to(qbo, realm, fees["Id"]) == Decimal("-73.16")
    qbo_payments = {p["PaymentRefNum"]: p["Id"] for p in qbo.entities(realm, "Payment")}
    linked = {
        line["LinkedTxn"][0]["TxnId"]: line["Amount"]
        for line in deposit["Line"]
        if line.get("LinkedTxn")
    }
    assert linked == {
        qbo_payments["pay_55"]: Decimal("1234.56"),
        qbo_payments["pay_56"]: Decimal("1000.00"),
    }
    assert undeposited(qbo, realm) == 0
    assert emitted.details(DEPOSITED) == [
        {
            "schema_version": 1,
            "contractor_id": contractor,
            "payout_id": "po_88",
            "qbo_deposit_id": deposit["Id"],
            "amount": "2161.40",
        }
    ]
    [item] = payouts_list(env, contractor)["items"]
    assert item["status"] == "deposited"
    assert item["qbo_deposit_id"] == deposit["Id"]
    assert item["qbo_url"].endswith(f"/app/deposit?txnId={deposit['Id']}")
    assert (item["amount"], item["arrival_date"], item["reason"]) == ("2161.40", "2026-12-04", None)


def test_payout_whose_items_do_not_add_up_is_refused_naming_the_field_and_not_retried(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    paid(env, contractor, "1", "100.00", "pay_1")
    choose_bank(env, qbo, realm, contractor)
    detail = samples.payout_paid(
        contractor, "po_bad", [payment("pay_1", "100.00", fee="3.00")], amount="100.00"
    )

    result = pay_out(env, detail)

    assert (result.succeeded, result.failed) == (1, 0)  # acknowledged: retrying cannot fix it
    assert qbo.entities(realm, "Deposit") == []
    [refused] = logs.records("Payout event refused")
    assert any(problem.startswith("items:") for problem in refused["problems"])
    assert "add up" in " ".join(refused["problems"])
    # Still visible: the money reached the bank (issue 25; tests/test_refused_visible.py).
    [listed] = payouts_list(env, contractor)["items"]
    assert (listed["status"], listed["reason"]["field"]) == ("failed", "items")


def test_payout_waits_for_a_bank_account_and_deposits_once_the_contractor_chooses_one(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "2", "200.00", "pay_2")
    detail = samples.payout_paid(contractor, "po_2", [payment("pay_2", "200.00", "5.80")])

    with capture_events("payouts") as emitted:
        pay_out(env, detail)
        [listed] = payouts_list(env, contractor)["items"]
        waited = list(emitted.details(WAITING))
        choose_bank(env, qbo, realm, contractor)
        result = env.runtime.poll_sqs(CONSUMER)

    assert (listed["status"], listed["reason"]["code"]) == ("waiting", "payout_account_required")
    [waiting] = waited
    assert (waiting["payout_id"], waiting["reason"]["code"]) == ("po_2", "payout_account_required")

    assert result.failed == 0, result.errors
    [deposit] = qbo.entities(realm, "Deposit")
    assert deposit["TotalAmt"] == Decimal("194.20")
    assert payouts_list(env, contractor)["items"][0]["status"] == "deposited"
    assert len(emitted.details(WAITING)) == 1
    assert [d["payout_id"] for d in emitted.details(DEPOSITED)] == ["po_2"]


def test_payout_waits_for_a_payment_not_recorded_yet_and_deposits_once_it_is(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    paid(env, contractor, "3", "300.00", "pay_3a")
    export(env, contractor, "4", "50.00")
    detail = samples.payout_paid(
        contractor,
        "po_3",
        [payment("pay_3a", "300.00", "8.70"), payment("pay_3b", "50.00", "1.75")],
    )

    with capture_events("payouts") as emitted:
        pay_out(env, detail)

    assert qbo.entities(realm, "Deposit") == []
    [item] = payouts_list(env, contractor)["items"]
    assert (item["status"], item["reason"]["code"]) == ("waiting", "payment_not_recorded")
    assert [w["reason"]["code"] for w in emitted.details(WAITING)] == ["payment_not_recorded"]

    # The payment's record sends the payout again; the same poll deposits it.
    result = pay(
        env, samples.payment_completed(contractor, "inv_4", "4", "50.00", payment_id="pay_3b")
    )
    result = result.add(env.runtime.poll_sqs(CONSUMER))

    assert result.failed == 0, result.errors
    [deposit] = qbo.entities(realm, "Deposit")
    assert deposit["TotalAmt"] == Decimal("339.55")
    assert undeposited(qbo, realm) == 0
    assert payouts_list(env, contractor)["items"][0]["status"] == "deposited"


def test_payout_listing_a_refund_waits_until_the_refund_is_recorded(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    paid(env, contractor, "5", "500.00", "pay_5")
    detail = samples.payout_paid(
        contractor, "po_5", [payment("pay_5", "500.00", "14.80"), refund("rfd_31", "200.00")]
    )

    pay_out(env, detail)

    assert qbo.entities(realm, "Deposit") == []
    [item] = payouts_list(env, contractor)["items"]
    assert (item["status"], item["reason"]["code"]) == ("waiting", "payment_not_recorded")
    assert undeposited(qbo, realm) == Decimal("500.00")

    # The refund is recorded: the payout that waited for it deposits right after.
    refunded = samples.payment_refunded(
        contractor, "inv_5", "5", "pay_5", "200.00", refund_id="rfd_31"
    )
    env.platform.refund_payment(refunded)
    env.runtime.poll_sqs(CONSUMER)

    _deposited_with_its_refund(qbo, realm, Decimal("285.20"))
    assert payouts_list(env, contractor)["items"][0]["status"] == "deposited"


def test_payout_netting_a_refund_recorded_before_it_deposits_at_once(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    paid(env, contractor, "15", "500.00", "pay_15")
    refunded = samples.payment_refunded(
        contractor, "inv_15", "15", "pay_15", "200.00", refund_id="rfd_15"
    )
    env.platform.refund_payment(refunded)
    env.runtime.poll_sqs(CONSUMER)
    detail = samples.payout_paid(
        contractor, "po_15", [payment("pay_15", "500.00", "14.80"), refund("rfd_15", "200.00")]
    )

    pay_out(env, detail)
    pay_out(env, detail)  # delivered twice

    _deposited_with_its_refund(qbo, realm, Decimal("285.20"))


def _deposited_with_its_refund(qbo: QboEmulator, realm: str, total: Decimal) -> None:
    """One Deposit of the bank transfer: the payment linked, the fee and the refund negative
    lines (the refund on Refunds clearing, where its RefundReceipt paid it from)."""
    [deposit] = qbo.entities(realm, "Deposit")
    assert deposit["TotalAmt"] == total
    [receipt] = qbo.entities(realm, "RefundReceipt")
    clearing = receipt["DepositToAccountRef"]["value"]
    on_clearing = [
        line["Amount"]
        for line in deposit["Line"]
        if (line.get("DepositLineDetail") or {}).get("AccountRef", {}).get("value") == clearing
    ]
    assert on_clearing == [Decimal("-200.00")]
    assert undeposited(qbo, realm) == Decimal("0.00")


def test_payment_already_deposited_by_another_payout_fails_the_second_with_its_reason(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    paid(env, contractor, "6", "60.00", "pay_6")
    pay_out(env, samples.payout_paid(contractor, "po_6a", [payment("pay_6", "60.00", "2.04")]))

    result = pay_out(env, samples.payout_paid(contractor, "po_6b", [payment("pay_6", "60.00")]))

    assert result.failed == 0, result.errors
    assert len(qbo.entities(realm, "Deposit")) == 1
    by_id = {item["payout_id"]: item for item in payouts_list(env, contractor)["items"]}
    assert by_id["po_6a"]["status"] == "deposited"
    assert (by_id["po_6b"]["status"], by_id["po_6b"]["reason"]["code"]) == (
        "failed",
        "payment_already_deposited",
    )


def test_payout_arriving_while_quickbooks_needs_reconnecting_deposits_after_the_reconnect(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    paid(env, contractor, "8", "80.00", "pay_8")
    qbo.deauthorize_app(realm)  # QBO now answers 403, code 3100

    with capture_events("payouts") as emitted:
        pay_out(env, samples.payout_paid(contractor, "po_8", [payment("pay_8", "80.00", "2.62")]))
        pay_out(env, samples.payout_paid(contractor, "po_8", [payment("pay_8", "80.00", "2.62")]))

    [item] = payouts_list(env, contractor)["items"]
    assert (item["status"], item["reason"]["code"]) == ("waiting", "reauthorization_required")
    assert len(emitted.details(WAITING)) == 1  # the redelivery changed nothing: no event
    assert qbo.entities(realm, "Deposit") == []

    assert env.platform.connect_quickbooks(contractor).endswith("quickbooks=connected")
    result = env.runtime.drain()

    assert result.failed == 0, result.errors
    [deposit] = qbo.entities(realm, "Deposit")
    assert deposit["TotalAmt"] == Decimal("77.38")
    assert undeposited(qbo, realm) == 0
