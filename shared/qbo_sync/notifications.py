"""The events this system emits on the bus (docs/interface.md §6, §12), so the platform can update
its UI and tell the contractor: their shapes, and the one PutEvents that sends them.

Only the outbox (outbox.py) sends them, from the tables' change streams: an event goes out
because a write changed the state, at least once, and every delivery of the same change carries
the same `detail.event_id`, by which the platform drops a repeat. A failed PutEvents raises, so
the stream record is delivered again. Details carry ids and reasons, never tokens or QuickBooks'
raw answers.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.reasons import Reason
from qbo_sync.core.settings import get_settings

SOURCE = "qbo-sync"
SCHEMA_VERSION = 1
INVOICE_EXPORTED = "QuickBooks Invoice Exported"
INVOICE_EXPORT_FAILED = "QuickBooks Invoice Export Failed"
PAYMENT_RECORDED = "QuickBooks Payment Recorded"
NEEDS_REAUTHORIZATION = "QuickBooks Connection Needs Reauthorization"
CONNECTION_EXPIRING = "QuickBooks Connection Expiring"
INVOICE_VOIDED = "QuickBooks Invoice Voided"
REFUND_RECORDED = "QuickBooks Refund Recorded"
PAYOUT_DEPOSITED = "QuickBooks Payout Deposited"
PAYOUT_WAITING = "QuickBooks Payout Waiting"
HISTORY_REQUESTED = "QuickBooks History Requested"
# PutEvents takes at most 10 entries a request.
MAX_ENTRIES = 10


class Event(NamedTuple):
    detail_type: str
    contractor_id: str
    ids: dict[str, Any]


class EventsNotEmitted(Exception):
    """EventBridge did not take every entry: the stream record is to be delivered again."""


def invoice_exported(
    contractor_id: str,
    *,
    invoice_id: str,
    invoice_number: str,
    revision: int,
    qbo_invoice_id: str,
    realm_id: str,
) -> Event:
    return Event(
        INVOICE_EXPORTED,
        contractor_id,
        {
            "invoice_id": invoice_id,
            "invoice_number": invoice_number,
            "revision": revision,
            "qbo_invoice_id": qbo_invoice_id,
            "realm_id": realm_id,
        },
    )


def invoice_export_failed(
    contractor_id: str, *, invoice_id: str, invoice_number: str, revision: int, reason: Reason
) -> Event:
    return Event(
        INVOICE_EXPORT_FAILED,
        contractor_id,
        {
            "invoice_id": invoice_id,
            "invoice_number": invoice_number,
            "revision": revision,
            "reason": reason,
        },
    )


def payment_recorded(
    contractor_id: str,
    *,
    payment_id: str,
    invoice_id: str,
    qbo_payment_id: str,
    invoice_paid: bool,
) -> Event:
    return Event(
        PAYMENT_RECORDED,
        contractor_id,
        {
            "payment_id": payment_id,
            "invoice_id": invoice_id,
            "qbo_payment_id": qbo_payment_id,
            "invoice_paid": invoice_paid,
        },
    )


def history_requested(contractor_id: str, *, request_id: str, since: str, realm_id: str) -> Event:
    """docs/interface.md §15: the platform answers by replaying the invoices sent since `since`."""
    return Event(
        HISTORY_REQUESTED,
        contractor_id,
        {"request_id": request_id, "since": since, "realm_id": realm_id},
    )


def connection_needs_reauthorization(
    contractor_id: str, *, realm_id: str, company_name: str | None
) -> Event:
    return Event(
        NEEDS_REAUTHORIZATION, contractor_id, {"realm_id": realm_id, "company_name": company_name}
    )


def connection_expiring(contractor_id: str, *, realm_id: str, refresh_expires_at: str) -> Event:
    """docs/interface.md §12: fewer than 30 days left before the contractor must reconnect."""
    return Event(
        CONNECTION_EXPIRING,
        contractor_id,
        {"realm_id": realm_id, "refresh_expires_at": refresh_expires_at},
    )


def payout_deposited(
    contractor_id: str, *, payout_id: str, qbo_deposit_id: str, amount: str
) -> Event:
    """docs/interface.md §12: the payout's deposit is in QuickBooks (amount: the bank transfer)."""
    return Event(
        PAYOUT_DEPOSITED,
        contractor_id,
        {"payout_id": payout_id, "qbo_deposit_id": qbo_deposit_id, "amount": amount},
    )


def payout_waiting(contractor_id: str, *, payout_id: str, reason: Reason) -> Event:
    """docs/interface.md §12: the payout waits (for a payment, a bank account, QuickBooks)."""
    return Event(PAYOUT_WAITING, contractor_id, {"payout_id": payout_id, "reason": reason})


def invoice_voided(contractor_id: str, *, invoice_id: str, qbo_invoice_id: str) -> Event:
    """docs/interface.md §12: the exported invoice is voided in QuickBooks."""
    return Event(
        INVOICE_VOIDED, contractor_id, {"invoice_id": invoice_id, "qbo_invoice_id": qbo_invoice_id}
    )


def refund_recorded(
    contractor_id: str, *, refund_id: str, payment_id: str, qbo_refund_id: str
) -> Event:
    """docs/interface.md §12: one RefundReceipt in QuickBooks for the platform's refund."""
    return Event(
        REFUND_RECORDED,
        contractor_id,
        {"refund_id": refund_id, "payment_id": payment_id, "qbo_refund_id": qbo_refund_id},
    )


def publish(events: list[tuple[str, Event]]) -> None:
    """Sends (event id, event) pairs; raises EventsNotEmitted unless EventBridge took all."""
    bus = get_settings().event_bus_name
    for start in range(0, len(events), MAX_ENTRIES):
        entries = [
            _entry(bus, event_id, event) for event_id, event in events[start : start + MAX_ENTRIES]
        ]
        response = aws.events().put_events(Entries=entries)  # type: ignore[arg-type]
        if response.get("FailedEntryCount", 0):
            codes = sorted({e.get("ErrorCode", "") for e in response.get("Entries", [])} - {""})
            raise EventsNotEmitted(f"EventBridge refused entries: {', '.join(codes)}")


def _entry(bus: str, event_id: str, event: Event) -> dict[str, str]:
    detail = {
        "schema_version": SCHEMA_VERSION,
        "event_id": event_id,
        "contractor_id": event.contractor_id,
        **event.ids,
    }
    return {
        "EventBusName": bus,
        "Source": SOURCE,
        "DetailType": event.detail_type,
        "Detail": json.dumps(detail),
    }
