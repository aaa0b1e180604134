"""The emulator's sales tax and currency traps, as Intuit documents them (FACTS.md): AST adds
its own tax unless TotalTax says otherwise, a manual US company taxes only with the code the
invoice names, outside the US a line without a tax code is refused, a foreign currency is
refused while multicurrency is off, and a transaction is in its customer's currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import Api, connect, customer_item, fault, sales_line


def _api(emu: QboEmulator, kind: str, multicurrency: bool = False) -> Api:
    realm = emu.create_company(f"{kind} co", kind=kind, multicurrency=multicurrency)
    emu.consent(realm)
    return Api(emu, realm, connect(emu)["access_token"])


def _taxed(item: str, amount: str, code: str) -> dict[str, Any]:
    line = sales_line(item, amount)
    line["SalesItemLineDetail"]["TaxCodeRef"] = {"value": code}
    return line


def _invoice(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    return api.create("Invoice", body)


def test_ast_adds_its_own_tax_to_taxable_lines_unless_total_tax_is_sent(emu: QboEmulator) -> None:
    api = _api(emu, "us_ast")
    customer, item = customer_item(api)
    lines = [_taxed(item, "33.33", "TAX") for _ in range(3)]

    own = _invoice(api, {"CustomerRef": {"value": customer}, "Line": lines})
    told = _invoice(
        api,
        {"CustomerRef": {"value": customer}, "Line": lines, "TxnTaxDetail": {"TotalTax": 8.24}},
    )

    # 99.99 at 8.25% is 8.249175: QBO rounds the subtotal's tax to 8.25 and adds it.
    assert Decimal(str(own["TxnTaxDetail"]["TotalTax"])) == Decimal("8.25")
    assert Decimal(str(own["TotalAmt"])) == Decimal("108.24")
    assert Decimal(str(told["TxnTaxDetail"]["TotalTax"])) == Decimal("8.24")
    assert Decimal(str(told["TotalAmt"])) == Decimal("108.23")


def test_ast_taxes_after_the_discount_when_asked(emu: QboEmulator) -> None:
    api = _api(emu, "us_ast")
    customer, item = customer_item(api)
    discount = {"DetailType": "DiscountLineDetail", "Amount": 20, "DiscountLineDetail": {}}
    body = {
        "CustomerRef": {"value": customer},
        "Line": [_taxed(item, "100.00", "TAX"), discount],
        "ApplyTaxAfterDiscount": True,
    }

    invoice = _invoice(api, body)

    assert Decimal(str(invoice["TxnTaxDetail"]["TotalTax"])) == Decimal("6.60")  # 80 × 8.25%
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("86.60")


def test_manual_us_taxes_only_with_the_tax_code_the_invoice_names(emu: QboEmulator) -> None:
    api = _api(emu, "us_manual")
    customer, item = customer_item(api)
    lines = [_taxed(item, "100.00", "TAX")]

    untold = _invoice(api, {"CustomerRef": {"value": customer}, "Line": lines})
    coded = _invoice(
        api,
        {
            "CustomerRef": {"value": customer},
            "Line": lines,
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": "2"}},
        },
    )

    assert Decimal(str(untold["TxnTaxDetail"]["TotalTax"])) == 0
    assert Decimal(str(coded["TxnTaxDetail"]["TotalTax"])) == Decimal("8.25")
    assert Decimal(str(coded["TotalAmt"])) == Decimal("108.25")


def test_outside_the_us_a_line_without_a_tax_code_is_refused(emu: QboEmulator) -> None:
    api = _api(emu, "canada")
    customer, item = customer_item(api)
    hst = next(
        c["Id"]
        for c in api.query("select * from TaxCode").json()["QueryResponse"]["TaxCode"]
        if c["Name"] == "HST ON"
    )

    bare = api.post(
        "invoice", {"CustomerRef": {"value": customer}, "Line": [sales_line(item, "10")]}
    )
    pseudo = api.post(
        "invoice", {"CustomerRef": {"value": customer}, "Line": [_taxed(item, "10", "TAX")]}
    )
    coded = _invoice(api, {"CustomerRef": {"value": customer}, "Line": [_taxed(item, "10", hst)]})

    assert bare.status_code == 400 and fault(bare)["code"] == "6000"
    assert "TaxCodeRef" in fault(bare)["element"]
    assert pseudo.status_code == 400 and fault(pseudo)["code"] == "2500"
    assert Decimal(str(coded["TxnTaxDetail"]["TotalTax"])) == Decimal("1.30")
    assert coded["CurrencyRef"]["value"] == "CAD"


@pytest.mark.parametrize("entity", ["Customer", "Invoice"])
def test_a_foreign_currency_is_refused_while_multicurrency_is_off(
    emu: QboEmulator, entity: str
) -> None:
    api = _api(emu, "us_ast")
    customer, item = customer_item(api)
    body: dict[str, Any] = {"DisplayName": "Euro Client", "CurrencyRef": {"value": "EUR"}}
    if entity == "Invoice":
        body = {
            "CustomerRef": {"value": customer},
            "Line": [sales_line(item, "10")],
            "CurrencyRef": {"value": "EUR"},
        }

    response = api.post(entity.lower(), body)

    assert response.status_code == 400 and fault(response)["element"] == "CurrencyRef"


def test_with_multicurrency_a_transaction_is_in_its_customers_currency(emu: QboEmulator) -> None:
    api = _api(emu, "us_ast", multicurrency=True)
    _, item = customer_item(api)
    euro = api.create("Customer", {"DisplayName": "Euro Client", "CurrencyRef": {"value": "EUR"}})
    line = [sales_line(item, "100")]

    invoice = _invoice(
        api, {"CustomerRef": {"value": euro["Id"]}, "Line": line, "CurrencyRef": {"value": "EUR"}}
    )
    unnamed = api.post("invoice", {"CustomerRef": {"value": euro["Id"]}, "Line": line})
    in_dollars = api.post(
        "invoice",
        {"CustomerRef": {"value": euro["Id"]}, "Line": line, "CurrencyRef": {"value": "USD"}},
    )
    changed = api.post(
        "customer",
        {
            "Id": euro["Id"],
            "SyncToken": euro["SyncToken"],
            "sparse": True,
            "CurrencyRef": {"value": "USD"},
        },
    )

    assert invoice["CurrencyRef"]["value"] == "EUR"
    assert Decimal(str(invoice["HomeTotalAmt"])) == Decimal("108.00")  # at 1.08 USD per EUR
    assert in_dollars.status_code == 400 and fault(in_dollars)["element"] == "CurrencyRef"
    # CurrencyRef "must be defined if multicurrency is enabled" (Intuit's Invoice reference).
    assert unnamed.status_code == 400 and fault(unnamed)["code"] == "2020"
    assert changed.status_code == 400 and fault(changed)["element"] == "CurrencyRef"
