"""The chart of accounts: Account create, update and query by AccountType.

Rules from Intuit's Account reference (developer.intuit.com, API reference > Account): Name is
required, at most 100 characters, without a colon or a double quote, and unique among accounts
(6240); AccountType decides Classification; an account a transaction uses must exist and be
active (fields.reference). AcctNum's limit is taken as 20: python-quickbooks' sandbox test
(tests/integration/test_account.py) creates an 11-character one."""

from __future__ import annotations

from decimal import Decimal

from . import faults
from .company import USD, Company
from .fields import required_text, text
from .jsonio import Json

ACCOUNT_FIELDS = frozenset(
    {
        "Name",
        "AcctNum",
        "Description",
        "Active",
        "AccountType",
        "AccountSubType",
        "Classification",
        "SubAccount",
        "ParentRef",
        "FullyQualifiedName",
        "CurrentBalance",
        "CurrentBalanceWithSubAccounts",
        "CurrencyRef",
        "TaxCodeRef",
        "TxnLocationType",
        "AccountAlias",
    }
)
ACCOUNT_READ_ONLY = frozenset(
    {"Classification", "FullyQualifiedName", "CurrentBalance", "CurrentBalanceWithSubAccounts"}
)

CLASSIFICATION = {
    "Bank": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Receivable": "Asset",
    "Equity": "Equity",
    "Expense": "Expense",
    "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Long Term Liability": "Liability",
    "Other Current Liability": "Liability",
    "Income": "Revenue",
    "Other Income": "Revenue",
}
# The subtype QBO picks when only the type is given (the first of each type's list).
DEFAULT_SUBTYPE = {
    "Bank": "CashOnHand",
    "Other Current Asset": "OtherCurrentAssets",
    "Income": "ServiceFeeIncome",
    "Expense": "OtherMiscellaneousServiceCost",
    "Other Current Liability": "OtherCurrentLiabilities",
}


def _check_name(company: Company, name: str, existing: Json | None) -> None:
    if any(ch in name for ch in ':"'):
        raise faults.business('Account names cannot contain a colon (:) or a quote (")', "Name")
    wanted = name.lower()
    for row in company.rows("Account"):
        if row["Id"] != (existing or {}).get("Id") and str(row["Name"]).lower() == wanted:
            raise faults.validation(
                "6240",
                f"Another account is already using this name. : Id={row['Id']}",
                "Name",
                message="Duplicate Name Exists Error",
            )


def build_account(company: Company, fields: Json, existing: Json | None, now: float) -> Json:
    name = required_text(fields.get("Name"), "Name", 100)
    _check_name(company, name, existing)
    text(fields.get("AcctNum"), "AcctNum", 20)
    text(fields.get("Description"), "Description", 100)
    kind = fields.get("AccountType")
    if kind is None:
        raise faults.required("AccountType")
    if kind not in CLASSIFICATION:
        raise faults.bad_value("AccountType", kind)
    return {
        **fields,
        "Name": name,
        "FullyQualifiedName": name,
        "AccountType": kind,
        "AccountSubType": fields.get("AccountSubType") or DEFAULT_SUBTYPE.get(kind, ""),
        "Classification": CLASSIFICATION[kind],
        "Active": fields.get("Active", True),
        "SubAccount": fields.get("SubAccount", False),
        "CurrentBalance": existing["CurrentBalance"] if existing else Decimal("0"),
        "CurrentBalanceWithSubAccounts": existing["CurrentBalance"] if existing else Decimal("0"),
        "CurrencyRef": fields.get("CurrencyRef", dict(USD)),
    }
