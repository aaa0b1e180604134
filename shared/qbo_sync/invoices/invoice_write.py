"""A new invoice's adapter of once.py (docs/exactly-once.md): the slot is on the
invoice's ledger item (ledger/export_slot.py), settled in one transaction with the invoice's
mapping; the preconditions are the exporter's plan (setup, customer, item); "ours" in
QuickBooks is the customer's invoice with this number and our PrivateNote.

No flow changes an entity it did not create: when the company refuses a duplicate number and
the invoice holding it is not ours, it is adopted only when it is for the same customer and
total (recorded as exported, nothing written), and otherwise the export fails with
`invoice_number_taken` naming it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from qbo_sync.connection.tokens import ReauthorizationRequired
from qbo_sync.core import carry
from qbo_sync.core.delivery import gives_up
from qbo_sync.core.reasons import Reason, ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ExportOutcome, ExportStatus, Outcome
from qbo_sync.events.invoices import InvoiceSent
from qbo_sync.history.adoption import HandKeyed, adoptable
from qbo_sync.invoices.exported import Exported, Plan, total_of
from qbo_sync.invoices.mappings import (
    ExportedInvoice,
    ExportState,
    NewerRevisionRecorded,
    SettleRefused,
)
from qbo_sync.ledger.entries import Ledger, ledger_of
from qbo_sync.ledger.export_slot import ATTEMPT, ExportClaim, ExportSlot, export_slot
from qbo_sync.ledger.records import ExportPeek, ExportRecord
from qbo_sync.once import ClaimStatus, Held, Result, Unsettled, Verdict, Written
from qbo_sync.qbo.client import content_digest
from qbo_sync.qbo.faults import DuplicateDocNumber, QboError, Refused, refusal
from qbo_sync.qbo.fields import MAX_DISPLAY_NAME, qbo_name
from qbo_sync.qbo.marker import is_ours, noted_revision

if TYPE_CHECKING:
    from qbo_sync.invoices.exporter import InvoiceExporter

logger = Logger(child=True)


class InvoiceWrite:
    """A new invoice's adapter of once.py."""

    what = "invoice"

    def __init__(
        self,
        exporter: InvoiceExporter,
        message: InvoiceSent,
        state: ExportState,
        found: dict[str, dict[str, Any]],
        receive_count: int,
        hand_keyed: list[HandKeyed] | None = None,
    ) -> None:
        self.exporter, self.message = exporter, message
        # A history invoice's number among the company's hand-keyed invoices (history/).
        self.hand_keyed = hand_keyed or []
        self.state, self.found, self.receive_count = state, found, receive_count
        connection = exporter.connection
        self.slot: ExportSlot = export_slot(connection.contractor_id, connection.realm_id)
        self.claimed: ExportClaim | None = None
        self.settled: tuple[ExportedInvoice, Decimal | None, Ledger] | None = None
        self.error: Exception | None = None
        self.adopted = False

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

    def carried_claim(self) -> tuple[str, Held] | None:
        taken = carry.take(self._slot_id(self.message.invoice.id))
        if taken is None:
            return None
        # The carry held only while the invoice's ledger item did not exist: what `claim`
        # would have answered for it.
        self.claimed = ExportClaim(True, {})
        self.exporter.retry = None
        return taken.attempt, Held(ClaimStatus.CLAIMED)

    def _slot_id(self, invoice_id: str) -> carry.Slot:
        connection = self.exporter.connection
        return (connection.contractor_id, connection.realm_id, invoice_id)

    def settle(self, attempt: str, end: Written | Unsettled, plan: Plan | None) -> bool:
        message = self.message
        realm = self.exporter.connection.realm_id
        if isinstance(end, Unsettled):
            status = ExportStatus.FAILED if end.failed else ExportStatus.PENDING
            unsettled = ExportRecord.of(message, status, end.reason, realm)
            counted = not end.failed and end.verdict == Verdict.TEMPORARY
            return self.slot.release(
                attempt, unsettled._replace(counts_attempt=counted), end.maybe_in_qbo
            )
        assert plan is not None and self.claimed is not None
        record = self.exporter.mapping(message, end.entity, plan)
        total = total_of(end.entity)
        item = self.claimed.item
        exported = ExportRecord.of(message, ExportStatus.EXPORTED, realm_id=realm)
        # Not ours: a hand-keyed invoice, adopted (docs/interface.md §15).
        self.adopted = not is_ours(end.entity, "invoice", message.invoice.id)
        # The batch's next invoice, claimed by this settle's transaction (core/carry.py).
        carry_to = carry.next_after(self._slot_id(message.invoice.id))
        carry_attempt = uuid.uuid4().hex
        while True:
            done = self.slot.done_item(
                attempt,
                exported,
                record.qbo_invoice_id,
                record.qbo_customer_id,
                total,
                len(item.get("parked", ())),
                str((end.entity.get("CurrencyRef") or {}).get("value", "")),
                adopted=self.adopted,
                customer_name=str((end.entity.get("CustomerRef") or {}).get("name", "")),
            )
            carried = [self.slot.carry_item(carry_to[-1], carry_attempt)] if carry_to else []
            with_items = [done, *plan.with_items, *carried]
            try:
                self.exporter.mappings.record_export(record, plan.learnt, with_items=with_items)
            except NewerRevisionRecorded:
                logger.warning("A newer revision was exported meanwhile")
                return False
            except SettleRefused as refused:
                if carry_to and len(with_items) - 1 in refused.refused:
                    carry_to = None  # the next invoice's item exists now: it claims on its own
                    carry.refused()
                    continue
                fresh = self.slot.read(message.invoice.id)
                if fresh.get(ATTEMPT) != attempt:
                    return False  # this attempt outlived its lease
                if len(fresh.get("parked", ())) == len(item.get("parked", ())):
                    raise  # not a payment parked since the claim: another item's condition
                item = fresh
                continue  # a payment parked since the claim: settle again, knowing it
            break
        if carry_to:
            carry.carried(carry_to, carry_attempt)
            self.slot.keep_carried(carry_to[-1], carry_attempt)
        self.slot.trim(exported, item)
        ledger = ledger_of(message.invoice.id, item)._replace(
            qbo_invoice_id=record.qbo_invoice_id,
            qbo_customer_id=record.qbo_customer_id,
            due=total,
        )
        self.settled = (record, total, ledger)
        logger.info(
            "Invoice adopted" if self.adopted else "Invoice exported",
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

    def side_records(self, plan: Plan | None, qbo_id: str, written: Written | None) -> None:
        """None: what the export leaves beside the slot is the workflow's (after_export)."""

    # -- the preconditions and QuickBooks -------------------------------------------------------

    def plan(self, held: Held) -> Plan:
        if not self.exporter.connection.usable:
            raise ReauthorizationRequired()
        if self.hand_keyed:
            return self._adoption()
        return self.exporter.plan(self.message, self.state, self.found)

    def _adoption(self) -> Plan:
        """A history invoice whose number the contractor keyed in by hand: adopted, or refused
        with the QBO invoice named; either way nothing is written (docs/interface.md §15)."""
        client, invoice = self.message.client, self.message.invoice
        mappings = self.exporter.mappings
        in_currency = mappings.customer_in(self.found, client.id, invoice.currency)
        ours = {self.state.customer_id, in_currency} - {None}
        # The client's linked customer when there is one, else its display name (§15, §16).
        linked = self.state.customer_linked or mappings.linked_in(
            self.found, client.id, invoice.currency
        )
        name = "" if linked else qbo_name(client.display_name, MAX_DISPLAY_NAME)
        found = adoptable(self.hand_keyed, {str(c) for c in ours}, name, invoice.total)
        if found is None:
            raise number_refused(invoice.number, self.hand_keyed[0].qbo_invoice_id)
        return Plan({}, found.customer_id, "", {}, adopted=found.entity())

    def request_parts(self, plan: Plan) -> tuple[str, ...]:
        invoice = self.message.invoice
        digest = content_digest(plan.fields)
        return ("invoice", repr(invoice.id), repr(invoice.revision), repr(digest))

    def find(self, plan: Plan) -> dict[str, Any] | None:
        """The customer's invoice with this number that an earlier attempt made."""
        if plan.adopted is not None:
            return plan.adopted
        return self._ours(
            self.exporter.numbered(self.message.invoice.number, plan.customer_id), plan
        )

    def create(self, plan: Plan, requestid: str) -> dict[str, Any]:
        if plan.adopted is not None:
            return plan.adopted  # the hand-keyed invoice: nothing is created
        try:
            return self.exporter.qbo.create("Invoice", plan.fields, requestid)
        except DuplicateDocNumber:
            # The company refuses duplicate numbers: ours may be there, or another's.
            rows = self.exporter.numbered(self.message.invoice.number)
            return self._ours(rows, plan) or self._adopted(rows, plan)
        except QboError as fault:
            self.exporter.forget_setup(fault)
            raise

    def _ours(self, rows: list[dict[str, Any]], plan: Plan) -> dict[str, Any] | None:
        invoice = self.message.invoice
        for row in rows:
            if not is_ours(row, "invoice", invoice.id):
                continue
            if noted_revision(row, invoice.id) == invoice.revision:
                logger.info("Invoice found in QuickBooks, made by an earlier attempt")
                return row
            # Ours, at another revision: brought to this one.
            return self.exporter.update(
                str(row["Id"]), str(row["SyncToken"]), plan.fields, self.message
            )
        return None

    def _adopted(self, rows: list[dict[str, Any]], plan: Plan) -> dict[str, Any]:
        """A hand-keyed invoice with this number: adopted when it is the same customer's with
        the same total, never changed (docs/interface.md §15)."""
        invoice = self.message.invoice
        candidates = [HandKeyed.of_qbo(row) for row in rows]
        found = adoptable(candidates, {plan.customer_id}, "", invoice.total)
        if found is not None:
            logger.info(
                "Invoice keyed in QuickBooks by hand adopted", qbo_invoice_id=found.qbo_invoice_id
            )
            return next(row for row in rows if str(row["Id"]) == found.qbo_invoice_id)
        raise number_refused(invoice.number, str(rows[0]["Id"]) if rows else "")

    # -- what the run did -----------------------------------------------------------------------

    def _mapping_again(self, qbo_invoice_id: str) -> ExportedInvoice:
        """The mapping of an invoice whose slot is done, from QuickBooks' own copy (a read, on
        a path only a lost mapping takes)."""
        row = self.exporter.qbo.read("Invoice", qbo_invoice_id)
        noted = noted_revision(row, self.message.invoice.id)
        items = [
            str(line["SalesItemLineDetail"]["ItemRef"]["value"])
            for line in row.get("Line", [])
            if "ItemRef" in (line.get("SalesItemLineDetail") or {})
        ]
        record = ExportedInvoice(
            invoice_id=self.message.invoice.id,
            revision=noted if noted is not None else self.message.invoice.revision,
            qbo_invoice_id=qbo_invoice_id,
            qbo_customer_id=str(row["CustomerRef"]["value"]),
            sync_token=str(row["SyncToken"]),
            doc_number=str(row.get("DocNumber", self.message.invoice.number)),
            qbo_item_id=items[0] if items else None,
        )
        self.exporter.mappings.record_export(record)
        return record

    def exported(self, result: Result, peek: ExportPeek) -> Exported:
        match result.outcome:
            case Outcome.WRITTEN:
                assert self.settled is not None
                record, total, ledger = self.settled
                written = ExportOutcome.ADOPTED if self.adopted else ExportOutcome.EXPORTED
                return Exported(written, record, total, peek.skipped_record, ledger)
            case Outcome.ALREADY:
                current = self.exporter.mappings.exported_invoice(self.message.invoice.id)
                if current is None:  # the mapping was lost (a restore): written again
                    assert result.qbo_id is not None
                    current = self._mapping_again(result.qbo_id)
                unchanged = ExportOutcome.ADOPTED if peek.adopted else ExportOutcome.UNCHANGED
                return Exported(unchanged, current, None, peek.skipped_record)
            case Outcome.WAITING:
                raise ReauthorizationRequired()
            case _ if result.verdict == Verdict.TEMPORARY:
                return Exported(ExportOutcome.GAVE_UP, None, None)
            case _:
                raise _refused(result.error, result.reason)


def number_refused(number: str, taken: str) -> Refused:
    return Refused(
        f"QuickBooks already has an invoice numbered {number!r} (Id {taken})",
        number_taken(number, taken),
        "6140",
        element="DocNumber",
    )


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
