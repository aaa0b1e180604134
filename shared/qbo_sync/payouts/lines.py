"""A payout as a QBO Deposit: pure builders, no I/O.

Each payment is a line linked to its QBO Payment, for the payment's whole amount (which moves
it out of Undeposited Funds); each fee a negative line on the fees account; each refund a
negative line on the refunds clearing account; each adjustment a line of its own sign on the
fees account. QBO's TotalAmt is the sum of the lines, which the payout-paid model has checked
to be the payout's amount, so the deposit is the bank transfer to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from qbo_sync.events.payouts import PayoutPaid, PayoutPayment, PayoutRefund
from qbo_sync.qbo.marker import marker


class DepositAccounts(NamedTuple):
    bank: str
    fees: str | None  # needed when the payout has fees or adjustments
    refunds: str | None  # needed when it has refunds


def payout_note(payout_id: str) -> str:
    return marker("payout", payout_id)


def needs_fees_account(payout: PayoutPaid) -> bool:
    return any(
        (isinstance(item, PayoutPayment) and item.fee > 0) or item.type == "adjustment"
        for item in payout.items
    )


def needs_refunds_account(payout: PayoutPaid) -> bool:
    return any(isinstance(item, PayoutRefund) for item in payout.items)


def deposit_fields(
    payout: PayoutPaid,
    accounts: DepositAccounts,
    qbo_payments: dict[str, str],
    qbo_refunds: dict[str, str],
) -> dict[str, Any]:
    """`qbo_payments`, `qbo_refunds`: platform id -> QBO Payment / RefundReceipt id."""
    lines: list[dict[str, Any]] = []
    for item in payout.items:
        if isinstance(item, PayoutPayment):
            lines.append(_linked(item.amount, qbo_payments[item.payment_id]))
            if item.fee > 0:
                fee = f"Processing fee, payment {item.payment_id}"
                lines.append(_other(-item.fee, _required(accounts.fees), fee))
        elif isinstance(item, PayoutRefund):
            refund = f"Refund {item.refund_id} (QBO refund receipt {qbo_refunds[item.refund_id]})"
            lines.append(_other(-item.amount, _required(accounts.refunds), refund))
        else:
            lines.append(_other(item.amount, _required(accounts.fees), item.description))
    return {
        "DepositToAccountRef": {"value": accounts.bank},
        "TxnDate": payout.arrival_date.isoformat(),
        "PrivateNote": payout_note(payout.payout_id),
        "Line": lines,
    }


def lines_total(fields: dict[str, Any]) -> Decimal:
    return sum((Decimal(line["Amount"]) for line in fields["Line"]), Decimal("0"))


def _linked(amount: Decimal, qbo_payment_id: str) -> dict[str, Any]:
    return {
        "Amount": amount,
        "LinkedTxn": [{"TxnId": qbo_payment_id, "TxnType": "Payment", "TxnLineId": "0"}],
    }


def _other(amount: Decimal, account_id: str, description: str) -> dict[str, Any]:
    return {
        "Amount": amount,
        "DetailType": "DepositLineDetail",
        "DepositLineDetail": {"AccountRef": {"value": account_id}},
        "Description": description[:4000],
    }


def _required(account_id: str | None) -> str:
    if account_id is None:
        raise ValueError("the payout has a line for an account that was not given")
    return account_id
