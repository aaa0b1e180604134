"""What the settings page reads (contracts.md §2, §5): the connection, the export list, the
failed count, and the errors its routes answer with.

The list reads the export records (ledger/listing.py), one Query a page, newest first. Its cursor
is opaque to the page: base64 of DynamoDB's LastEvaluatedKey, bound to the status filter, and
checked to name this contractor's partition before it is used, so a cursor cannot be forged
into another contractor's records. Writes nothing: the retry is workflows/retry.py's.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from qbo_sync.connection import services
from qbo_sync.core.clock import iso_at
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ConnectionStatus, EntryStatus, ExportStatus, RefundStatus
from qbo_sync.ledger.entries import PaymentEntry, entries_of
from qbo_sync.ledger.listing import export_listing
from qbo_sync.ledger.refunds import RefundEntry, refunds_of

DEFAULT_LIMIT, MAX_LIMIT = 25, 100
CURSOR_VERSION = 1


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
        start = _decode_cursor(cursor, wanted, listing.key_attributes(wanted), contractor_id)
    items, last = listing.page(wanted, page_size, start)
    return {
        "items": [_item(values) for values in items],
        "cursor": _encode_cursor(last, wanted) if last else None,
    }


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


def _encode_cursor(last: dict[str, Any], status: ExportStatus | None) -> str:
    document = {"v": CURSOR_VERSION, "s": status or "", "k": last}
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(
    cursor: str, status: ExportStatus | None, attributes: tuple[str, str, str], contractor_id: str
) -> dict[str, Any]:
    invalid = InvalidRequest(
        "invalid_cursor", "The cursor is not one this list gave out; start again without it."
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        document = json.loads(raw)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(document, dict) or document.get("v") != CURSOR_VERSION:
        raise invalid
    key = document.get("k")
    partition, sort, mine = attributes
    expected = {"pk", "sk", partition, sort}
    if document.get("s") != (status or "") or not isinstance(key, dict) or set(key) != expected:
        raise invalid
    if not all(_is_string(value) for value in key.values()):
        raise invalid
    if key[partition]["S"] != mine or key["pk"]["S"] != contractor_id:
        raise invalid
    return key


def _is_string(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)


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
