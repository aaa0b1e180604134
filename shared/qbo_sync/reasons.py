"""Why an invoice or a payment is not (yet) in QuickBooks, as the contractor reads it.

A reason is `{"code": <stable code>, "message": <a sentence saying what to do>}` (contracts.md §5).
Codes are part of the interface: the platform may translate or act on them, so they never change
meaning. Messages are written here, never copied from QuickBooks' fault text, so that no raw
JSON, stack trace or token can reach the settings page or the events.
"""

from __future__ import annotations

from typing import Any

from qbo_sync.qbo_errors import QboError

Reason = dict[str, str]

SUBSCRIPTION_ENDED = "subscription_ended"
ACCOUNTING_PERIOD_CLOSED = "accounting_period_closed"
INVOICE_DELETED = "invoice_deleted_in_quickbooks"
FIELD_REFUSED = "field_refused"
REFUSED = "quickbooks_refused"
REAUTHORIZATION = "reauthorization_required"
TEMPORARY = "qbo_unavailable"
GAVE_UP = "qbo_unavailable_gave_up"
NOT_CONNECTED = "not_connected"
INVOICE_NOT_EXPORTED = "invoice_not_exported"
PAYMENT_IN_PROGRESS = "payment_in_progress"
NAME_TAKEN = "client_name_taken"
NO_INCOME_ACCOUNT = "no_income_account"

_MESSAGES = {
    SUBSCRIPTION_ENDED: (
        "Your QuickBooks Online subscription has ended or has a billing problem. Renew it in "
        "QuickBooks, then retry the export."
    ),
    ACCOUNTING_PERIOD_CLOSED: (
        "QuickBooks refused it because its date is in a closed accounting period. Reopen the "
        "period in QuickBooks (Account and Settings, Advanced, Close the books), then retry."
    ),
    INVOICE_DELETED: (
        "The invoice was deleted or voided in QuickBooks. Restore it there, or send the invoice "
        "again from the platform, then retry."
    ),
    REAUTHORIZATION: (
        "QuickBooks needs you to reconnect. Click Connect on the Accounting export settings "
        "page; waiting invoices and payments then export by themselves."
    ),
    TEMPORARY: "QuickBooks had a temporary problem; the export is retried automatically.",
    GAVE_UP: (
        "QuickBooks kept failing, so automatic retries stopped. Check that QuickBooks Online "
        "is working, then retry."
    ),
    NOT_CONNECTED: (
        "QuickBooks was not connected when the invoice was sent. Connect QuickBooks, then retry."
    ),
    INVOICE_NOT_EXPORTED: "Waiting for the invoice to be exported to QuickBooks.",
    PAYMENT_IN_PROGRESS: "The payment is being recorded in QuickBooks.",
    NAME_TAKEN: (
        "QuickBooks has no free name for this client (the name is used by a vendor, an employee "
        "or an inactive customer). Rename one of them in QuickBooks, then retry."
    ),
    NO_INCOME_ACCOUNT: (
        "The QuickBooks company has no income account for the invoice's item. Add an income "
        "account in QuickBooks, then retry."
    ),
}

# QuickBooks field names, as the contractor knows them on the platform.
_FIELD_LABELS = {
    "DocNumber": "invoice number",
    "CustomerRef": "client",
    "DisplayName": "client name",
    "CompanyName": "client company name",
    "PrimaryEmailAddr": "client email",
    "BillEmail": "client email",
    "PrimaryPhone": "client phone",
    "BillAddr": "client billing address",
    "TxnDate": "issue date",
    "DueDate": "due date",
    "CustomerMemo": "memo",
    "Line": "invoice lines",
    "Amount": "line amount",
    "Qty": "line quantity",
    "UnitPrice": "line unit price",
    "TotalAmt": "amount",
    "PaymentRefNum": "payment reference",
    "Name": "item name",
}
_DELETED_CODES = {"610"}  # Object Not Found: deleted in QuickBooks since it was exported


def reason(code: str) -> Reason:
    return {"code": code, "message": _MESSAGES[code]}


def refused_field(element: str, what: str = "invoice") -> Reason:
    label = field_label(element)
    return {
        "code": FIELD_REFUSED,
        "message": (
            f"QuickBooks refused the {what}'s {label}. Correct the {label} on the platform and "
            f"send the {what} again, or retry."
        ),
        "field": label,
    }


def field_label(element: str) -> str:
    for part in reversed(element.split(".")):
        if part in _FIELD_LABELS:
            return _FIELD_LABELS[part]
    return element.split(".")[-1] or "data"


def for_fault(code: str, element: str = "", *, what: str = "invoice") -> Reason:
    """The reason for a QuickBooks fault code (and the element it named, if any)."""
    if code == "6190":
        return reason(SUBSCRIPTION_ENDED)
    if code == "6210":
        return reason(ACCOUNTING_PERIOD_CLOSED)
    if code == NO_INCOME_ACCOUNT:
        return reason(NO_INCOME_ACCOUNT)
    if code == "6240" and not element:
        return reason(NAME_TAKEN)
    if code in _DELETED_CODES or (code == "2500" and "LinkedTxn" in element):
        return reason(INVOICE_DELETED)
    if element:
        return refused_field(element, what)
    return {
        "code": REFUSED,
        "message": (
            f"QuickBooks refused the {what} (error {_safe_code(code)}). Check it in QuickBooks "
            "and on the platform, then retry."
        ),
    }


def for_error(error: QboError, *, what: str = "invoice") -> Reason:
    if error.transient:
        return reason(TEMPORARY)
    return for_fault(error.code, error.element, what=what)


def _safe_code(code: Any) -> str:
    text = str(code)
    return text if text.isalnum() and len(text) <= 12 else "unknown"
