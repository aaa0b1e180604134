"""Tax, discount and currency on a QBO invoice (docs/interface.md §7), for each kind of company:
pure functions, no I/O. The company's setup (`CompanySetup`) is read once per company
(company/setup.py); here it decides the fields.

- US with Automated Sales Tax: lines TAX or NON, and `TxnTaxDetail.TotalTax` = the platform's
  tax, which QBO honours instead of adding its own; the ship-to is the client's billing address
  (what AST computes from).
- US with manual sales tax: lines TAX or NON, the company's tax code matching the platform's
  rate (or name) as `TxnTaxCodeRef`, and the platform's amount as TotalTax.
- Outside the US: every line carries a tax code: the one for the platform's rate (taxable
  lines) or the company's exempt/zero-rated one (the others); TotalTax = the platform's tax.
- A discount is a `DiscountLineDetail` line, with tax applied after it.
- An invoice without tax or discount in a US company gets none of these fields: as before.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the invoice models: not on the payment function's path (events/)
    from qbo_sync.events.invoices import Invoice

US = "US"
PSEUDO_CODES = ("TAX", "NON")
_UNTAXED_NAMES = ("exempt", "zero")


class TaxModel(StrEnum):
    AUTOMATED = "automated"  # US, Automated Sales Tax (Preferences.TaxPrefs.PartnerTaxEnabled)
    MANUAL = "manual"  # US, the transaction names its tax code
    LINE_CODES = "line_codes"  # outside the US: a tax code on every line


class TaxCode(NamedTuple):
    id: str
    name: str
    rate: Decimal  # the sum of its sales rates, a percentage
    rate_names: tuple[str, ...] = ()


class CompanySetup(NamedTuple):
    country: str
    tax_model: TaxModel
    multicurrency: bool
    home_currency: str
    tax_codes: tuple[TaxCode, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = self._asdict()
        data["tax_codes"] = [
            {**code._asdict(), "rate": str(code.rate), "rate_names": list(code.rate_names)}
            for code in self.tax_codes
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompanySetup:
        codes = tuple(
            TaxCode(str(c["id"]), str(c["name"]), Decimal(str(c["rate"])), tuple(c["rate_names"]))
            for c in data.get("tax_codes", [])
        )
        return cls(
            country=str(data["country"]),
            tax_model=TaxModel(data["tax_model"]),
            multicurrency=bool(data["multicurrency"]),
            home_currency=str(data["home_currency"]),
            tax_codes=codes,
        )


class TaxRateNotFound(Exception):
    """The company has no tax code for the platform's rate (or for untaxed lines)."""

    def __init__(self, label: str) -> None:
        super().__init__(f"no QuickBooks tax rate matches {label}")
        self.label = label


class CurrencyNotEnabled(Exception):
    def __init__(self, currency: str, home: str) -> None:
        super().__init__(f"{currency} invoice in a {home}-only QuickBooks company")
        self.currency, self.home = currency, home


def company_setup(
    preferences: dict[str, Any],
    company_info: dict[str, Any],
    tax_codes: list[dict[str, Any]] | None = None,
    tax_rates: list[dict[str, Any]] | None = None,
) -> CompanySetup:
    """The setup from QBO's Preferences, CompanyInfo and (unless AST) TaxCode/TaxRate rows."""
    tax = preferences.get("TaxPrefs") or {}
    currency = preferences.get("CurrencyPrefs") or {}
    country = str(company_info.get("Country") or US).upper()
    if country not in (US, "USA"):
        model = TaxModel.LINE_CODES
    elif tax.get("PartnerTaxEnabled") is True:
        model = TaxModel.AUTOMATED
    else:
        model = TaxModel.MANUAL
    home = (currency.get("HomeCurrency") or {}).get("value") or "USD"
    codes = _codes(tax_codes or [], tax_rates or []) if model != TaxModel.AUTOMATED else ()
    return CompanySetup(
        country=US if country == "USA" else country,
        tax_model=model,
        multicurrency=currency.get("MultiCurrencyEnabled") is True,
        home_currency=str(home),
        tax_codes=codes,
    )


def needs_tax_codes(preferences: dict[str, Any], company_info: dict[str, Any]) -> bool:
    return company_setup(preferences, company_info).tax_model != TaxModel.AUTOMATED


def _codes(codes: list[dict[str, Any]], rates: list[dict[str, Any]]) -> tuple[TaxCode, ...]:
    by_id = {str(r["Id"]): r for r in rates}
    found = []
    for code in codes:
        if str(code["Id"]) in PSEUDO_CODES or code.get("Active") is False:
            continue
        details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
        applied = [by_id.get(str(d.get("TaxRateRef", {}).get("value"))) for d in details]
        known = [r for r in applied if r is not None]
        if not known:
            continue  # a purchase-only code
        rate = sum((Decimal(str(r.get("RateValue", 0))) for r in known), Decimal(0))
        names = tuple(str(r.get("Name", "")) for r in known)
        found.append(TaxCode(str(code["Id"]), str(code.get("Name", "")), rate, names))
    return tuple(found)


# -- what an invoice needs --------------------------------------------------------------------


class TaxPlan(NamedTuple):
    """What the setup decided for one invoice, before anything is written."""

    currency: str | None  # a CurrencyRef other than the home currency
    taxed_code: str | None  # the tax code of taxable lines (manual US, outside the US)
    untaxed_code: str | None  # outside the US: the code of the other lines


def plan(invoice: Invoice, setup: CompanySetup) -> TaxPlan:
    """Raises CurrencyNotEnabled or TaxRateNotFound, before anything is written."""
    currency = None
    if invoice.currency != setup.home_currency:
        if not setup.multicurrency:
            raise CurrencyNotEnabled(invoice.currency, setup.home_currency)
        currency = invoice.currency
    taxed = untaxed = None
    if invoice.tax is not None and setup.tax_model != TaxModel.AUTOMATED:
        taxed = _matching(setup, invoice).id
    flags = invoice.taxable_flags()
    if setup.tax_model == TaxModel.LINE_CODES and not (invoice.tax and all(flags)):
        untaxed = _untaxed(setup).id
    return TaxPlan(currency, taxed, untaxed)


def _matching(setup: CompanySetup, invoice: Invoice) -> TaxCode:
    tax = invoice.tax
    assert tax is not None
    name = (tax.name or "").strip().casefold()
    named = [c for c in setup.tax_codes if name and name in _names(c)]
    if tax.rate is not None:
        same_rate = [c for c in setup.tax_codes if c.rate == tax.rate]
        # Several codes at one rate: the one with the platform's name, else the first.
        best = [c for c in same_rate if c in named] or same_rate
        if best:
            return best[0]
    if named:  # the rate is informational: the platform's amount stays the invoice's tax
        return named[0]
    label = f"{tax.rate.normalize():f}%" if tax.rate is not None else repr(tax.name or "")
    if tax.rate is not None and tax.name:
        label = f"{label} ({tax.name})"
    raise TaxRateNotFound(label)


def _names(code: TaxCode) -> set[str]:
    return {n.strip().casefold() for n in (code.name, *code.rate_names)}


def _untaxed(setup: CompanySetup) -> TaxCode:
    zero = [c for c in setup.tax_codes if c.rate == 0]
    for word in _UNTAXED_NAMES:
        for code in zero:
            if word in code.name.casefold():
                return code
    if zero:
        return zero[0]
    raise TaxRateNotFound("0% (exempt or zero-rated)")


def apply(
    fields: dict[str, Any],
    invoice: Invoice,
    setup: CompanySetup,
    tax_plan: TaxPlan,
    ship_to: dict[str, Any] | None,
) -> dict[str, Any]:
    """The invoice's fields (qbo/fields.py's `invoice_fields`) with tax, discount and currency.
    Its sales lines are in the order of `invoice.lines` (or the one line of an invoice
    without lines)."""
    taxed = invoice.tax is not None
    lines = [dict(line) for line in fields["Line"]]
    flags = invoice.taxable_flags()
    if taxed or setup.tax_model == TaxModel.LINE_CODES:
        for line, taxable in zip(lines, flags, strict=True):
            code = _line_code(setup, tax_plan, taxed and taxable)
            line["SalesItemLineDetail"] = {
                **line["SalesItemLineDetail"],
                "TaxCodeRef": {"value": code},
            }
    out = {**fields, "Line": lines}
    if invoice.discount is not None and invoice.discount.amount > 0:
        out["Line"] = [*lines, _discount_line(invoice)]
        out["ApplyTaxAfterDiscount"] = True
    if taxed:
        detail: dict[str, Any] = {"TotalTax": invoice.tax_amount}
        if setup.tax_model == TaxModel.MANUAL:
            detail = {"TxnTaxCodeRef": {"value": tax_plan.taxed_code}, **detail}
        out["TxnTaxDetail"] = detail
        if setup.tax_model == TaxModel.AUTOMATED and ship_to:
            out["ShipAddr"] = ship_to
    if tax_plan.currency or setup.multicurrency:
        # A multicurrency company needs every transaction's currency, the home one included.
        out["CurrencyRef"] = {"value": tax_plan.currency or invoice.currency}
    return out


def _line_code(setup: CompanySetup, tax_plan: TaxPlan, taxable: bool) -> str:
    if setup.tax_model != TaxModel.LINE_CODES:
        return "TAX" if taxable else "NON"
    code = tax_plan.taxed_code if taxable else tax_plan.untaxed_code
    assert code is not None
    return code


def _discount_line(invoice: Invoice) -> dict[str, Any]:
    assert invoice.discount is not None
    line: dict[str, Any] = {
        "DetailType": "DiscountLineDetail",
        "Amount": invoice.discount.amount,
        "DiscountLineDetail": {"PercentBased": False},
    }
    description = (invoice.discount.description or "").strip()
    if description:
        line["Description"] = description[:4000]
    return line
