"""RefundRecorder: one platform refund becomes exactly one QBO RefundReceipt.

The refund's adapter of once.py (docs/exactly-once.md): its slot is the refund's entry on
its invoice's ledger item (ledger/refunds.py), whose claim answers with the whole item (the
payment, its other refunds, the customer); its preconditions are a recorded payment (else it
waits; the payment's recording picks it up), parts that never exceed the payment, and an
invoice not voided; "ours" in QuickBooks is a RefundReceipt of the customer on that date with
our reference and note. A refund that meets a connection needing reauthorization waits, and
the reconnect records it (workflows/reconnect.py).

In the steady state a refund costs one QBO request (the create) and, the first time in a
company, the clearing account's lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

from aws_lambda_powertools import Logger

from qbo_sync.accounts.clearing import AccountRole, account_for
from qbo_sync.company.setup import currency_ref
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired
from qbo_sync.core.clock import iso_now, now
from qbo_sync.core.delivery import Deferred, gives_up
from qbo_sync.core.reasons import Reason, ReasonCode, reason, recorded_by_hand
from qbo_sync.core.statuses import (
    ClaimOutcome,
    EntryStatus,
    ExportStatus,
    Outcome,
    RefundStatus,
)
from qbo_sync.events.payments import PaymentRefunded
from qbo_sync.ledger.entries import PaymentEntry, entries_of
from qbo_sync.ledger.payment_index import refund_index
from qbo_sync.ledger.refunds import RefundClaim, RefundLedger, refund_ledger, refunds_of
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
from qbo_sync.qbo.client import QboClient
from qbo_sync.qbo.faults import QboError, Refused
from qbo_sync.qbo.marker import find_ours
from qbo_sync.qbo.refund_fields import refund_fields

__all__ = ["LEASE_SECONDS", "RefundRecorder", "RefundResult"]

logger = Logger(child=True)

ItemLookup = Callable[[str], str | None]  # invoice id -> its QBO item id, when known


class RefundResult(NamedTuple):
    outcome: Outcome
    refund_id: str
    qbo_refund_id: str | None = None


class RefundRecorder:
    def __init__(self, connection: Connection, item_lookup: ItemLookup) -> None:
        self.connection = connection
        self.ledger: RefundLedger = refund_ledger(connection.contractor_id, connection.realm_id)
        self.item_lookup = item_lookup
        self.payouts_waiting: set[str] = set()  # payouts that waited for a refund it recorded

    @cached_property
    def qbo(self) -> QboClient:
        return services.usable_client(self.connection)

    def record(self, refund: PaymentRefunded) -> RefundResult:
        result = write_once(RefundWrite(self, refund), request_ids(self.connection))
        return RefundResult(result.outcome, refund.refund_id, result.qbo_id)

    def record_waiting(self, invoice_id: str, payment_id: str | None = None) -> list[RefundResult]:
        """The invoice's refunds that wait (for `payment_id` only, when given): after their
        payment is recorded, or after a reconnect."""
        item = self.ledger.read(invoice_id)
        waiting = [
            entry
            for entry in refunds_of(item).values()
            if (payment_id is None or entry.payment_id == payment_id) and entry.waiting(now())
        ]
        return [self.record(PaymentRefunded.model_validate(e.detail)) for e in waiting]


class RefundWrite:
    """The refund's adapter of once.py."""

    what = "refund"

    def __init__(self, recorder: RefundRecorder, refund: PaymentRefunded) -> None:
        self.recorder, self.refund = recorder, refund
        self.ledger = recorder.ledger
        self.claimed: RefundClaim | None = None

    # -- the slot: the refund's entry on its invoice's ledger item ----------------------------

    def carried_claim(self) -> tuple[str, Held] | None:
        return None  # claimed on its own: the claim answers what its plan needs

    def claim(self, attempt: str, lease_until: int, at: float) -> Held:
        refund = self.refund
        entry = _entry(refund, RefundStatus.RECORDING, attempt=attempt, lease_until=lease_until)
        claim = self.ledger.claim(refund.invoice_id, refund.refund_id, entry, at)
        self.claimed, previous = claim, claim.previous
        if claim.outcome == ClaimOutcome.RECORDED:
            assert previous is not None
            return Held(ClaimStatus.DONE, qbo_id=previous.qbo_refund_id)
        if claim.outcome == ClaimOutcome.BUSY:
            return Held(ClaimStatus.BUSY)
        retry = claim.item.get("export_retry")
        return Held(
            ClaimStatus.CLAIMED,
            maybe_in_qbo=previous is not None
            and (previous.maybe_in_qbo or previous.status == RefundStatus.RECORDING),
            attempts=previous.attempts if previous else 0,
            retry=str(retry) if retry else None,
        )

    def settle(self, attempt: str, end: Written | Unsettled, plan: str | None) -> bool:
        refund = self.refund
        if isinstance(end, Written):
            qbo_id = str(end.entity["Id"])
            entry = _entry(refund, RefundStatus.RECORDED, qbo_refund_id=qbo_id)
            settled = self.ledger.settle(refund.invoice_id, refund.refund_id, entry, attempt)
            if settled:
                logger.info("Refund recorded", refund_id=refund.refund_id, qbo_refund_id=qbo_id)
            return settled
        status = RefundStatus.FAILED if end.failed else RefundStatus.WAITING
        entry = _entry(
            refund,
            status,
            reason=end.reason,
            maybe_in_qbo=end.maybe_in_qbo,
            attempts=end.attempts or None,
        )
        reconnect = end.verdict == Verdict.RECONNECT
        if reconnect:
            logger.info("Refund waits: QuickBooks needs reauthorization")
        return self.ledger.settle(
            refund.invoice_id, refund.refund_id, entry, attempt, until_reconnect=reconnect
        )

    def gives_up(self, attempts: int) -> bool:
        return gives_up(attempts)

    # -- the preconditions ----------------------------------------------------------------------

    def plan(self, held: Held) -> str | Wait:
        """The customer the receipt is for, once the refund may be recorded."""
        assert self.claimed is not None
        refund, item = self.refund, self.claimed.item
        if not self.recorder.connection.usable:
            raise ReauthorizationRequired()
        payment = entries_of(item).get(refund.payment_id)
        if payment is not None and payment.by_hand:
            # §15: QuickBooks holds it by hand (in part or whole): the bookkeeper refunds it.
            raise self._refused(
                recorded_by_hand(refund.payment_id),
                f"payment_id: payment {refund.payment_id} was recorded in QuickBooks by hand",
            )
        if payment is None or payment.status != EntryStatus.RECORDED:
            return Wait(reason(ReasonCode.PAYMENT_NOT_RECORDED), recheck=self._payment_recorded)
        others = sum(
            (
                entry.amount
                for entry in refunds_of(item).values()
                if entry.payment_id == refund.payment_id
                and entry.refund_id != refund.refund_id
                and entry.holds(now())
            ),
            Decimal("0"),
        )
        if others + refund.amount > payment.amount:
            raise self._exceeds(payment, others)
        if item.get("export_status") == ExportStatus.VOIDED:
            # A receipt on the item would take the income out a second time (the void did).
            why = reason(ReasonCode.REFUND_OF_VOIDED_INVOICE)
            raise self._refused(why, "invoice_id: the invoice was voided")
        return str(item["qbo_customer_id"])

    def _payment_recorded(self) -> bool:
        """After waiting: the payment may have been recorded, and looked for waiting refunds,
        meanwhile (then the refund is recorded now)."""
        refund = self.refund
        payment = entries_of(self.ledger.read(refund.invoice_id)).get(refund.payment_id)
        if payment is not None and payment.status == EntryStatus.RECORDING:
            # Its recording read the ledger before this refund waited: come back shortly.
            raise Deferred(f"payment {refund.payment_id} is being recorded")
        recorded = payment is not None and payment.status == EntryStatus.RECORDED
        if not recorded:
            logger.info(
                "Refund waits for its payment",
                refund_id=refund.refund_id,
                payment_id=refund.payment_id,
            )
        return recorded

    def _exceeds(self, payment: PaymentEntry, others: Decimal) -> Refused:
        left = max(payment.amount - others, Decimal("0"))
        why: Reason = {**reason(ReasonCode.REFUND_EXCEEDS_PAYMENT), "field": "amount"}
        return self._refused(
            why, f"amount: more than is left of payment {self.refund.payment_id} ({left})"
        )

    def _refused(self, why: Reason, problem: str) -> Refused:
        """Failed with its reason, not retried: another delivery cannot help."""
        logger.error("Refund refused", refund_id=self.refund.refund_id, problems=[problem])
        return Refused(problem, why)

    # -- QuickBooks -----------------------------------------------------------------------------

    def request_parts(self, customer_id: str) -> tuple[str, ...]:
        return ("refund", self.refund.refund_id)

    def find(self, customer_id: str) -> dict[str, Any] | None:
        """The RefundReceipt an earlier attempt may have created without writing it down."""
        refund, date = self.refund, self.refund.refunded_at.date()
        qbo = self.recorder.qbo
        found = find_ours(qbo, "RefundReceipt", "refund", refund.refund_id, date, customer_id)
        if found is not None:
            logger.info("Refund found in QuickBooks", qbo_refund_id=found["Id"])
        return found

    def create(self, customer_id: str, requestid: str) -> dict[str, Any]:
        recorder, refund = self.recorder, self.refund
        assert self.claimed is not None
        item_id = recorder.item_lookup(refund.invoice_id) or self._item_of(self.claimed.item)
        account_id = account_for(recorder.connection, AccountRole.REFUNDS_CLEARING)
        fields = refund_fields(refund, customer_id, item_id, account_id)
        known = self.claimed.item.get("currency_ref")
        currency = currency_ref(recorder.connection, recorder.qbo, refund.currency, known)
        if currency:
            fields["CurrencyRef"] = currency
        return recorder.qbo.create("RefundReceipt", fields, requestid)

    def _item_of(self, item: dict[str, Any]) -> str:
        """The invoice's item, from QBO, where its mapping predates item ids."""
        invoice = self.recorder.qbo.read("Invoice", str(item["qbo_invoice_id"]))
        for line in invoice.get("Line", []):
            detail = line.get("SalesItemLineDetail")
            if isinstance(detail, dict) and "ItemRef" in detail:
                return str(detail["ItemRef"]["value"])
        raise QboError(400, "2020", "the invoice has no item line", element="ItemRef")

    # -- side records ---------------------------------------------------------------------------

    def side_records(self, plan: str | None, qbo_id: str, written: Written | None) -> None:
        """Findable by its refund id, for the payouts that net it (ledger/payment_index.py)."""
        refund, recorder = self.refund, self.recorder
        if written is None:
            logger.info("Refund already recorded", refund_id=refund.refund_id)
        index = refund_index(recorder.connection.contractor_id, recorder.connection.realm_id)
        recorder.payouts_waiting |= index.remember(
            refund.refund_id, refund.invoice_id, qbo_id, refund.amount
        )


def _entry(refund: PaymentRefunded, status: RefundStatus, **values: Any) -> dict[str, Any]:
    entry = {
        "payment_id": refund.payment_id,
        "status": status,
        "amount": refund.amount,
        "detail": refund.model_dump(mode="json"),
        "updated_at": iso_now(),
        **values,
    }
    if "lease_until" in entry:
        entry["lease_until"] = int(entry["lease_until"])
    if status == RefundStatus.RECORDED:
        del entry["detail"]  # only an unrecorded refund needs its event again
    return {key: value for key, value in entry.items() if value is not None}
