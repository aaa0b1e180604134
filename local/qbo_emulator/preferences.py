"""What a new US company has besides its accounts: sales terms, payment methods, sales tax
codes and rates, and the Preferences document, all served read-only.

Shapes follow Intuit's API reference samples (Preferences, Term, TaxCode, TaxRate). A US
company reports the pseudo tax codes TAX and NON beside its tax groups, and since Nov 2017 uses
Automated Sales Tax (`TaxPrefs.PartnerTaxEnabled`). `SalesFormsPrefs.DefaultTerms` names the
terms an invoice gets when neither it nor its customer names any: Net 30, Id 3, as in a
production answer (pastebin.com/A4JGEijL, 2020: TxnDate 2020-04-03, DueDate 2020-05-03,
"SalesTermRef": {"value": "3"}); the invoice's DueDate follows from them (due_date)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from . import sales_tax
from .clock import meta_time
from .jsonio import Json

if TYPE_CHECKING:
    from .company import Company

TERMS = (("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60))
# A new company's payment methods (Intuit's PaymentMethod reference: Type CREDIT_CARD or
# NON_CREDIT_CARD).
PAYMENT_METHODS = (
    ("American Express", "CREDIT_CARD"),
    ("Cash", "NON_CREDIT_CARD"),
    ("Check", "NON_CREDIT_CARD"),
    ("Discover", "CREDIT_CARD"),
    ("MasterCard", "CREDIT_CARD"),
    ("Visa", "CREDIT_CARD"),
)
DEFAULT_TERMS = "Net 30"


def _stored(company: Company, entity: str, row_id: str, row: Json, now: float) -> None:
    stamp = meta_time(now)
    company.tables[entity][row_id] = {
        "Id": row_id,
        "SyncToken": "0",
        **row,
        "domain": "QBO",
        "sparse": False,
        "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp},
    }


def seed(company: Company, now: float) -> None:
    for name, days in TERMS:
        company.insert(
            "Term", {"Name": name, "Active": True, "Type": "STANDARD", "DueDays": days}, now
        )
    for name, kind in PAYMENT_METHODS:
        company.insert("PaymentMethod", {"Name": name, "Active": True, "Type": kind}, now)
    if company.kind.line_tax_codes:
        sales_tax.seed_line_codes(company, now)
    else:
        _seed_us_tax(company, now)
    _stored(company, "Preferences", "1", {}, now)
    company.default_terms = company.ref("Term", company.find("Term", "Name", DEFAULT_TERMS))


def _seed_us_tax(company: Company, now: float) -> None:
    rate: Json = {
        "Name": "Travis County",
        "Description": "Sales Tax",
        "Active": True,
        "RateValue": Decimal("8.25"),
        "AgencyRef": {"value": "1"},
        "SpecialTaxType": "NONE",
        "DisplayType": "ReadOnly",
    }
    _stored(company, "TaxRate", "1", rate, now)
    for code, taxable in (("TAX", True), ("NON", False)):
        pseudo: Json = {"Name": code, "Description": code, "Active": True, "Taxable": taxable}
        _stored(company, "TaxCode", code, {**pseudo, "TaxGroup": False, "Hidden": False}, now)
    detail = {
        "TaxRateRef": {"value": "1", "name": "Travis County"},
        "TaxTypeApplicable": "TaxOnAmount",
        "TaxOrder": 0,
    }
    group: Json = {
        "Name": "Texas",
        "Description": "Texas",
        "Active": True,
        "Hidden": False,
        "Taxable": True,
        "TaxGroup": True,
        "SalesTaxRateList": {"TaxRateDetail": [detail]},
        "PurchaseTaxRateList": {"TaxRateDetail": []},
    }
    _stored(company, "TaxCode", "2", group, now)


# Sections as an Intuit sandbox company answers them: python-quickbooks' sandbox test
# (tests/integration/test_preferences.py) asserts TaxYearMonth January, ForPurchase and
# BillableExpenseTracking true, WorkWeekStartDate Monday, and the first OtherPrefs NameValue
# SalesFormsPrefs.DefaultCustomerMessage.
SANDBOX_PREFS: Json = {
    "VendorAndPurchasesPrefs": {"TrackingByCustomer": True, "BillableExpenseTracking": True},
    "TimeTrackingPrefs": {
        "UseServices": True,
        "BillCustomers": True,
        "ShowBillRateToAll": False,
        "WorkWeekStartDate": "Monday",
        "MarkTimeEntriesBillable": True,
    },
    "EmailMessagesPrefs": {
        "InvoiceMessage": {"Subject": "Invoice", "Message": "Your invoice."},
        "EstimateMessage": {"Subject": "Estimate", "Message": "Your estimate."},
    },
    "OtherPrefs": {
        "NameValue": [
            {
                "Name": "SalesFormsPrefs.DefaultCustomerMessage",
                "Value": "Thank you for your business and have a great day!",
            }
        ]
    },
}


def preferences(company: Company) -> Json:
    """The stored document, brought up to date with the company's settings."""
    row = company.tables["Preferences"]["1"]
    settings = company.settings
    accounting: Json = {
        "TrackDepartments": False,
        "UseAccountNumbers": True,
        "FirstMonthOfFiscalYear": "January",
        "TaxYearMonth": "January",
    }
    if settings.closing_date is not None:
        accounting["BookCloseDate"] = settings.closing_date
    sales: Json = {
        "AllowDeposit": True,
        "AllowDiscount": True,
        "AllowShipping": False,
        "AutoApplyCredit": True,
        "CustomTxnNumbers": settings.custom_txn_numbers,
        "UsingPriceLevels": False,
    }
    if company.default_terms is not None:
        sales["DefaultTerms"] = {"value": company.default_terms["value"]}
    row.update(
        {
            "AccountingInfoPrefs": accounting,
            "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True},
            "SalesFormsPrefs": sales,
            "TaxPrefs": {
                "UsingSalesTax": True,
                "PartnerTaxEnabled": company.kind.automated_sales_tax,
            },
            "CurrencyPrefs": {
                "MultiCurrencyEnabled": settings.multicurrency,
                "HomeCurrency": {"value": company.kind.home_currency},
            },
            "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
            **SANDBOX_PREFS,
        }
    )
    return row


def due_date(company: Company, terms: Json | None, txn_date: str) -> tuple[str, Json | None]:
    """DueDate and SalesTermRef for an invoice that sends no DueDate: the terms it names, else
    its customer's (the caller passes those), else the company's default terms, else due on
    the transaction date."""
    ref = terms or company.default_terms
    term = company.get("Term", ref["value"]) if ref else None
    if term is None:
        return txn_date, None
    due = date.fromisoformat(txn_date) + timedelta(days=int(term.get("DueDays", 0)))
    # A real answer names the terms by Id only: "SalesTermRef": {"value": "3"}.
    return due.isoformat(), {"value": term["Id"]}
