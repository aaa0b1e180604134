"""Sales tax on an invoice, as each kind of company works it out (kinds.py), and its discount.

- Every company: a `DiscountLineDetail` line takes its Amount off the subtotal; with
  `ApplyTaxAfterDiscount` the taxable amounts shrink in proportion before tax is worked out.
- US, Automated Sales Tax: lines say TAX or NON; QBO adds its own tax on the TAX lines at the
  rate of the company's address (the emulator's seeded rate) unless the invoice sends
  `TxnTaxDetail.TotalTax`, which is honoured (Intuit's AST FAQ and "Manage sales tax for US
  locales"; the SDK maintainer in intuit/QuickBooks-V3-PHP-SDK issue #199).
- US, manual sales tax: lines say TAX or NON; tax is worked out only with the tax code the
  invoice names in `TxnTaxDetail.TxnTaxCodeRef` (none named: no tax); TotalTax overrides it.
- Outside the US: every sales line must name one of the company's tax codes (the pseudo codes
  TAX and NON do not exist there); tax is worked out per code, TotalTax overrides the sum.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from . import faults
from .clock import meta_time
from .fields import CENT, money, ref_id, reference
from .jsonio import Json
from .kinds import CANADA_TAX_CODES, CANADA_UNTAXED_CODES

if TYPE_CHECKING:
    from .company import Company

PSEUDO_CODES = ("TAX", "NON")
AST_RATE_ID = "1"  # the rate of the company's address (preferences._seed_us_tax)
ZERO = Decimal("0.00")
# Intuit's answer to a line without a tax code in a Canadian company *(check the exact text)*.
NO_LINE_CODE = "Make sure all your transactions have a GST/HST rate before you save."


def _store(company: Company, entity: str, row: Json, now: float) -> str:
    ids = [int(i) for i in company.tables[entity] if i.isdigit()]
    row_id = str(max(ids, default=0) + 1)
    stamp = meta_time(now)
    company.tables[entity][row_id] = {
        "Id": row_id,
        "SyncToken": "0",
        **row,
        "domain": "QBO",
        "sparse": False,
        "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp},
    }
    return row_id


def add_rate(company: Company, name: str, rate: Decimal, now: float) -> str:
    """A TaxRate and the TaxCode that applies it alone (the QBO UI makes both); the code's Id."""
    rate_row: Json = {
        "Name": name,
        "Description": "Sales Tax",
        "Active": True,
        "RateValue": rate,
        "AgencyRef": {"value": "1"},
        "SpecialTaxType": "NONE",
        "DisplayType": "ReadOnly",
    }
    rate_id = _store(company, "TaxRate", rate_row, now)
    detail = {
        "TaxRateRef": {"value": rate_id, "name": name},
        "TaxTypeApplicable": "TaxOnAmount",
        "TaxOrder": 0,
    }
    code: Json = {
        "Name": name,
        "Description": name,
        "Active": True,
        "Hidden": False,
        "Taxable": rate > 0,
        "TaxGroup": False,
        "SalesTaxRateList": {"TaxRateDetail": [detail]},
        "PurchaseTaxRateList": {"TaxRateDetail": []},
    }
    return _store(company, "TaxCode", code, now)


def seed_line_codes(company: Company, now: float) -> None:
    for name, rate in CANADA_TAX_CODES:
        add_rate(company, name, rate, now)
    for name in CANADA_UNTAXED_CODES:
        add_rate(company, name, Decimal("0"), now)


def line_tax_code(company: Company, detail: Json) -> Json:
    """The TaxCodeRef a sales line is stored with."""
    element = "Line.SalesItemLineDetail.TaxCodeRef"
    sent = detail.get("TaxCodeRef")
    if not company.kind.line_tax_codes:
        code = ref_id(sent, element) or "NON"
        if code not in PSEUDO_CODES:
            raise faults.business("A US sales line takes the tax code TAX or NON", element)
        return {"value": code}
    if sent is None:
        raise faults.business(NO_LINE_CODE, element)
    code = ref_id(sent, element) or ""
    if code in PSEUDO_CODES or company.get("TaxCode", code) is None:
        raise faults.invalid_reference(element, code)
    return {"value": code}


def discount_line(line: Json, number_: int) -> Json:
    amount = money(line.get("Amount", 0), "Line.Amount")
    detail = line.get("DiscountLineDetail")
    if not isinstance(detail, dict):
        raise faults.required("Line.DiscountLineDetail")
    if detail.get("PercentBased") is True:
        raise faults.business("Percent discounts are not emulated", "Line.DiscountLineDetail")
    if amount < 0:
        raise faults.business("A discount can not be negative", "Line.Amount")
    described = {"Description": line["Description"]} if line.get("Description") else {}
    return {
        "Id": str(number_),
        "LineNum": number_,
        **described,
        "Amount": amount,
        "DetailType": "DiscountLineDetail",
        "DiscountLineDetail": {**detail, "PercentBased": False},
    }


def tax_detail(
    company: Company, fields: Json, lines: list[Json], subtotal: Decimal, discount: Decimal
) -> Json:
    """TxnTaxDetail as QBO answers it: TotalTax and a TaxLine per rate."""
    sent = fields.get("TxnTaxDetail") or {}
    if not isinstance(sent, dict):
        raise faults.bad_value("TxnTaxDetail", sent)
    override = sent.get("TotalTax")
    override = None if override is None else money(override, "TxnTaxDetail.TotalTax")
    if override is not None and override < 0:
        raise faults.business("Tax can not be negative", "TxnTaxDetail.TotalTax")
    answer: Json = {}
    bases = _taxable_bases(company, sent, lines, answer)
    if discount and subtotal and fields.get("ApplyTaxAfterDiscount") is True:
        share = (subtotal - discount) / subtotal
        bases = {rate: (base * share).quantize(CENT, ROUND_HALF_UP) for rate, base in bases.items()}
    tax_lines = [_tax_line(company, rate_id, base) for rate_id, base in bases.items() if base]
    computed = sum((line["Amount"] for line in tax_lines), ZERO)
    total = computed if override is None else override
    if override is not None and tax_lines:
        _prorate(tax_lines, override, computed)
    # An untaxed invoice answers `"TxnTaxDetail": {"TotalTax": 0}` (FACTS.md, 2015 recording).
    return {**answer, "TotalTax": total, **({"TaxLine": tax_lines} if tax_lines else {})}


def _taxable_bases(
    company: Company, sent: Json, lines: list[Json], answer: Json
) -> dict[str, Decimal]:
    bases: dict[str, Decimal] = defaultdict(lambda: ZERO)
    kind = company.kind
    sales = [line for line in lines if line.get("DetailType") == "SalesItemLineDetail"]
    rates: list[str] = []
    if kind.automated_sales_tax:
        rates = [AST_RATE_ID]
    elif not kind.line_tax_codes and sent.get("TxnTaxCodeRef") is not None:
        code = reference(company, "TaxCode", sent["TxnTaxCodeRef"], "TxnTaxDetail.TxnTaxCodeRef")
        answer["TxnTaxCodeRef"] = {"value": code["value"]}
        rates = _rate_ids(company.get("TaxCode", code["value"]) or {})
    for line in sales:
        code = line["SalesItemLineDetail"]["TaxCodeRef"]["value"]
        if kind.line_tax_codes:
            for rate_id in _rate_ids(company.get("TaxCode", code) or {}):
                bases[rate_id] += line["Amount"]
        elif code == "TAX":
            for rate_id in rates:
                bases[rate_id] += line["Amount"]
    return dict(bases)


def _rate_ids(code: Json) -> list[str]:
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail", [])
    return [str(detail["TaxRateRef"]["value"]) for detail in details]


def _tax_line(company: Company, rate_id: str, base: Decimal) -> Json:
    rate = Decimal(str((company.get("TaxRate", rate_id) or {}).get("RateValue", 0)))
    return {
        "Amount": (base * rate / 100).quantize(CENT, ROUND_HALF_UP),
        "DetailType": "TaxLineDetail",
        "TaxLineDetail": {
            "TaxRateRef": {"value": rate_id},
            "PercentBased": True,
            "TaxPercent": rate,
            "NetAmountTaxable": base,
        },
    }


def _prorate(tax_lines: list[Json], total: Decimal, computed: Decimal) -> None:
    """An explicit TotalTax spread over the rates in proportion (the last takes the cents)."""
    left = total
    for line in tax_lines[:-1]:
        share = line["Amount"] / computed if computed else Decimal(0)
        line["Amount"] = (total * share).quantize(CENT, ROUND_HALF_UP)
        left -= line["Amount"]
    tax_lines[-1]["Amount"] = left


def carried(existing: Json) -> dict[str, Any]:
    """What a sparse update that sends no TxnTaxDetail keeps of the stored one: the tax code it
    named, not the amounts (QBO works the tax out again from the new lines)."""
    stored = existing.get("TxnTaxDetail") or {}
    return {"TxnTaxCodeRef": stored["TxnTaxCodeRef"]} if stored.get("TxnTaxCodeRef") else {}
