"""Invoices kept while the contractor's connection needs reauthorization.

The message is kept in the mapping table (the latest revision per invoice) and acknowledged:
nothing is lost and nothing is retried in a loop. After a reconnect, workflows/reconnect.py
sends each kept message back to the invoice-sent queue (queue.py) and releases it here. Re-sending
rather than exporting inline keeps the callback fast and the contractor's messages in order, and
the export is exactly-once, so a message sent twice is harmless.

Keys: pk = contractor id, sk = "pending#<invoice id>", outside any realm, because a reconnect
may choose another company.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import query_items, to_item
from qbo_sync.core.reasons import ReasonCode
from qbo_sync.core.settings import get_settings
from qbo_sync.events.invoices import InvoiceSent, InvoiceVoided

PENDING_PREFIX = "pending#"


class KeptInvoice(NamedTuple):
    invoice_id: str
    revision: int
    body: str  # the invoice-sent message, as JSON
    keep_id: str  # this keeping; a later keep of the same invoice gets another


class KeptInvoices:
    def __init__(self, table: str, contractor_id: str) -> None:
        self._table = table
        self._pk = contractor_id

    def keep(self, message: InvoiceSent | InvoiceVoided) -> KeptInvoice | None:
        """None when a higher revision of the invoice is kept already. A void (docs/interface.md
        §8) is kept the same way, in its invoice's place: it is the invoice's latest word."""
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
            "reason": ReasonCode.REAUTHORIZATION.value,
            "updated_at": iso_now(),
        }
        dynamodb = aws.dynamodb()
        try:
            dynamodb.put_item(
                TableName=self._table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(revision) OR revision <= :revision",
                ExpressionAttributeValues={":revision": {"N": str(kept.revision)}},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return None
        return kept

    def kept(self) -> list[KeptInvoice]:
        items = query_items(
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": self._pk},
                    ":prefix": {"S": PENDING_PREFIX},
                },
                "ConsistentRead": True,
            }
        )
        return [
            KeptInvoice(
                str(item["invoice_id"]),
                int(item["revision"]),
                str(item["body"]),
                str(item["keep_id"]),
            )
            for item in items
        ]

    def release(self, kept: KeptInvoice) -> None:
        """Forgets a kept message, unless it was kept again since (a newer keep wins)."""
        dynamodb = aws.dynamodb()
        try:
            dynamodb.delete_item(
                TableName=self._table,
                Key={"pk": {"S": self._pk}, "sk": {"S": PENDING_PREFIX + kept.invoice_id}},
                ConditionExpression="keep_id = :keep_id",
                ExpressionAttributeValues={":keep_id": {"S": kept.keep_id}},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return  # kept again since: the newer keeping stays


def kept_invoices(contractor_id: str) -> KeptInvoices:
    return KeptInvoices(get_settings().mappings_table, contractor_id)
