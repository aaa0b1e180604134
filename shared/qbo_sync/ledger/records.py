"""The export record: per invoice, what the contractor's settings page shows (docs/interface.md §5).

The record is not an item of its own. It is a handful of attributes on the invoice's payment
ledger item (entries.py: pk = contractor id, sk = "<realm>#payments#<invoice id>"), which
the export already writes after every export and the payments write on every payment. So an
exported invoice or a recorded payment costs no extra DynamoDB request, and one item holds all a
list row needs: the export's status and reason, and the payments.

An invoice that arrived while no company was connected has no realm: its record is the small
"skipped#<invoice id>" item, with the same attributes; the first export of it in a company
deletes it.

Attributes: export_status, export_reason (absent: none), invoice_number, revision, client_id,
export_body (the invoice-sent message of the latest revision received, which a retry sends again,
and where the list reads the client's name, the total, currency and issue date), export_realm_id,
export_history (docs/interface.md §14: the last attempts, newest first; see HISTORY_KEPT), and
the keys of four sparse global secondary indexes (template.yaml), which only records are in.
Each key starts with "<contractor id>#<scope>", the scope being the record's realm, or
"skipped" for a skipped record, so that the list reads the connected company's records and the
skipped ones, never an earlier company's:
- ExportsByContractor: exports_pk = "<contractor>#<scope>", exports_sk = "<sent_at>#<invoice id>"
- ExportsByStatus: exports_status_pk = "<contractor>#<scope>#<status>", exports_sk
- ExportsByClient: exports_client_pk = "<contractor>#<scope>#<client id>", exports_sk
- ExportsByNumber: exports_number_pk = "<contractor>#<scope>#<invoice number>", exports_sk
so that a page of the list, filtered or not, newest first, is one Query per scope, and counting
the failed exports is one Query on a key, not a scan (views/listing.py). exports_sk changes only
when a new revision is received, so payments and retries do not reorder the list under a paging
contractor.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import TYPE_CHECKING, Any, NamedTuple

from aws_lambda_powertools import Logger

from qbo_sync.core import aws
from qbo_sync.core.clock import ISO_FORMAT, iso_now
from qbo_sync.core.dynamo import Update, batch_get_by_sk, from_item, to_item
from qbo_sync.core.reasons import Reason, ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import EntryStatus, ExportStatus
from qbo_sync.ledger.keys import (
    ENTRY_PREFIX,
    SKIPPED_PREFIX,
    ledger_key,
    ledger_sk,
    skipped_key,
    skipped_sk,
)

if TYPE_CHECKING:  # the pydantic models are not loaded on the settings page's routes
    from qbo_sync.events.invoices import InvoiceSent, InvoiceVoided

logger = Logger(child=True)

ATTEMPTS = "export_attempts"
HISTORY = "export_history"
# docs/interface.md §14 keeps the last 10 attempts. An UpdateItem cannot both prepend to a list and
# cut it, so writes prepend, and a write whose old image shows the list full to HISTORY_TRIM
# cuts it back to HISTORY_KEPT in one more request: one extra write per 5 attempts at most, once
# an invoice has had 15. Entries keep the reason's code, not its sentence (views/exports.py
# gives the sentence back), so that the item, which every payment rewrites and two indexes
# copy whole, stays small: about 110 bytes an entry.
HISTORY_KEPT, HISTORY_TRIM = 10, 15
SKIPPED_SCOPE = "skipped"
# What a record's write may keep when it is about an older revision than the one recorded.
_KEPT_IF_PRESENT = ("exports_sk", "export_body")


class ExportRecord(NamedTuple):
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
    client_id: str | None = None
    # docs/interface.md §14: the attempt this write records (None: the write adds no entry).
    history: HistoryEntry | None = None

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
            client_id=message.client.id,
            history=HistoryEntry.of_status(status, reason),
        )

    def values(self) -> dict[str, Any]:
        """The record's attributes (not the item's key, invoice_id or updated_at)."""
        values: dict[str, Any] = {
            **index_keys(
                self.contractor_id, self.realm_id, self.status, self.client_id, self.invoice_number
            ),
            "exports_sk": f"{self.sent_at}#{self.invoice_id}",
            "export_status": self.status,
            "invoice_number": self.invoice_number,
            "revision": self.revision,
            "client_id": self.client_id,
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
        if self.history is not None:
            self.history.add_to(update)


class HistoryEntry(NamedTuple):
    """One attempt in an invoice's history (docs/interface.md §14)."""

    outcome: str  # exported | failed | deferred | retried | dismissed | voided
    by: str = "system"  # or "contractor"
    reason: Reason | None = None
    at: str = ""

    @classmethod
    def of_status(cls, status: ExportStatus, why: Reason | None) -> HistoryEntry | None:
        outcome = _OUTCOME_OF_STATUS.get(status)
        return cls(outcome, reason=why) if outcome else None

    def value(self) -> dict[str, Any]:
        why = self.reason or {}
        entry = {
            "at": self.at or iso_now(),
            "outcome": self.outcome,
            "code": why.get("code"),
            "intuit_tid": why.get("intuit_tid"),
            "by": self.by,
        }
        return {name: value for name, value in entry.items() if value}

    def add_to(self, update: Update) -> None:
        """Prepends the entry to the record's history, in the write that records the attempt."""
        name = update.name(HISTORY)
        entry, empty = update.value([self.value()]), update.value([])
        update.sets.append(f"{name} = list_append({entry}, if_not_exists({name}, {empty}))")


_OUTCOME_OF_STATUS = {
    ExportStatus.EXPORTED: "exported",
    ExportStatus.FAILED: "failed",
    ExportStatus.PENDING: "deferred",
    ExportStatus.SKIPPED: "deferred",
    ExportStatus.VOIDED: "voided",
    # DISMISSED: none. The contractor's dismissal writes its own entry (ExportRecords.dismiss);
    # a message acknowledged while dismissed only keeps its revision for a later retry.
}


def index_keys(
    contractor_id: str,
    realm_id: str | None,
    status: str,
    client_id: str | None = None,
    number: str | None = None,
) -> dict[str, str]:
    """The record's index keys (module docstring), in its realm or, without one, skipped."""
    scope = f"{contractor_id}#{realm_id or SKIPPED_SCOPE}"
    keys = {"exports_pk": scope, "exports_status_pk": f"{scope}#{status}"}
    if client_id:
        keys["exports_client_pk"] = f"{scope}#{client_id}"
    if number:
        keys["exports_number_pk"] = f"{scope}#{number}"
    return keys


def stale_index_keys(values: dict[str, Any]) -> dict[str, str]:
    """For a record stored before the list was scoped to the connected company (its keys were
    the bare contractor id), the index keys it has today; empty when they are already so.
    `values`: the item, deserialised (migrations/m0001 rewrites what this answers)."""
    status = values.get("export_status")
    if not status or "exports_pk" not in values:
        return {}
    client_id = values.get("client_id")
    if not client_id and values.get("export_body"):
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            client_id = json.loads(str(values["export_body"]))["client"]["id"]
    realm_id = values.get("export_realm_id")
    wanted = index_keys(
        str(values["pk"]),
        str(realm_id) if realm_id and not str(values["sk"]).startswith(SKIPPED_PREFIX) else None,
        str(status),
        str(client_id) if client_id else None,
        str(values.get("invoice_number") or "") or None,
    )
    if client_id:
        wanted["client_id"] = str(client_id)
    return {name: value for name, value in wanted.items() if values.get(name) != value}


def history_full(old: dict[str, Any]) -> bool:
    """Whether the write whose old image (ALL_OLD, from_item) this is filled the history up
    to HISTORY_TRIM entries: then ExportRecords.trim_history cuts it back."""
    return len(old.get(HISTORY) or []) >= HISTORY_TRIM - 1


class RecordState(NamedTuple):
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


class ExportPeek(NamedTuple):
    """What the export needs of the ledger before it writes QBO, read in the mapping store's
    request (invoices/mappings.py asks for these keys and hands back what it found)."""

    retry: str | None  # the contractor's latest retry: QBO replays a requestid's first answer
    skipped_record: bool  # a "skipped" record of this invoice waits to be replaced
    voided: bool = False  # voided on the platform (docs/interface.md §8): never exported again
    # The contractor dismissed it (docs/interface.md §14): acknowledged without a QBO request
    # until a retry (which sets the status back to pending) undoes it.
    dismissed: bool = False
    adopted: bool = False  # exported by adopting a hand-keyed invoice (docs/interface.md §15)
    # The client and CurrencyRef ("" for none) the invoice was recorded with.
    client_id: str | None = None
    currency_ref: str | None = None

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
        statuses = (record.get("export_status"), (skipped or {}).get("export_status"))
        voided = ExportStatus.VOIDED in statuses
        dismissed = ExportStatus.DISMISSED in statuses
        adopted = bool(record.get("adopted"))
        client, currency = record.get("client_id"), record.get("currency_ref")
        return cls(
            str(retry) if retry else None,
            skipped is not None,
            voided,
            dismissed,
            adopted,
            str(client) if client is not None else None,
            str(currency) if currency is not None else None,
        )

    def same_client(self, client_id: str, currency: str) -> bool:
        """Whether a revision is of the client (and currency) the invoice was exported for."""
        return self.client_id == client_id and self.currency_ref in (None, "", currency)


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
        old = from_item(response.get("Attributes", {}))
        if record.history is not None and history_full(old):
            self.trim_history(record.realm_id, record.invoice_id)
        return RecordState.of_item(old)

    def trim_history(self, realm_id: str | None, invoice_id: str) -> None:
        """Cuts the record's history back to its newest HISTORY_KEPT entries, once a write's old
        image showed it full (history_full). Conditional, so two trims never cut twice."""
        update = Update()
        name = update.name(HISTORY)
        update.removes.extend(f"{name}[{i}]" for i in range(HISTORY_KEPT, HISTORY_TRIM))
        key = self._key(realm_id, invoice_id)
        condition = f"size({name}) >= {update.value(HISTORY_TRIM)}"
        dynamodb = aws.dynamodb()
        # Failed condition: another write trimmed it first.
        with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.update_item(**update.request(self._table, key, condition))

    def dismiss(self, realm_id: str | None, invoice_id: str) -> bool:
        """The contractor's dismissal (docs/interface.md §14), one conditional UpdateItem on the
        invoice's record in the realm (None: its skipped record). False when the invoice was
        exported meanwhile (or has no record): an exported invoice cannot be dismissed."""
        update = Update()
        update.set("updated_at", iso_now())
        update.set("export_status", ExportStatus.DISMISSED)
        scope = f"{self._pk}#{realm_id or SKIPPED_SCOPE}"
        update.set("exports_status_pk", f"{scope}#{ExportStatus.DISMISSED}")
        update.set("export_reason", reason(ReasonCode.INVOICE_DISMISSED))
        update.remove(ATTEMPTS)
        HistoryEntry("dismissed", by="contractor").add_to(update)
        status = update.name("export_status")
        # Conditional on the exactly-once slot too (ledger/export_slot.py): an invoice whose
        # create settled (qbo_invoice_id) is exported, whatever revision the record is about.
        condition = (
            f"attribute_exists({status}) AND attribute_not_exists(qbo_invoice_id) AND NOT "
            f"{status} IN ({update.value(ExportStatus.EXPORTED)}, "
            f"{update.value(ExportStatus.VOIDED)})"
        )
        dynamodb = aws.dynamodb()
        try:
            response = dynamodb.update_item(
                **update.request(self._table, self._key(realm_id, invoice_id), condition),
                ReturnValues="ALL_OLD",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        if history_full(from_item(response.get("Attributes", {}))):
            self.trim_history(realm_id, invoice_id)
        return True

    def _key(self, realm_id: str | None, invoice_id: str) -> Any:
        if realm_id is None:
            return skipped_key(self._pk, invoice_id)
        return ledger_key(self._pk, realm_id, invoice_id)

    def write_voided(self, message: InvoiceVoided, realm_id: str | None) -> str | None:
        """Marks the invoice voided (docs/interface.md §8) on its ledger item in the realm, or on
        its skipped record when no company is connected; returns the export status it had. The
        list keeps its place and number when the invoice was listed before."""
        invoice = message.invoice
        update = Update()
        update.set("invoice_id", invoice.id)
        update.set("updated_at", iso_now())
        update.set("export_status", ExportStatus.VOIDED)
        keys = index_keys(self._pk, realm_id, ExportStatus.VOIDED, number=invoice.number)
        for name, value in keys.items():
            update.set(name, value, keep_if_present=name == "exports_number_pk")
        update.set("export_reason", reason(ReasonCode.INVOICE_VOIDED))
        HistoryEntry("voided", reason=reason(ReasonCode.INVOICE_VOIDED)).add_to(update)
        at = message.voided_at.strftime(ISO_FORMAT)
        update.set("exports_sk", f"{at}#{invoice.id}", keep_if_present=True)
        update.set("invoice_number", invoice.number, keep_if_present=True)
        update.set("revision", invoice.revision, keep_if_present=True)
        update.remove(ATTEMPTS)
        if realm_id is not None:
            update.set("export_realm_id", realm_id)
        response = aws.dynamodb().update_item(
            **update.request(self._table, self._key(realm_id, invoice.id)),
            ReturnValues="ALL_OLD",
        )
        old_values = from_item(response.get("Attributes", {}))
        if history_full(old_values):
            self.trim_history(realm_id, invoice.id)
        old = old_values.get("export_status")
        return str(old) if old is not None else None

    def write_skipped(self, record: ExportRecord) -> None:
        item = {
            "pk": self._pk,
            "sk": skipped_sk(record.invoice_id),
            "invoice_id": record.invoice_id,
            "updated_at": iso_now(),
            **record.values(),
        }
        if record.history is not None:
            item[HISTORY] = [record.history.value()]
        dynamodb = aws.dynamodb()
        if record.status == ExportStatus.DISMISSED:
            dynamodb.put_item(TableName=self._table, Item=to_item(item))
            return
        try:
            dynamodb.put_item(
                TableName=self._table,
                Item=to_item(item),
                # A dismissal stays until the contractor's Retry (docs/interface.md §14).
                ConditionExpression="attribute_not_exists(export_status) OR export_status <> :d",
                ExpressionAttributeValues={":d": {"S": ExportStatus.DISMISSED.value}},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            dismissed = record._replace(
                status=ExportStatus.DISMISSED,
                reason=reason(ReasonCode.INVOICE_DISMISSED),
                history=None,
            )
            self.write_skipped(dismissed)

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

    def find_skipped(self, invoice_id: str) -> dict[str, Any] | None:
        """The invoice's skipped record (no company connected): one GetItem."""
        response = aws.dynamodb().get_item(
            TableName=self._table, Key=skipped_key(self._pk, invoice_id), ConsistentRead=True
        )
        found = from_item(dict(response.get("Item", {})))
        return found if "export_status" in found else None

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
        retried = HistoryEntry("retried", by="contractor")
        if str(record.get("sk", "")).startswith(SKIPPED_PREFIX):
            # Moved into the realm's item: its history comes with it.
            update.set(HISTORY, [retried.value(), *(record.get(HISTORY) or [])][:HISTORY_KEPT])
        else:
            retried.add_to(update)
        if record.get("export_status") != ExportStatus.EXPORTED:
            voided = record.get("export_status") == ExportStatus.VOIDED
            status = ExportStatus.VOIDED if voided else ExportStatus.PENDING
            update.set("export_status", status)
            client_id = record.get("client_id")
            number = record.get("invoice_number")
            for name, value in index_keys(self._pk, realm_id, status, client_id, number).items():
                update.set(name, value)
            if voided:
                update.set("export_reason", reason(ReasonCode.INVOICE_VOIDED))
            else:
                update.remove("export_reason")
            update.remove(ATTEMPTS)
            for name in ("exports_sk", "invoice_number", "revision", "export_body", "client_id"):
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
            return
        if history_full(record):
            self.trim_history(realm_id, invoice_id)


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
