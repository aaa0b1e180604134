"""`make demo`'s payout step (docs/interface.md §10 to §12): the payment system pays the contractor
out, net of its fees, in one bank transfer. The payout waits until the contractor chooses the bank
account on the settings page, then becomes one QBO Deposit: its total is the bank transfer, the
fees are on the "Payment processing fees" expense account, and nothing of it is left in
Undeposited Funds."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

from local import samples
from local.environment import LocalEnvironment

CONSUMER = "PaymentCompletedFunction"
# The demo's payments (local/demo.py), each with the card processor's fee.
PAID_OUT = [
    ("pay_1042", "1234.56", "36.10"),
    ("pay_1043a", "300.00", "9.00"),
    ("pay_1043b", "246.00", "7.43"),
    ("pay_1044", "100.00", "3.20"),
]
ADJUSTMENT = ("Dispute fee", "-15.00")


def run_payout(env: LocalEnvironment, contractor: str, step: Any) -> int:
    """0 when the deposit is the bank transfer, fees included, and Undeposited Funds is empty."""
    items: list[dict[str, Any]] = [
        {"type": "payment", "payment_id": pid, "amount": amount, "fee": fee}
        for pid, amount, fee in PAID_OUT
    ]
    items.append({"type": "adjustment", "description": ADJUSTMENT[0], "amount": ADJUSTMENT[1]})
    detail = samples.payout_paid(contractor, "po_demo_1", items, arrival_date="2026-12-04")

    step(f"Payment system pays out {detail['amount']} (payout-paid on the bus), net of fees")
    env.platform.pay_out(detail)
    env.runtime.poll_sqs(CONSUMER)
    payouts = _api(env, "GET", "/quickbooks/payouts", contractor)["items"]
    for payout in payouts:
        print(f"    {payout['payout_id']}: {payout['status']} ({payout['reason']['message']})")

    step("Settings page: GET /quickbooks/accounts?type=bank; the contractor picks Checking")
    banks = _api(env, "GET", "/quickbooks/accounts", contractor, query={"type": "bank"})["items"]
    checking = next(bank for bank in banks if bank["name"] == "Checking")
    body = json.dumps({"payout_account_id": checking["id"]})
    settings = _api(env, "PUT", "/quickbooks/settings", contractor, body=body)
    print(f"    PUT /quickbooks/settings -> {settings}")
    env.runtime.poll_sqs(CONSUMER)
    for payout in _api(env, "GET", "/quickbooks/payouts", contractor)["items"]:
        print(
            f"    {payout['payout_id']}: {payout['status']}, QBO deposit {payout['qbo_deposit_id']}"
        )

    step("QuickBooks deposit and accounts, read back through the Accounting API")
    return _print_deposit(contractor, detail)


def _print_deposit(contractor: str, detail: dict[str, Any]) -> int:
    from qbo_sync.connection import services

    connection = services.connections().get(contractor)
    if connection is None:
        print("    the contractor is not connected", file=sys.stderr)
        return 1
    client = services.qbo_client(connection)
    names = {a["Id"]: a["Name"] for a in client.query("select * from Account maxresults 1000")}
    deposits = client.query("select * from Deposit")
    payments = client.query("select * from Payment")
    fees_expected = sum(Decimal(fee) for _, _, fee in PAID_OUT) - Decimal(ADJUSTMENT[1])
    for deposit in deposits:
        total = Decimal(str(deposit["TotalAmt"]))
        bank = names.get(deposit["DepositToAccountRef"]["value"], "?")
        print(f"    Deposit {deposit['Id']} into {bank}, {deposit['TxnDate']}: {total:.2f}")
    fees = -sum(
        (
            Decimal(str(line["Amount"]))
            for deposit in deposits
            for line in deposit["Line"]
            if names.get(line.get("DepositLineDetail", {}).get("AccountRef", {}).get("value"))
            == "Payment processing fees"
        ),
        Decimal("0"),
    )
    undeposited = _undeposited(names, payments, deposits)
    print(
        f"    bank transfer {detail['amount']}; on 'Payment processing fees' (Expense): {fees:.2f}"
    )
    print(f"    left in Undeposited Funds: {undeposited:.2f}")
    matches = [Decimal(str(d["TotalAmt"])) for d in deposits] == [Decimal(detail["amount"])]
    return 0 if matches and fees == fees_expected and undeposited == 0 else 1


def _undeposited(
    names: dict[str, str], payments: list[dict[str, Any]], deposits: list[dict[str, Any]]
) -> Decimal:
    received = sum(
        (
            Decimal(str(p["TotalAmt"]))
            for p in payments
            if names.get(p["DepositToAccountRef"]["value"]) == "Undeposited Funds"
        ),
        Decimal("0"),
    )
    deposited = sum(
        (
            Decimal(str(line["Amount"]))
            for d in deposits
            for line in d["Line"]
            if line.get("LinkedTxn")
        ),
        Decimal("0"),
    )
    return received - deposited


def _api(env: LocalEnvironment, method: str, path: str, contractor: str, **kwargs: Any) -> Any:
    return json.loads(env.platform.api(method, path, contractor, **kwargs)["body"])
