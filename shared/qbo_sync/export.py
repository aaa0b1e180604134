"""export_invoice: one sent platform invoice becomes exactly one QBO Invoice, whatever fails.

Exactly once rests on three things:
- The mapping table, the record of truth: read once before the export (one BatchGetItem), written
  once after it (one conditional write, which an older revision can never win).
- A deterministic requestid on every QBO write (the same write with the same content always
  sends the same one), so QBO answers a retried request, a redelivered message or a racing
  duplicate with the entity it already made.
- A lookup by DocNumber for the invoice's customer before creating, when the requestid may not be
  enough: the message was delivered before (an earlier attempt may have created the invoice and
  died before writing the mapping, and QBO does not promise to remember a requestid for ever), or
  QBO refused the number as a duplicate.

Retrying QBO is qbo.py's single retry policy; what a fault means for the message is decided here,
in `_decision`: transient faults go back to SQS, the others are refused (ExportRefused).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync import aws, reasons, services
from qbo_sync.clock import now
from qbo_sync.connections import Connection
from qbo_sync.events import Client, Invoice, InvoiceSent
from qbo_sync.export_records import FAILED, ExportRecord, announce, export_records
from qbo_sync.mappings import (
    INCOME_ACCOUNT,
    ExportedInvoice,
    MappingStore,
    NewerRevisionRecorded,
)
from qbo_sync.pending import pending_invoices
from qbo_sync.qbo import (
    AuthenticationFailed,
    DuplicateName,
    QboClient,
    QboError,
    StaleObject,
    content_digest,
    quote,
    request_id,
)
from qbo_sync.qbo_fields import (
    MAX_DISPLAY_NAME,
    customer_fields,
    disambiguated_name,
    invoice_fields,
    item_name,
    noted_invoice,
    qbo_name,
    service_item_fields,
)
from qbo_sync.settings import get_settings
from qbo_sync.tokens import ReauthorizationRequired

logger = Logger(child=True)

EXPORTED, UPDATED, UNCHANGED, SKIPPED, PENDING = (
    "exported",
    "updated",
    "unchanged",
    "skipped",
    "pending",
)
DUPLICATE_DOC_NUMBER = "6140"
# last_export_at is for the settings page: to the minute is enough, and a burst of exports then
# pays one connection write a minute, not one per invoice.
LAST_EXPORT_RESOLUTION_SECONDS = 60


@dataclass(frozen=True)
class ExportResult:
    status: str
    qbo_invoice_id: str | None = None


class ExportRefused(Exception):
    """Retrying cannot fix it: the message goes to the dead-letter queue with this reason."""

    def __init__(self, reason: str, code: str = "", detail: str = "", element: str = "") -> None:
        super().__init__(reason)
        self.reason, self.code, self.detail, self.element = reason, code, detail, element


@dataclass(frozen=True)
class _Exported:
    result: ExportResult
    record: ExportedInvoice
    total: Decimal | None  # the QBO invoice's TotalAmt, when this export wrote it
    skipped_record: bool = False  # a "skipped" export record of this invoice is to go


def export_invoice(message: InvoiceSent, *, receive_count: int = 1) -> ExportResult:
    """`receive_count`: SQS's ApproximateReceiveCount. Above 1 the message was delivered before,
    so an earlier attempt may have created the invoice without writing it down; at the queue's
    maxReceiveCount a temporary failure shows as failed, not as retrying for ever."""
    connection = services.connections().get(message.contractor_id)
    if connection is None:
        pending_invoices(message.contractor_id).skip(message)
        logger.info("Invoice not exported: QuickBooks is not connected")
        return ExportResult(SKIPPED)
    if not connection.usable:
        return _keep(message, connection)
    try:
        return _export(connection, message, receive_count)
    except ReauthorizationRequired:
        # Intuit refused the refresh token during this export.
        return _keep(message, connection)


def _export(connection: Connection, message: InvoiceSent, receive_count: int) -> ExportResult:
    try:
        exported = InvoiceExporter(connection).export(message, redelivered=receive_count > 1)
    except QboError as fault:
        decision = _decision(fault)
        _record_not_exported(connection, message, decision, _last_delivery(receive_count))
        raise decision from fault
    except ExportRefused as refused:
        _record_not_exported(connection, message, refused)
        raise
    if exported.result.status != UNCHANGED:
        _touch(connection)
    from qbo_sync.payments import apply_parked_payments  # payments import export's results

    # Payments that came before the invoice: recorded now. Every export calls it, a redelivery
    # too, so that a payment whose recording failed here is tried again with the message. Its
    # write is also the invoice's export record.
    apply_parked_payments(
        connection,
        message.invoice.id,
        exported=exported.record,
        invoice_total=exported.total,
        export=_exported_record(connection, message, exported.record),
    )
    if exported.skipped_record:
        # Sent before QuickBooks was connected, exported now: listed once, as exported.
        export_records(message.contractor_id).delete_skipped(message.invoice.id)
    return exported.result


def _exported_record(
    connection: Connection, message: InvoiceSent, exported: ExportedInvoice
) -> ExportRecord:
    record = ExportRecord.of(message, EXPORTED, realm_id=connection.realm_id)
    if message.invoice.revision >= exported.revision:
        return record
    # A late message of an older revision: the record stays about the newer one.
    return replace(
        record, revision=exported.revision, invoice_number=exported.doc_number, latest=False
    )


def _record_not_exported(
    connection: Connection, message: InvoiceSent, decision: Exception, last: bool = False
) -> None:
    """Failed (refused for good, or on the last delivery SQS makes) or pending (SQS delivers it
    again), with the reason."""
    if isinstance(decision, ExportRefused):
        status, reason = FAILED, reasons.for_fault(decision.code, decision.element)
    elif last:
        status, reason = FAILED, reasons.reason(reasons.GAVE_UP)
    else:
        status, reason = PENDING, reasons.reason(reasons.TEMPORARY)
    record = ExportRecord.of(message, status, reason, connection.realm_id)
    try:
        before = export_records(message.contractor_id).write(record)
    except Exception:
        # The message's own fate (retry or dead-letter queue) must not change for it.
        logger.exception("Export record not written", status=status)
        return
    announce(record, before, None)


def _keep(message: InvoiceSent, seen: Connection) -> ExportResult:
    store = pending_invoices(message.contractor_id)
    kept = store.keep(message)
    if kept is not None:
        reason = reasons.reason(reasons.REAUTHORIZATION)
        record = ExportRecord.of(message, PENDING, reason, seen.realm_id)
        export_records(message.contractor_id).write(record)
    # A reconnect that finished since `seen` was read may have resumed the kept invoices before
    # this one was kept: then export it now rather than wait for the next reconnect.
    latest = services.connections().get(message.contractor_id)
    if latest is not None and latest.usable and latest.token_version != seen.token_version:
        try:
            result = _export(latest, message, receive_count=1)
        except ReauthorizationRequired:
            pass
        else:
            if kept is not None:
                store.release(kept)
            return result
    logger.info("Invoice kept until QuickBooks is reconnected")
    return ExportResult(PENDING)


def _last_delivery(receive_count: int) -> bool:
    limit = _max_receive_count()
    return limit is not None and receive_count >= limit


@cache
def _max_receive_count() -> int | None:
    """The queue's RedrivePolicy maxReceiveCount (template.yaml), read once per container and
    only when an export fails: after that many deliveries SQS moves the message to the DLQ."""
    url = get_settings().invoice_sent_queue_url
    if not url:
        return None
    try:
        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["RedrivePolicy"]
        )["Attributes"]
        return int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])
    except Exception as error:  # unknown: the record then says retrying, as before
        logger.warning("Queue redrive policy not read", error=type(error).__name__)
        return None


def _touch(connection: Connection) -> None:
    if connection.last_export_at:
        last = datetime.strptime(connection.last_export_at, "%Y-%m-%dT%H:%M:%SZ")
        if now() - last.replace(tzinfo=UTC).timestamp() < LAST_EXPORT_RESOLUTION_SECONDS:
            return
    services.connections().touch_last_export(connection.contractor_id)


def _decision(fault: QboError) -> Exception:
    """The one place a QBO fault becomes a decision: back to SQS, or refused for good."""
    if fault.transient or isinstance(fault, AuthenticationFailed | StaleObject):
        return fault
    return ExportRefused(
        f"QuickBooks refused the invoice: {fault}", fault.code, fault.detail, fault.element
    )


class InvoiceExporter:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._qbo: QboClient = services.qbo_client(connection)
        self._mappings: MappingStore = services.mappings(connection)
        self._retry: str | None = None

    def export(self, message: InvoiceSent, redelivered: bool = False) -> _Exported:
        invoice = message.invoice
        state = self._mappings.export_state(invoice.id, message.client.id)
        self._retry = state.retry
        known = state.invoice
        if known and known.revision >= invoice.revision:
            logger.info(
                "Invoice already exported at this revision",
                qbo_invoice_id=known.qbo_invoice_id,
                revision=known.revision,
            )
            return _Exported(
                ExportResult(UNCHANGED, known.qbo_invoice_id), known, None, state.skipped_record
            )
        learnt: dict[tuple[str, str], str] = {}
        customer_id = state.customer_id
        if customer_id is None:
            customer_id = self._customer(message.client)
            learnt[("customer", message.client.id)] = customer_id
        item_id = known.qbo_item_id if known and known.doc_number == invoice.number else None
        if item_id is None:
            account_id = state.income_account_id
            if account_id is None:
                account_id = learnt[INCOME_ACCOUNT] = self._income_account()
            item_id = self._item(invoice, account_id)
        fields = invoice_fields(message, customer_id, item_id)
        if known:
            written = self._update(known.qbo_invoice_id, known.sync_token, fields, invoice)
        else:
            written = self._create(fields, invoice, customer_id, redelivered)
        record = ExportedInvoice(
            invoice_id=invoice.id,
            revision=invoice.revision,
            qbo_invoice_id=str(written["Id"]),
            qbo_customer_id=customer_id,
            sync_token=str(written["SyncToken"]),
            doc_number=invoice.number,
            qbo_item_id=item_id,
        )
        try:
            self._mappings.record_export(record, learnt)
        except NewerRevisionRecorded:
            # Only possible outside FIFO order (two invocations racing on two revisions).
            logger.warning("A newer revision was exported meanwhile", revision=invoice.revision)
            current = self._mappings.exported_invoice(invoice.id)
            return _Exported(
                ExportResult(UNCHANGED, record.qbo_invoice_id), current or record, None
            )
        status = UPDATED if known else EXPORTED
        logger.info(
            f"Invoice {status}",
            qbo_invoice_id=record.qbo_invoice_id,
            qbo_customer_id=customer_id,
            qbo_item_id=item_id,
            revision=invoice.revision,
        )
        return _Exported(
            ExportResult(status, record.qbo_invoice_id),
            record,
            _total(written),
            state.skipped_record,
        )

    # -- invoice ------------------------------------------------------------------------------

    def _create(
        self, fields: dict[str, Any], invoice: Invoice, customer_id: str, redelivered: bool
    ) -> dict[str, Any]:
        if redelivered:
            found = self._find_by_doc_number(invoice, customer_id)
            if found is not None:
                return self._adopt(found, fields, invoice)
        requestid = self._request_id(
            "invoice", invoice.id, invoice.revision, content_digest(fields)
        )
        try:
            return self._qbo.create("Invoice", fields, requestid)
        except QboError as fault:
            if fault.code != DUPLICATE_DOC_NUMBER:
                raise
            # The company refuses duplicate numbers: the invoice may be there already.
            found = self._find_by_doc_number(invoice, customer_id)
            if found is None:
                raise
            return self._adopt(found, fields, invoice)

    def _find_by_doc_number(self, invoice: Invoice, customer_id: str) -> dict[str, Any] | None:
        """The customer's invoice with this number, unless it is another platform invoice's."""
        rows = self._qbo.query(
            f"select * from Invoice where DocNumber = {quote(invoice.number)} "
            f"and CustomerRef = {quote(customer_id)}"
        )
        for row in rows:
            noted = noted_invoice(row.get("PrivateNote"))
            if noted is None or noted[0] == invoice.id:
                return row
        return None

    def _adopt(
        self, found: dict[str, Any], fields: dict[str, Any], invoice: Invoice
    ) -> dict[str, Any]:
        if noted_invoice(found.get("PrivateNote")) == (invoice.id, invoice.revision):
            logger.info(
                "Invoice found in QuickBooks, made by an earlier attempt",
                qbo_invoice_id=found["Id"],
            )
            return found
        logger.info(
            "Invoice found in QuickBooks by its number; updating it", qbo_invoice_id=found["Id"]
        )
        return self._update(str(found["Id"]), str(found["SyncToken"]), fields, invoice)

    def _update(
        self, qbo_invoice_id: str, sync_token: str, fields: dict[str, Any], invoice: Invoice
    ) -> dict[str, Any]:
        body = {**fields, "Id": qbo_invoice_id, "SyncToken": sync_token}
        digest = content_digest(fields)
        try:
            requestid = self._request_id(
                "invoice", invoice.id, invoice.revision, sync_token, digest
            )
            return self._qbo.update("Invoice", body, requestid)
        except StaleObject:
            # Changed in QuickBooks since (an edit there, a payment applied): the platform's sent
            # invoice wins, once; a second stale answer goes back to SQS.
            current = self._qbo.read("Invoice", qbo_invoice_id)
            body["SyncToken"] = str(current["SyncToken"])
            requestid = self._request_id(
                "invoice", invoice.id, invoice.revision, body["SyncToken"], digest
            )
            return self._qbo.update("Invoice", body, requestid)

    # -- customer -----------------------------------------------------------------------------

    def _customer(self, client: Client) -> str:
        # Create first, look up on a name clash: a new client then costs one request, not two.
        display_name = qbo_name(client.display_name, MAX_DISPLAY_NAME)
        for name in (display_name, disambiguated_name(client.display_name, client.id)):
            try:
                return self._create_customer(client, name)
            except DuplicateName:
                found = self._qbo.query(f"select * from Customer where DisplayName = {quote(name)}")
                if found:
                    return str(found[0]["Id"])
            # Held by a vendor, an employee (DisplayName is unique across the three lists) or an
            # inactive customer: the client gets a name of its own.
        raise ExportRefused(f"QuickBooks has no free customer name for {display_name!r}", "6240")

    def _create_customer(self, client: Client, display_name: str) -> str:
        fields = customer_fields(client, display_name)
        requestid = self._request_id("customer", client.id, content_digest(fields))
        return str(self._qbo.create("Customer", fields, requestid)["Id"])

    # -- item ---------------------------------------------------------------------------------

    def _item(self, invoice: Invoice, income_account_id: str) -> str:
        for name in (item_name(invoice.number), item_name(invoice.number, invoice.id)):
            fields = service_item_fields(name, income_account_id)
            try:
                requestid = self._request_id("item", name, content_digest(fields))
                return str(self._qbo.create("Item", fields, requestid)["Id"])
            except DuplicateName:
                # Ours from an earlier attempt, most likely; an inactive item is not found, and
                # the invoice gets an item of its own.
                found = self._qbo.query(f"select * from Item where Name = {quote(name)}")
                if found:
                    return str(found[0]["Id"])
        raise ExportRefused(
            f"QuickBooks has no free item name for invoice {invoice.number!r}", "6240"
        )

    def _income_account(self) -> str:
        accounts = self._qbo.query("select * from Account where AccountType = 'Income'")
        if not accounts:
            raise ExportRefused(
                "The QuickBooks company has no income account for the invoice's item",
                "no_income_account",
            )
        preferred = [a for a in accounts if a.get("Name") == "Services"] or accounts
        return str(preferred[0]["Id"])

    def _request_id(self, kind: str, *parts: object) -> str:
        if self._retry:
            parts = (*parts, "retry", self._retry)
        return request_id(
            self._connection.contractor_id, self._connection.realm_id, kind, *map(repr, parts)
        )


def _total(written: dict[str, Any]) -> Decimal | None:
    total = written.get("TotalAmt")
    return None if total is None else Decimal(str(total))
