"""How platform things are written as QBO entities: pure functions, no I/O."""

from __future__ import annotations

import base64
import hashlib
import re
from decimal import Decimal
from typing import Any

from qbo_sync.events import Client, Invoice, InvoiceSent, PaymentCompleted

MAX_DISPLAY_NAME = 500
MAX_ITEM_NAME = 100
MAX_PAYMENT_REF = 21
_FORBIDDEN_IN_NAMES = re.compile(r"[:\t\r\n]+")  # QBO uses ':' for sub-customers/sub-items


def qbo_name(value: str, limit: int) -> str:
    cleaned = _FORBIDDEN_IN_NAMES.sub(" ", value).strip()
    return " ".join(cleaned.split())[:limit] or "-"


def item_name(invoice_number: str) -> str:
    return qbo_name(f"Invoice {invoice_number}", MAX_ITEM_NAME)


def customer_fields(client: Client, display_name: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"DisplayName": display_name}
    if client.company_name:
        fields["CompanyName"] = client.company_name[:100]
    if client.email:
        fields["PrimaryEmailAddr"] = {"Address": client.email}
    if client.phone:
        fields["PrimaryPhone"] = {"FreeFormNumber": client.phone[:30]}
    address = client.billing_address
    if address:
        bill = {
            "Line1": address.line1,
            "Line2": address.line2,
            "City": address.city,
            "CountrySubDivisionCode": address.region,
            "PostalCode": address.postal_code,
            "Country": address.country,
        }
        fields["BillAddr"] = {key: value for key, value in bill.items() if value}
    return fields


def service_item_fields(invoice_number: str, income_account_id: str) -> dict[str, Any]:
    return {
        "Name": item_name(invoice_number),
        "Type": "Service",
        "IncomeAccountRef": {"value": income_account_id},
    }


def invoice_fields(message: InvoiceSent, customer_id: str, item_id: str) -> dict[str, Any]:
    invoice = message.invoice
    fields: dict[str, Any] = {
        "CustomerRef": {"value": customer_id},
        "DocNumber": invoice.number,
        "TxnDate": invoice.issue_date.isoformat(),
        "Line": invoice_lines(invoice, item_id),
        "PrivateNote": f"qbo-sync: platform invoice {invoice.id}, revision {invoice.revision}",
    }
    if invoice.due_date:
        fields["DueDate"] = invoice.due_date.isoformat()
    if invoice.memo:
        fields["CustomerMemo"] = {"value": invoice.memo[:1000]}
    if message.client.email:
        fields["BillEmail"] = {"Address": message.client.email}
    return fields


def invoice_lines(invoice: Invoice, item_id: str) -> list[dict[str, Any]]:
    if not invoice.lines:
        return [_sales_line(invoice.memo or f"Invoice {invoice.number}", invoice.total, item_id)]
    lines = []
    for line in invoice.lines:
        detail_qty: tuple[Decimal, Decimal] | None = None
        description = line.description
        if line.unit_price is not None:
            if (line.quantity * line.unit_price).quantize(Decimal("0.01")) == line.amount:
                detail_qty = (line.quantity, line.unit_price)
            else:
                # QBO insists Amount = Qty × UnitPrice; the platform's amount is what was billed,
                # so the rate goes into the description and the amount is kept exactly.
                description = f"{description} ({line.quantity} × {line.unit_price})".strip()
        lines.append(_sales_line(description, line.amount, item_id, detail_qty))
    return lines


def payment_ref(payment_id: str) -> str:
    """PaymentRefNum holds 21 characters: a longer id keeps its start and gains a digest of the
    whole, so two ids that share their first 21 characters still get different references."""
    if len(payment_id) <= MAX_PAYMENT_REF:
        return payment_id
    digest = base64.b32encode(hashlib.sha256(payment_id.encode()).digest()).decode()[:8]
    return f"{payment_id[: MAX_PAYMENT_REF - 9]}~{digest}"


def payment_fields(
    payment: PaymentCompleted,
    customer_id: str,
    qbo_invoice_id: str,
    deposit_account_id: str,
    applied: Decimal | None = None,
) -> dict[str, Any]:
    """`applied`: how much of the payment goes to the invoice (default: all of it); QBO keeps the
    rest of TotalAmt as the customer's unapplied credit."""
    applied = payment.amount if applied is None else applied
    fields: dict[str, Any] = {
        "CustomerRef": {"value": customer_id},
        "TotalAmt": payment.amount,
        "TxnDate": payment.paid_at.date().isoformat(),
        "PaymentRefNum": payment_ref(payment.payment_id),
        "PrivateNote": (
            f"qbo-sync: platform payment {payment.payment_id} ({payment.method}) "
            f"of invoice {payment.invoice_number}"
        ),
    }
    if applied > 0:  # nothing left open: the whole payment is credit, linked to nothing
        fields["Line"] = [
            {"Amount": applied, "LinkedTxn": [{"TxnId": qbo_invoice_id, "TxnType": "Invoice"}]}
        ]
    if deposit_account_id:
        fields["DepositToAccountRef"] = {"value": deposit_account_id}
    return fields


def _sales_line(
    description: str,
    amount: Decimal,
    item_id: str,
    qty_price: tuple[Decimal, Decimal] | None = None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {"ItemRef": {"value": item_id}}
    if qty_price:
        detail["Qty"], detail["UnitPrice"] = qty_price
    line: dict[str, Any] = {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "SalesItemLineDetail": detail,
    }
    if description:
        line["Description"] = description[:4000]
    return line
