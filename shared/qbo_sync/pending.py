"""Invoices that arrive while they cannot be exported, and how the kept ones are exported later.

- Kept (pending): the contractor's connection needs reauthorization. The message is kept in the
  mapping table (the latest revision per invoice) and acknowledged: nothing is lost and nothing is
  retried in a loop. `resume_pending_invoices`, which the OAuth callback calls right after a
  successful reconnect, sends each kept message back to the invoice-sent FIFO queue
  (`INVOICE_SENT_QUEUE_URL`, in the contractor's message group) and forgets it. Re-sending rather
  than exporting inline keeps the callback fast and the contractor's messages in order, and the
  export is exactly-once, so a message sent twice is harmless.
- Skipped: the contractor has no connection. A small record says so (an export record with
  status `skipped`, listed on the settings page); it is exported only if the contractor retries it.

Keys: pk = contractor id, sk = "pending#<invoice id>" or "skipped#<invoice id>", outside any
realm, because a reconnect may choose another company.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync import aws, reasons, services
from qbo_sync.clock import iso_now
from qbo_sync.dynamo import from_item, is_conditional_failure, to_item
from qbo_sync.events import InvoiceSent
from qbo_sync.export_records import SKIPPED, ExportRecord, ExportRecords
from qbo_sync.settings import get_settings

logger = Logger(child=True)

PENDING_PREFIX = "pending#"
SQS_BATCH = 10


@dataclass(frozen=True)
class KeptInvoice:
    invoice_id: str
    revision: int
    body: str  # the invoice-sent message, as JSON
    keep_id: str  # this keeping; a later keep of the same invoice gets another


class PendingInvoices:
    def __init__(self, table: str, contractor_id: str) -> None:
        self._table = table
        self._pk = contractor_id

    def keep(self, message: InvoiceSent) -> KeptInvoice | None:
        """None when a higher revision of the invoice is kept already."""
        kept = KeptInvoice(
            message.invoice.id,
            message.invoice.revision,
            message.model_dump_json(),
            uuid.uuid4().hex,
        )
        item = {
            "pk": self._pk,
            "sk": PENDING_PREFIX + kept.invoice_id,
            "invoice_id": kept.invoice_id,
            "invoice_number": message.invoice.number,
            "revision": kept.revision,
            "body": kept.body,
            "keep_id": kept.keep_id,
            "reason": "reauthorization_required",
            "updated_at": iso_now(),
        }
        try:
            aws.client("dynamodb").put_item(
                TableName=self._table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(revision) OR revision <= :revision",
                ExpressionAttributeValues={":revision": {"N": str(kept.revision)}},
            )
        except Exception as error:
            if is_conditional_failure(error):
                return None
            raise
        return kept

    def kept(self) -> list[KeptInvoice]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": self._pk},
                ":prefix": {"S": PENDING_PREFIX},
            },
            "ConsistentRead": True,
        }
        found: list[KeptInvoice] = []
        while True:
            response = aws.client("dynamodb").query(**request)
            for raw in response.get("Items", []):
                item = from_item(raw)
                found.append(
                    KeptInvoice(
                        str(item["invoice_id"]),
                        int(item["revision"]),
                        str(item["body"]),
                        str(item["keep_id"]),
                    )
                )
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def release(self, kept: KeptInvoice) -> None:
        """Forgets a kept message, unless it was kept again since (a newer keep wins)."""
        try:
            aws.client("dynamodb").delete_item(
                TableName=self._table,
                Key={"pk": {"S": self._pk}, "sk": {"S": PENDING_PREFIX + kept.invoice_id}},
                ConditionExpression="keep_id = :keep_id",
                ExpressionAttributeValues={":keep_id": {"S": kept.keep_id}},
            )
        except Exception as error:
            if not is_conditional_failure(error):
                raise

    def skip(self, message: InvoiceSent) -> None:
        # The skipped record is an export record (export_records.py): listed, and retried by
        # the contractor once connected.
        record = ExportRecord.of(message, SKIPPED, reasons.reason(reasons.NOT_CONNECTED))
        ExportRecords(self._table, self._pk).write_skipped(record)


def pending_invoices(contractor_id: str) -> PendingInvoices:
    settings = get_settings()
    settings.require("mappings_table")
    return PendingInvoices(settings.mappings_table, contractor_id)


def resume_pending_invoices(contractor_id: str) -> int:
    """Sends the contractor's kept invoice-sent messages back to the FIFO queue; returns how many.

    Call it after the contractor reconnected (does nothing while the connection is unusable).
    A message whose send fails stays kept and is sent by the next call."""
    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        return 0
    settings = get_settings()
    settings.require("invoice_sent_queue_url")
    store = pending_invoices(contractor_id)
    kept = store.kept()
    sent = 0
    for start in range(0, len(kept), SQS_BATCH):
        chunk = kept[start : start + SQS_BATCH]
        response = aws.client("sqs").send_message_batch(
            QueueUrl=settings.invoice_sent_queue_url,
            Entries=[
                {
                    "Id": str(index),
                    "MessageBody": message.body,
                    "MessageGroupId": contractor_id,
                    # Unique per keeping: FIFO deduplication must not swallow a second resume of
                    # an invoice that was kept again within five minutes.
                    "MessageDeduplicationId": hashlib.sha256(
                        f"{message.invoice_id}\x1f{message.keep_id}".encode()
                    ).hexdigest(),
                }
                for index, message in enumerate(chunk)
            ],
        )
        failed = {entry["Id"] for entry in response.get("Failed", [])}
        for index, message in enumerate(chunk):
            if str(index) in failed:
                logger.error(
                    "Kept invoice not re-sent; it stays kept",
                    contractor_id=contractor_id,
                    invoice_id=message.invoice_id,
                )
                continue
            store.release(message)
            sent += 1
    if sent:
        logger.info("Kept invoices sent for export", contractor_id=contractor_id, count=sent)
    return sent
