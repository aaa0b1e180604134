"""Voids: the transaction stays, with every amount and quantity 0 and "Voided" put before its
PrivateNote; its SyncToken moves like any update's.

- Invoice: `POST /invoice?operation=void` with Id and SyncToken. Refused (6000) while a payment
  is applied to it: QBO will not void an invoice a Payment settles (a production incident,
  LanternOps/breeze issue #5180; WYRE-AI/qbo-mcp's void tool says the same). Once its payments
  are unlinked (a sparse Payment update without the invoice's line) their amounts are the
  customer's unapplied credit, and the void goes through (FACTS.md).
- Payment: `POST /payment?operation=update&include=void` with Id, SyncToken, sparse (Intuit's
  Payment reference, "Void a payment"; python-quickbooks VoidMixin). A payment whose funds are
  in a Deposit cannot be voided until that deposit is deleted (the same reference)."""

from __future__ import annotations

from decimal import Decimal

from . import faults
from .company import Company
from .fields import SYSTEM
from .jsonio import Json
from .transactions import applied_to

ZERO = Decimal("0.00")


def _fields(row: Json) -> Json:
    return {k: v for k, v in row.items() if k not in SYSTEM}


def _note(row: Json) -> str:
    return "Voided" + (f" - {row['PrivateNote']}" if row.get("PrivateNote") else "")


def _zero_lines(lines: list[Json]) -> list[Json]:
    zeroed = []
    for line in lines:
        line = {**line, "Amount": ZERO} if "Amount" in line else dict(line)
        detail = line.get("SalesItemLineDetail")
        if isinstance(detail, dict) and "Qty" in detail:
            line["SalesItemLineDetail"] = {**detail, "Qty": Decimal("0")}
        zeroed.append(line)
    return zeroed


def void_invoice(company: Company, invoice: Json, now: float) -> Json:
    applied, links = applied_to(company, invoice["Id"])
    if applied:
        paid_by = ", ".join(link["TxnId"] for link in links)
        raise faults.business(
            f"This invoice has payments applied ({paid_by}): unlink them before voiding it", "Id"
        )
    voided = {
        **_fields(invoice),
        "Line": _zero_lines(invoice["Line"]),
        "TotalAmt": ZERO,
        "Balance": ZERO,
        "LinkedTxn": [],
        "PrivateNote": _note(invoice),
    }
    if isinstance(invoice.get("TxnTaxDetail"), dict):
        # Every amount is 0, the tax included: a voided invoice owes the tax agency nothing.
        voided["TxnTaxDetail"] = {**invoice["TxnTaxDetail"], "TotalTax": ZERO, "TaxLine": []}
    return company.replace("Invoice", invoice, voided, now)


def deposit_holding(company: Company, payment_id: str) -> Json | None:
    """The deposit a payment's funds went into, if any."""
    for deposit in company.rows("Deposit"):
        for line in deposit.get("Line", []):
            for link in line.get("LinkedTxn", []):
                if link.get("TxnType") == "Payment" and link.get("TxnId") == payment_id:
                    return deposit
    return None


def void_payment(company: Company, payment: Json, now: float) -> Json:
    deposit = deposit_holding(company, payment["Id"])
    if deposit is not None:
        raise faults.business(
            f"This payment is in deposit {deposit['Id']}: delete the deposit before voiding it",
            "Id",
        )
    voided = {
        **_fields(payment),
        "Line": _zero_lines(payment.get("Line", [])),
        "TotalAmt": ZERO,
        "UnappliedAmt": ZERO,
        "PrivateNote": _note(payment),
    }
    return company.replace("Payment", payment, voided, now)


VOIDS = {"Invoice": void_invoice, "Payment": void_payment}
