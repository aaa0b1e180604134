"""Sales tax and discounts on invoice-sent (docs/interface.md §7) in each kind of QBO company,
through the invoice-sent consumer, asserting on the emulated company: the tax is QBO's sales
tax (TxnTaxDetail), exact to the cent; the discount a discount line; refusals name their field
or their reason, with nothing half-written."""

from __future__ import annotations

import json

from export_support import dead_letters, reason_of
from tax_support import (
    company,
    discount_lines,
    export_item,
    line_codes,
    money,
    qbo_invoice,
    retry,
    send,
    taxed,
)

from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

SAMPLE_LINES = [("Cabinets", "1000.00", True), ("Install", "150.00", False)]
SAMPLE_TAX = ("90.70", "8.25", "Austin, TX")


def test_ast_company_books_the_platforms_tax_and_discount_exactly(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_ast", "us_ast")
    message = taxed("ctr_ast", "1042", SAMPLE_LINES, tax=SAMPLE_TAX, discount="50.00")

    assert send(env, message).failed == 0

    invoice = qbo_invoice(qbo, realm, "1042")
    assert money(invoice["TotalAmt"]) == money("1190.70") == money(message["invoice"]["total"])
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == money("90.70")
    assert line_codes(invoice) == ["TAX", "NON"]
    assert discount_lines(invoice) == [money("50.00")]
    assert invoice["ApplyTaxAfterDiscount"] is True
    assert invoice["ShipAddr"]["City"] == "Austin"  # what AST computes its tax from
    items = {i["Id"]: i["Name"] for i in qbo.entities(realm, "Item")}
    sales = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    # The invoice number stays in every sales line's Product/Service column.
    assert {items[line["SalesItemLineDetail"]["ItemRef"]["value"]] for line in sales} == {
        "Invoice 1042"
    }


def test_invoice_without_tax_in_an_ast_company_exports_as_before_with_no_tax(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_plain", "us_ast")

    send(env, taxed("ctr_plain", "7", [("Work", "120.00", False)], currency="usd"))

    invoice = qbo_invoice(qbo, realm, "7")
    assert money(invoice["TotalAmt"]) == money("120.00")
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == 0
    assert line_codes(invoice) == ["NON"]
    assert discount_lines(invoice) == []


def test_discount_without_tax_is_a_discount_line_not_a_negative_service(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_disc", "us_manual")

    send(env, taxed("ctr_disc", "8", [("Work", "300.00", False)], discount="25.50"))

    invoice = qbo_invoice(qbo, realm, "8")
    assert money(invoice["TotalAmt"]) == money("274.50")
    assert discount_lines(invoice) == [money("25.50")]
    sales = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert all(money(line["Amount"]) > 0 for line in sales)


def test_manual_us_company_uses_its_tax_code_for_the_platforms_rate(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_manual", "us_manual")
    texas = next(c for c in qbo.entities(realm, "TaxCode") if c["Name"] == "Texas")

    send(env, taxed("ctr_manual", "9", SAMPLE_LINES, tax=SAMPLE_TAX, discount="50.00"))

    invoice = qbo_invoice(qbo, realm, "9")
    assert invoice["TxnTaxDetail"]["TxnTaxCodeRef"]["value"] == texas["Id"]
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == money("90.70")
    assert money(invoice["TotalAmt"]) == money("1190.70")
    assert line_codes(invoice) == ["TAX", "NON"]


def test_manual_us_rate_missing_fails_naming_it_and_exports_after_the_rate_is_added(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_rate", "us_manual")
    message = taxed("ctr_rate", "10", [("Work", "200.00", True)], tax=("12.50", "6.25", "Dallas"))

    result = send(env, message)

    assert result.failed == 0  # refused for good, acknowledged
    item = export_item(env, "ctr_rate", "inv_10")
    assert (item["status"], item["reason"]["code"]) == ("failed", "tax_rate_not_found")
    assert "6.25%" in item["reason"]["message"]
    assert qbo.entities(realm, "Invoice") == [] and qbo.entities(realm, "Customer") == []

    qbo.add_tax_rate(realm, "Dallas", "6.25")  # the contractor adds it, then clicks Retry
    retry(env, "ctr_rate", "inv_10")

    assert export_item(env, "ctr_rate", "inv_10")["status"] == "exported"
    invoice = qbo_invoice(qbo, realm, "10")
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == money("12.50")
    assert money(invoice["TotalAmt"]) == money("212.50")


def test_company_outside_the_us_puts_a_tax_code_on_every_line(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_ca", "canada")
    codes = {c["Name"]: c["Id"] for c in qbo.entities(realm, "TaxCode")}
    lines = [("Cabinets", "1000.00", True), ("Permit", "150.00", False)]

    send(
        env,
        taxed(
            "ctr_ca", "11", lines, tax=("123.50", "13", "HST ON"), discount="50.00", currency="CAD"
        ),
    )
    send(env, taxed("ctr_ca", "12", [("Work", "80.00", False)], currency="CAD"))

    with_tax, without = qbo_invoice(qbo, realm, "11"), qbo_invoice(qbo, realm, "12")
    assert line_codes(with_tax) == [codes["HST ON"], codes["Exempt"]]
    assert money(with_tax["TxnTaxDetail"]["TotalTax"]) == money("123.50")
    assert money(with_tax["TotalAmt"]) == money("1223.50")
    assert line_codes(without) == [codes["Exempt"]]
    assert money(without["TotalAmt"]) == money("80.00")


def test_company_outside_the_us_without_the_rate_fails_with_tax_rate_not_found(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_ca2", "canada")

    send(
        env,
        taxed(
            "ctr_ca2", "13", [("Work", "100.00", True)], tax=("7.00", "7", "PST"), currency="CAD"
        ),
    )

    item = export_item(env, "ctr_ca2", "inv_13")
    assert (item["status"], item["reason"]["code"]) == ("failed", "tax_rate_not_found")
    assert "7% (PST)" in item["reason"]["message"]
    assert qbo.entities(realm, "Invoice") == []


def test_foreign_currency_exports_in_that_currency_to_a_customer_of_its_own(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_mc", "us_ast", multicurrency=True)

    send(env, taxed("ctr_mc", "14", [("Work", "500.00", False)], currency="EUR"))
    send(env, taxed("ctr_mc", "15", [("Work", "70.00", False)]))

    eur, usd = qbo_invoice(qbo, realm, "14"), qbo_invoice(qbo, realm, "15")
    customers = {c["Id"]: c for c in qbo.entities(realm, "Customer")}
    assert eur["CurrencyRef"]["value"] == "EUR" and money(eur["TotalAmt"]) == money("500.00")
    assert customers[eur["CustomerRef"]["value"]]["DisplayName"] == "Jane O'Neil (EUR)"
    assert customers[eur["CustomerRef"]["value"]]["CurrencyRef"]["value"] == "EUR"
    assert usd["CurrencyRef"]["value"] == "USD"
    assert customers[usd["CustomerRef"]["value"]]["DisplayName"] == "Jane O'Neil"


def test_foreign_currency_without_multicurrency_fails_naming_both_currencies(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_nomc", "us_ast")

    send(env, taxed("ctr_nomc", "16", [("Work", "500.00", False)], currency="EUR"))

    item = export_item(env, "ctr_nomc", "inv_16")
    assert (item["status"], item["reason"]["code"]) == ("failed", "currency_not_enabled")
    assert "EUR" in item["reason"]["message"] and "USD" in item["reason"]["message"]
    assert qbo.entities(realm, "Invoice") == [] and qbo.entities(realm, "Customer") == []


REFUSALS = {
    "invoice.total: Value error, total is not the lines minus the discount plus the tax": {
        "total": "1200.00"
    },
    "invoice.tax: Value error, tax must not be negative": {
        "tax": {"amount": "-1.00", "rate": "8.25"}
    },
    "invoice.discount: Value error, discount must not be negative": {
        "discount": {"amount": "-5.00"}
    },
    "invoice.discount: Value error, discount is larger than the lines": {
        "discount": {"amount": "1150.01"}
    },
}


def test_refusals_at_the_edge_name_the_field_and_write_nothing(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_bad", "us_ast")
    bodies = {}
    for n, (why, change) in enumerate(REFUSALS.items()):
        message = taxed("ctr_bad", f"b{n}", SAMPLE_LINES, tax=SAMPLE_TAX, discount="50.00")
        message["invoice"].update(change)
        bodies[why] = message
    untaxed = taxed("ctr_bad", "b9", [("Work", "100.00", False)])
    untaxed["invoice"].update(tax={"amount": "8.25", "rate": "8.25"}, total="108.25")
    bodies["invoice.tax: Value error, tax is charged but no line is taxable"] = untaxed

    for message in bodies.values():
        send(env, message)

    reasons = {json.loads(m["Body"])["invoice"]["number"]: reason_of(m) for m in dead_letters(env)}
    for why, message in bodies.items():
        assert why in reasons[message["invoice"]["number"]], (why, reasons)
    assert qbo.entities(realm, "Invoice") == [] and qbo.entities(realm, "Customer") == []


def test_a_currency_refused_exports_after_multicurrency_is_turned_on_and_retried(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_turn", "us_ast")
    send(env, taxed("ctr_turn", "17", [("Work", "90.00", False)]))  # the setup is kept
    send(env, taxed("ctr_turn", "18", [("Work", "500.00", False)], currency="EUR"))
    assert export_item(env, "ctr_turn", "inv_18")["reason"]["code"] == "currency_not_enabled"

    qbo.company_settings(realm, multicurrency=True)
    retry(env, "ctr_turn", "inv_18")

    assert export_item(env, "ctr_turn", "inv_18")["status"] == "exported"
    assert qbo_invoice(qbo, realm, "18")["CurrencyRef"]["value"] == "EUR"


def test_an_invoice_without_lines_carries_its_tax_on_its_one_line(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_nolines", "us_ast")
    message = taxed("ctr_nolines", "19", [])
    message["invoice"].update(total="108.25", tax={"amount": "8.25", "rate": "8.25"})

    send(env, message)

    invoice = qbo_invoice(qbo, realm, "19")
    assert line_codes(invoice) == ["TAX"]
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == money("8.25")
    assert money(invoice["TotalAmt"]) == money("108.25")


def test_a_quickbooks_fault_about_tax_codes_makes_the_next_export_read_the_setup_again(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_fault", "canada")
    send(env, taxed("ctr_fault", "26", [("Work", "10.00", False)], currency="CAD"))
    element = "Line.SalesItemLineDetail.TaxCodeRef"
    qbo.reject_next("2500", "Invalid Reference Id", entity="Invoice", element=element)

    send(env, taxed("ctr_fault", "27", [("Work", "20.00", False)], currency="CAD"))
    send(env, taxed("ctr_fault", "28", [("Work", "30.00", False)], currency="CAD"))

    assert export_item(env, "ctr_fault", "inv_27")["status"] == "failed"
    assert export_item(env, "ctr_fault", "inv_28")["status"] == "exported"
    reads = [r for r in qbo.requests if r.realm_id == realm and r.entity == "Preferences"]
    assert len(reads) == 2  # the first invoice's, and again after the fault
