"""The settings item: a connection's account choices, and the defaults found for it.

One item per contractor and company (mapping table, pk = contractor id, sk = "<realm>#settings"):
`payout_account_id`, `fee_account_id`, `refund_clearing_account_id`, `income_account_id`,
`fee_income_account_id`, `retainage_account_id` (the contractor's choices, absent until chosen),
`job_tracking` (`off` when absent) and `found_<role>_account_id` (an account clearing.py
found by name or created, so that it is looked for once per company). A new connection to
another company starts with its own item, empty."""

from __future__ import annotations

from typing import Any, NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import Update, from_item, key
from qbo_sync.core.settings import get_settings

CHOICES = (
    "payout_account_id",
    "fee_account_id",
    "refund_clearing_account_id",
    "income_account_id",
    "fee_income_account_id",
    "retainage_account_id",
)
# Not an account: how invoices with a job are booked (docs/interface.md §17).
JOB_TRACKING = "job_tracking"
JOB_TRACKING_VALUES = ("off", "sub_customers")


class AccountSettings(NamedTuple):
    values: dict[str, Any]

    def chosen(self, field: str) -> str | None:
        value = self.values.get(field)
        return str(value) if value else None

    def found(self, role: str) -> str | None:
        value = self.values.get(f"found_{role}_account_id")
        return str(value) if value else None

    @property
    def sub_customers(self) -> bool:
        """True when invoices with a job go to the client's sub-customer for the job."""
        return self.values.get(JOB_TRACKING) == "sub_customers"

    def view(self) -> dict[str, str | None]:
        """What GET /quickbooks/settings answers (null: not chosen)."""
        view: dict[str, str | None] = {field: self.chosen(field) for field in CHOICES}
        view[JOB_TRACKING] = "sub_customers" if self.sub_customers else "off"
        return view


class SettingsStore:
    def __init__(self, table: str, contractor_id: str, realm_id: str) -> None:
        self._table = table
        self._key = key(contractor_id, f"{realm_id}#settings")

    @property
    def key(self) -> dict[str, Any]:
        return self._key

    def of(self, found: dict[str, dict[str, Any]]) -> AccountSettings:
        """The settings among items read with others (a BatchGetItem's, by sort key)."""
        return AccountSettings(found.get(self._key["sk"]["S"], {}))

    def get(self) -> AccountSettings:
        response = aws.dynamodb().get_item(
            TableName=self._table, Key=self._key, ConsistentRead=True
        )
        return AccountSettings(from_item(dict(response.get("Item", {}))))

    def choose(self, choices: dict[str, str | None]) -> tuple[AccountSettings, AccountSettings]:
        """Sets (or, with None, clears) the contractor's choices: (before, after)."""
        update = Update()
        for field, value in choices.items():
            if value is None:
                update.remove(field)
            else:
                update.set(field, value)
        update.set("updated_at", iso_now())
        response = aws.dynamodb().update_item(
            **update.request(self._table, self._key), ReturnValues="ALL_OLD"
        )
        before = from_item(dict(response.get("Attributes", {})))
        after = {**before, **{f: v for f, v in choices.items() if v is not None}}
        for field in (f for f, v in choices.items() if v is None):
            after.pop(field, None)
        return AccountSettings(before), AccountSettings(after)

    def remember_found(self, role: str, account_id: str) -> None:
        update = Update()
        update.set(f"found_{role}_account_id", account_id)
        aws.dynamodb().update_item(**update.request(self._table, self._key))


def settings_store(contractor_id: str, realm_id: str) -> SettingsStore:
    return SettingsStore(get_settings().mappings_table, contractor_id, realm_id)
