"""InvoiceExporter: one sent platform invoice becomes exactly one QBO Invoice, whatever fails.

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

It returns what it wrote (`Exported`); what follows (the export record, the parked payments, the
event) is workflows/export.py's. Faults propagate as qbo/faults.py's exceptions, or as Refused
where no QBO fault says so (no free name, no income account).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.company.setup import SetupStore, planned, setup_store
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.statuses import ExportOutcome
from qbo_sync.events import Client, Invoice, InvoiceSent
from qbo_sync.invoices.mappings import (
    INCOME_ACCOUNT,
    ExportedInvoice,
    ExportState,
    MappingStore,
    NewerRevisionRecorded,
    mapping_store,
)
from qbo_sync.ledger.records import ExportPeek
from qbo_sync.qbo.client import QboClient, content_digest, quote, request_id
from qbo_sync.qbo.faults import (
    DUPLICATE_NAME,
    DuplicateDocNumber,
    DuplicateName,
    QboError,
    Refused,
    StaleObject,
)
from qbo_sync.qbo.fields import (
    MAX_DISPLAY_NAME,
    address_fields,
    currency_name,
    customer_fields,
    disambiguated_name,
    invoice_fields,
    item_name,
    noted_invoice,
    qbo_name,
    service_item_fields,
)
from qbo_sync.qbo.sales_tax import apply

logger = Logger(child=True)


@dataclass(frozen=True)
class Exported:
    outcome: ExportOutcome  # EXPORTED, UPDATED or UNCHANGED
    invoice: ExportedInvoice  # the invoice's mapping as it now is
    total: Decimal | None  # the QBO invoice's TotalAmt, when this run wrote it
    skipped_record: bool = False  # a "skipped" export record of this invoice is to go


class VoidedOnPlatform(Exception):
    """The invoice was voided on the platform (contracts.md §8): it is not exported (again)."""


class InvoiceExporter:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._qbo: QboClient = services.qbo_client(connection)
        self._mappings: MappingStore = mapping_store(connection)
        self._setups: SetupStore = setup_store(connection)
        self._retry: str | None = None

    def export(self, message: InvoiceSent, redelivered: bool = False) -> Exported:
        invoice = message.invoice
        contractor, realm = self._connection.contractor_id, self._connection.realm_id
        also = [
            *ExportPeek.keys(contractor, realm, invoice.id),
            self._setups.key(),
            self._mappings.customer_key(message.client.id, invoice.currency),
        ]
        state, found = self._mappings.export_state(invoice.id, message.client.id, also=also)
        peek = ExportPeek.of(realm, invoice.id, found)
        if peek.voided:
            raise VoidedOnPlatform(invoice.id)
        # Set by each retry the contractor asks for: QBO answers a requestid it has seen with
        # its first answer, a refusal included, so a retry's writes need their own.
        self._retry = peek.retry
        known = state.invoice
        if known and known.revision >= invoice.revision:
            logger.info(
                "Invoice already exported at this revision",
                qbo_invoice_id=known.qbo_invoice_id,
                revision=known.revision,
            )
            return Exported(ExportOutcome.UNCHANGED, known, None, peek.skipped_record)
        learnt: dict[tuple[str, str], str] = {}
        fields, customer_id, item_id = self._fields(message, state, found, learnt)
        written = self._write(fields, message, known, customer_id, redelivered)
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
            return Exported(ExportOutcome.UNCHANGED, current or record, None)
        outcome = ExportOutcome.UPDATED if known else ExportOutcome.EXPORTED
        logger.info(
            f"Invoice {outcome}",
            qbo_invoice_id=record.qbo_invoice_id,
            qbo_customer_id=customer_id,
            qbo_item_id=item_id,
            revision=invoice.revision,
        )
        return Exported(outcome, record, _total(written), peek.skipped_record)

    def _fields(
        self,
        message: InvoiceSent,
        state: ExportState,
        found: dict[str, dict[str, Any]],
        learnt: dict[tuple[str, str], str],
    ) -> tuple[dict[str, Any], str, str]:
        """The invoice's QBO fields, its customer and item: the company's setup decides tax and
        currency first (company/setup.py), so a refusal there writes nothing."""
        invoice = message.invoice
        setup, tax_plan = planned(self._qbo, self._setups, self._setups.of(found), invoice)
        if tax_plan.currency:
            # The client's customer in that currency, which is not the home currency's.
            customer = self._mappings.customer_in(found, message.client.id, tax_plan.currency)
            state = replace(state, customer_id=customer)
        customer_id, item_id = self._customer_and_item(message, state, learnt, tax_plan.currency)
        ship_to = address_fields(message.client.billing_address)
        fields = invoice_fields(message, customer_id, item_id)
        return apply(fields, invoice, setup, tax_plan, ship_to), customer_id, item_id

    def _write(
        self,
        fields: dict[str, Any],
        message: InvoiceSent,
        known: ExportedInvoice | None,
        customer_id: str,
        redelivered: bool,
    ) -> dict[str, Any]:
        invoice = message.invoice
        try:
            if known:
                return self._update(known.qbo_invoice_id, known.sync_token, fields, invoice)
            return self._create(fields, invoice, customer_id, redelivered)
        except QboError as fault:
            if _about_setup(fault):
                self._setups.forget()  # the company's setup changed: read it again next time
            raise

    def _customer_and_item(
        self,
        message: InvoiceSent,
        state: ExportState,
        learnt: dict[tuple[str, str], str],
        currency: str | None = None,
    ) -> tuple[str, str]:
        """The invoice's QBO customer (in `currency` when it is not the home currency) and
        item, found or made; what was new goes in `learnt`, for the mapping's write."""
        invoice, known = message.invoice, state.invoice
        customer_id = state.customer_id
        if customer_id is None:
            customer_id = self._customer(message.client, currency)
            client_key = f"{message.client.id}#{currency}" if currency else message.client.id
            learnt[("customer", client_key)] = customer_id
        item_id = known.qbo_item_id if known and known.doc_number == invoice.number else None
        if item_id is None:
            account_id = state.income_account_id
            if account_id is None:
                account_id = learnt[INCOME_ACCOUNT] = self._income_account()
            item_id = self._item(invoice, account_id)
        return customer_id, item_id

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
        except DuplicateDocNumber:
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

    def _customer(self, client: Client, currency: str | None = None) -> str:
        # Create first, look up on a name clash: a new client then costs one request, not two.
        # A name held by a vendor, an employee (DisplayName is unique across the three lists)
        # or an inactive customer is not found, and the client gets a name of its own.
        display_name = qbo_name(client.display_name, MAX_DISPLAY_NAME)
        names: tuple[str, ...] = (display_name, disambiguated_name(client.display_name, client.id))
        if currency:
            names = tuple(currency_name(name, currency) for name in names)
        maker = self._customer_maker(client, currency)
        found = self._first_free(names, "Customer", "DisplayName", maker)
        if found is None:
            raise Refused(
                f"QuickBooks has no free customer name for {display_name!r}",
                reason(ReasonCode.NAME_TAKEN),
                DUPLICATE_NAME,
            )
        return found

    def _customer_maker(self, client: Client, currency: str | None) -> Callable[[str], str]:
        def create(display_name: str) -> str:
            fields = customer_fields(client, display_name, currency)
            requestid = self._request_id("customer", client.id, content_digest(fields))
            return str(self._qbo.create("Customer", fields, requestid)["Id"])

        return create

    # -- item ---------------------------------------------------------------------------------

    def _item(self, invoice: Invoice, income_account_id: str) -> str:
        # Ours from an earlier attempt, most likely, when the name is taken; an inactive item is
        # not found, and the invoice gets an item of its own.
        def create(name: str) -> str:
            fields = service_item_fields(name, income_account_id)
            requestid = self._request_id("item", name, content_digest(fields))
            return str(self._qbo.create("Item", fields, requestid)["Id"])

        names = (item_name(invoice.number), item_name(invoice.number, invoice.id))
        found = self._first_free(names, "Item", "Name", create)
        if found is None:
            raise Refused(
                f"QuickBooks has no free item name for invoice {invoice.number!r}",
                reason(ReasonCode.ITEM_NAME_TAKEN),
                DUPLICATE_NAME,
            )
        return found

    def _first_free(
        self, names: tuple[str, ...], entity: str, field: str, create: Callable[[str], str]
    ) -> str | None:
        """The Id of the first name that could be created, or found active under that name
        when QBO says it is taken; None when every name is held by something else."""
        for name in names:
            try:
                return create(name)
            except DuplicateName:
                found = self._qbo.query(f"select * from {entity} where {field} = {quote(name)}")
                if found:
                    return str(found[0]["Id"])
        return None

    def _income_account(self) -> str:
        accounts = self._qbo.query("select * from Account where AccountType = 'Income'")
        if not accounts:
            raise Refused(
                "The QuickBooks company has no income account for the invoice's item",
                reason(ReasonCode.NO_INCOME_ACCOUNT),
            )
        preferred = [a for a in accounts if a.get("Name") == "Services"] or accounts
        return str(preferred[0]["Id"])

    def _request_id(self, kind: str, *parts: object) -> str:
        if self._retry:
            parts = (*parts, "retry", self._retry)
        return request_id(
            self._connection.contractor_id, self._connection.realm_id, kind, *map(repr, parts)
        )


def _about_setup(fault: QboError) -> bool:
    """A refusal naming tax codes or currency: the company's setup is not what we kept."""
    return any(word in fault.element for word in ("TaxCode", "Currency"))


def _total(written: dict[str, Any]) -> Decimal | None:
    total = written.get("TotalAmt")
    return None if total is None else Decimal(str(total))
