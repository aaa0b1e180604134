"""The pure rules that pick a company's tax code for the platform's tax (qbo/sales_tax.py):
rate first, the name breaking ties or standing in for a rate no code has, exempt codes for
untaxed lines outside the US, and the company setup read from QBO's own documents."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from local import samples

PREFS = {
    "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False},
    "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "CAD"}},
}
RATES = [
    {"Id": "1", "Name": "HST ON", "RateValue": 13},
    {"Id": "2", "Name": "Ontario HST", "RateValue": 13},
    {"Id": "3", "Name": "Exempt", "RateValue": 0},
]


def _code(code_id: str, name: str, *rate_ids: str) -> dict[str, Any]:
    details = [{"TaxRateRef": {"value": r}} for r in rate_ids]
    return {"Id": code_id, "Name": name, "SalesTaxRateList": {"TaxRateDetail": details}}


CODES = [
    {"Id": "TAX", "Name": "TAX"},
    _code("10", "HST ON", "1"),
    _code("11", "Ontario HST", "2"),
    _code("12", "Exempt", "3"),
]


def _invoice(rate: str | None, name: str | None, taxable: tuple[bool, ...] = (True,)) -> Any:
    from qbo_sync.events.invoices import parse_invoice_sent

    message = samples.invoice_sent("c", "1", "Client")
    lines = [{"amount": "10.00", "taxable": t} for t in taxable]
    total = Decimal("10.00") * len(lines) + Decimal("1.30")
    message["invoice"].update(
        lines=lines,
        total=str(total),
        currency="CAD",
        tax={"amount": "1.30", "rate": rate, "name": name},
    )
    return parse_invoice_sent(json.dumps(message)).invoice


@pytest.mark.parametrize(
    ("rate", "name", "code"),
    [
        ("13", None, "10"),  # the first code at that rate
        ("13", "ontario hst", "11"),  # two at that rate: the platform's name decides
        ("13.0000", None, "10"),  # the same percentage, however written
        ("14", "HST ON", "10"),  # no code at that rate: the name stands in
        (None, "Ontario HST", "11"),
    ],
)
def test_the_tax_code_is_the_rates_then_the_names(
    rate: str | None, name: str | None, code: str
) -> None:
    from qbo_sync.qbo.sales_tax import TaxModel, company_setup, plan

    setup = company_setup(PREFS, {"Country": "CA"}, CODES, RATES)

    assert setup.tax_model == TaxModel.LINE_CODES and setup.home_currency == "CAD"
    assert plan(_invoice(rate, name, (True, False)), setup).taxed_code == code
    assert plan(_invoice(rate, name, (True, False)), setup).untaxed_code == "12"


def test_no_matching_code_names_the_rate_and_the_jurisdiction() -> None:
    from qbo_sync.qbo.sales_tax import TaxRateNotFound, company_setup, plan

    setup = company_setup(PREFS, {"Country": "CA"}, CODES, RATES)

    with pytest.raises(TaxRateNotFound) as refused:
        plan(_invoice("7.5", "PST"), setup)
    assert refused.value.label == "7.5% (PST)"


def test_all_taxable_lines_need_no_exempt_code() -> None:
    from qbo_sync.qbo.sales_tax import company_setup, plan

    without_exempt = [c for c in CODES if c["Id"] != "12"]
    setup = company_setup(PREFS, {"Country": "CA"}, without_exempt, RATES)

    assert plan(_invoice("13", None), setup).untaxed_code is None


@pytest.mark.parametrize(
    ("country", "partner_tax", "model"),
    [("US", True, "automated"), ("USA", False, "manual"), ("GB", False, "line_codes")],
)
def test_the_tax_model_follows_the_country_and_automated_sales_tax(
    country: str, partner_tax: bool, model: str
) -> None:
    from qbo_sync.qbo.sales_tax import CompanySetup, company_setup

    prefs = {**PREFS, "TaxPrefs": {"PartnerTaxEnabled": partner_tax}}
    setup = company_setup(prefs, {"Country": country}, CODES, RATES)

    assert setup.tax_model == model
    assert CompanySetup.from_json(setup.to_json()) == setup  # as the setup item keeps it
