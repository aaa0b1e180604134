"""The retainage the client still holds, per job (or per client, without a job): docs/interface.md
§17 and docs/books.md.

One item per exported invoice that holds or releases retainage (mapping table, pk = contractor
id, sk = "<realm>#retainage#<invoice id>"; attributes client_id, job_id ("" without a job),
held, released). It is written in the transaction that records the invoice's export (the
exporter's settle: `entry`), so it counts exactly the exported or adopted invoices at their
latest revision; a void deletes it (`forget`), so a voided invoice stops counting. Only this
module writes these items.

Held for a scope = Σ held - Σ released over the scope's other invoices: a release larger than
that fails with `retainage_release_exceeds_held` before anything is written. The check is a
DynamoDB query of the contractor's retainage items, made only for an invoice that releases
retainage: never a QuickBooks read. The contractor's invoice-sent messages are handled in order
(one FIFO message group per contractor), so two releases are never checked at once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from qbo_sync.connection.store import Connection
from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import from_item, key, to_item
from qbo_sync.core.reasons import Reason, ReasonCode, reason_naming
from qbo_sync.core.settings import get_settings
from qbo_sync.events.invoices import InvoiceSent
from qbo_sync.qbo.faults import Refused

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

ZERO = Decimal("0.00")


def available(rows: list[dict[str, Any]], invoice_id: str, client_id: str, job_id: str) -> Decimal:
    """What the scope's other invoices still hold (a pure rule: the rows are the items)."""
    held = ZERO
    for row in rows:
        if row.get("invoice_id") == invoice_id or row.get("client_id") != client_id:
            continue
        if job_id and row.get("job_id") != job_id:
            continue  # without a job, the scope is every invoice of the client
        held += Decimal(str(row.get("held", 0))) - Decimal(str(row.get("released", 0)))
    return held


class RetainageStore:
    def __init__(self, table: str, contractor_id: str, realm_id: str) -> None:
        self._table, self._pk, self._realm = table, contractor_id, realm_id

    def _prefix(self) -> str:
        return f"{self._realm}#retainage#"

    def _rows(self) -> list[dict[str, Any]]:
        paginator = aws.dynamodb().get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": self._pk}, ":prefix": {"S": self._prefix()}},
            ConsistentRead=True,
        )
        return [from_item(dict(item)) for page in pages for item in page.get("Items", [])]

    def check_release(self, message: InvoiceSent) -> None:
        """Raises Refused (`retainage_release_exceeds_held`) when the invoice releases more
        than its job (or client) still holds; no request when it releases nothing."""
        invoice = message.invoice
        released = invoice.retainage_released
        if released <= 0:
            return
        job_id = invoice.job.id if invoice.job else ""
        held = available(self._rows(), invoice.id, message.client.id, job_id)
        if released > held:
            raise Refused(
                f"the invoice releases {released} of retainage; {held} is held",
                exceeds_held(message, released, held),
            )

    def entry(self, message: InvoiceSent) -> TransactWriteItemTypeDef | None:
        """The invoice's item, to write with its export; None when neither this revision nor
        (as far as a first revision can tell) an earlier one holds or releases any."""
        invoice = message.invoice
        held, released = invoice.retainage_held, invoice.retainage_released
        if held == 0 and released == 0 and invoice.revision == 1:
            return None
        values = {
            "invoice_id": invoice.id,
            "client_id": message.client.id,
            "job_id": invoice.job.id if invoice.job else "",
            "held": held,
            "released": released,
            "updated_at": iso_now(),
        }
        item = {**key(self._pk, self._prefix() + invoice.id), **to_item(values)}
        return {"Put": {"TableName": self._table, "Item": item}}

    def forget(self, invoice_id: str) -> None:
        """A voided invoice's retainage stops counting."""
        aws.dynamodb().delete_item(
            TableName=self._table, Key=key(self._pk, self._prefix() + invoice_id)
        )


def exceeds_held(message: InvoiceSent, released: Decimal, held: Decimal) -> Reason:
    invoice = message.invoice
    if invoice.job:
        scope, short = f"the job {invoice.job.name!r}", "the job"
    else:
        scope, short = f"{message.client.display_name!r}", "the client"
    names = {"released": f"{released}", "held": f"{held}", "scope": scope, "scope_short": short}
    return reason_naming(ReasonCode.RETAINAGE_RELEASE_EXCEEDS_HELD, **names)


def retainage_store(connection: Connection) -> RetainageStore:
    return RetainageStore(
        get_settings().mappings_table, connection.contractor_id, connection.realm_id
    )
