"""The Accounting API's entity operations: create, sparse/full update, read, delete, void,
query. Validation lives with each entity (names.py, transactions.py); this module applies
QBO's common rules (unknown properties, SyncToken, Id lookup) and keeps balances settled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import faults, query, sales_tax
from .accounts import ACCOUNT_FIELDS, ACCOUNT_READ_ONLY, build_account
from .company import Company
from .deposits import DEPOSIT_FIELDS, DEPOSIT_READ_ONLY, build_deposit
from .fields import SYSTEM, check_allowed
from .jsonio import Json
from .names import (
    CUSTOMER_FIELDS,
    CUSTOMER_READ_ONLY,
    ITEM_FIELDS,
    ITEM_READ_ONLY,
    build_customer,
    build_item,
)
from .preferences import preferences
from .refunds import REFUND_FIELDS, REFUND_READ_ONLY, build_refund
from .shapes import drop_blank
from .transactions import build_invoice, build_payment, settle, unlink_invoice
from .txn_fields import INVOICE_FIELDS, INVOICE_READ_ONLY, PAYMENT_FIELDS, PAYMENT_READ_ONLY
from .voids import VOIDS

Builder = Callable[[Company, Json, Json | None, float], Json]


@dataclass(frozen=True)
class Spec:
    name: str
    fields: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()
    build: Builder | None = None  # None: the emulator serves it read-only
    deletable: bool = False


SPECS = {
    spec.name.lower(): spec
    for spec in (
        Spec("Customer", CUSTOMER_FIELDS, CUSTOMER_READ_ONLY, build_customer),
        Spec("Item", ITEM_FIELDS, ITEM_READ_ONLY, build_item),
        Spec("Invoice", INVOICE_FIELDS, INVOICE_READ_ONLY, build_invoice, deletable=True),
        Spec("Payment", PAYMENT_FIELDS, PAYMENT_READ_ONLY, build_payment, deletable=True),
        Spec("RefundReceipt", REFUND_FIELDS, REFUND_READ_ONLY, build_refund, deletable=True),
        Spec("Deposit", DEPOSIT_FIELDS, DEPOSIT_READ_ONLY, build_deposit, deletable=True),
        Spec("Account", ACCOUNT_FIELDS, ACCOUNT_READ_ONLY, build_account),
        Spec("CompanyInfo"),
        Spec("Preferences"),
        Spec("Term"),
        Spec("PaymentMethod"),
        Spec("TaxCode"),
        Spec("TaxRate"),
        Spec("Vendor"),
        Spec("Employee"),
    )
}


def entity_name(segment: str) -> str | None:
    spec = SPECS.get(segment.lower())
    return spec.name if spec else None


def unsupported(path: str) -> faults.ApiError:
    return faults.validation(
        "500",
        f"Operation Could not find resource for relative : {path}",
        "",
        message="Unsupported Operation",
    )


def _spec(segment: str, path: str) -> Spec:
    spec = SPECS.get(segment.lower())
    if spec is None:
        raise unsupported(path)
    return spec


def read(company: Company, segment: str, entity_id: str, path: str) -> tuple[str, Json]:
    spec = _spec(segment, path)
    if spec.name == "Preferences":
        return spec.name, preferences(company)
    if spec.name == "CompanyInfo" and entity_id == company.realm_id:
        return spec.name, company.rows("CompanyInfo")[0]
    row = company.get(spec.name, entity_id)
    if row is None:
        raise faults.not_found(spec.name, entity_id)
    return spec.name, row


def _writable(spec: Spec, row: Json) -> Json:
    return {k: v for k, v in row.items() if k not in spec.read_only and k not in SYSTEM}


def _current(company: Company, spec: Spec, body: Json) -> Json:
    existing = company.get(spec.name, body["Id"])
    if existing is None:
        raise faults.not_found(spec.name, body["Id"])
    token = body.get("SyncToken")
    if token is None:
        raise faults.required("SyncToken")
    if str(token) != existing["SyncToken"]:
        raise faults.stale(spec.name, existing["Id"])
    return existing


def write(
    company: Company,
    segment: str,
    body: Any,
    operation: str | None,
    path: str,
    now: float,
    include: str | None = None,
) -> tuple[str, Json, bool]:
    """Returns (entity name, entity as answered, whether it was a create)."""
    spec = _spec(segment, path)
    if operation == "update" and include == "void" and spec.name == "Payment":
        operation = "void"  # Intuit's documented form of a payment void
    if not isinstance(body, dict):
        raise faults.bad_value(spec.name, body)
    if spec.build is None:
        raise faults.business(f"Writing {spec.name} is not supported by the emulator")
    if company.settings.subscription_ended:
        raise faults.company_status()
    if operation in ("delete", "void"):
        return spec.name, _delete_or_void(company, spec, body, operation, now), False
    if operation not in (None, "update", "create"):
        raise unsupported(path)
    check_allowed(body, spec.fields, spec.name)
    if body.get("Id") in (None, ""):
        built = spec.build(company, drop_blank(_writable(spec, body)), None, now)
        _check_books_open(company, built)
        row = company.insert(spec.name, built, now)
        settle(company, now)
        return spec.name, row, True
    existing = _current(company, spec, body)
    sparse = body.get("sparse") in (True, "true")
    kept = _writable(spec, existing)
    if spec.name == "Invoice" and "TxnTaxDetail" not in body:
        kept = {**kept, "TxnTaxDetail": sales_tax.carried(existing)}  # tax worked out again
    # Blanks are dropped after the merge: in a sparse update "" clears the stored value.
    fields = drop_blank({**kept, **_writable(spec, body)} if sparse else _writable(spec, body))
    built = spec.build(company, fields, existing, now)
    _check_books_open(company, existing)
    _check_books_open(company, built)
    row = company.replace(spec.name, existing, built, now)
    settle(company, now)
    return spec.name, row, False


def _check_books_open(company: Company, transaction: Json) -> None:
    """A transaction dated on or before the closing date can be neither written nor moved out."""
    closing = company.settings.closing_date
    txn_date = transaction.get("TxnDate")
    if closing is not None and txn_date is not None and str(txn_date) <= closing:
        raise faults.period_closed()


def _delete_or_void(company: Company, spec: Spec, body: Json, operation: str, now: float) -> Json:
    if not spec.deletable or body.get("Id") is None:
        raise faults.business(f"{spec.name} can not be {operation}ed; make it inactive instead")
    existing = _current(company, spec, body)
    _check_books_open(company, existing)
    if operation == "void":
        void = VOIDS.get(spec.name)
        if void is None:
            raise faults.business(f"{spec.name} can not be voided")
        row = void(company, existing, now)
        settle(company, now)
        return row
    if spec.name == "Invoice":
        unlink_invoice(company, existing["Id"], now)
    company.delete(spec.name, existing["Id"])
    settle(company, now)
    return {"Id": existing["Id"], "status": "Deleted", "domain": "QBO"}


def run_query(company: Company, text: str) -> tuple[str, Json]:
    parsed = query.parse(text)
    name = entity_name(parsed.entity)
    if name is None:
        raise faults.query_invalid(f"value '{parsed.entity}' is not a valid entity")
    if name == "Preferences":
        preferences(company)
    return name, query.execute(parsed, name, company.rows(name))
