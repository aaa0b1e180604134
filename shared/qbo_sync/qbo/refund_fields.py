"""Pure builders of a RefundReceipt (docs/interface.md §9; Intuit's RefundReceipt reference): the
refund on the invoice's item, so the invoice number shows in its Product/Service column, paid
out of the account in DepositToAccountRef."""

from __future__ import annotations

from typing import Any

from qbo_sync.events.payments import PaymentRefunded
from qbo_sync.qbo.fields import payment_ref
from qbo_sync.qbo.marker import marker


def refund_fields(
    refund: PaymentRefunded, customer_id: str, item_id: str, account_id: str
) -> dict[str, Any]:
    return {
        "CustomerRef": {"value": customer_id},
        "DepositToAccountRef": {"value": account_id},
        "TxnDate": refund.refunded_at.date().isoformat(),
        "PaymentRefNum": payment_ref(refund.refund_id),
        "PrivateNote": (
            f"{marker('refund', refund.refund_id)} ({refund.reason}) "
            f"of payment {refund.payment_id}, invoice {refund.invoice_number}"
        ),
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": refund.amount,
                "Description": f"Refund of invoice {refund.invoice_number}",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": item_id},
                    "Qty": 1,
                    "UnitPrice": refund.amount,
                },
            }
        ],
    }
