"""What the settings page reads about payouts (contracts.md §12): the list, newest arrival
first, with its cursor, and the errors its routes answer with. Writes nothing: the retry is
workflows/payout_retry.py's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbo_sync.core.cursor import encode_cursor
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import PayoutStatus
from qbo_sync.payouts.listing import payout_listing
from qbo_sync.status import DEFAULT_LIMIT, MAX_LIMIT, InvalidRequest, page_start

# The statuses the list shows and filters on; DEPOSITING is an attempt, shown as waiting.
LISTED = (PayoutStatus.DEPOSITED, PayoutStatus.WAITING, PayoutStatus.FAILED)


class PayoutNotFound(Exception):
    """No payout with that id in the connected company."""


def list_payouts(
    contractor_id: str, status: str | None, limit: str | None, cursor: str | None
) -> dict[str, Any]:
    """The parameters as the query string has them (None: absent)."""
    wanted = _status(status)
    page_size = _limit(limit)
    listing = payout_listing(contractor_id)
    start = None
    if cursor:
        start = page_start(cursor, wanted or "", listing.key_attributes(wanted), contractor_id)
    items, last = listing.page(wanted, page_size, start)
    return {
        "items": [payout_item(values) for values in items],
        "cursor": encode_cursor(last, wanted or "") if last else None,
    }


def payout_item(values: dict[str, Any]) -> dict[str, Any]:
    status = values.get("payout_status")
    why = values.get("payout_reason")
    if not status:  # the first attempt is still at it, or died and waits for a redelivery
        status, why = PayoutStatus.WAITING, reason(ReasonCode.PAYOUT_IN_PROGRESS)
    qbo_deposit_id = values.get("qbo_deposit_id") if status == PayoutStatus.DEPOSITED else None
    return {
        "payout_id": values.get("payout_id"),
        "amount": str(Decimal(values["amount"]).quantize(Decimal("0.01"))),
        "arrival_date": values.get("arrival_date"),
        "status": str(status),
        "qbo_deposit_id": qbo_deposit_id,
        "qbo_url": _qbo_url(qbo_deposit_id),
        "reason": None if status == PayoutStatus.DEPOSITED else _reason(why),
        "updated_at": values.get("updated_at"),
    }


def _qbo_url(qbo_deposit_id: Any) -> str | None:
    if not qbo_deposit_id:
        return None
    return f"{get_settings().qbo_app_url}/app/deposit?txnId={qbo_deposit_id}"


def _status(value: str | None) -> PayoutStatus | None:
    if not value:
        return None
    if value not in {status.value for status in LISTED}:
        names = ", ".join(status.value for status in LISTED)
        raise InvalidRequest("invalid_status", "status must be one of: " + names)
    return PayoutStatus(value)


def _limit(value: str | None) -> int:
    if not value:
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidRequest("invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def _reason(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict) or "code" not in value:
        return None
    return {str(k): str(v) for k, v in value.items()}
