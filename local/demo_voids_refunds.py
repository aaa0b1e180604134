"""The demo's void and refund step (docs/interface.md §8, §9): the client cancels invoice 1044 (its
early payment stays as the client's credit) and gets 200.00 of invoice 1042's payment back."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from local import samples

if TYPE_CHECKING:
    from local.environment import LocalEnvironment

REFUNDED = Decimal("200.00")


def void_and_refund(env: LocalEnvironment, contractor: str) -> None:
    print("==> The contractor voids invoice 1044 (its 100.00 payment becomes the client's credit)")
    env.platform.send_invoice(samples.invoice_voided(contractor, "inv_1044", "1044"))
    result = env.runtime.poll_sqs("InvoiceSentFunction")
    print(f"    consumer: {result.succeeded} handled, {result.failed} failed")
    print(f"==> The payment system refunds {REFUNDED} of invoice 1042's payment")
    env.platform.refund_payment(
        samples.payment_refunded(
            contractor, "inv_1042", "1042", "pay_1042", str(REFUNDED), refund_id="rfd_1042"
        )
    )
    result = env.runtime.poll_sqs("PaymentCompletedFunction")
    print(f"    consumer: {result.succeeded} handled, {result.failed} failed")


def payment_text(payment: dict[str, Any]) -> str:
    """A payment of the export list, with its refunds (docs/interface.md §12)."""
    refunds = "".join(f" (refund {r['amount']} {r['status']})" for r in payment["refunds"])
    return f"{payment['amount']} {payment['status']}{refunds}"


def print_refunds(env: LocalEnvironment, contractor: str) -> int:
    """QuickBooks' refund receipts, read back through the Accounting API; 0 when the demo's
    one refund is there, exactly."""
    from qbo_sync.connection import services

    connection = services.connections().get(contractor)
    if connection is None:
        return 1
    client = services.qbo_client(connection)
    refunds = client.query("select * from RefundReceipt")
    accounts = {a["Id"]: a["Name"] for a in client.query("select * from Account")}
    print(f"    {'Refund':<8} {'Reference':<10} {'Amount':>10}  Paid from")
    for refund in refunds:
        account = accounts.get(refund["DepositToAccountRef"]["value"], "?")
        amount = Decimal(str(refund["TotalAmt"]))
        print(f"    {refund['Id']:<8} {refund['PaymentRefNum']:<10} {amount:>10.2f}  {account}")
    totals = [Decimal(str(refund["TotalAmt"])) for refund in refunds]
    return 0 if totals == [REFUNDED] else 1
