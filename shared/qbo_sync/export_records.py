"""The export record: per invoice, what the contractor's settings page shows (contracts.md §5).

The record is not an item of its own. It is a handful of attributes on the invoice's payment
ledger item (payment_records.py: pk = contractor id, sk = "<realm>#payments#<invoice id>"), which
the export already writes after every export and the payments write on every payment. So an
exported invoice or a recorded payment costs no extra DynamoDB request, and one item holds all a
list row needs: the export's status and reason, and the payments.

An invoice that arrived while no company was connected has no realm: its record is the small
"skipped#<invoice id>" item (pending.py), with the same attributes.

Attributes: export_status, export_reason (absent: none), invoice_number, revision, export_body
(the invoice-sent message of the latest revision received, which a retry sends again),
export_realm_id, and the keys of two sparse global secondary indexes (template.yaml), which only
records are in:
- ExportsByContractor: exports_pk = contractor id, exports_sk = "<sent_at>#<invoice id>"
- ExportsByStatus: exports_status_pk = "<contractor id>#<status>", exports_sk
so that a page of the list, filtered or not, newest first, is one Query, and counting the
failed exports is one Query on a key, not a scan. exports_sk changes only when a new revision is
received, so payments and retries do not reorder the list under a paging contractor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from qbo_sync import aws, notifications
from qbo_sync.clock import iso_now
from qbo_sync.dynamo import batch_get_by_sk, from_item, is_conditional_failure, to_item
from qbo_sync.reasons import Reason
from qbo_sync.settings import get_settings

if TYPE_CHECKING:  # the pydantic models are not loaded on the settings page's routes
    from qbo_sync.events import InvoiceSent

logger = Logger(child=True)

EXPORTED, PENDING, FAILED, SKIPPED = "exported", "pending", "failed", "skipped"
STATUSES = (EXPORTED, PENDING, FAILED, SKIPPED)
BY_CONTRACTOR, BY_STATUS = "ExportsByContractor", "ExportsByStatus"
SKIPPED_PREFIX = "skipped#"


def ledger_sk(realm_id: str, invoice_id: str = "") -> str:
    """The sort key of an invoice's payment ledger item (and record); without an invoice id,
    the prefix all of a realm's ledger items share."""
    return f"{realm_id}#payments#{invoice_id}"


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
    status: str
    reason: Reason | None = None
    body: str | None = None
    realm_id: str | None = None
    # False: the message is older than the revision recorded (a late redelivery outside FIFO
    # order); its order key and body must not replace the newer ones.
    latest: bool = True

    @classmethod
    def of(
        cls,
        message: InvoiceSent,
        status: str,
        reason: Reason | None = None,
        realm_id: str | None = None,
    ) -> ExportRecord:
        invoice = message.invoice
        return cls(
            contractor_id=message.contractor_id,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            revision=invoice.revision,
            sent_at=message.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
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


@dataclass(frozen=True)
class RecordState:
    """A record as it was before a write: enough to tell whether the write changed it."""

    status: str | None
    revision: int | None
    reason_code: str | None

    @classmethod
    def of_item(cls, values: dict[str, Any]) -> RecordState:
        reason = values.get("export_reason") or {}
        revision = values.get("revision")
        return cls(
            values.get("export_status"),
            int(revision) if revision is not None else None,
            reason.get("code") if isinstance(reason, dict) else None,
        )

    def differs_from(self, record: ExportRecord) -> bool:
        code = record.reason["code"] if record.reason else None
        return (self.status, self.revision, self.reason_code) != (
            record.status,
            record.revision,
            code,
        )


@dataclass
class Update:
    """An UpdateExpression under construction, with its placeholders."""

    sets: list[str]
    removes: list[str]
    names: dict[str, str]
    values: dict[str, Any]
    adds: list[str] = field(default_factory=list)

    @classmethod
    def new(cls) -> Update:
        return cls([], [], {}, {})

    def set(self, name: str, value: Any, *, keep_if_present: bool = False) -> None:
        key = f"x{len(self.names)}"
        self.names[f"#{key}"] = name
        self.values[f":{key}"] = value
        self.sets.append(
            f"#{key} = if_not_exists(#{key}, :{key})" if keep_if_present else f"#{key} = :{key}"
        )

    def remove(self, name: str) -> None:
        key = f"x{len(self.names)}"
        self.names[f"#{key}"] = name
        self.removes.append(f"#{key}")

    def add_record(self, record: ExportRecord) -> None:
        for name, value in record.values().items():
            self.set(name, value, keep_if_present=not record.latest and name in _KEPT_IF_PRESENT)
        if record.reason is None:
            self.remove("export_reason")

    def expression(self) -> str:
        text = "SET " + ", ".join(self.sets)
        text += " REMOVE " + ", ".join(self.removes) if self.removes else ""
        return text + (" " + " ".join(self.adds) if self.adds else "")


def _repark(update: Update, failed_payments: list[str]) -> str:
    """Adds moving the failed payments back to parked; returns the condition that they are
    still failed (a redelivered payment event may have changed one meanwhile)."""
    update.names["#st"] = "status"
    update.values.update({":parked": "parked", ":failed": "failed", ":ids": set(failed_payments)})
    condition: list[str] = []
    for index, payment_id in enumerate(failed_payments):
        update.names[f"#p{index}"] = "payment:" + payment_id
        update.sets.append(f"#p{index}.#st = :parked")
        condition.append(f"#p{index}.#st = :failed")
    update.adds.append("ADD parked :ids")
    return " AND ".join(condition)


def announce(record: ExportRecord, before: RecordState, qbo_invoice_id: str | None) -> None:
    """Emits the record's event if its write changed it (contracts.md §6)."""
    if not before.differs_from(record):
        return
    if record.status == EXPORTED and qbo_invoice_id and record.realm_id:
        notifications.invoice_exported(
            record.contractor_id,
            invoice_id=record.invoice_id,
            invoice_number=record.invoice_number,
            revision=record.revision,
            qbo_invoice_id=qbo_invoice_id,
            realm_id=record.realm_id,
        )
    elif record.status == FAILED and record.reason is not None:
        notifications.invoice_export_failed(
            record.contractor_id,
            invoice_id=record.invoice_id,
            invoice_number=record.invoice_number,
            revision=record.revision,
            reason=record.reason,
        )


class ExportRecords:
    """The contractor's export records in the mapping table."""

    def __init__(self, table: str, contractor_id: str) -> None:
        self._table = table
        self._pk = contractor_id

    def ledger_key(self, realm_id: str, invoice_id: str) -> dict[str, Any]:
        return {"pk": {"S": self._pk}, "sk": {"S": ledger_sk(realm_id, invoice_id)}}

    def skipped_key(self, invoice_id: str) -> dict[str, Any]:
        return {"pk": {"S": self._pk}, "sk": {"S": SKIPPED_PREFIX + invoice_id}}

    def write(self, record: ExportRecord) -> RecordState:
        """Writes a record that is not an export (failed, pending) on the invoice's ledger item
        in its realm; returns the record as it was."""
        assert record.realm_id is not None
        update = Update.new()
        update.add_record(record)
        update.set("invoice_id", record.invoice_id)
        update.set("updated_at", iso_now())
        response = aws.client("dynamodb").update_item(
            TableName=self._table,
            Key=self.ledger_key(record.realm_id, record.invoice_id),
            UpdateExpression=update.expression(),
            ExpressionAttributeNames=update.names,
            ExpressionAttributeValues=to_item(update.values),
            ReturnValues="ALL_OLD",
        )
        return RecordState.of_item(from_item(response.get("Attributes", {})))

    def write_skipped(self, record: ExportRecord) -> None:
        item = {
            "pk": self._pk,
            "sk": SKIPPED_PREFIX + record.invoice_id,
            "invoice_id": record.invoice_id,
            "updated_at": iso_now(),
            **record.values(),
        }
        aws.client("dynamodb").put_item(TableName=self._table, Item=to_item(item))

    def find(self, realm_id: str, invoice_id: str) -> tuple[dict[str, Any] | None, bool]:
        """The invoice's record in the realm, else its skipped record; and whether it is the
        skipped one. One BatchGetItem."""
        keys = [self.ledger_key(realm_id, invoice_id), self.skipped_key(invoice_id)]
        found = batch_get_by_sk(self._table, keys)
        in_realm = found.get(ledger_sk(realm_id, invoice_id))
        if in_realm is not None and "export_status" in in_realm:
            return in_realm, False
        skipped = found.get(SKIPPED_PREFIX + invoice_id)
        if skipped is not None and "export_status" in skipped:
            return skipped, True
        return None, False

    def page(
        self, status: str | None, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of records, newest first: one Query."""
        index, key, value = self._index(status)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": key},
            "ExpressionAttributeValues": {":k": {"S": value}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = start
        response = aws.client("dynamodb").query(**request)
        items = [from_item(raw) for raw in response.get("Items", [])]
        return items, response.get("LastEvaluatedKey")

    def count(self, status: str) -> int:
        index, key, value = self._index(status)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": key},
            "ExpressionAttributeValues": {":k": {"S": value}},
            "Select": "COUNT",
        }
        total = 0
        while True:
            response = aws.client("dynamodb").query(**request)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                return total
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def key_attributes(self, status: str | None) -> tuple[str, str, str]:
        """A page cursor's attributes: the table's key and the index's, and the index's
        partition value for this contractor."""
        _, partition, value = self._index(status)
        return partition, "exports_sk", value

    def _index(self, status: str | None) -> tuple[str, str, str]:
        """The index a listing reads (all records, or those in one status), its partition key
        attribute, and this contractor's value of it."""
        if status:
            return BY_STATUS, "exports_status_pk", f"{self._pk}#{status}"
        return BY_CONTRACTOR, "exports_pk", self._pk

    def delete_skipped(self, invoice_id: str) -> None:
        aws.client("dynamodb").delete_item(TableName=self._table, Key=self.skipped_key(invoice_id))

    def mark_retry(self, realm_id: str, record: dict[str, Any], failed_payments: list[str]) -> None:
        """Before a retry is queued: the record shows pending (unless exported: a retry of an
        exported invoice creates nothing, so it stays exported), and failed payments go back
        to parked, where the export's run picks them up."""
        invoice_id = str(record["invoice_id"])
        update = Update.new()
        update.set("invoice_id", invoice_id)
        update.set("updated_at", iso_now())
        # Read by the export and the payments as part of their requestids (mappings.py).
        update.set("export_retry", uuid.uuid4().hex)
        if record.get("export_status") != EXPORTED:
            update.set("export_status", PENDING)
            update.set("exports_status_pk", f"{self._pk}#{PENDING}")
            update.remove("export_reason")
            for name in ("exports_pk", "exports_sk", "invoice_number", "revision", "export_body"):
                if name in record:
                    update.set(name, record[name])
            update.set("export_realm_id", realm_id)
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": self.ledger_key(realm_id, invoice_id),
        }
        if failed_payments:
            request["ConditionExpression"] = _repark(update, failed_payments)
        request["UpdateExpression"] = update.expression()
        request["ExpressionAttributeNames"] = update.names
        request["ExpressionAttributeValues"] = to_item(update.values)
        try:
            aws.client("dynamodb").update_item(**request)
        except Exception as error:
            if not failed_payments or not is_conditional_failure(error):
                raise
            # A payment changed meanwhile (its event came again): the retry goes on without it.
            logger.info("A failed payment changed before the retry", invoice_id=invoice_id)
            self.mark_retry(realm_id, record, [])


def export_records(contractor_id: str) -> ExportRecords:
    settings = get_settings()
    settings.require("mappings_table")
    return ExportRecords(settings.mappings_table, contractor_id)
