"""Recorder: one platform payment becomes exactly one QBO Payment linked to its invoice.

The payment's adapter of once.py (docs/exactly-once.md): its slot is the payment's entry
in its invoice's ledger (ledger/entries.py), whose claim answers with what the payment needs
(the QBO invoice and customer, what the invoice is owed, earlier attempts); its precondition is
an exported invoice (else it waits, parked, until the export records it); "ours" in QuickBooks
is a Payment of the customer on that date with our reference and note.

In the steady state a payment costs one QBO request (the create) and three DynamoDB requests
(the connection, the claim, and the settle with the payment's item that payouts find it by,
ledger/payment_index.py); in a batch, the connection is read once and a settle claims the
batch's next payment (core/carry.py), so a payment costs about one. Imports nothing of
invoices/: where the ledger does not know the invoice's QBO ids yet, it asks the `lookup` it
was given (workflows/ hands it the mapping store's). Emits no event: the write that records a
payment is its event (the outbox). The payouts and refunds that waited for a payment it
recorded are in `payouts_waiting` and `refunds_waiting`, for the workflow.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import cached_property, partial
from typing import Any, NamedTuple, Protocol

from aws_lambda_powertools import Logger

from qbo_sync.company.setup import currency_ref
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired, RefreshInProgress
from qbo_sync.core import carry
from qbo_sync.core.clock import iso_now, now
from qbo_sync.core.delivery import gives_up
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ClaimOutcome, EntryStatus, Outcome
from qbo_sync.events.payments import PaymentCompleted
from qbo_sync.ledger.entries import (
    Claim,
    Ledger,
    PaymentLedger,
    SideItemRefused,
    ledger_of,
    payment_ledger,
)
from qbo_sync.ledger.payment_index import PaymentIndex, payment_index
from qbo_sync.once import (
    LEASE_SECONDS,
    ClaimStatus,
    Held,
    Unsettled,
    Verdict,
    Wait,
    Written,
    request_ids,
    write_once,
)
from qbo_sync.payments import by_hand
from qbo_sync.qbo.client import QboClient, request_id
from qbo_sync.qbo.faults import BusinessValidation, QboError, Refused
from qbo_sync.qbo.fields import payment_fields
from qbo_sync.qbo.marker import find_ours

__all__ = ["LEASE_SECONDS", "PaymentResult", "Recorder"]

logger = Logger(child=True)

NOT_EXPORTED = reason(ReasonCode.INVOICE_NOT_EXPORTED)


class InvoiceInQbo(Protocol):
    """An exported invoice's QBO ids (the mapping store's ExportedInvoice has them)."""

    @property
    def qbo_invoice_id(self) -> str: ...

    @property
    def qbo_customer_id(self) -> str: ...


InvoiceLookup = Callable[[str], InvoiceInQbo | None]


class PaymentResult(NamedTuple):
    outcome: Outcome
    payment_id: str
    qbo_payment_id: str | None = None


class _Plan(NamedTuple):
    ledger: Ledger  # with the invoice's QBO ids
    applied: Decimal  # what the Payment applies to the invoice
    # An adopted invoice's (payments/by_hand.py): the QBO Payment found or adopted, nothing
    # created; `adopts` its Id when it was keyed by hand; `by_hand` not recorded in full.
    found: dict[str, Any] | None = None
    adopts: str | None = None
    by_hand: bool = False


class Recorder:
    def __init__(self, connection: Connection, lookup: InvoiceLookup) -> None:
        self.connection = connection
        self.ledger: PaymentLedger = payment_ledger(connection.contractor_id, connection.realm_id)
        self.payouts_waiting: set[str] = set()  # payouts that waited for a payment it recorded
        # (invoice id, payment id) of recorded payments whose refunds wait for them.
        self.refunds_waiting: list[tuple[str, str]] = []
        self.lookup = lookup
        self.deposit_account_id = get_settings().deposit_account_id

    @cached_property
    def qbo(self) -> QboClient:
        return services.usable_client(self.connection)

    def record(self, payment: PaymentCompleted) -> PaymentResult:
        result = write_once(PaymentWrite(self, payment), request_ids(self.connection))
        return PaymentResult(result.outcome, payment.payment_id, result.qbo_id)

    def record_waiting(self, ledger: Ledger) -> list[PaymentResult]:
        """Records the invoice's payments that wait for it: parked before its export (or while
        the connection needed reauthorization), or left mid-way by an attempt that died."""
        waiting = ledger.waiting(now())
        return [self.record(PaymentCompleted.model_validate(e.detail)) for e in waiting]

    def resume(self, invoice_id: str) -> list[PaymentResult]:
        """After a reconnect: the invoice's parked payments, if the invoice is exported."""
        exported = self.lookup(invoice_id)
        if exported is None:
            return []
        # What the invoice is owed is unknown here (it may have changed since its export).
        ledger, _ = self.ledger.attach_invoice(
            invoice_id, exported.qbo_invoice_id, exported.qbo_customer_id, None
        )
        return self.record_waiting(ledger)


class _Carry(NamedTuple):
    """The next payment's claim carried by a settle: its slot and attempt, the ledger it
    answers (as read ahead), and the transaction's item that makes it."""

    slot: carry.Slot
    attempt: str
    seen: dict[str, Any]
    item: Any


class PaymentWrite:
    """The payment's adapter of once.py."""

    what = "payment"

    def __init__(self, recorder: Recorder, payment: PaymentCompleted) -> None:
        self.recorder, self.payment = recorder, payment
        self.ledger = recorder.ledger
        self.claimed: Claim | None = None
        self.due: Decimal | None = None  # what the invoice is owed, when QBO had to be asked
        self.indexed = False  # the index item was written with the settle

    # -- the slot: the payment's entry in its invoice's ledger --------------------------------

    def carried_claim(self) -> tuple[str, Held] | None:
        taken = carry.take(self._slot())
        if taken is None:
            return None
        # The carry held only while the entry did not exist and the ledger was as read: what
        # `claim` would have answered, the item as read (ledger/entries.py's carry_item).
        ledger = ledger_of(self.payment.invoice_id, taken.answer)
        self.claimed = Claim(ClaimOutcome.CLAIMED, ledger, None)
        return taken.attempt, Held(ClaimStatus.CLAIMED, retry=ledger.retry)

    def _slot(self) -> carry.Slot:
        return payment_slot(self.recorder.connection, self.payment)

    def claim(self, attempt: str, lease_until: int, at: float) -> Held:
        payment = self.payment
        entry = _entry(payment, EntryStatus.RECORDING, attempt=attempt, lease_until=lease_until)
        claim = self.ledger.claim(payment.invoice_id, payment.payment_id, entry, at)
        self.claimed, previous = claim, claim.previous
        if claim.outcome == ClaimOutcome.RECORDED:
            assert previous is not None
            return Held(ClaimStatus.DONE, qbo_id=previous.qbo_payment_id)
        if claim.outcome == ClaimOutcome.BUSY:
            return Held(ClaimStatus.BUSY)
        return Held(
            ClaimStatus.CLAIMED,
            maybe_in_qbo=previous is not None
            and (previous.maybe_in_qbo or previous.status == EntryStatus.RECORDING),
            attempts=previous.attempts if previous else 0,
            retry=claim.ledger.retry,
        )

    def settle(self, attempt: str, end: Written | Unsettled, plan: _Plan | None) -> bool:
        payment = self.payment
        if isinstance(end, Written):
            assert plan is not None
            return self._recorded(attempt, end.entity, plan)
        parked = self._parked()
        if end.verdict in (None, Verdict.RECONNECT):
            entry = _entry(
                payment, EntryStatus.PARKED, reason=end.reason, maybe_in_qbo=end.maybe_in_qbo
            )
            if end.verdict == Verdict.RECONNECT:
                logger.info(
                    "Payment parked: QuickBooks needs reauthorization",
                    payment_id=payment.payment_id,
                    invoice_id=payment.invoice_id,
                )
            return self.ledger.park(
                payment.invoice_id, payment.payment_id, entry, attempt=attempt, now=now()
            )
        # A parked payment stays findable as parked (its invoice's export tries it again).
        status = EntryStatus.PARKED if parked and not end.failed else EntryStatus.FAILED
        paid_by_hand = (end.reason or {}).get("code") == ReasonCode.ALREADY_PAID_IN_QUICKBOOKS
        entry = _entry(
            payment,
            status,
            reason=end.reason,
            maybe_in_qbo=end.maybe_in_qbo,
            attempts=end.attempts or None,
            by_hand=paid_by_hand or None,
        )
        released = self.ledger.release(payment.invoice_id, payment.payment_id, entry, attempt)
        if released and paid_by_hand:
            # Payouts find it by its id: recorded by hand, so they fail with its reason.
            self._index().remember(payment.payment_id, payment.invoice_id, "", payment.amount, True)
        return released

    def gives_up(self, attempts: int) -> bool:
        return gives_up(attempts) and not self._parked()

    def _parked(self) -> bool:
        return self.claimed is not None and self.payment.payment_id in self.claimed.ledger.parked

    # -- the preconditions: an exported invoice -------------------------------------------------

    def plan(self, held: Held) -> _Plan | Wait:
        assert self.claimed is not None
        if not self.recorder.connection.usable:
            raise ReauthorizationRequired()
        ledger = self.claimed.ledger
        if ledger.qbo_invoice_id is None or ledger.qbo_customer_id is None:
            exported = self.recorder.lookup(self.payment.invoice_id)
            if exported is None:
                # Voided before its export, the invoice has no customer in QBO for the credit.
                why = reason(ReasonCode.INVOICE_VOIDED) if ledger.voided else NOT_EXPORTED
                # The export may have finished, and looked for parked payments, meanwhile.
                return Wait(why, recheck=self._exported_meanwhile)
            ledger = ledger._replace(
                qbo_invoice_id=exported.qbo_invoice_id,
                qbo_customer_id=exported.qbo_customer_id,
            )
        if ledger.adopted and not ledger.voided:
            return self._on_hand_keyed(ledger)
        # A voided invoice owes nothing: the payment is the customer's credit, linked to nothing.
        open_balance = Decimal("0") if ledger.voided else ledger.open_balance
        amount = self.payment.amount
        return _Plan(ledger, amount if open_balance is None else min(amount, open_balance))

    def _on_hand_keyed(self, ledger: Ledger) -> _Plan:
        """An adopted invoice: QuickBooks' own copy decides (payments/by_hand.py)."""
        payment = self.payment
        assert ledger.qbo_invoice_id is not None
        invoice = by_hand.read_invoice(self.recorder.qbo, ledger.qbo_invoice_id)
        claimed = {
            str(entry.qbo_payment_id)
            for entry in ledger.entries.values()
            if entry.qbo_payment_id and entry.payment_id != payment.payment_id
        }
        choice = by_hand.choose(
            invoice, ledger.qbo_invoice_id, payment.payment_id, payment.amount, claimed
        )
        if choice is None:
            why = reason(ReasonCode.ALREADY_PAID_IN_QUICKBOOKS)
            raise Refused(f"invoice {payment.invoice_id} is already paid in QuickBooks", why)
        found = choice.payment
        # What the ledger must count as owed so that "applied >= due" is QuickBooks' Paid.
        self.due = invoice.balance + ledger.applied + (choice.applied if found else 0)
        adopts = str(found["Id"]) if found is not None and choice.keyed_by_hand else None
        if adopts is not None:
            logger.info("Payment keyed in QuickBooks by hand adopted", qbo_payment_id=adopts)
        return _Plan(
            ledger,
            choice.applied,
            found=found,
            adopts=adopts,
            by_hand=choice.applied < payment.amount,
        )

    def _exported_meanwhile(self) -> bool:
        logger.info("Payment parked: invoice not exported yet", payment_id=self.payment.payment_id)
        return self.recorder.lookup(self.payment.invoice_id) is not None

    # -- QuickBooks -----------------------------------------------------------------------------

    def request_parts(self, plan: _Plan) -> tuple[str, ...]:
        return ("payment", self.payment.payment_id)

    def find(self, plan: _Plan) -> dict[str, Any] | None:
        """The Payment an earlier attempt may have created without writing it down."""
        if plan.found is not None:
            return plan.found
        payment, customer = self.payment, str(plan.ledger.qbo_customer_id)
        date = payment.paid_at.date()
        found = find_ours(
            self.recorder.qbo, "Payment", "payment", payment.payment_id, date, customer
        )
        if found is not None:
            logger.info("Payment found in QuickBooks", qbo_payment_id=found["Id"])
        return found

    def create(self, plan: _Plan, requestid: str) -> dict[str, Any]:
        if plan.found is not None:
            return plan.found  # adopted: nothing is created
        if plan.ledger.adopted:
            return self._create(plan, plan.applied, requestid)  # QBO's balance was just read
        try:
            return self._create(plan, plan.applied, requestid)
        except BusinessValidation:
            if plan.applied == 0:
                raise
            # Business validation: the likeliest cause is a line above the invoice's open balance
            # (payments recorded in QuickBooks by other means). QBO's own balance settles it.
            assert plan.ledger.qbo_invoice_id is not None
            invoice = self.recorder.qbo.read("Invoice", plan.ledger.qbo_invoice_id)
            balance = Decimal(str(invoice["Balance"]))
            if balance >= plan.applied:
                raise
            logger.info(
                "QuickBooks refused more than the invoice's open balance; applying the balance",
                qbo_invoice_id=plan.ledger.qbo_invoice_id,
                open_balance=str(balance),
            )
            self.due = balance + plan.ledger.applied
            return self._create(plan, balance, request_id(requestid, "open", str(balance)))

    def _create(self, plan: _Plan, applied: Decimal, requestid: str) -> dict[str, Any]:
        ledger = plan.ledger
        assert ledger.qbo_invoice_id is not None and ledger.qbo_customer_id is not None
        fields = payment_fields(
            self.payment,
            ledger.qbo_customer_id,
            ledger.qbo_invoice_id,
            self.recorder.deposit_account_id,
            applied=applied,
        )
        currency = currency_ref(
            self.recorder.connection, self.recorder.qbo, self.payment.currency, ledger.currency_ref
        )
        if currency:
            fields["CurrencyRef"] = currency
        if plan.by_hand:
            # The rest was received by hand (§15): no credit for money already in the books.
            fields["TotalAmt"] = applied
        return self.recorder.qbo.create("Payment", fields, requestid)

    # -- the outcome ------------------------------------------------------------------------------

    def _recorded(self, attempt: str, created: dict[str, Any], plan: _Plan) -> bool:
        payment, ledger = self.payment, plan.ledger
        assert ledger.qbo_invoice_id is not None and ledger.qbo_customer_id is not None
        assert self.claimed is not None
        # QBO's answer is the truth, even when it replays an earlier attempt's request.
        applied = by_hand.applied_to(created, ledger.qbo_invoice_id)
        known_due = self.due if self.due is not None else ledger.due
        # Whether the invoice is now paid is its event's to say (ledger/changes.py reads it
        # from the item the write below leaves); only an unknown due needs QBO's own answer,
        # read before that write so that the event never needs QuickBooks.
        paid = None if known_due is not None else self._invoice_paid(ledger.qbo_invoice_id)
        values: dict[str, Any] = {"qbo_payment_id": str(created["Id"]), "applied": applied}
        if plan.by_hand:
            values["by_hand"] = True
        if paid is not None:
            values["invoice_paid"] = paid
        entry = _entry(payment, EntryStatus.RECORDED, **values)
        total_applied = self._settle_recorded(attempt, entry, plan, str(created["Id"]))
        if total_applied is None:
            return False
        if paid is None and known_due is not None:
            # The transaction answers no total: the claim's, plus this payment, for the log line
            # only (the invoice's event reads "paid" from the item, ledger/changes.py).
            total = (
                total_applied if isinstance(total_applied, Decimal) else ledger.applied + applied
            )
            paid = total >= known_due
        _log_recorded(payment, str(created["Id"]), ledger.qbo_invoice_id, applied, paid)
        return True

    def _settle_recorded(
        self, attempt: str, entry: dict[str, Any], plan: _Plan, qbo_payment_id: str
    ) -> Decimal | bool | None:
        """The settle: the ledger's entry and the payment's index item (a side record of
        once.py) in one request. When a payout waits for the payment, the entry alone: the
        index item is then written by side_records, which reads back the payouts to resume."""
        payment, ledger = self.payment, plan.ledger
        assert ledger.qbo_invoice_id is not None and ledger.qbo_customer_id is not None
        record = partial(
            self.ledger.recorded,
            payment.invoice_id,
            payment.payment_id,
            entry,
            attempt=attempt,
            qbo_invoice_id=ledger.qbo_invoice_id,
            qbo_customer_id=ledger.qbo_customer_id,
            due=self.due,
            unpark=self._parked(),
            adopts=plan.adopts,
        )
        index = self._index().remember_item(
            payment.payment_id, payment.invoice_id, qbo_payment_id, payment.amount, plan.by_hand
        )
        # The batch's next payment, claimed by this settle's transaction (core/carry.py).
        carried = self._carry()
        while True:
            try:
                total_applied = record(with_items=[index, *([carried.item] if carried else [])])
            except SideItemRefused as refused:
                if carried is not None:
                    carry.refused()  # the next payment claims on its own
                if carried is None or 1 not in refused.refused:
                    return record()  # the index's condition, or a conflict: the entry alone
                carried = None  # the next payment's ledger changed since it was read
                continue
            break
        if carried is not None and total_applied is not None:
            carry.carried(carried.slot, carried.attempt, carried.seen)
        self.indexed = total_applied is not None
        return total_applied

    def _carry(self) -> _Carry | None:
        """The claim of the batch's next payment, as an item of this settle, when the batch
        planned one and the read-ahead still holds that payment's ledger as carriable."""
        following = carry.next_after(self._slot())
        if following is None:
            return None
        payment: PaymentCompleted = carry.message_of(following)
        seen = self.ledger.carriable(payment.invoice_id, payment.payment_id)
        if seen is None:  # this invocation wrote that ledger since: its own claim reads it
            return None
        attempt = uuid.uuid4().hex
        lease = int(now() + LEASE_SECONDS)
        entry = _entry(payment, EntryStatus.RECORDING, attempt=attempt, lease_until=lease)
        item = self.ledger.carry_item(payment.invoice_id, payment.payment_id, entry, seen)
        return _Carry(following, attempt, seen, item)

    def side_records(self, plan: _Plan | None, qbo_id: str, written: Written | None) -> None:
        """Findable by its payment id, for the payouts that list it (ledger/payment_index.py),
        and its refunds that waited for it; both healed when the event comes again."""
        payment, recorder = self.payment, self.recorder
        if written is None:
            logger.info("Payment already recorded", payment_id=payment.payment_id)
        assert self.claimed is not None
        previous = self.claimed.previous
        in_part = plan.by_hand if plan is not None else bool(previous and previous.by_hand)
        if not self.indexed:  # written with the settle when no payout waited (_recorded)
            recorder.payouts_waiting |= self._index().remember(
                payment.payment_id, payment.invoice_id, qbo_id, payment.amount, in_part
            )
        if payment.payment_id in self.claimed.ledger.waiting_refunds:
            recorder.refunds_waiting.append((payment.invoice_id, payment.payment_id))

    def _index(self) -> PaymentIndex:
        connection = self.recorder.connection
        return payment_index(connection.contractor_id, connection.realm_id)

    def _invoice_paid(self, qbo_invoice_id: str) -> bool:
        """QBO's own answer, when the ledger does not know what the invoice is owed (only
        after a redelivered export, which cannot tell whether the invoice changed)."""
        try:
            invoice = self.recorder.qbo.read("Invoice", qbo_invoice_id)
            return Decimal(str(invoice["Balance"])) == 0
        except (QboError, ReauthorizationRequired, RefreshInProgress, KeyError) as error:
            logger.warning("Invoice balance not read", error=type(error).__name__)
            return False


def _log_recorded(
    payment: PaymentCompleted,
    qbo_payment_id: str,
    qbo_invoice_id: str,
    applied: Decimal,
    paid: bool | None,
) -> None:
    if applied < payment.amount:
        logger.warning(
            "Payment is more than the invoice's open balance: "
            "QuickBooks keeps the excess as the customer's credit",
            payment_id=payment.payment_id,
            qbo_payment_id=qbo_payment_id,
            amount=str(payment.amount),
            applied=str(applied),
            unapplied=str(payment.amount - applied),
        )
    logger.info(
        "Payment recorded",
        payment_id=payment.payment_id,
        qbo_payment_id=qbo_payment_id,
        qbo_invoice_id=qbo_invoice_id,
        invoice_paid=paid,
    )


def payment_slot(connection: Connection, payment: PaymentCompleted) -> carry.Slot:
    """A payment's slot, as a batch plans carried claims (workflows/payment_batch.py)."""
    return (connection.contractor_id, connection.realm_id, payment.invoice_id, payment.payment_id)


def _entry(payment: PaymentCompleted, status: EntryStatus, **values: Any) -> dict[str, Any]:
    entry = {
        "status": status,
        "amount": payment.amount,
        "paid_at": payment.paid_at.isoformat(),  # the list shows it (docs/interface.md §14)
        "detail": payment.model_dump(mode="json"),
        "updated_at": iso_now(),
        **values,
    }
    if "lease_until" in entry:
        entry["lease_until"] = int(entry["lease_until"])
    if status == EntryStatus.RECORDED:
        del entry["detail"]  # only an unrecorded payment needs its event again
    return {key: value for key, value in entry.items() if value is not None}
