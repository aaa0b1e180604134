"""GET /quickbooks/exports (docs/interface.md §5, §12, §14): the connected company's export records
and the skipped ones, newest first, filtered by status, client or invoice number, with each
invoice's client, total, payments with their refunds, and history.

The client's name, the total, currency and issue date are read from the record's export_body
(the latest received revision's message, which the export stores anyway), so they cost no write.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from qbo_sync.api.errors import InvalidRequest
from qbo_sync.connection import services
from qbo_sync.core.reasons import ReasonCode, message_of, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import EntryStatus, ExportStatus, RefundStatus
from qbo_sync.ledger.entries import PaymentEntry, entries_of
from qbo_sync.ledger.listing import ORDER_ATTRIBUTE, ExportFilter, export_partitions
from qbo_sync.ledger.records import HISTORY, HISTORY_KEPT
from qbo_sync.ledger.refunds import RefundEntry, refunds_of
from qbo_sync.views.listing import Listing, Partition, reason_of

MAX_FILTER_LENGTH = 100


def list_exports(contractor_id: str, params: dict[str, str]) -> dict[str, Any]:
    """`params`: the query string (absent: not in it)."""
    wanted = _filter(params)
    connection = services.connections().get(contractor_id)
    realm_id = connection.realm_id if connection is not None else None
    listing = _listing(contractor_id, realm_id, wanted)
    items, cursor = listing.page(contractor_id, params.get("limit"), params.get("cursor"))
    if wanted.number and wanted.status:  # one invoice: its status is checked, not paged past
        items = [values for values in items if values.get("export_status") == wanted.status]
    return {"items": [export_item(values) for values in items], "cursor": cursor}


def export_listing(
    contractor_id: str, realm_id: str | None, status: ExportStatus | None, scopes: int = 2
) -> Listing:
    """The list of one status (or all); scopes=1: the company's records alone."""
    return _listing(contractor_id, realm_id, ExportFilter(status=status), scopes)


def _listing(
    contractor_id: str, realm_id: str | None, wanted: ExportFilter, scopes: int = 2
) -> Listing:
    partitions = tuple(
        Partition(*found) for found in export_partitions(contractor_id, realm_id, wanted)
    )
    table = get_settings().mappings_table
    return Listing(table, partitions[:scopes], ORDER_ATTRIBUTE, wanted.signature())


def _filter(params: dict[str, str]) -> ExportFilter:
    status = params.get("status") or None
    if status is not None and status not in {s.value for s in ExportStatus}:
        names = ", ".join(s.value for s in ExportStatus)
        raise InvalidRequest("invalid_status", "status must be one of: " + names)
    client_id = params.get("client_id") or None
    number = (params.get("number") or "").strip() or None
    for name, value in (("client_id", client_id), ("number", number)):
        if value is not None and len(value) > MAX_FILTER_LENGTH:
            raise InvalidRequest(f"invalid_{name}", f"{name} is at most 100 characters")
    if client_id and (status or number):
        raise InvalidRequest(
            "invalid_filter", "Filter by client alone: client_id takes no status or number."
        )
    return ExportFilter(ExportStatus(status) if status else None, client_id, number)


# -- items --------------------------------------------------------------------------------------


def export_item(values: dict[str, Any]) -> dict[str, Any]:
    entries = sorted(entries_of(values).values(), key=lambda e: (e.updated_at or "", e.payment_id))
    refunds = sorted(refunds_of(values).values(), key=lambda r: (r.updated_at or "", r.refund_id))
    message = _message(values.get("export_body"))
    invoice, client = message.get("invoice") or {}, message.get("client") or {}
    status = values.get("export_status")
    qbo_customer_id = values.get("qbo_customer_id")
    customer = None
    if status == ExportStatus.EXPORTED and qbo_customer_id:
        name = values.get("qbo_customer_name") or client.get("display_name")
        customer = {"qbo_customer_id": str(qbo_customer_id), "display_name": name}
    return {
        "invoice_id": values.get("invoice_id"),
        "invoice_number": values.get("invoice_number"),
        "revision": int(values["revision"]) if values.get("revision") is not None else None,
        "status": status,
        "qbo_invoice_id": values.get("qbo_invoice_id"),
        "qbo_url": _qbo_url(values.get("qbo_invoice_id")),
        # docs/interface.md §15: recorded as exported to an invoice keyed in by hand.
        "adopted": bool(values.get("adopted")),
        "updated_at": values.get("updated_at"),
        "reason": reason_of(values.get("export_reason")),
        "client_id": client.get("id") or values.get("client_id"),
        "client_name": client.get("display_name"),
        "total": invoice.get("total"),
        "currency": invoice.get("currency"),
        "issue_date": invoice.get("issue_date"),
        "customer": customer,
        "payments": [_payment(entry, refunds) for entry in entries],
        "history": [
            _history(entry, values.get("export_reason"))
            for entry in (values.get(HISTORY) or [])[:HISTORY_KEPT]
        ],
    }


def _message(body: Any) -> dict[str, Any]:
    if not body:
        return {}
    try:
        message = json.loads(str(body))
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def _history(entry: Any, latest: Any) -> dict[str, Any]:
    """An entry keeps its reason's code: the sentence is the record's own when it is the same
    reason (it may name a field or a rate), else the code's."""
    entry = entry if isinstance(entry, dict) else {}
    code = entry.get("code")
    why = None
    if code:
        same = isinstance(latest, dict) and latest.get("code") == code
        message = str(latest["message"]) if same else message_of(str(code))
        why = {"code": str(code), "message": message}
    return {
        "at": entry.get("at"),
        "outcome": entry.get("outcome"),
        "reason": why,
        "intuit_tid": entry.get("intuit_tid") or None,
        "by": entry.get("by") or "system",
    }


def _qbo_url(qbo_invoice_id: Any) -> str | None:
    if not qbo_invoice_id:
        return None
    return f"{get_settings().qbo_app_url}/app/invoice?txnId={qbo_invoice_id}"


def _payment(entry: PaymentEntry, refunds: list[RefundEntry]) -> dict[str, Any]:
    shown: EntryStatus = entry.status
    why = reason_of(entry.reason)
    if shown == EntryStatus.RECORDING:  # an attempt holds it now, or died and waits for a run
        shown, why = EntryStatus.PARKED, reason(ReasonCode.PAYMENT_IN_PROGRESS)
    return {
        "payment_id": entry.payment_id,
        "amount": str(entry.amount.quantize(Decimal("0.01"))),
        # The payment's own date (payments recorded before it was kept: from their event
        # while it is kept), and when it changed status last.
        "paid_at": entry.paid_at,
        "updated_at": entry.updated_at,
        "status": shown,
        "qbo_payment_id": entry.qbo_payment_id if shown == EntryStatus.RECORDED else None,
        "reason": None if shown == EntryStatus.RECORDED else why,
        "refunds": [_refund(r) for r in refunds if r.payment_id == entry.payment_id],
    }


def _refund(entry: RefundEntry) -> dict[str, Any]:
    """docs/interface.md §12: a refund is recorded, waiting (for its payment, or being recorded)
    or failed."""
    shown = RefundStatus.WAITING if entry.status == RefundStatus.RECORDING else entry.status
    recorded = shown == RefundStatus.RECORDED
    return {
        "refund_id": entry.refund_id,
        "amount": str(entry.amount.quantize(Decimal("0.01"))),
        "status": shown,
        "qbo_refund_id": entry.qbo_refund_id if recorded else None,
        "reason": None if recorded else reason_of(entry.reason),
    }
