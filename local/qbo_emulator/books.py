"""The company's account balances, as QBO posts its transactions (a bookkeeper's trial balance):
what the books checks assert on (docs/books.md).

Postings, debit positive: an Invoice debits A/R by TotalAmt, credits each sales line's account
(the item's, `ItemAccountRef`: income, or an asset such as Retainage receivable for a negative
retainage line) by its Amount, debits the discount account by each discount line and credits
Sales tax payable by TotalTax; a Payment debits its DepositToAccountRef (Undeposited Funds) and
credits A/R; a RefundReceipt debits its lines' accounts and credits the account it is paid
from; a Deposit debits its bank account, credits each linked payment's account and credits
each other line's account by its Amount (a negative Amount is a debit, a fee). Voided
transactions carry zero amounts, so they post nothing. Every transaction balances.

`balances` answers each account's natural balance: debit-normal accounts (assets, expenses)
positive when debited, credit-normal ones (income, liabilities) positive when credited. Sales
tax payable is a name here, not an Account row (the emulator keeps no tax agency accounts)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from .jsonio import Json

if TYPE_CHECKING:
    from .company import Company

TAX_PAYABLE = "Sales tax payable"
CREDIT_NORMAL = {"Income", "Other Income", "Accounts Payable", "Other Current Liability", "Equity"}
ZERO = Decimal("0.00")


def postings(company: Company) -> dict[str, Decimal]:
    """Net debit per account name (credits negative)."""
    names = {row["Id"]: row["Name"] for row in company.rows("Account")}
    receivable = _named(company, "AccountSubType", "AccountsReceivable")
    discounts = _named(company, "AccountSubType", "DiscountsRefundsGiven")
    net: dict[str, Decimal] = defaultdict(lambda: ZERO)

    def post(account_id: str | None, amount: Decimal) -> None:
        net[names.get(str(account_id), str(account_id))] += Decimal(str(amount))

    for invoice in company.rows("Invoice"):
        post(receivable, invoice["TotalAmt"])
        for line in invoice["Line"]:
            if line["DetailType"] == "SalesItemLineDetail":
                post(_line_account(company, line), -line["Amount"])
            elif line["DetailType"] == "DiscountLineDetail":
                account = (line["DiscountLineDetail"].get("DiscountAccountRef") or {}).get("value")
                post(account or discounts, line["Amount"])
        tax = Decimal(str((invoice.get("TxnTaxDetail") or {}).get("TotalTax", 0)))
        net[TAX_PAYABLE] -= tax
    for payment in company.rows("Payment"):
        post(payment["DepositToAccountRef"]["value"], payment["TotalAmt"])
        post(receivable, -payment["TotalAmt"])
    for refund in company.rows("RefundReceipt"):
        for line in refund["Line"]:
            if line["DetailType"] == "SalesItemLineDetail":
                post(_line_account(company, line), line["Amount"])
        post(refund["DepositToAccountRef"]["value"], -refund["TotalAmt"])
    for deposit in company.rows("Deposit"):
        post(deposit["DepositToAccountRef"]["value"], deposit["TotalAmt"])
        for line in deposit["Line"]:
            linked = line.get("LinkedTxn")
            if linked:
                payment = company.get("Payment", linked[0]["TxnId"]) or {}
                account = (payment.get("DepositToAccountRef") or {}).get("value")
            else:
                account = line["DepositLineDetail"]["AccountRef"]["value"]
            post(account, -line["Amount"])
    return dict(net)


def balances(company: Company) -> dict[str, Decimal]:
    """Each account's natural balance, by name (module docstring)."""
    types = {row["Name"]: row["AccountType"] for row in company.rows("Account")}
    types[TAX_PAYABLE] = "Other Current Liability"
    return {
        name: -amount if types.get(name) in CREDIT_NORMAL else amount
        for name, amount in postings(company).items()
    }


def _line_account(company: Company, line: Json) -> str | None:
    detail = line["SalesItemLineDetail"]
    account = detail.get("ItemAccountRef")
    if account:
        return str(account["value"])
    item = company.get("Item", detail["ItemRef"]["value"]) or {}
    return str((item.get("IncomeAccountRef") or {}).get("value"))


def _named(company: Company, field: str, value: str) -> str | None:
    rows = [row for row in company.rows("Account") if row.get(field) == value]
    return str(rows[0]["Id"]) if rows else None
