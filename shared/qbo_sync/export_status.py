"""Export status for the settings page (contracts.md §5): the list, the retry, the failed count.

The list reads the export records (export_records.py), one Query a page, newest first. Its cursor
is opaque to the page: base64 of DynamoDB's LastEvaluatedKey, bound to the status filter, and
checked to name this contractor's partition before it is used, so a cursor cannot be forged
into another contractor's records.

A retry sends the latest received revision's message to the invoice-sent queue again, as a
reconnect does (pending.py): the consumer runs it through the one exactly-once export path, so
retrying an invoice that did export creates nothing in QuickBooks, and its run then records the
invoice's parked payments, which the retry's failed payments have become.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync import aws, reasons, services
from qbo_sync.export_records import (
    FAILED,
    STATUSES,
    export_records,
)
from qbo_sync.payment_records import FAILED as PAYMENT_FAILED
from qbo_sync.payment_records import PARKED, RECORDED, PaymentEntry, entries_of
from qbo_sync.settings import get_settings

logger = Logger(child=True)

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


def list_exports(
    contractor_id: str, status: str | None, limit: str | None, cursor: str | None
) -> dict[str, Any]:
    """The parameters as the query string has them (None: absent)."""
    status = _status(status)
    page_size = _limit(limit)
    store = export_records(contractor_id)
    start = None
    if cursor:
        start = _decode_cursor(cursor, status, store.key_attributes(status), contractor_id)
    items, last = store.page(status, page_size, start)
    return {
        "items": [_item(values) for values in items],
        "cursor": _encode_cursor(last, status) if last else None,
    }


def failed_exports(contractor_id: str) -> int:
    return export_records(contractor_id).count(FAILED)


def retry_export(contractor_id: str, invoice_id: str) -> None:
    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        raise NotConnected(contractor_id)
    store = export_records(contractor_id)
    record, skipped = store.find(connection.realm_id, invoice_id)
    if record is None or not record.get("export_body"):
        raise ExportNotFound(invoice_id)
    failed_payments = sorted(
        entry.payment_id for entry in entries_of(record).values() if entry.status == PAYMENT_FAILED
    )
    # Marked first, then queued: once queued, the consumer may finish before this returns.
    store.mark_retry(connection.realm_id, record, failed_payments)
    if skipped:
        # The record now lives in the connected company's ledger item.
        store.delete_skipped(invoice_id)
    _queue(contractor_id, invoice_id, str(record["export_body"]))
    logger.info(
        "Export retry queued",
        contractor_id=contractor_id,
        invoice_id=invoice_id,
        payments=len(failed_payments),
    )


def _queue(contractor_id: str, invoice_id: str, body: str) -> None:
    settings = get_settings()
    settings.require("invoice_sent_queue_url")
    aws.client("sqs").send_message(
        QueueUrl=settings.invoice_sent_queue_url,
        MessageBody=body,
        MessageGroupId=contractor_id,
        # Each retry is its own message: FIFO deduplication must not swallow a second retry.
        MessageDeduplicationId=uuid.uuid4().hex,
    )


# -- parameters ---------------------------------------------------------------------------------


def _status(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value not in STATUSES:
        raise InvalidRequest("invalid_status", "status must be one of: " + ", ".join(STATUSES))
    return value


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidRequest("invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def _encode_cursor(last: dict[str, Any], status: str | None) -> str:
    document = {"v": CURSOR_VERSION, "s": status or "", "k": last}
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(
    cursor: str, status: str | None, attributes: tuple[str, str, str], contractor_id: str
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
    return {
        "invoice_id": values.get("invoice_id"),
        "invoice_number": values.get("invoice_number"),
        "revision": int(values["revision"]) if values.get("revision") is not None else None,
        "status": values.get("export_status"),
        "qbo_invoice_id": values.get("qbo_invoice_id"),
        "updated_at": values.get("updated_at"),
        "reason": _reason(values.get("export_reason")),
        "payments": [_payment(entry) for entry in entries],
    }


def _payment(entry: PaymentEntry) -> dict[str, Any]:
    if entry.status in (RECORDED, PARKED, PAYMENT_FAILED):
        status, reason = entry.status, _reason(entry.reason)
    else:  # recording: an attempt holds it now, or died and waits for the next run
        status, reason = PARKED, reasons.reason(reasons.PAYMENT_IN_PROGRESS)
    return {
        "payment_id": entry.payment_id,
        "amount": str(entry.amount.quantize(Decimal("0.01"))),
        "status": status,
        "qbo_payment_id": entry.qbo_payment_id if status == RECORDED else None,
        "reason": None if status == RECORDED else reason,
    }


def _reason(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict) or "code" not in value:
        return None
    return {str(k): str(v) for k, v in value.items()}
