"""GET /quickbooks/payouts (docs/interface.md §12): the payouts, newest arrival first, paged by
views/listing.py over the payout indexes (payouts/listing.py names them)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from qbo_sync.api.errors import InvalidRequest
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import PayoutStatus
from qbo_sync.payouts.listing import BY_CONTRACTOR, BY_STATUS, ORDER_ATTRIBUTE, payout_listing
from qbo_sync.views.listing import Listing, Partition, reason_of

# The statuses the list shows and filters on; DEPOSITING is an attempt, shown as waiting.
LISTED = (PayoutStatus.DEPOSITED, PayoutStatus.WAITING, PayoutStatus.FAILED)


def list_payouts(contractor_id: str, params: dict[str, str]) -> dict[str, Any]:
    wanted = _status(params.get("status"))
    attribute, _, value = payout_listing(contractor_id).key_attributes(wanted)
    partition = Partition(BY_STATUS if wanted else BY_CONTRACTOR, attribute, value)
    listing = Listing(get_settings().mappings_table, (partition,), ORDER_ATTRIBUTE, wanted or "")
    items, cursor = listing.page(contractor_id, params.get("limit"), params.get("cursor"))
    return {"items": [payout_item(values) for values in items], "cursor": cursor}


def payout_item(values: dict[str, Any]) -> dict[str, Any]:
    status = values.get("payout_status")
    why = values.get("payout_reason")
    if not status:  # the first attempt is still at it, or died and waits for a redelivery
        status, why = PayoutStatus.WAITING, reason(ReasonCode.PAYOUT_IN_PROGRESS)
    qbo_deposit_id = values.get("qbo_deposit_id") if status == PayoutStatus.DEPOSITED else None
    return {
        "payout_id": values.get("payout_id"),
        "amount": str(Decimal(values["amount"]).quantize(Decimal("0.01"))),
        "currency": _currency(values.get("detail")),
        "arrival_date": values.get("arrival_date"),
        "status": str(status),
        "qbo_deposit_id": qbo_deposit_id,
        "qbo_url": _qbo_url(qbo_deposit_id),
        "reason": None if status == PayoutStatus.DEPOSITED else reason_of(why),
        "updated_at": values.get("updated_at"),
    }


def _currency(detail: Any) -> str | None:
    """The payout's currency, from its event (kept on the item for a retry)."""
    try:
        found = json.loads(str(detail)).get("currency") if detail else None
    except (ValueError, AttributeError):
        return None
    return str(found) if found else None


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
