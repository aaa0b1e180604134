"""The company's chart of accounts, as the settings page's pickers and checks need it.

An account kind (docs/interface.md §11) is one QBO AccountType; the pickers list the company's
active accounts of a kind (one query), and a chosen id is read back from QuickBooks to check it
is an active account of the right kind in that very company before it is stored."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from qbo_sync.qbo.client import QboClient, quote
from qbo_sync.qbo.faults import ObjectNotFound, QboError


class AccountKind(StrEnum):
    BANK = "bank"
    EXPENSE = "expense"
    INCOME = "income"
    OTHER_CURRENT_ASSET = "other_current_asset"


# Intuit's Account reference: the AccountType values of each kind.
ACCOUNT_TYPES = {
    AccountKind.BANK: "Bank",
    AccountKind.EXPENSE: "Expense",
    AccountKind.INCOME: "Income",
    AccountKind.OTHER_CURRENT_ASSET: "Other Current Asset",
}


def accounts_of_kind(qbo: QboClient, kind: AccountKind) -> list[dict[str, Any]]:
    statement = (
        f"select * from Account where AccountType = {quote(ACCOUNT_TYPES[kind])} "
        "and Active = true maxresults 1000"
    )
    return [_item(row, kind) for row in qbo.query(statement)]


def named_account(qbo: QboClient, name: str, kind: AccountKind) -> str | None:
    """An active account of that kind and name (QBO compares names without case)."""
    statement = f"select * from Account where Name = {quote(name)} maxresults 10"
    for row in qbo.query(statement):
        if row.get("AccountType") == ACCOUNT_TYPES[kind] and row.get("Active", True):
            return str(row["Id"])
    return None


def is_account_of_kind(qbo: QboClient, account_id: str, kind: AccountKind) -> bool:
    if not account_id.isdigit():  # QBO ids are numbers; anything else cannot be one
        return False
    try:
        row = qbo.read("Account", account_id)
    except ObjectNotFound:
        return False
    except QboError as error:
        if error.status == 400:  # an id QBO does not know
            return False
        raise
    return row.get("AccountType") == ACCOUNT_TYPES[kind] and bool(row.get("Active", True))


def _item(row: dict[str, Any], kind: AccountKind) -> dict[str, Any]:
    currency = (row.get("CurrencyRef") or {}).get("value")
    return {"id": str(row["Id"]), "name": row.get("Name"), "type": kind.value, "currency": currency}
