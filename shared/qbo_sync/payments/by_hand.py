"""A platform payment on an adopted invoice (docs/interface.md §15): the contractor keyed the
invoice into QuickBooks by hand, and maybe its payments too.

What the ledger knows (what the invoice is owed, what we applied) says nothing of the payments
keyed by hand, so QuickBooks' own copy decides: the invoice's Balance and the Payments linked
to it (two metered reads, on this path only: history and adopted invoices, never a live
export's payment). The platform payment then, in this order:
- is the Payment an earlier attempt of ours made (its marker): found, as once.py's find would;
- adopts a hand-keyed Payment that applies exactly its amount to the invoice and no other
  platform payment has adopted (the ledger's entries say which);
- is recorded for what is still open, at most its amount (the rest was entered by hand);
- or, with nothing open, is refused as `already_paid_in_quickbooks`.
A payment not recorded in full is `by_hand`: payouts and refunds naming it fail with
`payment_recorded_by_hand` (the bookkeeper deposits or refunds it by hand).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from qbo_sync.qbo.client import QboClient, quote
from qbo_sync.qbo.marker import is_ours, made_by_us


class InvoiceByHand(NamedTuple):
    balance: Decimal  # what QuickBooks says is still open
    payments: list[dict[str, Any]]  # the Payments linked to it, oldest first


class Choice(NamedTuple):
    """What the payment does: adopt (or find) `payment`, else create for `applied`."""

    applied: Decimal
    payment: dict[str, Any] | None = None
    keyed_by_hand: bool = False  # `payment` is the contractor's, not an earlier attempt's


def read_invoice(qbo: QboClient, qbo_invoice_id: str) -> InvoiceByHand:
    invoice = qbo.read("Invoice", qbo_invoice_id)
    ids = [
        str(link["TxnId"])
        for link in invoice.get("LinkedTxn") or []
        if link.get("TxnType") == "Payment"
    ]
    payments: list[dict[str, Any]] = []
    if ids:
        listed = ", ".join(quote(i) for i in ids)
        payments = qbo.query(f"select * from Payment where Id in ({listed})")
    payments.sort(key=lambda p: int(str(p["Id"])) if str(p["Id"]).isdigit() else 0)
    return InvoiceByHand(Decimal(str(invoice.get("Balance", "0"))), payments)


def choose(
    invoice: InvoiceByHand,
    qbo_invoice_id: str,
    payment_id: str,
    amount: Decimal,
    claimed: set[str],
) -> Choice | None:
    """None: nothing open and nothing to adopt (already paid in QuickBooks)."""
    for row in invoice.payments:
        if is_ours(row, "payment", payment_id):
            return Choice(applied_to(row, qbo_invoice_id), row)
    for row in invoice.payments:
        if str(row["Id"]) in claimed or made_by_us(row, "payment"):
            continue
        if applied_to(row, qbo_invoice_id) == amount:
            return Choice(amount, row, keyed_by_hand=True)
    if invoice.balance <= 0:
        return None
    return Choice(min(amount, invoice.balance))


def applied_to(payment: dict[str, Any], qbo_invoice_id: str) -> Decimal:
    """What a QBO Payment applies to the invoice (the sum of its lines linking it)."""
    return sum(
        (
            Decimal(str(line.get("Amount", 0)))
            for line in payment.get("Line", [])
            for linked in line.get("LinkedTxn", [])
            if linked.get("TxnId") == qbo_invoice_id and linked.get("TxnType") == "Invoice"
        ),
        Decimal("0"),
    )
