"""What one write changed on a ledger item, read from the item before and after it (the
table's stream images): the facts the outbox turns into events (docs/interface.md §6, §12): an
export exported or failed, payments and refunds recorded, an exported invoice voided.

A write that changes nothing a contractor sees (a redelivered export, an attempt counted, a
lease taken) changes nothing here either, so a repeated write emits nothing. Only this package
knows the item's attributes; the outbox asks here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from qbo_sync.core.reasons import Reason
from qbo_sync.core.statuses import EntryStatus, ExportStatus, RefundStatus
from qbo_sync.ledger.entries import entries_of
from qbo_sync.ledger.keys import is_ledger_sk
from qbo_sync.ledger.records import RecordState
from qbo_sync.ledger.refunds import refunds_of


class ExportChanged(NamedTuple):
    """The export record moved to exported or failed (a new status, revision or reason)."""

    contractor_id: str
    invoice_id: str
    invoice_number: str
    revision: int
    status: ExportStatus
    reason: Reason | None
    qbo_invoice_id: str | None
    realm_id: str | None


class PaymentRecordedChange(NamedTuple):
    contractor_id: str
    payment_id: str
    invoice_id: str
    qbo_payment_id: str
    invoice_paid: bool


class InvoiceVoidedChange(NamedTuple):
    contractor_id: str
    invoice_id: str
    qbo_invoice_id: str


class RefundRecordedChange(NamedTuple):
    contractor_id: str
    refund_id: str
    payment_id: str
    qbo_refund_id: str


LedgerChange = ExportChanged | PaymentRecordedChange | InvoiceVoidedChange | RefundRecordedChange


def ledger_changes(old: dict[str, Any], new: dict[str, Any]) -> list[LedgerChange]:
    """The changes one write made to an item of the mapping table (`old`, `new`: its images,
    deserialised; empty when absent). Items that are not ledger items change nothing here."""
    if not new or not is_ledger_sk(str(new.get("sk", ""))):
        return []
    changes: list[LedgerChange] = []
    export = _export_change(old, new)
    if export is not None:
        changes.append(export)
    changes.extend(_payments_recorded(old, new))
    voided = _voided(old, new)
    if voided is not None:
        changes.append(voided)
    changes.extend(_refunds_recorded(old, new))
    return changes


def _export_change(old: dict[str, Any], new: dict[str, Any]) -> ExportChanged | None:
    after = RecordState.of_item(new)
    if after.status not in (ExportStatus.EXPORTED, ExportStatus.FAILED):
        return None
    if not RecordState.of_item(old).differs_from_state(after):
        return None
    reason = new.get("export_reason")
    qbo_invoice_id = new.get("qbo_invoice_id")
    realm_id = new.get("export_realm_id")
    if after.status == ExportStatus.EXPORTED and not (qbo_invoice_id and realm_id):
        return None
    if after.status == ExportStatus.FAILED and not reason:
        return None
    assert after.revision is not None
    return ExportChanged(
        contractor_id=str(new["pk"]),
        invoice_id=str(new["invoice_id"]),
        invoice_number=str(new.get("invoice_number", "")),
        revision=after.revision,
        status=ExportStatus(after.status),
        reason=dict(reason) if reason else None,
        qbo_invoice_id=str(qbo_invoice_id) if qbo_invoice_id else None,
        realm_id=str(realm_id) if realm_id else None,
    )


def _payments_recorded(old: dict[str, Any], new: dict[str, Any]) -> list[PaymentRecordedChange]:
    before = entries_of(old)
    changes = []
    for payment_id, entry in entries_of(new).items():
        earlier = before.get(payment_id)
        if entry.status != EntryStatus.RECORDED or entry.qbo_payment_id is None:
            continue
        if earlier is not None and earlier.status == EntryStatus.RECORDED:
            continue
        changes.append(
            PaymentRecordedChange(
                contractor_id=str(new["pk"]),
                payment_id=payment_id,
                invoice_id=str(new["invoice_id"]),
                qbo_payment_id=entry.qbo_payment_id,
                invoice_paid=_invoice_paid(new, entry.invoice_paid),
            )
        )
    return changes


def _invoice_paid(new: dict[str, Any], known: bool | None) -> bool:
    """QBO's balance as the recorder read it when the ledger did not know what the invoice is
    owed; else what the item says after the write that recorded the payment."""
    if known is not None:
        return known
    due = new.get("due")
    return due is not None and Decimal(new.get("applied", 0)) >= Decimal(due)


def _voided(old: dict[str, Any], new: dict[str, Any]) -> InvoiceVoidedChange | None:
    """An exported invoice turned voided (one voided before its export has no QBO invoice)."""
    if new.get("export_status") != ExportStatus.VOIDED or not new.get("qbo_invoice_id"):
        return None
    if old.get("export_status") == ExportStatus.VOIDED:
        return None
    return InvoiceVoidedChange(str(new["pk"]), str(new["invoice_id"]), str(new["qbo_invoice_id"]))


def _refunds_recorded(old: dict[str, Any], new: dict[str, Any]) -> list[RefundRecordedChange]:
    before = refunds_of(old)
    changes = []
    for refund_id, entry in refunds_of(new).items():
        if entry.status != RefundStatus.RECORDED or not entry.qbo_refund_id:
            continue
        earlier = before.get(refund_id)
        if earlier is not None and earlier.status == RefundStatus.RECORDED:
            continue
        changes.append(
            RefundRecordedChange(str(new["pk"]), refund_id, entry.payment_id, entry.qbo_refund_id)
        )
    return changes
