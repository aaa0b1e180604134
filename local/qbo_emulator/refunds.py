"""RefundReceipt: money paid back to a customer, from the account in DepositToAccountRef.

Intuit's RefundReceipt reference: Line (sales item lines, as on an invoice) and
DepositToAccountRef are required; the account is the one the refund is paid from, an asset
(Bank, Other Current Asset) or a Credit Card account; TotalAmt is the sum of the lines and is
read-only, and Balance is 0 (a refund is settled when made). requestid replay is the API
layer's, as for every write (api.py)."""

from __future__ import annotations

from decimal import Decimal

from . import currency as currencies
from . import faults
from .clock import local_date
from .company import USD, Company
from .fields import email as email_field
from .fields import iso_date, nested_text, reference, text
from .jsonio import Json
from .transactions import sales_lines

REFUND_FIELDS = frozenset(
    {
        "CustomerRef",
        "Line",
        "DepositToAccountRef",
        "DocNumber",
        "TxnDate",
        "PrivateNote",
        "CustomerMemo",
        "BillEmail",
        "BillAddr",
        "ShipAddr",
        "ShipFromAddr",
        "TxnTaxDetail",
        "ApplyTaxAfterDiscount",
        "PrintStatus",
        "PaymentMethodRef",
        "PaymentRefNum",
        "PaymentType",
        "CheckPayment",
        "CreditCardPayment",
        "ClassRef",
        "DepartmentRef",
        "CurrencyRef",
        "ExchangeRate",
        "GlobalTaxCalculation",
        "TransactionLocationType",
        "TxnSource",
        "CustomField",
        "RecurDataRef",
        "TaxExemptionRef",
        "ProjectRef",
        "LinkedTxn",
        "TotalAmt",
        "HomeTotalAmt",
        "HomeBalance",
        "Balance",
    }
)
REFUND_READ_ONLY = frozenset({"TotalAmt", "HomeTotalAmt", "HomeBalance", "Balance"})
PAID_FROM = ("Bank", "Other Current Asset", "Credit Card")


def _paid_from(company: Company, value: object) -> Json:
    if value is None:
        raise faults.required("DepositToAccountRef")
    account = reference(company, "Account", value, "DepositToAccountRef")
    row = company.get("Account", account["value"])
    if row is None or row.get("AccountType") not in PAID_FROM:
        raise faults.business(
            "A refund is paid from a bank, other current asset or credit card account",
            "DepositToAccountRef",
        )
    return account


def build_refund(company: Company, fields: Json, existing: Json | None, now: float) -> Json:
    currencies.named(company, fields, existing)
    lines, total = sales_lines(company, fields.get("Line"))
    account = _paid_from(company, fields.get("DepositToAccountRef"))
    text(fields.get("DocNumber"), "DocNumber", 21)
    text(fields.get("PrivateNote"), "PrivateNote", 4000)
    text(fields.get("PaymentRefNum"), "PaymentRefNum", 21)
    nested_text(fields.get("CustomerMemo"), "CustomerMemo", {"value": 1000})
    refund: Json = {
        **fields,
        "Line": lines,
        "DepositToAccountRef": account,
        "TxnDate": iso_date(fields.get("TxnDate"), "TxnDate") or local_date(now),
        "TotalAmt": total,
        "Balance": Decimal("0.00"),
        "CurrencyRef": fields.get("CurrencyRef", dict(USD)),
        "PrintStatus": fields.get("PrintStatus", "NotSet"),
        "TxnTaxDetail": {"TotalTax": 0},
    }
    if fields.get("CustomerRef") is not None:
        refund["CustomerRef"] = reference(company, "Customer", fields["CustomerRef"], "CustomerRef")
    if fields.get("BillEmail") is not None:
        refund["BillEmail"] = email_field(fields["BillEmail"], "BillEmail")
    return refund
