"""InvoiceExporter: one sent platform invoice becomes exactly one QBO Invoice, whatever fails.

The mapping table is the record of truth: read once before the export (one BatchGetItem),
written once after it. A new invoice is created through once.py (docs/exactly-once.md),
with invoice_write.py's `InvoiceWrite` as its adapter; its preconditions are this module's
`plan`: the company's setup, the customer and the item (found or made). A later revision
updates the invoice the mapping names (an update of our own entity is safe to repeat: the same
requestid, and the revision guards the mapping).

It returns what it wrote (`Exported`); what follows (the parked payments, the event) is
workflows/export.py's. Faults propagate as qbo/faults.py's exceptions, Refused, or Deferred.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.accounts.settings import settings_store
from qbo_sync.company.setup import SetupStore, planned, setup_store
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import RefreshInProgress
from qbo_sync.core.dynamo import Key
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.statuses import ExportOutcome
from qbo_sync.events.invoices import Client, Invoice, InvoiceSent
from qbo_sync.history.adoption import hand_keyed_keys, hand_keyed_rows
from qbo_sync.invoices.construction import Construction
from qbo_sync.invoices.exported import Exported, Plan, total_of
from qbo_sync.invoices.invoice_write import InvoiceWrite
from qbo_sync.invoices.mappings import (
    INCOME_ACCOUNT,
    ExportedInvoice,
    ExportState,
    MappingStore,
    NewerRevisionRecorded,
    mapping_store,
)
from qbo_sync.invoices.retainage import RetainageStore, retainage_store
from qbo_sync.ledger.records import ExportPeek
from qbo_sync.once import request_ids, write_once
from qbo_sync.qbo.client import QboClient, content_digest, quote, request_id
from qbo_sync.qbo.faults import (
    DUPLICATE_NAME,
    QboError,
    Refused,
    StaleObject,
)
from qbo_sync.qbo.fields import (
    MAX_DISPLAY_NAME,
    currency_name,
    customer_fields,
    disambiguated_name,
    invoice_fields,
    item_name,
    qbo_name,
    service_item_fields,
)
from qbo_sync.qbo.fields import address_fields as ship_to
from qbo_sync.qbo.names import active_by_name, first_free
from qbo_sync.qbo.sales_tax import apply

logger = Logger(child=True)


class VoidedOnPlatform(Exception):
    """The invoice was voided on the platform (§8): it is not exported (again)."""


class Dismissed(Exception):
    """The contractor dismissed the invoice (§14): not exported until their Retry."""


class RevisionNotWritten(Exception):
    """A revision's update failed; its cause is the fault, for workflows/export.py to judge
    (a new invoice's faults are judged by once.py, which also writes its record)."""


class InvoiceExporter:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.qbo: QboClient = services.qbo_client(connection)
        self.mappings: MappingStore = mapping_store(connection)
        self.setups: SetupStore = setup_store(connection)
        self.construction = Construction(self)
        self.retainage: RetainageStore = retainage_store(connection)
        self.retry: str | None = None

    def export(self, message: InvoiceSent, receive_count: int = 1) -> Exported:
        """`receive_count`: SQS's ApproximateReceiveCount; at the queue's maxReceiveCount a
        temporary failure shows as failed, not as retrying for ever."""
        invoice = message.invoice
        contractor, realm = self.connection.contractor_id, self.connection.realm_id
        also = self._also_read(message)
        state, found = self.mappings.export_state(invoice.id, message.client.id, also=also)
        income = settings_store(contractor, realm).of(found).chosen("income_account_id")
        if income:  # the contractor's choice (docs/interface.md §11), for the new item
            state = state._replace(income_account_id=income)
        peek = ExportPeek.of(realm, invoice.id, found)
        if peek.voided:
            raise VoidedOnPlatform(invoice.id)
        if peek.dismissed:
            raise Dismissed(invoice.id)
        # Set by each retry the contractor asks for: QBO answers a requestid it has seen with
        # its first answer, a refusal included, so a retry's writes need their own.
        self.retry = peek.retry
        known = state.invoice
        if known and known.revision >= invoice.revision:
            logger.info(
                "Invoice already exported at this revision",
                qbo_invoice_id=known.qbo_invoice_id,
                revision=known.revision,
            )
            unchanged = ExportOutcome.ADOPTED if peek.adopted else ExportOutcome.UNCHANGED
            return Exported(unchanged, known, None, peek.skipped_record)
        if known:
            return self._revise(message, known, state, found, peek)
        hand_keyed = hand_keyed_rows(self.connection, message, found)
        write = InvoiceWrite(self, message, state, found, receive_count, hand_keyed)
        result = write_once(write, request_ids(self.connection))
        return write.exported(result, peek)

    def read_keys(self, message: InvoiceSent) -> list[Key]:
        """Every key `export` reads in its one batch read (for a batch's read-ahead)."""
        keys = self.mappings.export_keys(message.invoice.id, message.client.id)
        return keys + self._also_read(message)

    def _also_read(self, message: InvoiceSent) -> list[Key]:
        invoice = message.invoice
        contractor, realm = self.connection.contractor_id, self.connection.realm_id
        return [
            *ExportPeek.keys(contractor, realm, invoice.id),
            self.setups.key(),
            self.mappings.customer_key(message.client.id, invoice.currency),
            settings_store(contractor, realm).key,
            *self.construction.keys(message),
            *hand_keyed_keys(self.connection, message),
        ]

    def _revise(
        self,
        message: InvoiceSent,
        known: ExportedInvoice,
        state: ExportState,
        found: dict[str, dict[str, Any]],
        peek: ExportPeek,
    ) -> Exported:
        """A higher revision: the invoice the mapping names, updated in place."""
        # A revision stays with the customer it went to (docs/interface.md §16: a link or an
        # unlink made since moves no exported invoice), unless its client or currency changed.
        same = peek.same_client(message.client.id, message.invoice.currency)
        try:
            plan = self.plan(message, state, found, known.qbo_customer_id if same else None)
            written = self.update(known.qbo_invoice_id, known.sync_token, plan.fields, message)
        except (QboError, Refused, RefreshInProgress) as fault:
            raise RevisionNotWritten(str(fault)) from fault
        record = self.mapping(message, written, plan)
        try:
            self.mappings.record_export(record, plan.learnt, with_items=list(plan.with_items))
        except NewerRevisionRecorded:
            # Only possible outside FIFO order (two invocations racing on two revisions).
            logger.warning("A newer revision was exported meanwhile", revision=record.revision)
            current = self.mappings.exported_invoice(record.invoice_id)
            return Exported(ExportOutcome.UNCHANGED, current or record, None)
        logger.info("Invoice updated", qbo_invoice_id=record.qbo_invoice_id)
        return Exported(ExportOutcome.UPDATED, record, total_of(written), peek.skipped_record)

    def mapping(self, message: InvoiceSent, written: dict[str, Any], plan: Plan) -> ExportedInvoice:
        invoice = message.invoice
        return ExportedInvoice(
            invoice_id=invoice.id,
            revision=invoice.revision,
            qbo_invoice_id=str(written["Id"]),
            qbo_customer_id=plan.customer_id,
            sync_token=str(written["SyncToken"]),
            doc_number=invoice.number,
            qbo_item_id=plan.item_id or None,
        )

    # -- the preconditions: setup, customer, item ------------------------------------------------

    def plan(
        self,
        message: InvoiceSent,
        state: ExportState,
        found: dict[str, dict[str, Any]],
        kept_customer: str | None = None,
    ) -> Plan:
        """The invoice's QBO fields, its customer and items: a release of more retainage than
        is held, then the company's setup (tax and currency, company/setup.py) are checked
        first, so a refusal there writes nothing. `kept_customer`: a revision's customer."""
        invoice = message.invoice
        self.retainage.check_release(message)
        try:
            setup, tax_plan = planned(self.qbo, self.setups, self.setups.of(found), invoice)
            if tax_plan.currency:
                # The client's customer in that currency, which is not the home currency's.
                customer = self.mappings.customer_in(found, message.client.id, tax_plan.currency)
                state = state._replace(customer_id=customer)
            if kept_customer and not message.invoice.job:  # a job's: construction.py keeps it
                state = state._replace(customer_id=kept_customer)
            learnt: dict[tuple[str, str], str] = {}
            customer_id, item_id = self._customer_and_item(
                message, state, learnt, tax_plan.currency
            )
            kept = state.invoice.qbo_customer_id if state.invoice else None
            charges = self.construction.charges(
                message, found, learnt, customer_id, tax_plan.currency, kept
            )
            fields = invoice_fields(
                message, charges.customer_id, item_id, charges.items, charges.job_in_memo
            )
            taxed = apply(fields, invoice, setup, tax_plan, ship_to(message.client.billing_address))
        except QboError as fault:
            self.forget_setup(fault)
            raise
        entry = self.retainage.entry(message)
        with_items = (entry,) if entry else ()
        return Plan(taxed, charges.customer_id, item_id, learnt, with_items)

    def _customer_and_item(
        self,
        message: InvoiceSent,
        state: ExportState,
        learnt: dict[tuple[str, str], str],
        currency: str | None,
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

    def _customer(self, client: Client, currency: str | None = None) -> str:
        # A name held by a vendor, an employee (DisplayName is unique across the three lists)
        # or an inactive customer is not found, and the client gets a name of its own.
        display_name = qbo_name(client.display_name, MAX_DISPLAY_NAME)
        names: tuple[str, ...] = (display_name, disambiguated_name(client.display_name, client.id))
        if currency:
            names = tuple(currency_name(name, currency) for name in names)

        def create(name: str) -> str:
            fields = customer_fields(client, name, currency)
            requestid = self.request_id("customer", client.id, content_digest(fields))
            return str(self.qbo.create("Customer", fields, requestid)["Id"])

        found = first_free(names, create, active_by_name(self.qbo, "Customer", "DisplayName"))
        if found is None:
            raise Refused(
                f"QuickBooks has no free customer name for {display_name!r}",
                reason(ReasonCode.NAME_TAKEN),
                DUPLICATE_NAME,
            )
        return found

    def _item(self, invoice: Invoice, income_account_id: str) -> str:
        # Ours from an earlier attempt, most likely, when the name is taken; an inactive item is
        # not found, and the invoice gets an item of its own.
        def create(name: str) -> str:
            fields = service_item_fields(name, income_account_id)
            requestid = self.request_id("item", name, content_digest(fields))
            return str(self.qbo.create("Item", fields, requestid)["Id"])

        names = (item_name(invoice.number), item_name(invoice.number, invoice.id))
        found = first_free(names, create, active_by_name(self.qbo, "Item", "Name"))
        if found is None:
            raise Refused(
                f"QuickBooks has no free item name for invoice {invoice.number!r}",
                reason(ReasonCode.ITEM_NAME_TAKEN),
                DUPLICATE_NAME,
            )
        return found

    def _income_account(self) -> str:
        accounts = self.qbo.query("select * from Account where AccountType = 'Income'")
        if not accounts:
            raise Refused(
                "The QuickBooks company has no income account for the invoice's item",
                reason(ReasonCode.NO_INCOME_ACCOUNT),
            )
        preferred = [a for a in accounts if a.get("Name") == "Services"] or accounts
        return str(preferred[0]["Id"])

    # -- the invoice ------------------------------------------------------------------------------

    def update(
        self, qbo_invoice_id: str, sync_token: str, fields: dict[str, Any], message: InvoiceSent
    ) -> dict[str, Any]:
        """Our invoice, updated to this revision's fields."""
        invoice = message.invoice
        body = {**fields, "Id": qbo_invoice_id, "SyncToken": sync_token}
        digest = content_digest(fields)
        try:
            try:
                requestid = self.request_id(
                    "invoice", invoice.id, invoice.revision, sync_token, digest
                )
                return self.qbo.update("Invoice", body, requestid)
            except StaleObject:
                # Changed in QuickBooks since (an edit there, a payment applied): the platform's
                # sent invoice wins, once; a second stale answer goes back to SQS.
                current = self.qbo.read("Invoice", qbo_invoice_id)
                body["SyncToken"] = str(current["SyncToken"])
                requestid = self.request_id(
                    "invoice", invoice.id, invoice.revision, body["SyncToken"], digest
                )
                return self.qbo.update("Invoice", body, requestid)
        except QboError as fault:
            self.forget_setup(fault)
            raise

    def numbered(self, number: str, customer_id: str | None = None) -> list[dict[str, Any]]:
        """The company's invoices with this number (of that customer, when given)."""
        statement = f"select * from Invoice where DocNumber = {quote(number)}"
        if customer_id is not None:
            statement += f" and CustomerRef = {quote(customer_id)}"
        return self.qbo.query(statement)

    def request_id(self, kind: str, *parts: object) -> str:
        if self.retry:
            parts = (*parts, "retry", self.retry)
        return request_id(
            self.connection.contractor_id, self.connection.realm_id, kind, *map(repr, parts)
        )

    def forget_setup(self, fault: QboError) -> None:
        if any(word in fault.element for word in ("TaxCode", "Currency")):
            self.setups.forget()  # the company's setup changed: read it again next time
