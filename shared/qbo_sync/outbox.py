"""The outbox: each change of a ledger item or a connection becomes its events (docs/interface.md
§6, §12), read from the table's stream by OutboxFunction.

The writers emit nothing: a state change that was written is an event, even if its function
died right after the write. The change is read from the item before and after the write (the
stream's images), by the package that owns the item (ledger/, connection/, payouts/changes.py),
so a write that changed nothing a contractor sees (a redelivery) emits nothing. The stream
delivers a record at least once; the event's id is derived from the record's own id, so every
delivery of one change carries the same `detail.event_id`.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, assert_never

from aws_lambda_powertools import Logger

from qbo_sync import notifications
from qbo_sync.connection.changes import Expiring, NeedsReauthorization, connection_changes
from qbo_sync.core.clock import seconds_since
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ExportStatus
from qbo_sync.history.changes import HistoryRequested, history_changes
from qbo_sync.ledger.changes import (
    ExportChanged,
    InvoiceVoidedChange,
    LedgerChange,
    PaymentRecordedChange,
    RefundRecordedChange,
    ledger_changes,
)
from qbo_sync.notifications import Event
from qbo_sync.payouts.changes import PayoutChange, PayoutDeposited, payout_changes

logger = Logger(child=True)

# Fixed for ever: changing it would change the id of every event delivered again.
_EVENT_IDS = uuid.UUID("5d6c1e0a-9f8b-4c57-a1d2-3e4f5a6b7c8d")


class Table(StrEnum):
    MAPPINGS = "mappings"
    CONNECTIONS = "connections"


def table_of(stream_arn: str) -> Table:
    """The table a stream record comes from: its ARN is "<table ARN>/stream/<label>"."""
    name = stream_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
    settings = get_settings()
    if name == settings.mappings_table:
        return Table.MAPPINGS
    if name == settings.connections_table:
        return Table.CONNECTIONS
    raise ValueError(f"a stream of no table the outbox reads: {name}")


def emit_changes(table: Table, record_id: str, old: dict[str, Any], new: dict[str, Any]) -> int:
    """Emits the events of one stream record; returns how many. Raises when EventBridge did not
    take them all (the record is then delivered again)."""
    events = events_of(table, old, new)
    if not events:
        return 0
    try:
        notifications.publish([(event_id(record_id, index), e) for index, e in enumerate(events)])
    except notifications.EventsNotEmitted as error:
        logger.warning(
            "Events not emitted; the record is delivered again",
            reason=str(error),
            detail_types=[event.detail_type for event in events],
        )
        raise
    return len(events)


def events_of(table: Table, old: dict[str, Any], new: dict[str, Any]) -> list[Event]:
    match table:
        case Table.MAPPINGS:
            return (
                [_ledger_event(change) for change in ledger_changes(old, new)]
                + [_payout_event(change) for change in payout_changes(old, new)]
                + [_history_event(change) for change in history_changes(old, new)]
            )
        case Table.CONNECTIONS:
            return [_connection_event(change) for change in connection_changes(old, new)]
        case _:
            assert_never(table)


def seconds_from_sent_to_exported(
    table: Table, old: dict[str, Any], new: dict[str, Any]
) -> float | None:
    """For the dashboard (SecondsFromSentToExported): when an export record first becomes
    exported, how long after the contractor sent the invoice (its `exports_sk` starts with
    sent_at, ledger/records.py). None for every other change."""
    exported = ExportStatus.EXPORTED
    if table != Table.MAPPINGS or new.get("export_status") != exported:
        return None
    if old.get("export_status") == exported or "#" not in str(new.get("exports_sk", "")):
        return None
    try:
        return max(0.0, seconds_since(str(new["exports_sk"]).split("#", 1)[0]))
    except ValueError:
        return None


def event_id(record_id: str, index: int) -> str:
    """Stable across deliveries of the stream record `record_id` (its eventID)."""
    return str(uuid.uuid5(_EVENT_IDS, f"{record_id}/{index}"))


def _ledger_event(change: LedgerChange) -> Event:
    if isinstance(change, PaymentRecordedChange):
        return notifications.payment_recorded(
            change.contractor_id,
            payment_id=change.payment_id,
            invoice_id=change.invoice_id,
            qbo_payment_id=change.qbo_payment_id,
            invoice_paid=change.invoice_paid,
        )
    if isinstance(change, InvoiceVoidedChange):
        return notifications.invoice_voided(
            change.contractor_id,
            invoice_id=change.invoice_id,
            qbo_invoice_id=change.qbo_invoice_id,
        )
    if isinstance(change, RefundRecordedChange):
        return notifications.refund_recorded(
            change.contractor_id,
            refund_id=change.refund_id,
            payment_id=change.payment_id,
            qbo_refund_id=change.qbo_refund_id,
        )
    return _export_event(change)


def _export_event(change: ExportChanged) -> Event:
    if change.status == ExportStatus.EXPORTED:
        assert change.qbo_invoice_id is not None and change.realm_id is not None
        return notifications.invoice_exported(
            change.contractor_id,
            invoice_id=change.invoice_id,
            invoice_number=change.invoice_number,
            revision=change.revision,
            qbo_invoice_id=change.qbo_invoice_id,
            realm_id=change.realm_id,
        )
    assert change.reason is not None
    return notifications.invoice_export_failed(
        change.contractor_id,
        invoice_id=change.invoice_id,
        invoice_number=change.invoice_number,
        revision=change.revision,
        reason=change.reason,
    )


def _connection_event(change: Expiring | NeedsReauthorization) -> Event:
    if isinstance(change, NeedsReauthorization):
        return notifications.connection_needs_reauthorization(
            change.contractor_id, realm_id=change.realm_id, company_name=change.company_name
        )
    return notifications.connection_expiring(
        change.contractor_id,
        realm_id=change.realm_id,
        refresh_expires_at=change.refresh_expires_at,
    )


def _history_event(change: HistoryRequested) -> Event:
    return notifications.history_requested(
        change.contractor_id,
        request_id=change.request_id,
        since=change.since,
        realm_id=change.realm_id,
    )


def _payout_event(change: PayoutChange) -> Event:
    if isinstance(change, PayoutDeposited):
        return notifications.payout_deposited(
            change.contractor_id,
            payout_id=change.payout_id,
            qbo_deposit_id=change.qbo_deposit_id,
            amount=change.amount,
        )
    return notifications.payout_waiting(
        change.contractor_id, payout_id=change.payout_id, reason=change.reason
    )
