"""Replayed payments on an adopted invoice (docs/interface.md §15): never recorded twice, through
the payment consumer, asserting on the emulated company's Payments, Deposits and balances."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from history_support import request_history, run_history
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payments_support import pay
from payouts_support import api, choose_bank, pay_out, payment, payouts_list

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

CONTRACTOR = "ctr_hist_pay"
NUMBER, INVOICE, TOTAL = "HP-1", "inv_HP-1", "300.00"


@pytest.fixture
def realm(qbo: QboEmulator) -> str:
    return qbo.create_company("Alder Decks")


@pytest.fixture
def adopted(env: LocalEnvironment, qbo: QboEmulator, realm: str) -> dict[str, Any]:
    """HP-1 keyed into QuickBooks by hand before connecting, adopted by the history."""
    message = samples.invoice_sent(CONTRACTOR, NUMBER, "Dana Spruce", [("Deck", "1", TOTAL)])
    message["invoice"]["issue_date"] = "2026-10-01"
    env.platform.invoicing.remember(message)
    assert env.platform.connect_quickbooks(CONTRACTOR).endswith("quickbooks=connected")
    invoice = keyed_invoice(qbo, realm, NUMBER, "Dana Spruce", TOTAL)
    request_history(env, CONTRACTOR, "2026-01-01")
    run_history(env)
    return invoice


def keyed_invoice(qbo: QboEmulator, realm: str, number: str, client: str, total: str) -> Any:
    """An invoice the contractor keyed into QuickBooks by hand before connecting."""
    customers = {c["DisplayName"]: c["Id"] for c in qbo.entities(realm, "Customer")}
    customer = customers.get(client) or qbo.add_customer(realm, client)
    return qbo.key_invoice(realm, number, customer, total)


def keyed_payment(qbo: QboEmulator, realm: str, invoice: dict[str, Any], amount: str) -> str:
    """A payment the contractor received and keyed in by hand (Receive Payment)."""
    link = {"TxnId": invoice["Id"], "TxnType": "Invoice"}
    row = qbo.add_payment(
        realm,
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": amount,
            "Line": [{"Amount": amount, "LinkedTxn": [link]}],
        },
    )
    return str(row["Id"])


def replay(env: LocalEnvironment, payment_id: str, amount: str) -> None:
    detail = samples.payment_completed(CONTRACTOR, INVOICE, NUMBER, amount, payment_id=payment_id)
    result = pay(env, detail)
    assert result.failed == 0, result.errors


def payments(qbo: QboEmulator, realm: str) -> dict[str, Decimal]:
    return {str(p["Id"]): Decimal(str(p["TotalAmt"])) for p in qbo.entities(realm, "Payment")}


def balance(qbo: QboEmulator, realm: str) -> Decimal:
    return Decimal(str(by_doc_number(qbo, realm)[NUMBER]["Balance"]))


def listed_payment(env: LocalEnvironment, payment_id: str) -> dict[str, Any]:
    status, body = api(env, "GET", "/quickbooks/exports", CONTRACTOR)
    assert status == 200, body
    [item] = [i for i in body["items"] if i["invoice_id"] == INVOICE]
    assert item["adopted"] is True
    [entry] = [p for p in item["payments"] if p["payment_id"] == payment_id]
    return dict(entry)


def test_a_replayed_payment_adopts_the_hand_keyed_one_and_a_payout_deposits_it(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, adopted: dict[str, Any]
) -> None:
    by_hand = keyed_payment(qbo, realm, adopted, "100.00")
    replay(env, "pay_hp_1", "100.00")
    replay(env, "pay_hp_1", "100.00")  # redelivered

    assert payments(qbo, realm) == {by_hand: Decimal("100.00")}  # nothing created
    assert balance(qbo, realm) == Decimal("200.00")
    assert listed_payment(env, "pay_hp_1")["qbo_payment_id"] == by_hand
    # The adopted Payment is the platform payment's: a payout deposits it.
    choose_bank(env, qbo, realm, CONTRACTOR)
    detail = samples.payout_paid(CONTRACTOR, "po_hp_1", [payment("pay_hp_1", "100.00")])
    assert pay_out(env, detail).failed == 0
    [deposit] = qbo.entities(realm, "Deposit")
    assert [line["LinkedTxn"][0]["TxnId"] for line in deposit["Line"]] == [by_hand]


def test_two_payments_adopt_one_hand_keyed_payment_once(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, adopted: dict[str, Any]
) -> None:
    by_hand = keyed_payment(qbo, realm, adopted, "100.00")
    replay(env, "pay_hp_a", "100.00")
    replay(env, "pay_hp_b", "100.00")

    recorded = payments(qbo, realm)
    assert by_hand in recorded and len(recorded) == 2
    assert sum(recorded.values()) == Decimal("200.00")  # what the platform says was paid
    assert balance(qbo, realm) == Decimal("100.00")
    ids = {listed_payment(env, p)["qbo_payment_id"] for p in ("pay_hp_a", "pay_hp_b")}
    assert by_hand in ids and len(ids) == 2


def test_a_payment_partly_keyed_by_hand_is_recorded_up_to_the_open_balance(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, adopted: dict[str, Any]
) -> None:
    by_hand = keyed_payment(qbo, realm, adopted, "250.00")
    replay(env, "pay_hp_2", "100.00")

    recorded = payments(qbo, realm)
    [mine] = set(recorded) - {by_hand}
    assert recorded[mine] == Decimal("50.00")  # the rest was entered by hand: no credit
    assert balance(qbo, realm) == Decimal("0.00")
    # Not recorded in full: a payout or a refund naming it is the bookkeeper's to do by hand.
    choose_bank(env, qbo, realm, CONTRACTOR)
    detail = samples.payout_paid(CONTRACTOR, "po_hp_2", [payment("pay_hp_2", "100.00")])
    assert pay_out(env, detail).failed == 0
    [listed] = payouts_list(env, CONTRACTOR)["items"]
    assert (listed["status"], listed["reason"]["code"]) == ("failed", "payment_recorded_by_hand")
    assert "pay_hp_2" in listed["reason"]["message"]
    refund = samples.payment_refunded(CONTRACTOR, INVOICE, NUMBER, "pay_hp_2", "20.00")
    env.platform.refund_payment(refund)
    env.runtime.drain()
    assert qbo.entities(realm, "Deposit") == [] and qbo.entities(realm, "RefundReceipt") == []
    [shown] = listed_payment(env, "pay_hp_2")["refunds"]
    assert (shown["status"], shown["reason"]["code"]) == ("failed", "payment_recorded_by_hand")


def test_a_payment_on_an_invoice_paid_by_hand_is_acknowledged_without_a_write(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, adopted: dict[str, Any]
) -> None:
    keyed_payment(qbo, realm, adopted, "120.00")
    keyed_payment(qbo, realm, adopted, "180.00")
    before = payments(qbo, realm)
    replay(env, "pay_hp_3", "300.00")  # no hand-keyed payment of 300: nothing to adopt

    assert payments(qbo, realm) == before
    shown = listed_payment(env, "pay_hp_3")
    assert (shown["status"], shown["reason"]["code"]) == ("failed", "already_paid_in_quickbooks")
    choose_bank(env, qbo, realm, CONTRACTOR)
    detail = samples.payout_paid(CONTRACTOR, "po_hp_3", [payment("pay_hp_3", "300.00")])
    assert pay_out(env, detail).failed == 0
    [listed] = payouts_list(env, CONTRACTOR)["items"]
    assert listed["reason"]["code"] == "payment_recorded_by_hand"


CENTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)


@settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(paid=st.lists(CENTS, min_size=1, max_size=4), by_hand=st.lists(st.booleans(), max_size=4))
def test_history_keeps_an_adopted_invoice_and_records_exactly_what_the_platform_says_was_paid(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, paid: list[Decimal], by_hand: list[bool]
) -> None:
    """Money property (§15): whichever of the client's payments the contractor keyed in by
    hand, after the history and the replayed payments the hand-keyed invoice is unchanged and
    QuickBooks holds exactly what the platform says the client paid, to the cent."""
    if not env.platform.connect_quickbooks(CONTRACTOR).endswith("quickbooks=connected"):
        pytest.fail("not connected")
    number = f"HQ-{uuid.uuid4().hex[:8]}"
    total = sum(paid, Decimal("0")) + Decimal("10.00")  # something is still owed
    invoice = keyed_invoice(qbo, realm, number, "Ed Elm", str(total))
    hand = {i for i, keyed in enumerate(by_hand[: len(paid)]) if keyed}
    for i in hand:
        keyed_payment(qbo, realm, invoice, str(paid[i]))
    message = samples.invoice_sent(CONTRACTOR, number, "Ed Elm", [("Deck", "1", str(total))])
    env.platform.invoicing.remember(
        {**message, "invoice": {**message["invoice"], "issue_date": "2026-10-01"}}
    )
    request_history(env, CONTRACTOR, "2026-01-01")
    run_history(env)
    for i, amount in enumerate(paid):
        detail = samples.payment_completed(
            CONTRACTOR, f"inv_{number}", number, str(amount), payment_id=f"p{i}_{number}"
        )
        assert pay(env, detail).failed == 0

    shown = by_doc_number(qbo, realm)[number]
    # Payments move the invoice's SyncToken and Balance, never what the contractor keyed in.
    kept = ("Id", "DocNumber", "CustomerRef", "Line", "PrivateNote", "TxnDate")
    assert {k: shown.get(k) for k in kept} == {k: invoice.get(k) for k in kept}
    assert Decimal(str(shown["TotalAmt"])) == total
    linked = [
        p
        for p in qbo.entities(realm, "Payment")
        if any(line["LinkedTxn"][0]["TxnId"] == invoice["Id"] for line in p.get("Line", []))
    ]
    assert sum((Decimal(str(p["TotalAmt"])) for p in linked), Decimal("0")) == sum(paid)
    assert Decimal(str(shown["Balance"])) == total - sum(paid)


def test_a_crash_after_quickbooks_recorded_the_rest_of_a_payment_records_it_once(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, adopted: dict[str, Any]
) -> None:
    by_hand = keyed_payment(qbo, realm, adopted, "250.00")
    qbo.crash_after_commit_next(1)  # the Payment for what is open is stored, the answer lost
    replay(env, "pay_hp_4", "100.00")
    replay(env, "pay_hp_4", "100.00")  # and the event comes again

    recorded = payments(qbo, realm)
    [mine] = set(recorded) - {by_hand}
    assert recorded[mine] == Decimal("50.00")
    assert balance(qbo, realm) == Decimal("0.00")
    assert listed_payment(env, "pay_hp_4")["qbo_payment_id"] == mine
