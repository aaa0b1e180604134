"""Which QBO account each role uses for a connection: the contractor's choice (settings.py),
else, for the fees, refunds clearing, fee income and retainage accounts, one found by name or
created on first use,
once per company (the id found is remembered on the settings item; docs/interface.md §11)."""

from __future__ import annotations

from enum import StrEnum

from qbo_sync.accounts.chart import AccountKind, named_account
from qbo_sync.accounts.settings import AccountSettings, settings_store
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.qbo.client import QboClient, request_id
from qbo_sync.qbo.faults import DuplicateName
from qbo_sync.qbo.names import first_free


class AccountRole(StrEnum):
    FEES = "fees"
    REFUNDS_CLEARING = "refunds_clearing"
    PAYOUT = "payout"
    INCOME = "income"
    FEE_INCOME = "fee_income"  # fees passed on to the client (docs/interface.md §17)
    RETAINAGE = "retainage"  # retainage held by the client (docs/interface.md §17)


# The settings item's field of each role, and the kind of account it must be.
SETTING = {
    AccountRole.FEES: ("fee_account_id", AccountKind.EXPENSE),
    AccountRole.REFUNDS_CLEARING: ("refund_clearing_account_id", AccountKind.OTHER_CURRENT_ASSET),
    AccountRole.PAYOUT: ("payout_account_id", AccountKind.BANK),
    AccountRole.INCOME: ("income_account_id", AccountKind.INCOME),
    AccountRole.FEE_INCOME: ("fee_income_account_id", AccountKind.INCOME),
    AccountRole.RETAINAGE: ("retainage_account_id", AccountKind.OTHER_CURRENT_ASSET),
}
# The accounts found by name or created when the contractor chose none; QBO's AccountType.
DEFAULTS = {
    AccountRole.FEES: ("Payment processing fees", "Expense"),
    AccountRole.REFUNDS_CLEARING: ("Refunds clearing", "Other Current Asset"),
    AccountRole.FEE_INCOME: ("Processing fees collected", "Income"),
    AccountRole.RETAINAGE: ("Retainage receivable", "Other Current Asset"),
}


class NoDefaultAccount(Exception):
    """A role without a default (the payout bank account): the contractor must choose one."""


def chosen_account(connection: Connection, role: AccountRole) -> str | None:
    """The contractor's choice for the role, if any (no QBO request)."""
    field, _ = SETTING[role]
    return settings_store(connection.contractor_id, connection.realm_id).get().chosen(field)


def account_for(
    connection: Connection,
    role: AccountRole,
    qbo: QboClient | None = None,
    current: AccountSettings | None = None,
) -> str:
    """The QBO account id of the role: in the steady state one DynamoDB read (none when the
    caller read the settings item already, `current`), no QBO request."""
    store = settings_store(connection.contractor_id, connection.realm_id)
    current = current or store.get()
    field, kind = SETTING[role]
    chosen = current.chosen(field) or current.found(role)
    if chosen:
        return chosen
    if role not in DEFAULTS:
        raise NoDefaultAccount(role)
    qbo = qbo or services.qbo_client(connection)
    name, account_type = DEFAULTS[role]
    account_id = named_account(qbo, name, kind)
    if account_id is None:
        account_id = _create(qbo, connection, role, name, account_type, kind)
    store.remember_found(role, account_id)
    return account_id


def _create(
    qbo: QboClient,
    connection: Connection,
    role: AccountRole,
    name: str,
    account_type: str,
    kind: AccountKind,
) -> str:
    def create(account_name: str) -> str:
        fields = {"Name": account_name, "AccountType": account_type}
        requestid = request_id(connection.contractor_id, connection.realm_id, "account", role)
        return str(qbo.create("Account", fields, requestid)["Id"])

    # Taken: created meanwhile by another contractor's connection to the same company.
    found = first_free((name,), create, lambda taken: named_account(qbo, taken, kind))
    if found is None:
        raise DuplicateName(400, "6240", f"the name {name!r} is held by another account")
    return found
