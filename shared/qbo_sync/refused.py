"""Payouts and refunds refused at the edge (their event does not validate: a payout whose items
do not add up, a refund of no positive amount) are still shown, as `failed` with a reason that
names the field, so the bookkeeper who sees the bank line knows why QuickBooks has no deposit.

Retrying cannot fix such an event, so it is acknowledged as before (the consumer logs it and
counts it); this only makes it visible:
- a payout: its item (payouts/records.py's key and attribute names, as `PayoutRecords` writes
  them) with `payout_status` failed, listed by GET /quickbooks/payouts like any failed payout.
  Never over a payout already known: a malformed redelivery does not undo a deposit;
- a refund: its entry on the payment's ledger item (ledger/refunds.py `RefundLedger.refuse`),
  listed under the payment in GET /quickbooks/exports.
Nothing is written for an event that does not name its contractor and payout (or refund,
payment and invoice), or whose contractor has no connection.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import Update, key
from qbo_sync.core.reasons import Reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import PayoutStatus
from qbo_sync.payouts.records import PAYOUT_MARK

logger = Logger(child=True)

PAYOUT_REFUSED, REFUND_REFUSED = "payout_refused", "refund_refused"


def refused_reason(code: str, problems: list[str], what: str) -> Reason:
    """The contractor-facing reason: which field, and what to do (no offending values)."""
    fields = sorted({problem.split(":", 1)[0].split(".", 1)[0] for problem in problems})
    named = ", ".join(fields) or "body"
    return {
        "code": code,
        "message": (
            f"The platform sent this {what} with a wrong {named}, so it was not recorded in "
            "QuickBooks. Contact the platform's support to have it sent again corrected."
        ),
        "field": fields[0] if fields else "body",
    }


def show_refused_payout(event: Any, problems: list[str]) -> bool:
    """Writes the refused payout as failed; False when it cannot be shown (see the module)."""
    detail = _detail(event)
    payout_id, contractor_id = _text(detail, "payout_id"), _text(detail, "contractor_id")
    connection = services.connections().get(contractor_id) if contractor_id else None
    if not payout_id or connection is None:
        return False
    arrival_date = _text(detail, "arrival_date")
    update = Update()
    update.set("payout_id", payout_id)
    update.set("detail", json.dumps(detail, sort_keys=True))
    update.set("amount", _money(detail.get("amount")))
    if arrival_date:
        update.set("arrival_date", arrival_date)
    update.set("payouts_pk", contractor_id)
    update.set("payouts_sk", f"{arrival_date}#{payout_id}")
    update.set("payout_status", PayoutStatus.FAILED)
    update.set("payouts_status_pk", f"{contractor_id}#{PayoutStatus.FAILED}")
    update.set("payout_reason", refused_reason(PAYOUT_REFUSED, problems, "payout"))
    update.set("updated_at", iso_now())
    condition = (
        f"attribute_not_exists(pk) OR payout_status = {update.value(str(PayoutStatus.FAILED))}"
    )
    item_key = key(contractor_id, f"{connection.realm_id}{PAYOUT_MARK}{payout_id}")
    dynamodb = aws.dynamodb()
    try:
        dynamodb.update_item(**update.request(get_settings().mappings_table, item_key, condition))
    except dynamodb.exceptions.ConditionalCheckFailedException:
        logger.info("Refused payout not shown: the payout is known already", payout_id=payout_id)
        return False
    return True


def show_refused_refund(event: Any, problems: list[str]) -> bool:
    """Writes the refused refund as failed on its payment's entry; False when it cannot."""
    from qbo_sync.ledger.refunds import refund_ledger

    detail = _detail(event)
    names = ("contractor_id", "refund_id", "payment_id", "invoice_id")
    contractor_id, refund_id, payment_id, invoice_id = (_text(detail, n) for n in names)
    connection = services.connections().get(contractor_id) if contractor_id else None
    if not (refund_id and payment_id and invoice_id) or connection is None:
        return False
    entry = {
        "payment_id": payment_id,
        "status": "failed",
        "amount": _money(detail.get("amount")),
        "detail": {},
        "reason": refused_reason(REFUND_REFUSED, problems, "refund"),
        "updated_at": iso_now(),
    }
    ledger = refund_ledger(contractor_id, connection.realm_id)
    return ledger.refuse(invoice_id, refund_id, entry)


def _detail(event: Any) -> dict[str, Any]:
    detail = event.get("detail") if isinstance(event, dict) else None
    return detail if isinstance(detail, dict) else {}


def _text(detail: dict[str, Any], name: str) -> str:
    value = detail.get(name)
    return value if isinstance(value, str) else ""


def _money(value: Any) -> Decimal:
    """The amount as sent when it is one; 0 when it is not (the reason names the field)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return Decimal("0")
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else Decimal("0")
