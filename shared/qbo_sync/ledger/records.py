"""The export record: per invoice, what the contractor's settings page shows (contracts.md §5).

The record is not an item of its own. It is a handful of attributes on the invoice's payment
ledger item (entries.py: pk = contractor id, sk = "<realm>#payments#<invoice id>"), which
the export already writes after every export and the payments write on every payment. So an
exported invoice or a recorded payment costs no extra DynamoDB request, and one item holds all a
list row needs: the export's status and reason, and the payments.

An invoice that arrived while no company was connected has no realm: its record is the small
"skipped#<invoice id>" item, with the same attributes; the first export of it in a company
deletes it.

Attributes: export_status, export_reason (absent: none), invoice_number, revision, export_body
(the invoice-sent message of the latest revision received, which a retry sends again),
export_realm_id, and the keys of two sparse global secondary indexes (template.yaml), which only
records are in:
- ExportsByContractor: exports_pk = contractor id, exports_sk = "<sent_at>#<invoice id>"
- ExportsByStatus: exports_status_pk = "<contractor id>#<status>", exports_sk
so that a page of the list, filtered or not, newest first, is one Query, and counting the
failed exports is one Query on a key, not a scan (listing.py). exports_sk changes only when a new
revision is received, so payments and retries do not reorder the list under a paging contractor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from qbo_sync.core import aws
from qbo_sync.core.clock import ISO_FORMAT, iso_now
from qbo_sync.core.dynamo import Update, batch_get_by_sk, from_item, to_item
from qbo_sync.core.reasons import Reason, ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import EntryStatus, ExportStatus
from qbo_sync.ledger.keys import (
    ENTRY_PREFIX,
    ledger_key,
    ledger_sk,
    skipped_key,
    skipped_sk,
)

if TYPE_CHECKING:  # the pydantic models are not loaded on the settings page's routes
    from qbo_sync.events import InvoiceSent, InvoiceVoided

logger = Logger(child=True)

ATTEMPTS = "export_attempts"
# What a record's write may keep when it is about an older revision than the one recorded.
_KEPT_IF_PRESENT = ("exports_sk", "export_body")


@dataclass(frozen=True)
class ExportRecord:
    """What one export run knows about an invoice, to be written on its record."""

    contractor_id: str
    invoice_id: str
    invoice_number: str
    revision: int
    sent_at: str
    status: ExportStatus
    reason: Reason | None = None
    body: str | None = None
    realm_id: str | None = None
    # False: the message is older than the revision recorded (a late redelivery outside FIFO
    # order); its order key and body must not replace the newer ones.
    latest: bool = True
    # True for a temporary failure: the write counts it in export_attempts (core/delivery.py's
    # window); any other write starts the count again.
    counts_attempt: bool = False

    @classmethod
    def of(
        cls,
        message: InvoiceSent,
        status: ExportStatus,
        reason: Reason | None = None,
        realm_id: str | None = None,
    ) -> ExportRecord:
        invoice = message.invoice
        return cls(
            contractor_id=message.contractor_id,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            revision=invoice.revision,
            sent_at=message.sent_at.strftime(ISO_FORMAT),
            status=status,
            reason=reason,
            body=message.model_dump_json(),
            realm_id=realm_id,
        )

    def values(self) -> dict[str, Any]:
        """The record's attributes (not the item's key, invoice_id or updated_at)."""
        values: dict[str, Any] = {
            "exports_pk": self.contractor_id,
            "exports_sk": f"{self.sent_at}#{self.invoice_id}",
            "exports_status_pk": f"{self.contractor_id}#{self.status}",
            "export_status": self.status,
            "invoice_number": self.invoice_number,
            "revision": self.revision,
            "export_body": self.body,
            "export_realm_id": self.realm_id,
            "export_reason": self.reason,
        }
        return {name: value for name, value in values.items() if value is not None}

    def add_to(self, update: Update) -> None:
        for name, value in self.values().items():
            update.set(name, value, keep_if_present=not self.latest and name in _KEPT_IF_PRESENT)
        if self.reason is None:
            update.remove("export_reason")
        if self.counts_attempt:
            update.add(ATTEMPTS, 1)
        else:
            update.remove(ATTEMPTS)


@dataclass(frozen=True)
class RecordState:
    """A record as it was before a write: enough to tell whether the write changed it."""

    status: str | None
    revision: int | None
    reason_code: str | None
    attempts: int = 0  # temporary failures counted so far

    @classmethod
    def of_item(cls, values: dict[str, Any]) -> RecordState:
        reason = values.get("export_reason") or {}
        revision = values.get("revision")
        return cls(
            values.get("export_status"),
            int(revision) if revision is not None else None,
            reason.get("code") if isinstance(reason, dict) else None,
            int(values.get(ATTEMPTS, 0)),
        )

    def differs_from_state(self, other: RecordState) -> bool:
        """What a contractor sees changed: the status, the revision or the reason."""
        return (self.status, self.revision, self.reason_code) != (
            other.status,
            other.revision,
            other.reason_code,
        )


@dataclass(frozen=True)
class ExportPeek:
    """What the export needs of the ledger before it writes QBO, read in the mapping store's
    request (invoices/mappings.py asks for these keys and hands back what it found)."""

    retry: str | None  # the contractor's latest retry: QBO replays a requestid's first answer
    skipped_record: bool  # a "skipped" record of this invoice waits to be replaced
    voided: bool = False  # voided on the platform (contracts.md §8): never exported again

    @classmethod
    def keys(cls, contractor_id: str, realm_id: str, invoice_id: str) -> list[dict[str, Any]]:
        return [
            ledger_key(contractor_id, realm_id, invoice_id),
            skipped_key(contractor_id, invoice_id),
        ]

    @classmethod
    def of(cls, realm_id: str, invoice_id: str, found: dict[str, dict[str, Any]]) -> ExportPeek:
        record = found.get(ledger_sk(realm_id, invoice_id)) or {}
        skipped = found.get(skipped_sk(invoice_id))
        retry = record.get("export_retry")
        voided = ExportStatus.VOIDED in (
            record.get("export_status"),
            (skipped or {}).get("export_status"),
        )
        return cls(str(retry) if retry else None, skipped is not None, voided)


class ExportRecords:
    """The contractor's export records in the mapping table."""

    def __init__(self, table: str, contractor_id: str) -> None:
        self._table = table
        self._pk = contractor_id

    def write(self, record: ExportRecord) -> RecordState:
        """Writes a record that is not an export (failed, pending) on the invoice's ledger item
        in its realm; returns the record as it was."""
        assert record.realm_id is not None
        update = Update()
        record.add_to(update)
        update.set("invoice_id", record.invoice_id)
        update.set("updated_at", iso_now())
        key = ledger_key(self._pk, record.realm_id, record.invoice_id)
        response = aws.dynamodb().update_item(
            **update.request(self._table, key), ReturnValues="ALL_OLD"
        )
        return RecordState.of_item(from_item(response.get("Attributes", {})))

    def write_voided(self, message: InvoiceVoided, realm_id: str | None) -> str | None:
        """Marks the invoice voided (contracts.md §8) on its ledger item in the realm, or on its
        skipped record when no company is connected; returns the export status it had. The
        list keeps its place and number when the invoice was listed before."""
        invoice = message.invoice
        update = Update()
        update.set("invoice_id", invoice.id)
        update.set("updated_at", iso_now())
        update.set("export_status", ExportStatus.VOIDED)
        update.set("exports_status_pk", f"{self._pk}#{ExportStatus.VOIDED}")
        update.set("export_reason", reason(ReasonCode.INVOICE_VOIDED))
        update.set("exports_pk", self._pk)
        at = message.voided_at.strftime(ISO_FORMAT)
        update.set("exports_sk", f"{at}#{invoice.id}", keep_if_present=True)
        update.set("invoice_number", invoice.number, keep_if_present=True)
        update.set("revision", invoice.revision, keep_if_present=True)
        update.remove(ATTEMPTS)
        if realm_id is None:
            key = skipped_key(self._pk, invoice.id)
        else:
            update.set("export_realm_id", realm_id)
            key = ledger_key(self._pk, realm_id, invoice.id)
        response = aws.dynamodb().update_item(
            **update.request(self._table, key), ReturnValues="ALL_OLD"
        )
        old = from_item(response.get("Attributes", {})).get("export_status")
        return str(old) if old is not None else None

    def write_skipped(self, record: ExportRecord) -> None:
        item = {
            "pk": self._pk,
            "sk": skipped_sk(record.invoice_id),
            "invoice_id": record.invoice_id,
            "updated_at": iso_now(),
            **record.values(),
        }
        aws.dynamodb().put_item(TableName=self._table, Item=to_item(item))

    def find(self, realm_id: str, invoice_id: str) -> tuple[dict[str, Any] | None, bool]:
        """The invoice's record in the realm, else its skipped record; and whether it is the
        skipped one. One BatchGetItem."""
        keys = [ledger_key(self._pk, realm_id, invoice_id), skipped_key(self._pk, invoice_id)]
        found = batch_get_by_sk(self._table, keys)
        in_realm = found.get(ledger_sk(realm_id, invoice_id))
        if in_realm is not None and "export_status" in in_realm:
            return in_realm, False
        skipped = found.get(skipped_sk(invoice_id))
        if skipped is not None and "export_status" in skipped:
            return skipped, True
        return None, False

    def delete_skipped(self, invoice_id: str) -> None:
        aws.dynamodb().delete_item(TableName=self._table, Key=skipped_key(self._pk, invoice_id))

    def mark_retry(self, realm_id: str, record: dict[str, Any], failed_payments: list[str]) -> None:
        """Before a retry is queued: the record shows pending (unless exported: a retry of an
        exported invoice creates nothing, so it stays exported), and failed payments go back
        to parked, where the export's run picks them up. A voided invoice stays voided, its
        record moved into the realm with it (its export run acknowledges it)."""
        invoice_id = str(record["invoice_id"])
        update = Update()
        update.set("invoice_id", invoice_id)
        update.set("updated_at", iso_now())
        # Read by the export and the payments as part of their requestids (ExportPeek).
        update.set("export_retry", uuid.uuid4().hex)
        if record.get("export_status") != ExportStatus.EXPORTED:
            voided = record.get("export_status") == ExportStatus.VOIDED
            status = ExportStatus.VOIDED if voided else ExportStatus.PENDING
            update.set("export_status", status)
            update.set("exports_status_pk", f"{self._pk}#{status}")
            if voided:
                update.set("export_reason", reason(ReasonCode.INVOICE_VOIDED))
            else:
                update.remove("export_reason")
            update.remove(ATTEMPTS)
            for name in ("exports_pk", "exports_sk", "invoice_number", "revision", "export_body"):
                if name in record:
                    update.set(name, record[name])
            update.set("export_realm_id", realm_id)
        condition = _repark(update, failed_payments) if failed_payments else ""
        dynamodb = aws.dynamodb()
        key = ledger_key(self._pk, realm_id, invoice_id)
        try:
            dynamodb.update_item(**update.request(self._table, key, condition))
        except dynamodb.exceptions.ConditionalCheckFailedException:
            # A payment changed meanwhile (its event came again): the retry goes on without it.
            logger.info("A failed payment changed before the retry", invoice_id=invoice_id)
            self.mark_retry(realm_id, record, [])


def _repark(update: Update, failed_payments: list[str]) -> str:
    """Adds moving the failed payments back to parked; returns the condition that they are
    still failed (a redelivered payment event may have changed one meanwhile)."""
    status = update.name("status")
    parked, failed = update.value(EntryStatus.PARKED), update.value(EntryStatus.FAILED)
    condition: list[str] = []
    for payment_id in failed_payments:
        entry = update.name(ENTRY_PREFIX + payment_id)
        update.sets.append(f"{entry}.{status} = {parked}")
        condition.append(f"{entry}.{status} = {failed}")
    update.add("parked", set(failed_payments))
    return " AND ".join(condition)


def export_records(contractor_id: str) -> ExportRecords:
    return ExportRecords(get_settings().mappings_table, contractor_id)
