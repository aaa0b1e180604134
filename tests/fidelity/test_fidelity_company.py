"""What the product reads about a company: Preferences, tax codes and rates, and the terms an
invoice's DueDate follows from."""

from __future__ import annotations

from datetime import date, timedelta

from quickbooks import QuickBooks
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.preferences import Preferences
from quickbooks.objects.taxcode import TaxCode
from quickbooks.objects.taxrate import TaxRate
from quickbooks.objects.term import Term

from local.qbo_emulator import QboEmulator
from tests.fidelity.helpers import customer, sales_line, service_item


def test_preferences_tell_automated_sales_tax_and_the_companys_numbering(
    qb: QuickBooks, emu: QboEmulator, realm: str
) -> None:
    emu.company_settings(realm, custom_txn_numbers=True)

    prefs = Preferences.get(qb=qb)

    assert prefs.TaxPrefs.PartnerTaxEnabled is True
    assert prefs.SalesFormsPrefs.CustomTxnNumbers is True
    assert prefs.CurrencyPrefs.MultiCurrencyEnabled is False


def test_tax_codes_and_rates_are_listed(qb: QuickBooks) -> None:
    codes = {code.Name: code for code in TaxCode.all(qb=qb)}
    rates = TaxRate.all(qb=qb)

    assert {"TAX", "NON"} <= set(codes)
    group = next(code for code in codes.values() if code.TaxGroup)
    rate_ids = [d.TaxRateRef.value for d in group.SalesTaxRateList.TaxRateDetail]
    assert rate_ids and set(rate_ids) <= {rate.Id for rate in rates}


def _invoice(qb: QuickBooks, buyer: Customer, txn_date: str) -> Invoice:
    created = Invoice()
    created.CustomerRef, created.TxnDate = buyer.to_ref(), txn_date
    created.Line.append(sales_line(service_item(qb, f"Work {buyer.Id}"), 10))
    saved: Invoice = created.save(qb=qb)
    return saved


def test_an_invoice_without_due_date_is_due_on_the_companys_default_terms(qb: QuickBooks) -> None:
    terms = Term.get(Preferences.get(qb=qb).SalesFormsPrefs.DefaultTerms.value, qb=qb)

    made = _invoice(qb, customer(qb), "2026-03-02")

    due = date(2026, 3, 2) + timedelta(days=terms.DueDays)
    assert made.DueDate == due.isoformat()
    assert made.SalesTermRef.value == terms.Id


def test_a_customers_terms_come_before_the_companys(qb: QuickBooks) -> None:
    net15 = Term.filter(Name="Net 15", qb=qb)[0]
    buyer = Customer()
    buyer.DisplayName, buyer.SalesTermRef = "Jane O'Neil", net15.to_ref()
    buyer = buyer.save(qb=qb)

    made = _invoice(qb, buyer, "2026-03-02")

    assert (made.DueDate, made.SalesTermRef.value) == ("2026-03-17", net15.Id)


def test_preferences_answer_what_the_clients_sandbox_test_reads(qb: QuickBooks) -> None:
    # tests/integration/test_preferences.py::test_get, against an Intuit sandbox company.
    prefs = Preferences.get(qb=qb)

    assert prefs.Id == "1"
    assert prefs.AccountingInfoPrefs.TaxYearMonth == "January"
    assert prefs.ProductAndServicesPrefs.ForPurchase is True
    assert prefs.VendorAndPurchasesPrefs.BillableExpenseTracking is True
    assert prefs.TimeTrackingPrefs.WorkWeekStartDate == "Monday"
    assert prefs.OtherPrefs.NameValue[0].Name == "SalesFormsPrefs.DefaultCustomerMessage"
