"""One QBO company (realm): its tables, id sequences, settings and remembered requestids."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import preferences
from .clock import local_date, meta_time
from .jsonio import Json
from .kinds import KINDS, currency_ref
from .shapes import drop_blank

ENTITIES = (
    "Customer",
    "Vendor",
    "Employee",
    "Item",
    "Account",
    "Invoice",
    "Payment",
    "Deposit",
    "RefundReceipt",
    "CompanyInfo",
    "Preferences",
    "Term",
    "PaymentMethod",
    "TaxCode",
    "TaxRate",
)
# QBO numbers people (customers, vendors, employees) from one sequence and transactions from
# another, so an Invoice and a Payment never share an Id; a client that mixes up kinds of ids
# fails here as it would there.
SEQUENCE = {
    "Customer": "name",
    "Vendor": "name",
    "Employee": "name",
    "Invoice": "txn",
    "Payment": "txn",
    "Deposit": "txn",
    "RefundReceipt": "txn",
}
USD = {"value": "USD", "name": "United States Dollar"}

_DEFAULT_ACCOUNTS = (
    ("Services", "Income", "ServiceFeeIncome", "Revenue"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
    ("Checking", "Bank", "Checking", "Asset"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"),
    # Where a discount line posts unless it names an account (Dr Discounts given).
    ("Discounts given", "Income", "DiscountsRefundsGiven", "Revenue"),
)
# New US QBO companies appear to ship with these service items (unverified, so opt-in):
# when present, their names are taken from the start.
DEFAULT_ITEMS = ("Services", "Hours")
_COMPANY_ADDRESSES: dict[str, Json] = {
    "US": {
        "Id": "1",
        "Line1": "1 Main St",
        "City": "Austin",
        "CountrySubDivisionCode": "TX",
        "PostalCode": "78701",
        "Country": "USA",
    },
    "CA": {
        "Id": "1",
        "Line1": "1 King St W",
        "City": "Toronto",
        "CountrySubDivisionCode": "ON",
        "PostalCode": "M5H 1A1",
        "Country": "CAN",
    },
}


@dataclass
class Settings:
    warn_duplicate_doc_number: bool = False  # QBO's default lets duplicate DocNumbers through
    custom_txn_numbers: bool = False  # off: QBO numbers invoices that arrive without DocNumber
    # "Close the books": transactions dated on or before this date (ISO) cannot be written.
    closing_date: str | None = None
    subscription_ended: bool = False  # trial over, cancelled or unpaid: no writes at all
    multicurrency: bool = False  # Preferences.CurrencyPrefs.MultiCurrencyEnabled


@dataclass
class Replay:
    status: int
    body: bytes
    content_type: str


class Company:
    def __init__(
        self,
        realm_id: str,
        name: str,
        now: float,
        default_items: bool = False,
        kind: str = "us_ast",
        multicurrency: bool = False,
    ) -> None:
        self.realm_id = realm_id
        self.name = name
        self.kind = KINDS[kind]
        self.settings = Settings(multicurrency=multicurrency)
        self.tables: dict[str, dict[str, Json]] = {entity: {} for entity in ENTITIES}
        self._sequences: dict[str, int] = {}
        self._doc_number = 1000
        self.replays: dict[str, Replay] = {}
        self.default_terms: Json | None = None  # a Term reference (preferences.py)
        self._seed(now, DEFAULT_ITEMS if default_items else ())
        preferences.seed(self, now)

    def _seed(self, now: float, items: tuple[str, ...]) -> None:
        for name, kind, subtype, classification in _DEFAULT_ACCOUNTS:
            self.insert(
                "Account",
                {
                    "Name": name,
                    "FullyQualifiedName": name,
                    "AccountType": kind,
                    "AccountSubType": subtype,
                    "Classification": classification,
                    "Active": True,
                    "SubAccount": False,
                    "CurrentBalance": Decimal("0"),
                    "CurrentBalanceWithSubAccounts": Decimal("0"),
                    "CurrencyRef": self.home_currency(),
                },
                now,
            )
        income = self.ref("Account", self.find("Account", "Name", "Services"))
        for name in items:
            self.insert(
                "Item",
                {
                    "Name": name,
                    "FullyQualifiedName": name,
                    "Active": True,
                    "Type": "Service",
                    "Taxable": False,
                    "UnitPrice": Decimal("0"),
                    "TrackQtyOnHand": False,
                    "IncomeAccountRef": income,
                },
                now,
            )
        self.insert(
            "CompanyInfo",
            {
                "CompanyName": self.name,
                "LegalName": self.name,
                "Country": self.kind.country,
                "CompanyStartDate": local_date(now),
                "FiscalYearStartMonth": "January",
                "SupportedLanguages": "en",
                "Email": {"Address": "owner@example.com"},
                "CompanyAddr": _COMPANY_ADDRESSES[self.kind.country],
            },
            now,
        )

    def home_currency(self) -> Json:
        return currency_ref(self.kind.home_currency)

    # --- storage ---------------------------------------------------------------------

    def next_id(self, entity: str) -> str:
        sequence = SEQUENCE.get(entity, entity)
        self._sequences[sequence] = self._sequences.get(sequence, 0) + 1
        return str(self._sequences[sequence])

    def next_doc_number(self) -> str:
        self._doc_number += 1
        return str(self._doc_number)

    def insert(self, entity: str, row: Json, now: float) -> Json:
        stamp = meta_time(now)
        stored = {
            "Id": self.next_id(entity),
            "SyncToken": "0",
            **drop_blank(row),
            "domain": "QBO",
            "sparse": False,
            "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp},
        }
        self.tables[entity][stored["Id"]] = stored
        return stored

    def replace(self, entity: str, old: Json, row: Json, now: float) -> Json:
        stored = {
            "Id": old["Id"],
            "SyncToken": str(int(old["SyncToken"]) + 1),
            **drop_blank(row),
            "domain": "QBO",
            "sparse": False,
            "MetaData": {
                "CreateTime": old["MetaData"]["CreateTime"],
                "LastUpdatedTime": meta_time(now),
            },
        }
        self.tables[entity][stored["Id"]] = stored
        return stored

    def touch(self, entity: str, row: Json, now: float) -> None:
        """A change QBO makes on its own (a payment applied to an invoice) is still a change:
        the SyncToken moves, and a client holding the old one gets a stale-object error."""
        row["SyncToken"] = str(int(row["SyncToken"]) + 1)
        row["MetaData"]["LastUpdatedTime"] = meta_time(now)

    def delete(self, entity: str, entity_id: str) -> None:
        del self.tables[entity][entity_id]

    def get(self, entity: str, entity_id: object) -> Json | None:
        return self.tables[entity].get(str(entity_id))

    def rows(self, entity: str) -> list[Json]:
        return list(self.tables[entity].values())

    def snapshot(self, entity: str) -> list[Json]:
        return copy.deepcopy(self.rows(entity))

    def find(self, entity: str, field: str, value: str) -> Json:
        return next(r for r in self.rows(entity) if r.get(field) == value)

    def ref(self, entity: str, row: Json) -> Json:
        name = row.get("DisplayName") or row.get("Name") or row.get("DocNumber") or ""
        return {"value": row["Id"], "name": name}

    def name_holder(self, display_name: str, exclude: str | None) -> Json | None:
        """DisplayName is unique across customers, vendors and employees, active or not."""
        wanted = display_name.lower()
        for entity in ("Customer", "Vendor", "Employee"):
            for row in self.rows(entity):
                if row["Id"] != exclude and str(row.get("DisplayName", "")).lower() == wanted:
                    return row
        return None

    def item_holder(self, name: str, exclude: str | None) -> Json | None:
        wanted = name.lower()
        return next(
            (
                r
                for r in self.rows("Item")
                if r["Id"] != exclude and str(r.get("Name", "")).lower() == wanted
            ),
            None,
        )

    def undeposited_funds(self) -> Json:
        return self.ref("Account", self.find("Account", "AccountSubType", "UndepositedFunds"))


def company_info_id(company: Company) -> str:
    rows: list[Any] = company.rows("CompanyInfo")
    return str(rows[0]["Id"])
