"""How platform things are written as QBO entities: pure functions, no I/O."""

from __future__ import annotations

import base64
import hashlib
import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from qbo_sync.events import LineKind
from qbo_sync.qbo.marker import marker

if TYPE_CHECKING:  # each function loads the models of the events it reads only (events/)
    from qbo_sync.events.invoices import Address, Client, Invoice, InvoiceSent
    from qbo_sync.events.payments import PaymentCompleted

MAX_DISPLAY_NAME = 500
MAX_ITEM_NAME = 100
MAX_PAYMENT_REF = 21
# QBO joins parent and sub-customer (or sub-item) names with ':', and tabs and line breaks break
# its lists; other control characters have no business in a name either.
_FORBIDDEN_IN_NAMES = re.compile(r"[ ]*[:\x00-\x1f\x7f]+[ ]*")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
MAX_EMAIL = 100
MAX_PHONE = 30
ADDRESS_LIMITS = {
    "Line1": 500,
    "Line2": 500,
    "City": 255,
    "CountrySubDivisionCode": 255,
    "PostalCode": 30,
    "Country": 255,
}
CENT = Decimal("0.01")
_CHARGE_OF = {LineKind.FEE: "fee", LineKind.RETAINAGE_RELEASE: "retainage"}


def qbo_name(value: str, limit: int) -> str:
    """A name QBO accepts, as close to `value` as allowed: forbidden characters become a space;
    anything else (quotes, backslashes, unicode, inner spacing) is kept exactly."""
    return _FORBIDDEN_IN_NAMES.sub(" ", value).strip()[:limit].strip() or "-"


def disambiguated_name(display_name: str, client_id: str) -> str:
    """For a client whose name a QBO vendor or employee already holds."""
    suffix = f" ({qbo_name(client_id, 100)})"
    return qbo_name(display_name, MAX_DISPLAY_NAME - len(suffix)) + suffix


def currency_name(display_name: str, currency: str) -> str:
    """The client's customer in a currency other than the home one: "Jane O'Neil (EUR)"."""
    suffix = f" ({currency})"
    return qbo_name(display_name, MAX_DISPLAY_NAME - len(suffix)) + suffix


def item_name(invoice_number: str, invoice_id: str | None = None) -> str:
    """The item that shows the invoice number in the Product/Service column; with the platform
    invoice id when the plain name is taken by an item we cannot use."""
    if invoice_id is None:
        return qbo_name(f"Invoice {invoice_number}", MAX_ITEM_NAME)
    suffix = f" ({qbo_name(invoice_id, 60)})"
    return qbo_name(f"Invoice {invoice_number}", MAX_ITEM_NAME - len(suffix)) + suffix


def email_address(value: str | None) -> str | None:
    """An address QBO will take, or None: a bad address must not stop the invoice."""
    if not value:
        return None
    value = value.strip()
    return value if len(value) <= MAX_EMAIL and _EMAIL.fullmatch(value) else None


def customer_fields(
    client: Client, display_name: str, currency: str | None = None
) -> dict[str, Any]:
    """`currency`: a customer's currency other than the company's home currency (it cannot
    change once the customer exists)."""
    fields: dict[str, Any] = {"DisplayName": display_name}
    if client.company_name and client.company_name.strip():
        fields["CompanyName"] = _text(client.company_name, 100)
    email = email_address(client.email)
    if email:
        fields["PrimaryEmailAddr"] = {"Address": email}
    if client.phone and len(client.phone.strip()) <= MAX_PHONE:  # cut short it is wrong
        fields["PrimaryPhone"] = {"FreeFormNumber": client.phone.strip()}
    bill = address_fields(client.billing_address)
    if bill:
        fields["BillAddr"] = bill
    if currency:
        fields["CurrencyRef"] = {"value": currency}
    return fields


def address_fields(address: Address | None) -> dict[str, str] | None:
    """A platform address as a QBO one (BillAddr, ShipAddr), or None when nothing is in it."""
    if address is None:
        return None
    values = {
        "Line1": address.line1,
        "Line2": address.line2,
        "City": address.city,
        "CountrySubDivisionCode": address.region,
        "PostalCode": address.postal_code,
        "Country": address.country,
    }
    kept = {
        key: _text(value, ADDRESS_LIMITS[key])
        for key, value in values.items()
        if value and value.strip()
    }
    return kept or None


def service_item_fields(name: str, income_account_id: str) -> dict[str, Any]:
    return {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": income_account_id}}


def invoice_note(invoice: Invoice) -> str:
    """PrivateNote: which platform invoice and revision a QBO invoice is (qbo/marker.py)."""
    return f"{marker('invoice', invoice.id)}, revision {invoice.revision}"


def invoice_fields(
    message: InvoiceSent,
    customer_id: str,
    item_id: str,
    charge_items: dict[str, str] | None = None,
    job_in_memo: bool = True,
) -> dict[str, Any]:
    """`charge_items`: the items of fee and retainage lines ("fee", "retainage": item id);
    `job_in_memo`: the invoice's job, if any, is named in its memo (it is not on a sub-customer:
    docs/interface.md §17)."""
    invoice = message.invoice
    fields: dict[str, Any] = {
        "CustomerRef": {"value": customer_id},
        "DocNumber": invoice.number,
        "TxnDate": invoice.issue_date.isoformat(),
        "Line": invoice_lines(invoice, item_id, charge_items or {}),
        "PrivateNote": invoice_note(invoice),
    }
    if invoice.due_date:
        fields["DueDate"] = invoice.due_date.isoformat()
    memo = (invoice.memo or "").strip()
    if invoice.job and job_in_memo:
        memo = f"Job: {invoice.job.name}" + (f"\n{memo}" if memo else "")
    if memo:
        fields["CustomerMemo"] = {"value": _text(memo, 1000)}
    email = email_address(message.client.email)
    if email:
        fields["BillEmail"] = {"Address": email}
    return fields


def invoice_lines(
    invoice: Invoice, item_id: str, charge_items: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Work lines on the invoice-number item, fee lines on the fee item, retainage released
    on the retainage item, then the retainage held as a negative line on it; the amounts are
    the platform's, so TotalAmt is the platform's total to the cent. The lines are in the order
    of `Invoice.taxable_flags`."""
    charge_items = charge_items or {}
    if not invoice.lines:
        # Without lines the total is what the client owes, tax included (docs/interface.md §7).
        amount = invoice.total - invoice.tax_amount + invoice.discount_amount
        return [_sales_line(invoice.memo or f"Invoice {invoice.number}", amount, item_id)]
    lines = []
    for line in invoice.lines:
        rate = (line.quantity, line.unit_price) if line.unit_price is not None else None
        description = line.description
        if rate and not _multiplies_out(*rate, line.amount):
            # QBO insists Amount = Qty × UnitPrice; the platform's amount is what was billed,
            # so the rate goes into the description and the amount is kept exactly.
            description = f"{description} ({line.quantity} × {line.unit_price})".strip()
            rate = None
        item = item_id if line.is_work else charge_items[_CHARGE_OF[line.kind]]
        lines.append(_sales_line(description, line.amount, item, rate))
    held = invoice.retainage_held
    if held > 0:
        percent = invoice.retainage.percent if invoice.retainage else None
        label = f"Retainage held ({percent.normalize():f}%)" if percent else "Retainage held"
        lines.append(_sales_line(label, -held, charge_items["retainage"]))
    return lines


def _multiplies_out(quantity: Decimal, unit_price: Decimal, amount: Decimal) -> bool:
    """True when QBO, whichever way it rounds half a cent, will find Qty x UnitPrice = Amount,
    and both numbers survive the trip through a JSON float."""
    product = quantity * unit_price
    rounded = {product.quantize(CENT, rounding=mode) for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN)}
    exact_on_wire = all(Decimal(repr(float(value))) == value for value in (quantity, unit_price))
    return rounded == {amount} and exact_on_wire


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
            f"{marker('payment', payment.payment_id)} ({payment.method}) "
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
    description = _text(description, 4000)
    if description:
        line["Description"] = description
    return line


def _text(value: str, limit: int) -> str:
    return _CONTROL_IN_TEXT.sub("", value).strip()[:limit]
