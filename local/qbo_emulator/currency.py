"""Which currency a customer or a transaction is in (Intuit, "Manage multiple currencies"):
the home currency unless multicurrency is on; a customer's currency is set when it is created
and cannot change; a transaction is in its customer's currency, at an exchange rate of home
units per foreign unit (QBO keeps one when the request sends none)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from . import faults
from .fields import number, ref_id
from .jsonio import Json
from .kinds import currency_ref, exchange_rate

if TYPE_CHECKING:
    from .company import Company


def _allowed(company: Company, code: str) -> None:
    if code != company.kind.home_currency and not company.settings.multicurrency:
        raise faults.business(
            f"Multicurrency is not enabled: {code} is not the home currency "
            f"({company.kind.home_currency})",
            "CurrencyRef",
        )


def of_customer(company: Company, fields: Json, existing: Json | None) -> Json:
    stored = existing.get("CurrencyRef") if existing else None
    code = ref_id(fields.get("CurrencyRef"), "CurrencyRef") or (
        stored["value"] if stored else company.kind.home_currency
    )
    _allowed(company, code)
    if stored and stored["value"] != code:
        raise faults.business("A customer's currency can not be changed", "CurrencyRef")
    return currency_ref(code)


def named(company: Company, fields: Json, existing: Json | None) -> None:
    """A transaction created in a multicurrency company names its currency, the home one
    included (Intuit's Invoice, Payment, RefundReceipt and Deposit references: CurrencyRef
    "must be defined if multicurrency is enabled for the company"). QBO is not bound to fill
    it in from the customer, so the emulator refuses the create instead (docs in FACTS.md)."""
    if existing is None and company.settings.multicurrency and fields.get("CurrencyRef") is None:
        raise faults.required("CurrencyRef")


def of_transaction(company: Company, fields: Json, customer_id: str) -> tuple[Json, Decimal]:
    customer = company.get("Customer", customer_id) or {}
    own = (customer.get("CurrencyRef") or company.home_currency())["value"]
    code = ref_id(fields.get("CurrencyRef"), "CurrencyRef") or own
    _allowed(company, code)
    if code != own:
        raise faults.business(
            f"The transaction's currency ({code}) must be its customer's ({own})", "CurrencyRef"
        )
    sent = fields.get("ExchangeRate")
    home = company.kind.home_currency
    rate = number(sent, "ExchangeRate") if sent is not None else exchange_rate(code, home)
    return currency_ref(code), rate
