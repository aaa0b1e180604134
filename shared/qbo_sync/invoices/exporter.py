"""InvoiceExporter: one sent platform invoice becomes exactly one QBO Invoice, whatever fails.

The mapping table is the record of truth: read once before the export (one BatchGetItem),
written once after it. A new invoice is created through core/once.py (docs/exactly-once.md),
with `InvoiceWrite` as its adapter: the slot is on the invoice's ledger item
(ledger/export_slot.py), the preconditions are the company's setup, the customer and the item
(found or made), and "ours" in QuickBooks is the customer's invoice with this number and our
PrivateNote. A later revision updates the invoice the mapping names (an update of our own
entity is safe to repeat: the same requestid, and the revision guards the mapping).

No flow changes an entity it did not create: when the company refuses a duplicate number and
the invoice holding it is not ours, it is adopted only when it is for the same customer and
total (recorded as exported, nothing written), and otherwise the export fails with
`invoice_number_taken` naming it.

It returns what it wrote (`Exported`); what follows (the parked payments, the event) is
workflows/export.py's. Faults propagate as qbo/faults.py's exceptions, Refused, or Deferred.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.company.setup import SetupStore, planned, setup_store
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired, RefreshInProgress
from qbo_sync.core.delivery import gives_up
from qbo_sync.core.once import ClaimStatus, Held, Unsettled, Verdict, Written, write_once
from qbo_sync.core.reasons import Reason, ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ExportOutcome, ExportStatus, Outcome
from qbo_sync.events import Client, Invoice, InvoiceSent
from qbo_sync.invoices.mappings import (
    INCOME_ACCOUNT,
    ExportedInvoice,
    ExportState,
    MappingStore,
    NewerRevisionRecorded,
    SettleRefused,
    mapping_store,
)
from qbo_sync.ledger.entries import Ledger, ledger_of
from qbo_sync.ledger.export_slot import ATTEMPT, ExportClaim, ExportSlot, export_slot
from qbo_sync.ledger.records import ExportPeek, ExportRecord
from qbo_sync.qbo.client import QboClient, content_digest, quote, request_id, request_ids
from qbo_sync.qbo.faults import (
    DUPLICATE_NAME,
    DuplicateDocNumber,
    QboError,
    Refused,
    StaleObject,
    refusal,
)
from qbo_sync.qbo.fields import (
    MAX_DISPLAY_NAME,
    currency_name,
    customer_fields,
    disambiguated_name,
    invoice_fields,
    item_name,
    noted_invoice,
    qbo_name,
    service_item_fields,
)
from qbo_sync.qbo.fields import address_fields as ship_to
from qbo_sync.qbo.names import active_by_name, first_free
from qbo_sync.qbo.sales_tax import apply

logger = Logger(child=True)


@dataclass(frozen=True)
class Exported:
    outcome: ExportOutcome  # EXPORTED, UPDATED, UNCHANGED or GAVE_UP
    invoice: ExportedInvoice | None  # the invoice's mapping as it now is (None: gave up)
    total: Decimal | None  # the QBO invoice's TotalAmt, when this run wrote it
    skipped_record: bool = False  # a "skipped" export record of this invoice is to go
    ledger: Ledger | None = None  # the ledger as the create's settle left it


class VoidedOnPlatform(Exception):
    """The invoice was voided on the platform (§8): it is not exported (again)."""


class RevisionNotWritten(Exception):
    """A revision's update failed; its cause is the fault, for workflows/export.py to judge
    (a new invoice's faults are judged by core/once.py, which also writes its record)."""


@dataclass(frozen=True)
class _Plan:
    fields: dict[str, Any]
    customer_id: str
    item_id: str
    learnt: dict[tuple[str, str], str]


class InvoiceExporter:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.qbo: QboClient = services.qbo_client(connection)
        self.mappings: MappingStore = mapping_store(connection)
        self.setups: SetupStore = setup_store(connection)
        self.retry: str | None = None

    def export(self, message: InvoiceSent, receive_count: int = 1) -> Exported:
        """`receive_count`: SQS's ApproximateReceiveCount; at the queue's maxReceiveCount a
        temporary failure shows as failed, not as retrying for ever."""
        invoice = message.invoice
        contractor, realm = self.connection.contractor_id, self.connection.realm_id
        also = [
            *ExportPeek.keys(contractor, realm, invoice.id),
            self.setups.key(),
            self.mappings.customer_key(message.client.id, invoice.currency),
        ]
        state, found = self.mappings.export_state(invoice.id, message.client.id, also=also)
        peek = ExportPeek.of(realm, invoice.id, found)
        if peek.voided:
            raise VoidedOnPlatform(invoice.id)
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
            return Exported(ExportOutcome.UNCHANGED, known, None, peek.skipped_record)
        if known:
            return self._revise(message, known, state, found, peek)
        write = InvoiceWrite(self, message, state, found, receive_count)
        result = write_once(write, request_ids(self.connection))
        return write.exported(result, peek)

    def _revise(
        self,
        message: InvoiceSent,
        known: ExportedInvoice,
        state: ExportState,
        found: dict[str, dict[str, Any]],
        peek: ExportPeek,
    ) -> Exported:
        """A higher revision: the invoice the mapping names, updated in place."""
        try:
            plan = self.plan(message, state, found)
            written = self.update(known.qbo_invoice_id, known.sync_token, plan.fields, message)
        except (QboError, Refused, RefreshInProgress) as fault:
            raise RevisionNotWritten(str(fault)) from fault
        record = self.mapping(message, written, plan)
        try:
            self.mappings.record_export(record, plan.learnt)
        except NewerRevisionRecorded:
            # Only possible outside FIFO order (two invocations racing on two revisions).
            logger.warning("A newer revision was exported meanwhile", revision=record.revision)
            current = self.mappings.exported_invoice(record.invoice_id)
            return Exported(ExportOutcome.UNCHANGED, current or record, None)
        logger.info("Invoice updated", qbo_invoice_id=record.qbo_invoice_id)
        return Exported(ExportOutcome.UPDATED, record, _total(written), peek.skipped_record)

    def mapping(
        self, message: InvoiceSent, written: dict[str, Any], plan: _Plan
    ) -> ExportedInvoice:
        invoice = message.invoice
        return ExportedInvoice(
            invoice_id=invoice.id,
            revision=invoice.revision,
            qbo_invoice_id=str(written["Id"]),
            qbo_customer_id=plan.customer_id,
            sync_token=str(written["SyncToken"]),
            doc_number=invoice.number,
            qbo_item_id=plan.item_id,
        )

    # -- the preconditions: setup, customer, item ------------------------------------------------

    def plan(
        self, message: InvoiceSent, state: ExportState, found: dict[str, dict[str, Any]]
    ) -> _Plan:
        """The invoice's QBO fields, its customer and item: the company's setup decides tax and
        currency first (company/setup.py), so a refusal there writes nothing."""
        invoice = message.invoice
        try:
            setup, tax_plan = planned(self.qbo, self.setups, self.setups.of(found), invoice)
            if tax_plan.currency:
                # The client's customer in that currency, which is not the home currency's.
                customer = self.mappings.customer_in(found, message.client.id, tax_plan.currency)
                state = replace(state, customer_id=customer)
            learnt: dict[tuple[str, str], str] = {}
            customer_id, item_id = self._customer_and_item(
                message, state, learnt, tax_plan.currency
            )
            fields = invoice_fields(message, customer_id, item_id)
            taxed = apply(fields, invoice, setup, tax_plan, ship_to(message.client.billing_address))
        except QboError as fault:
            self.forget_setup(fault)
            raise
        return _Plan(taxed, customer_id, item_id, learnt)

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


class InvoiceWrite:
    """A new invoice's adapter of core/once.py."""

    what = "invoice"

    def __init__(
        self,
        exporter: InvoiceExporter,
        message: InvoiceSent,
        state: ExportState,
        found: dict[str, dict[str, Any]],
        receive_count: int,
    ) -> None:
        self.exporter, self.message = exporter, message
        self.state, self.found, self.receive_count = state, found, receive_count
        connection = exporter.connection
        self.slot: ExportSlot = export_slot(connection.contractor_id, connection.realm_id)
        self.claimed: ExportClaim | None = None
        self.settled: tuple[ExportedInvoice, Decimal | None, Ledger] | None = None
        self.error: Exception | None = None

    # -- the slot ---------------------------------------------------------------------------------

    def claim(self, attempt: str, lease_until: int, at: float) -> Held:
        claim = self.slot.claim(self.message.invoice.id, attempt)
        self.claimed = claim
        if not claim.claimed:
            done = claim.done
            return Held(ClaimStatus.DONE, qbo_id=done) if done else Held(ClaimStatus.BUSY)
        self.exporter.retry = claim.retry
        return Held(
            ClaimStatus.CLAIMED,
            maybe_in_qbo=claim.maybe_in_qbo,
            attempts=claim.attempts,
            retry=claim.retry,
        )

    def settle(self, attempt: str, end: Written | Unsettled, plan: _Plan | None) -> bool:
        message = self.message
        realm = self.exporter.connection.realm_id
        if isinstance(end, Unsettled):
            status = ExportStatus.FAILED if end.failed else ExportStatus.PENDING
            unsettled = ExportRecord.of(message, status, end.reason, realm)
            counted = not end.failed and end.verdict == Verdict.TEMPORARY
            return self.slot.release(
                attempt, replace(unsettled, counts_attempt=counted), end.maybe_in_qbo
            )
        assert plan is not None and self.claimed is not None
        record = self.exporter.mapping(message, end.entity, plan)
        total = _total(end.entity)
        item = self.claimed.item
        while True:
            done = self.slot.done_item(
                attempt,
                ExportRecord.of(message, ExportStatus.EXPORTED, realm_id=realm),
                record.qbo_invoice_id,
                record.qbo_customer_id,
                total,
                len(item.get("parked", ())),
            )
            try:
                self.exporter.mappings.record_export(record, plan.learnt, with_items=[done])
            except NewerRevisionRecorded:
                logger.warning("A newer revision was exported meanwhile")
                return False
            except SettleRefused:
                item = self.slot.read(message.invoice.id)
                if item.get(ATTEMPT) != attempt:
                    return False  # this attempt outlived its lease
                continue  # a payment parked since the claim: settle again, knowing it
            break
        ledger = replace(
            ledger_of(message.invoice.id, item),
            qbo_invoice_id=record.qbo_invoice_id,
            qbo_customer_id=record.qbo_customer_id,
            due=total,
        )
        self.settled = (record, total, ledger)
        logger.info(
            "Invoice exported",
            qbo_invoice_id=record.qbo_invoice_id,
            qbo_customer_id=record.qbo_customer_id,
            qbo_item_id=record.qbo_item_id,
            revision=record.revision,
            found=end.found,
        )
        return True

    def gives_up(self, attempts: int) -> bool:
        last = self.receive_count >= get_settings().invoice_sent_max_receive_count
        return gives_up(attempts) or last

    def side_records(self, plan: _Plan | None, qbo_id: str, written: Written | None) -> None:
        """None: what the export leaves beside the slot is the workflow's (after_export)."""

    # -- the preconditions and QuickBooks -------------------------------------------------------

    def plan(self, held: Held) -> _Plan:
        if not self.exporter.connection.usable:
            raise ReauthorizationRequired()
        return self.exporter.plan(self.message, self.state, self.found)

    def request_parts(self, plan: _Plan) -> tuple[str, ...]:
        invoice = self.message.invoice
        digest = content_digest(plan.fields)
        return ("invoice", repr(invoice.id), repr(invoice.revision), repr(digest))

    def find(self, plan: _Plan) -> dict[str, Any] | None:
        """The customer's invoice with this number that an earlier attempt made."""
        return self._ours(
            self.exporter.numbered(self.message.invoice.number, plan.customer_id), plan
        )

    def create(self, plan: _Plan, requestid: str) -> dict[str, Any]:
        try:
            return self.exporter.qbo.create("Invoice", plan.fields, requestid)
        except DuplicateDocNumber:
            # The company refuses duplicate numbers: ours may be there, or another's.
            rows = self.exporter.numbered(self.message.invoice.number)
            return self._ours(rows, plan) or self._adopted(rows, plan)
        except QboError as fault:
            self.exporter.forget_setup(fault)
            raise

    def _ours(self, rows: list[dict[str, Any]], plan: _Plan) -> dict[str, Any] | None:
        invoice = self.message.invoice
        for row in rows:
            noted = noted_invoice(row.get("PrivateNote"))
            if noted is None or noted[0] != invoice.id:
                continue
            if noted[1] == invoice.revision:
                logger.info("Invoice found in QuickBooks, made by an earlier attempt")
                return row
            # Ours, at another revision: brought to this one.
            return self.exporter.update(
                str(row["Id"]), str(row["SyncToken"]), plan.fields, self.message
            )
        return None

    def _adopted(self, rows: list[dict[str, Any]], plan: _Plan) -> dict[str, Any]:
        """A hand-keyed invoice with this number: adopted when it is the same customer's with
        the same total, never changed (docs/interface.md §15)."""
        invoice = self.message.invoice
        for row in rows:
            same_customer = str((row.get("CustomerRef") or {}).get("value")) == plan.customer_id
            if same_customer and Decimal(str(row.get("TotalAmt"))) == invoice.total:
                logger.info("Invoice keyed in QuickBooks by hand adopted", qbo_invoice_id=row["Id"])
                return row
        taken = str(rows[0]["Id"]) if rows else ""
        raise Refused(
            f"QuickBooks already has an invoice numbered {invoice.number!r} (Id {taken})",
            number_taken(invoice.number, taken),
            "6140",
            element="DocNumber",
        )

    # -- what the run did -----------------------------------------------------------------------

    def _mapping_again(self, qbo_invoice_id: str) -> ExportedInvoice:
        """The mapping of an invoice whose slot is done, from QuickBooks' own copy (a read, on
        a path only a lost mapping takes)."""
        row = self.exporter.qbo.read("Invoice", qbo_invoice_id)
        noted = noted_invoice(row.get("PrivateNote"))
        items = [
            str(line["SalesItemLineDetail"]["ItemRef"]["value"])
            for line in row.get("Line", [])
            if "ItemRef" in (line.get("SalesItemLineDetail") or {})
        ]
        record = ExportedInvoice(
            invoice_id=self.message.invoice.id,
            revision=noted[1] if noted else self.message.invoice.revision,
            qbo_invoice_id=qbo_invoice_id,
            qbo_customer_id=str(row["CustomerRef"]["value"]),
            sync_token=str(row["SyncToken"]),
            doc_number=str(row.get("DocNumber", self.message.invoice.number)),
            qbo_item_id=items[0] if items else None,
        )
        self.exporter.mappings.record_export(record)
        return record

    def exported(self, result: Any, peek: ExportPeek) -> Exported:
        match result.outcome:
            case Outcome.WRITTEN:
                assert self.settled is not None
                record, total, ledger = self.settled
                return Exported(ExportOutcome.EXPORTED, record, total, peek.skipped_record, ledger)
            case Outcome.ALREADY:
                current = self.exporter.mappings.exported_invoice(self.message.invoice.id)
                if current is None:  # the mapping was lost (a restore): written again
                    assert result.qbo_id is not None
                    current = self._mapping_again(result.qbo_id)
                return Exported(ExportOutcome.UNCHANGED, current, None, peek.skipped_record)
            case Outcome.WAITING:
                raise ReauthorizationRequired()
            case _ if result.verdict == Verdict.TEMPORARY:
                return Exported(ExportOutcome.GAVE_UP, None, None)
            case _:
                raise _refused(result.error, result.reason)


def number_taken(number: str, qbo_invoice_id: str) -> Reason:
    why = reason(ReasonCode.INVOICE_NUMBER_TAKEN)
    message = f"{why['message']} (QuickBooks invoice {number}, Id {qbo_invoice_id})"
    return {**why, "message": message, "qbo_invoice_id": qbo_invoice_id}


def _refused(error: Exception | None, why: Reason | None) -> Refused:
    if isinstance(error, Refused):
        return error
    if isinstance(error, QboError):
        refused = refusal(error)
        if refused is not None:
            return refused
    return Refused(f"the invoice was refused: {error}", why or reason(ReasonCode.REFUSED))


def _total(written: dict[str, Any]) -> Decimal | None:
    total = written.get("TotalAmt")
    return None if total is None else Decimal(str(total))
