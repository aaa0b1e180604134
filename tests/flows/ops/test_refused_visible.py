"""A payout or refund the system refuses at the edge is still visible (issue 25): the money
moved at the bank, so the bookkeeper must see why QuickBooks has nothing for it. Refused (not
retried, nothing written to QuickBooks) and listed as failed, its reason naming the field."""

from __future__ import annotations

import json
from typing import Any

from payments_support import CONSUMER
from payouts_support import choose_bank, paid, pay_out, payment, payouts_list

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator


def exports(env: LocalEnvironment, contractor: str) -> list[dict[str, Any]]:
    response = env.platform.api("GET", "/quickbooks/exports", contractor)
    assert response["statusCode"] == 200, response
    return list(json.loads(response["body"])["items"])


def test_a_payout_whose_items_do_not_add_up_is_listed_failed_naming_items(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "1", "100.00", "pay_1")
    choose_bank(env, qbo, realm, contractor)
    detail = samples.payout_paid(
        contractor, "po_bad", [payment("pay_1", "100.00", fee="3.00")], amount="100.00"
    )

    result = pay_out(env, detail)

    assert (result.succeeded, result.failed) == (1, 0)  # acknowledged, not retried
    assert qbo.entities(realm, "Deposit") == []
    [listed] = payouts_list(env, contractor)["items"]
    assert (listed["payout_id"], listed["status"], listed["amount"]) == (
        "po_bad",
        "failed",
        "100.00",
    )
    assert listed["qbo_deposit_id"] is None
    assert listed["reason"]["code"] == "payout_refused"
    assert listed["reason"]["field"] == "items"
    assert "items" in listed["reason"]["message"]
    assert [p["payout_id"] for p in payouts_list(env, contractor, status="failed")["items"]] == [
        "po_bad"
    ]


def test_a_payout_with_a_wrong_amount_is_listed_failed_naming_amount(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "2", "100.00", "pay_2")
    detail = samples.payout_paid(contractor, "po_neg", [payment("pay_2", "100.00")])
    detail["amount"] = "-5.00"

    pay_out(env, detail)

    [listed] = payouts_list(env, contractor)["items"]
    assert (listed["status"], listed["reason"]["field"]) == ("failed", "amount")


def test_a_malformed_redelivery_never_hides_a_deposited_payout(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "3", "100.00", "pay_3")
    choose_bank(env, qbo, realm, contractor)
    good = samples.payout_paid(contractor, "po_3", [payment("pay_3", "100.00")])
    pay_out(env, good)
    bad = {**good, "amount": "99.00"}

    pay_out(env, bad)

    [listed] = payouts_list(env, contractor)["items"]
    assert listed["status"] == "deposited"
    assert len(qbo.entities(realm, "Deposit")) == 1


def test_a_refund_refused_at_the_edge_is_failed_on_its_payments_entry(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "4", "100.00", "pay_4")
    detail = samples.payment_refunded(
        contractor, "inv_4", "4", "pay_4", "0.00", refund_id="rfd_bad"
    )

    env.platform.refund_payment(detail)
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.succeeded, result.failed) == (1, 0)
    assert qbo.entities(realm, "RefundReceipt") == []
    [item] = [i for i in exports(env, contractor) if i["invoice_id"] == "inv_4"]
    [entry] = item["payments"]
    assert entry["status"] == "recorded"  # the payment itself is untouched
    [refund] = entry["refunds"]
    assert (refund["refund_id"], refund["status"]) == ("rfd_bad", "failed")
    assert (refund["reason"]["code"], refund["reason"]["field"]) == ("refund_refused", "amount")


def test_retrying_a_refused_payout_refuses_it_again_and_deposits_nothing(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "5", "100.00", "pay_5")
    choose_bank(env, qbo, realm, contractor)
    bad = samples.payout_paid(contractor, "po_5", [payment("pay_5", "100.00")], amount="90.00")
    pay_out(env, bad)

    response = env.platform.api("POST", "/quickbooks/payouts/po_5/retry", contractor)
    result = env.runtime.poll_sqs(CONSUMER)

    assert response["statusCode"] == 202
    assert result.failed == 0
    assert qbo.entities(realm, "Deposit") == []
    [listed] = payouts_list(env, contractor)["items"]
    assert (listed["status"], listed["reason"]["field"]) == ("failed", "items")
