"""Why an invoice or a payment is not (yet) in QuickBooks, as the contractor reads it.

A reason is `{"code": <stable code>, "message": <a sentence saying what to do>}`
(docs/interface.md §5). Codes are part of the interface: the platform may translate or act on
them, so they never change meaning. Messages are written here, never copied from QuickBooks'
fault text, so that no raw JSON, stack trace or token can reach the settings page or the
events. Which QuickBooks fault gives which reason is qbo/faults.py's table.
"""

from __future__ import annotations

from enum import StrEnum

Reason = dict[str, str]


class ReasonCode(StrEnum):
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
    ITEM_NAME_TAKEN = "item_name_taken"
    NO_INCOME_ACCOUNT = "no_income_account"
    TAX_RATE_NOT_FOUND = "tax_rate_not_found"
    CURRENCY_NOT_ENABLED = "currency_not_enabled"
    PAYMENT_NOT_RECORDED = "payment_not_recorded"
    PAYOUT_ACCOUNT_REQUIRED = "payout_account_required"
    PAYMENT_ALREADY_DEPOSITED = "payment_already_deposited"
    PAYOUT_AMOUNT_MISMATCH = "payout_payment_amount_mismatch"
    PAYOUT_IN_PROGRESS = "payout_in_progress"
    INVOICE_VOIDED = "invoice_voided"
    REFUND_EXCEEDS_PAYMENT = "refund_exceeds_payment"
    REFUND_OF_VOIDED_INVOICE = "refund_of_voided_invoice"
    INVOICE_NUMBER_TAKEN = "invoice_number_taken"
    INVOICE_DISMISSED = "invoice_dismissed"
    RETAINAGE_RELEASE_EXCEEDS_HELD = "retainage_release_exceeds_held"
    HISTORY_INCOMPLETE = "history_incomplete"
    ALREADY_PAID_IN_QUICKBOOKS = "already_paid_in_quickbooks"
    PAYMENT_RECORDED_BY_HAND = "payment_recorded_by_hand"


_MESSAGES: dict[ReasonCode, str] = {
    ReasonCode.SUBSCRIPTION_ENDED: (
        "Your QuickBooks Online subscription has ended or has a billing problem. Renew it in "
        "QuickBooks, then retry the export."
    ),
    ReasonCode.ACCOUNTING_PERIOD_CLOSED: (
        "QuickBooks refused it because its date is in a closed accounting period. Reopen the "
        "period in QuickBooks (Account and Settings, Advanced, Close the books), then retry."
    ),
    ReasonCode.INVOICE_DELETED: (
        "The invoice was deleted or voided in QuickBooks. Restore it there, or send the invoice "
        "again from the platform, then retry."
    ),
    ReasonCode.REAUTHORIZATION: (
        "QuickBooks needs you to reconnect. Click Connect on the Accounting export settings "
        "page; waiting invoices and payments then export by themselves."
    ),
    ReasonCode.TEMPORARY: (
        "QuickBooks had a temporary problem; the export is retried automatically."
    ),
    ReasonCode.GAVE_UP: (
        "QuickBooks kept failing, so automatic retries stopped. Check that QuickBooks Online "
        "is working, then retry."
    ),
    ReasonCode.NOT_CONNECTED: (
        "QuickBooks was not connected when the invoice was sent. Connect QuickBooks, then retry."
    ),
    ReasonCode.INVOICE_NOT_EXPORTED: "Waiting for the invoice to be exported to QuickBooks.",
    ReasonCode.PAYMENT_IN_PROGRESS: "The payment is being recorded in QuickBooks.",
    ReasonCode.NAME_TAKEN: (
        "QuickBooks has no free name for this client (the name is used by a vendor, an employee "
        "or an inactive customer). Link the client to their customer in QuickBooks on the "
        "Accounting export settings page, or rename one of them in QuickBooks, then retry."
    ),
    ReasonCode.ITEM_NAME_TAKEN: (
        "QuickBooks has no free product/service name for this invoice number (the names are "
        "used by inactive items). Rename or reactivate the item in QuickBooks, then retry."
    ),
    ReasonCode.NO_INCOME_ACCOUNT: (
        "The QuickBooks company has no income account for the invoice's item. Add an income "
        "account in QuickBooks, then retry."
    ),
    # {rate}, {currency} and {home} are filled in by `reason_naming`.
    ReasonCode.TAX_RATE_NOT_FOUND: (
        "QuickBooks has no sales tax rate matching {rate}. Add that rate in QuickBooks "
        "(Taxes, Sales tax settings), then retry."
    ),
    ReasonCode.RETAINAGE_RELEASE_EXCEEDS_HELD: (
        "The invoice releases {released} of retainage, but QuickBooks holds only {held} for "
        "{scope}. Export the earlier invoices that held it first (Export history from the date "
        "of {scope_short}'s first invoice, on the Accounting export settings page), then retry."
    ),
    ReasonCode.CURRENCY_NOT_ENABLED: (
        "The invoice is in {currency}, but the QuickBooks company works only in {home}. Turn "
        "on Multicurrency in QuickBooks (Account and Settings, Advanced), then retry."
    ),
    ReasonCode.PAYMENT_NOT_RECORDED: (
        "Waiting for a payment (or a payout's refund) to be recorded in QuickBooks; what "
        "waits for it, a refund or a payout's deposit, is recorded as soon as it is."
    ),
    ReasonCode.PAYOUT_ACCOUNT_REQUIRED: (
        "Choose the bank account payouts arrive in on the Accounting export settings page; "
        "waiting payouts are then deposited by themselves."
    ),
    ReasonCode.PAYMENT_ALREADY_DEPOSITED: (
        "A payment of this payout is already in another deposit in QuickBooks. Remove it from "
        "that deposit in QuickBooks, then retry."
    ),
    ReasonCode.PAYOUT_AMOUNT_MISMATCH: (
        "A payment of this payout has another amount in QuickBooks than in the payout. Check "
        "the payment in QuickBooks, then retry."
    ),
    ReasonCode.PAYOUT_IN_PROGRESS: "The payout is being deposited in QuickBooks.",
    ReasonCode.INVOICE_VOIDED: (
        "The invoice was voided on the platform, so it is voided in QuickBooks (or, if it was "
        "never exported, it never will be). Payments on it stay with the client as credit."
    ),
    ReasonCode.INVOICE_NUMBER_TAKEN: (
        "QuickBooks already has an invoice with this number that this system did not make "
        "(keyed in by hand, perhaps) for another client or amount, and it was left as it is. "
        "If it is this client's under another name, link the client to that customer on the "
        "Accounting export settings page; otherwise renumber or delete one of them in "
        "QuickBooks, or dismiss this invoice, then retry."
    ),
    ReasonCode.REFUND_OF_VOIDED_INVOICE: (
        "The invoice was voided, so this payment is the client's credit in QuickBooks and the "
        "refund was not recorded. Refund the client's credit in QuickBooks."
    ),
    ReasonCode.HISTORY_INCOMPLETE: (
        "The platform did not finish sending this part of your history within a day. Ask for "
        "your earlier invoices again to export the rest."
    ),
    ReasonCode.ALREADY_PAID_IN_QUICKBOOKS: (
        "This payment was already entered in QuickBooks by hand, so it was not recorded again."
    ),
    ReasonCode.PAYMENT_RECORDED_BY_HAND: (
        "The payment this names was entered in QuickBooks by hand, not by this export. "
        "Deposit or refund it by hand in QuickBooks."
    ),
    ReasonCode.INVOICE_DISMISSED: (
        "You chose not to export this invoice to QuickBooks. Click Retry to export it after all."
    ),
    ReasonCode.REFUND_EXCEEDS_PAYMENT: (
        "The refunds of this payment add up to more than the payment, so this one was not "
        "recorded. Check the refund's amount on the platform."
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


def reason(code: ReasonCode) -> Reason:
    return {"code": code.value, "message": _MESSAGES[code]}


def message_of(code: str) -> str | None:
    """The sentence of a stable code, when it names nothing (an invoice's history keeps codes
    only, docs/interface.md §14); None for a code without one."""
    try:
        message = _MESSAGES.get(ReasonCode(code))
    except ValueError:
        return None
    return message if message and "{" not in message else None


def reason_naming(code: ReasonCode, **names: str) -> Reason:
    """A reason whose sentence names what is missing (a tax rate, two currencies)."""
    return {"code": code.value, "message": _MESSAGES[code].format(**names)}


def recorded_by_hand(payment_id: str) -> Reason:
    """A payout or refund naming a payment QuickBooks holds by hand (docs/interface.md §15)."""
    why = reason(ReasonCode.PAYMENT_RECORDED_BY_HAND)
    return {**why, "message": f"{why['message']} (payment {payment_id})", "payment_id": payment_id}


def refused_field(element: str, what: str = "invoice") -> Reason:
    label = field_label(element)
    return {
        "code": ReasonCode.FIELD_REFUSED.value,
        "message": (
            f"QuickBooks refused the {what}'s {label}. Correct the {label} on the platform and "
            f"send the {what} again, or retry."
        ),
        "field": label,
    }


def refused(safe_code: str, what: str = "invoice") -> Reason:
    """QuickBooks refused it for a reason with no sentence of its own."""
    return {
        "code": ReasonCode.REFUSED.value,
        "message": (
            f"QuickBooks refused the {what} (error {safe_code}). Check it in QuickBooks "
            "and on the platform, then retry."
        ),
    }


def field_label(element: str) -> str:
    for part in reversed(element.split(".")):
        if part in _FIELD_LABELS:
            return _FIELD_LABELS[part]
    return element.split(".")[-1] or "data"
