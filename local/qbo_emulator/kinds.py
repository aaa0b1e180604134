"""Kinds of company a test can ask for, and the tax and currency setup each starts with.

- `us_ast`: a US company created after 2017-11-10, on Automated Sales Tax
  (`Preferences.TaxPrefs.PartnerTaxEnabled` true): lines say TAX or NON, and QBO works out the
  rate from the company's address and the ship-to (Intuit, "Manage sales tax for US locales").
- `us_manual`: a US company on the older manual sales tax: lines say TAX or NON, and the
  transaction names the tax code (a rate or a group of rates) in `TxnTaxDetail.TxnTaxCodeRef`.
- `canada`: a company outside the US: every sales line names one of the company's tax codes
  (Intuit, "Manage sales tax for non-US locales"); its home currency is CAD.

Multicurrency is off in every kind unless asked for (Intuit, "Manage multiple currencies": off
by default, and once on it cannot be turned off)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CompanyKind:
    country: str  # CompanyInfo.Country
    home_currency: str
    automated_sales_tax: bool
    line_tax_codes: bool  # outside the US: a TaxCode on every sales line


KINDS = {
    "us_ast": CompanyKind("US", "USD", automated_sales_tax=True, line_tax_codes=False),
    "us_manual": CompanyKind("US", "USD", automated_sales_tax=False, line_tax_codes=False),
    "canada": CompanyKind("CA", "CAD", automated_sales_tax=False, line_tax_codes=True),
}
CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
}
# Home units per foreign unit, as QBO keeps them when a transaction sends no ExchangeRate
# (fixed here, so tests can compute the home amounts).
EXCHANGE_RATES = {("EUR", "USD"): Decimal("1.08"), ("USD", "CAD"): Decimal("1.37")}
# Canada-like tax codes: (name, rate). Exempt and Zero-rated are the codes for untaxed lines.
CANADA_TAX_CODES = (("HST ON", Decimal("13")), ("GST", Decimal("5")))
CANADA_UNTAXED_CODES = ("Exempt", "Zero-rated")


def currency_ref(code: str) -> dict[str, str]:
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}


def exchange_rate(foreign: str, home: str) -> Decimal:
    return Decimal("1") if foreign == home else EXCHANGE_RATES.get((foreign, home), Decimal("1.5"))
