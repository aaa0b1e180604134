"""What the settings page reads (contracts.md §2, §5): the connection, the export list, the
failed count, and the errors its routes answer with.

The list reads the export records (ledger/listing.py), one Query a page, newest first. Its cursor
is opaque to the page: base64 of DynamoDB's LastEvaluatedKey, bound to the status filter, and
checked to name this contractor's partition before it is used, so a cursor cannot be forged
into another contractor's records. Writes nothing: the retry is workflows/retry.py's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbo_sync.connection import services
from qbo_sync.core.clock import iso_at
from qbo_sync.core.cursor import InvalidCursor, decode_cursor, encode_cursor
from qbo_sync.core.metering import reads_this_month
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ConnectionStatus, EntryStatus, ExportStatus, RefundStatus
from qbo_sync.ledger.entries import PaymentEntry, entries_of
from qbo_sync.ledger.listing import export_listing
from qbo_sync.ledger.refunds import RefundEntry, refunds_of

DEFAULT_LIMIT, MAX_LIMIT = 25, 100


class InvalidRequest(Exception):
    """The request's parameters are wrong: a 400 with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class ExportNotFound(Exception):
    """No export record for that invoice (in the connected company, or skipped)."""


class NotConnected(Exception):
    """No usable QuickBooks connection to export to."""


def connection_view(contractor_id: str) -> dict[str, Any]:
    connection = services.connections().get(contractor_id)
    failed = failed_exports(contractor_id)  # one Query on a key, never a scan
    if connection is None:
        return {
            "status": ConnectionStatus.NOT_CONNECTED,
            "realm_id": None,
            "company_name": None,
            "connected_at": None,
            "last_export_at": None,
            "refresh_expires_at": None,
            "failed_exports": failed,
            "metered_reads_this_month": None,
        }
    expires = connection.refresh_expires_at
    return {
        "status": connection.status,
        "realm_id": connection.realm_id,
        "company_name": connection.company_name,
        "connected_at": connection.connected_at,
        "last_export_at": connection.last_export_at,
        "refresh_expires_at": iso_at(expires) if expires else None,
        "failed_exports": failed,
        "metered_reads_this_month": reads_this_month(connection.realm_id),  # contracts.md §18
    }


def list_exports(
    contractor_id: str, status: str | None, limit: str | None, cursor: str | None
) -> dict[str, Any]:
    """The parameters as the query string has them (None: absent)."""
    wanted = _status(status)
    page_size = _limit(limit)
    listing = export_listing(contractor_id)
    start = None
    if cursor:
        start = page_start(cursor, wanted or "", listing.key_attributes(wanted), contractor_id)
    items, last = listing.page(wanted, page_size, start)
    return {
        "items": [_item(values) for values in items],
        "cursor": encode_cursor(last, wanted or "") if last else None,
    }


def page_start(
    cursor: str, filtered: str, attributes: tuple[str, str, str], contractor_id: str
) -> dict[str, Any]:
    """A list's cursor back as the key to start from (core/cursor.py), or a 400."""
    try:
        return decode_cursor(cursor, filtered, attributes, contractor_id)
    except InvalidCursor:
        raise InvalidRequest(
            "invalid_cursor", "The cursor is not one this list gave out; start again without it."
        ) from None


def failed_exports(contractor_id: str) -> int:
    return export_listing(contractor_id).count(ExportStatus.FAILED)


# -- parameters ---------------------------------------------------------------------------------


def _status(value: str | None) -> ExportStatus | None:
    if value is None or value == "":
        return None
    try:
        return ExportStatus(value)
    except ValueError:
        names = ", ".join(status.value for status in ExportStatus)
        raise InvalidRequest("invalid_status", "status must be one of: " + names) from None


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidRequest("invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


# -- items --------------------------------------------------------------------------------------


def _item(values: dict[str, Any]) -> dict[str, Any]:
    entries = sorted(entries_of(values).values(), key=lambda e: (e.updated_at or "", e.payment_id))
    refunds = sorted(refunds_of(values).values(), key=lambda r: (r.updated_at or "", r.refund_id))
    return {
        "invoice_id": values.get("invoice_id"),
        "invoice_number": values.get("invoice_number"),
        "revision": int(values["revision"]) if values.get("revision") is not None else None,
        "status": values.get("export_status"),
        "qbo_invoice_id": values.get("qbo_invoice_id"),
        "qbo_url": _qbo_url(values.get("qbo_invoice_id")),
        "updated_at": values.get("updated_at"),
        "reason": _reason(values.get("export_reason")),
        "payments": [_payment(entry, refunds) for entry in entries],
    }


def _qbo_url(qbo_invoice_id: Any) -> str | None:
    if not qbo_invoice_id:
        return None
    return f"{get_settings().qbo_app_url}/app/invoice?txnId={qbo_invoice_id}"


def _payment(entry: PaymentEntry, refunds: list[RefundEntry]) -> dict[str, Any]:
    shown: EntryStatus = entry.status
    why = _reason(entry.reason)
    if shown == EntryStatus.RECORDING:  # an attempt holds it now, or died and waits for a run
        shown, why = EntryStatus.PARKED, reason(ReasonCode.PAYMENT_IN_PROGRESS)
    return {
        "payment_id": entry.payment_id,
        "amount": str(entry.amount.quantize(Decimal("0.01"))),
        "status": shown,
        "qbo_payment_id": entry.qbo_payment_id if shown == EntryStatus.RECORDED else None,
        "reason": None if shown == EntryStatus.RECORDED else why,
        "refunds": [_refund(r) for r in refunds if r.payment_id == entry.payment_id],
    }


def _refund(entry: RefundEntry) -> dict[str, Any]:
    """contracts.md §12: a refund is recorded, waiting (for its payment, or being recorded)
    or failed."""
    shown = RefundStatus.WAITING if entry.status == RefundStatus.RECORDING else entry.status
    recorded = shown == RefundStatus.RECORDED
    return {
        "refund_id": entry.refund_id,
        "amount": str(entry.amount.quantize(Decimal("0.01"))),
        "status": shown,
        "qbo_refund_id": entry.qbo_refund_id if recorded else None,
        "reason": None if recorded else _reason(entry.reason),
    }


def _reason(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict) or "code" not in value:
        return None
    return {str(k): str(v) for k, v in value.items()}
