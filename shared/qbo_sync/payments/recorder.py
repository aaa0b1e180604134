"""Recorder: one platform payment becomes exactly one QBO Payment linked to its invoice.

Exactly once rests on three things. A claim: one conditional write on the payment's entry in its
invoice's ledger (ledger/entries.py) lets one attempt at a time through, and answers with what the
payment needs (the QBO invoice and customer, the invoice's open balance, earlier attempts). The same
QBO requestid on every attempt, so QBO answers a repeat with the Payment it already made. And after
an attempt that may have reached QBO without being written down, a lookup in QBO before creating,
because QBO does not promise to remember a requestid for ever.

In the steady state a payment costs one QBO request (the create) and four DynamoDB requests
(the connection, the claim, the record, and the payment's item that payouts find it by,
ledger/payment_index.py). Imports nothing of invoices/: where the ledger does not know the
invoice's QBO ids yet, it asks the `lookup` it was given (workflows/ hands it the mapping
store's). Emits no event: the write that records a payment is its event (the outbox derives
Payment Recorded from the ledger item's change); the payouts that waited for a payment it
recorded are in `payouts_waiting`, for the workflow.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired, RefreshInProgress
from qbo_sync.core.clock import iso_now, now
from qbo_sync.core.delivery import delay_for, gives_up
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ClaimOutcome, EntryStatus, PaymentOutcome
from qbo_sync.events import PaymentCompleted
from qbo_sync.ledger.entries import Claim, Ledger, PaymentLedger, payment_ledger
from qbo_sync.ledger.payment_index import payment_index
from qbo_sync.qbo.client import QboClient, quote, request_id
from qbo_sync.qbo.faults import (
    AuthenticationFailed,
    BusinessValidation,
    QboError,
    reason_for,
)
from qbo_sync.qbo.fields import payment_fields, payment_ref

logger = Logger(child=True)

LEASE_SECONDS = 90  # longer than the function's Timeout (60 s in template.yaml)
WAIT_FOR_OTHER_SECONDS = 10.0
NOT_EXPORTED = reason(ReasonCode.INVOICE_NOT_EXPORTED)
NEEDS_REAUTHORIZATION = reason(ReasonCode.REAUTHORIZATION)
RETRYING = reason(ReasonCode.TEMPORARY)


class InvoiceInQbo(Protocol):
    """An exported invoice's QBO ids (the mapping store's ExportedInvoice has them)."""

    @property
    def qbo_invoice_id(self) -> str: ...

    @property
    def qbo_customer_id(self) -> str: ...


InvoiceLookup = Callable[[str], InvoiceInQbo | None]


@dataclass(frozen=True)
class PaymentResult:
    outcome: PaymentOutcome
    payment_id: str
    qbo_payment_id: str | None = None


class PaymentNotRecorded(Exception):
    """A temporary failure: the event is to be delivered again after `delay_seconds` (through
    its visibility), for the payment's attempt number `attempt` + 1."""

    def __init__(self, message: str, attempt: int = 1) -> None:
        super().__init__(message)
        self.attempt = attempt
        self.delay_seconds = delay_for(attempt)


class Recorder:
    def __init__(self, connection: Connection, lookup: InvoiceLookup) -> None:
        self.connection = connection
        self.ledger: PaymentLedger = payment_ledger(connection.contractor_id, connection.realm_id)
        self.payouts_waiting: set[str] = set()  # payouts that waited for a payment it recorded
        # (invoice id, payment id) of recorded payments whose refunds wait for them.
        self.refunds_waiting: list[tuple[str, str]] = []
        self._lookup = lookup
        self._deposit_account_id = get_settings().deposit_account_id
        self._qbo: QboClient | None = None

    def record_waiting(self, ledger: Ledger) -> list[PaymentResult]:
        """Records the invoice's payments that wait for it: parked before its export (or while
        the connection needed reauthorization), or left mid-way by an attempt that died."""
        waiting = ledger.waiting(now())
        return [self.record(PaymentCompleted.model_validate(e.detail)) for e in waiting]

    def resume(self, invoice_id: str) -> list[PaymentResult]:
        """After a reconnect: the invoice's parked payments, if the invoice is exported."""
        exported = self._lookup(invoice_id)
        if exported is None:
            return []
        return self._apply_exported(invoice_id, exported)

    def _apply_exported(self, invoice_id: str, exported: InvoiceInQbo) -> list[PaymentResult]:
        # What the invoice is owed is unknown here (it may have changed since its export).
        ledger, _ = self.ledger.attach_invoice(
            invoice_id, exported.qbo_invoice_id, exported.qbo_customer_id, None
        )
        return self.record_waiting(ledger)

    @property
    def qbo(self) -> QboClient:
        if self._qbo is None:
            self._qbo = services.qbo_client(self.connection)
        return self._qbo

    def park_until_reconnected(self, payment: PaymentCompleted) -> PaymentResult:
        entry = _entry(payment, EntryStatus.PARKED, reason=NEEDS_REAUTHORIZATION)
        if not self.ledger.park(
            payment.invoice_id, payment.payment_id, entry, attempt=None, now=now()
        ):
            logger.info("Payment already recorded or being recorded", payment_id=payment.payment_id)
            return PaymentResult(PaymentOutcome.ALREADY_RECORDED, payment.payment_id)
        logger.info(
            "Payment parked: QuickBooks needs reauthorization",
            payment_id=payment.payment_id,
            invoice_id=payment.invoice_id,
        )
        return PaymentResult(PaymentOutcome.PARKED, payment.payment_id)

    def record(self, payment: PaymentCompleted) -> PaymentResult:
        attempt = uuid.uuid4().hex
        claim = self._claim(payment, attempt)
        previous = claim.previous
        if claim.outcome == ClaimOutcome.RECORDED:
            assert previous is not None
            self._refunds_wait(payment, claim)  # one failed for a while: the event came again
            logger.info(
                "Payment already recorded",
                payment_id=payment.payment_id,
                qbo_payment_id=previous.qbo_payment_id,
            )
            if previous.qbo_payment_id:  # heals a death between the ledger's write and this
                self._index(payment, previous.qbo_payment_id)
            return PaymentResult(
                PaymentOutcome.ALREADY_RECORDED, payment.payment_id, previous.qbo_payment_id
            )
        ledger = claim.ledger
        if ledger.qbo_invoice_id is None or ledger.qbo_customer_id is None:
            exported = self._lookup(payment.invoice_id)
            if exported is None:
                return self._park_claimed(payment, claim, attempt)
            ledger = replace(
                ledger,
                qbo_invoice_id=exported.qbo_invoice_id,
                qbo_customer_id=exported.qbo_customer_id,
            )
        try:
            created, due = self._find_or_create(payment, ledger, claim)
        except ReauthorizationRequired:
            entry = _entry(
                payment, EntryStatus.PARKED, reason=NEEDS_REAUTHORIZATION, maybe_in_qbo=True
            )
            self.ledger.park(
                payment.invoice_id, payment.payment_id, entry, attempt=attempt, now=now()
            )
            logger.info(
                "Payment parked: QuickBooks needs reauthorization", payment_id=payment.payment_id
            )
            return PaymentResult(PaymentOutcome.PARKED, payment.payment_id)
        except QboError as error:
            # QboUnavailable is always transient (status 0 included).
            if error.transient or isinstance(error, AuthenticationFailed):
                return self._retry_later(payment, claim, attempt, error)
            return self._failed(payment, attempt, error)
        except RefreshInProgress as error:
            return self._retry_later(payment, claim, attempt, error)
        return self._written_down(payment, ledger, claim, attempt, created, due)

    # -- claim --------------------------------------------------------------------------------

    def _claim(self, payment: PaymentCompleted, attempt: str) -> Claim:
        """Waits a little for an attempt already in progress elsewhere (a duplicate delivery)."""
        deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
        entry = _entry(
            payment, EntryStatus.RECORDING, attempt=attempt, lease_until=now() + LEASE_SECONDS
        )
        while True:
            claim = self.ledger.claim(payment.invoice_id, payment.payment_id, entry, now())
            if claim.outcome != ClaimOutcome.BUSY:
                return claim
            if time.monotonic() > deadline:
                raise PaymentNotRecorded(
                    f"payment {payment.payment_id} is being recorded by another invocation"
                )
            time.sleep(0.2)

    def _park_claimed(self, payment: PaymentCompleted, claim: Claim, attempt: str) -> PaymentResult:
        previous = claim.previous
        # Voided before its export, the invoice has no customer in QBO to hold the credit.
        why = reason(ReasonCode.INVOICE_VOIDED) if claim.ledger.voided else NOT_EXPORTED
        entry = _entry(
            payment,
            EntryStatus.PARKED,
            reason=why,
            maybe_in_qbo=bool(previous and previous.maybe_in_qbo),
        )
        self.ledger.park(payment.invoice_id, payment.payment_id, entry, attempt=attempt, now=now())
        logger.info(
            "Payment parked: invoice not exported yet",
            payment_id=payment.payment_id,
            invoice_id=payment.invoice_id,
        )
        # The export may have finished, and looked for parked payments, before this was parked.
        exported = self._lookup(payment.invoice_id)
        if exported is not None:
            for result in self._apply_exported(payment.invoice_id, exported):
                if result.payment_id == payment.payment_id:
                    return result
        return PaymentResult(PaymentOutcome.PARKED, payment.payment_id)

    # -- QBO ----------------------------------------------------------------------------------

    def _find_or_create(
        self, payment: PaymentCompleted, ledger: Ledger, claim: Claim
    ) -> tuple[dict[str, Any], Decimal | None]:
        """The QBO Payment, and what the invoice is owed if QBO had to be asked."""
        previous = claim.previous
        if previous is not None and (
            previous.maybe_in_qbo or previous.status == EntryStatus.RECORDING
        ):
            found = self._find(payment, ledger)
            if found is not None:
                logger.info("Payment found in QuickBooks", qbo_payment_id=found["Id"])
                return found, None
        assert ledger.qbo_invoice_id is not None
        open_balance = Decimal("0") if ledger.voided else ledger.open_balance
        # A voided invoice owes nothing: the payment is the customer's credit, linked to nothing.
        applied = payment.amount if open_balance is None else min(payment.amount, open_balance)
        try:
            requestid = self._request_id(payment, ledger)
            return self._create(payment, ledger, applied, requestid), None
        except BusinessValidation:
            if applied == 0:
                raise
            # Business validation: the likeliest cause is a line above the invoice's open balance
            # (payments recorded in QuickBooks by other means). QBO's own balance settles it.
            invoice = self.qbo.read("Invoice", ledger.qbo_invoice_id)
            balance = Decimal(str(invoice["Balance"]))
            if balance >= applied:
                raise
            logger.info(
                "QuickBooks refused more than the invoice's open balance; applying the balance",
                qbo_invoice_id=ledger.qbo_invoice_id,
                open_balance=str(balance),
            )
            requestid = self._request_id(payment, ledger, "open", str(balance))
            return self._create(payment, ledger, balance, requestid), balance + ledger.applied

    def _create(
        self, payment: PaymentCompleted, ledger: Ledger, applied: Decimal, requestid: str
    ) -> dict[str, Any]:
        assert ledger.qbo_invoice_id is not None and ledger.qbo_customer_id is not None
        fields = payment_fields(
            payment,
            ledger.qbo_customer_id,
            ledger.qbo_invoice_id,
            self._deposit_account_id,
            applied=applied,
        )
        return self.qbo.create("Payment", fields, requestid)

    def _find(self, payment: PaymentCompleted, ledger: Ledger) -> dict[str, Any] | None:
        """The Payment an earlier attempt may have created without writing it down."""
        statement = (
            f"select * from Payment where CustomerRef = {quote(str(ledger.qbo_customer_id))} "
            f"and TxnDate = {quote(payment.paid_at.date().isoformat())} maxresults 1000"
        )
        reference = payment_ref(payment.payment_id)
        for row in self.qbo.query(statement):
            mine = f"platform payment {payment.payment_id} (" in str(row.get("PrivateNote", ""))
            if row.get("PaymentRefNum") == reference and mine:
                return row
        return None

    def _request_id(self, payment: PaymentCompleted, ledger: Ledger, *more: str) -> str:
        # After the contractor's retry, its own requestids: QBO would replay a refusal.
        if ledger.retry:
            more = (*more, "retry", ledger.retry)
        connection = self.connection
        return request_id(
            connection.contractor_id, connection.realm_id, "payment", payment.payment_id, *more
        )

    # -- outcomes -----------------------------------------------------------------------------

    def _written_down(
        self,
        payment: PaymentCompleted,
        ledger: Ledger,
        claim: Claim,
        attempt: str,
        created: dict[str, Any],
        due: Decimal | None,
    ) -> PaymentResult:
        assert ledger.qbo_invoice_id is not None and ledger.qbo_customer_id is not None
        qbo_payment_id = str(created["Id"])
        applied = _applied_to(created, ledger.qbo_invoice_id)
        known_due = due if due is not None else ledger.due
        # Whether the invoice is now paid is its event's to say (ledger/changes.py reads it
        # from the item the write below leaves); only an unknown due needs QBO's own answer,
        # read before that write so that the event never needs QuickBooks.
        paid = None if known_due is not None else self._invoice_paid(ledger.qbo_invoice_id)
        values: dict[str, Any] = {"qbo_payment_id": qbo_payment_id, "applied": applied}
        if paid is not None:
            values["invoice_paid"] = paid
        entry = _entry(payment, EntryStatus.RECORDED, **values)
        total_applied = self.ledger.recorded(
            payment.invoice_id,
            payment.payment_id,
            entry,
            attempt=attempt,
            qbo_invoice_id=ledger.qbo_invoice_id,
            qbo_customer_id=ledger.qbo_customer_id,
            due=due,
            unpark=payment.payment_id in claim.ledger.parked,
        )
        if total_applied is None:
            # This attempt outlived its lease; the one that took over finds the same Payment.
            logger.warning("Payment recorded by another attempt", qbo_payment_id=qbo_payment_id)
            return PaymentResult(
                PaymentOutcome.ALREADY_RECORDED, payment.payment_id, qbo_payment_id
            )
        self._index(payment, qbo_payment_id)
        self._refunds_wait(payment, claim)
        if paid is None and known_due is not None:
            paid = total_applied >= known_due
        _log_recorded(payment, qbo_payment_id, ledger.qbo_invoice_id, applied, paid)
        return PaymentResult(PaymentOutcome.RECORDED, payment.payment_id, qbo_payment_id)

    def _index(self, payment: PaymentCompleted, qbo_payment_id: str) -> None:
        """Findable by its payment id, for the payouts that list it (ledger/payment_index.py)."""
        index = payment_index(self.connection.contractor_id, self.connection.realm_id)
        self.payouts_waiting |= index.remember(
            payment.payment_id, payment.invoice_id, qbo_payment_id, payment.amount
        )

    def _refunds_wait(self, payment: PaymentCompleted, claim: Claim) -> None:
        if payment.payment_id in claim.ledger.waiting_refunds:
            self.refunds_waiting.append((payment.invoice_id, payment.payment_id))

    def _invoice_paid(self, qbo_invoice_id: str) -> bool:
        """QBO's own answer, when the ledger does not know what the invoice is owed (only
        after a redelivered export, which cannot tell whether the invoice changed)."""
        try:
            return Decimal(str(self.qbo.read("Invoice", qbo_invoice_id)["Balance"])) == 0
        except (QboError, ReauthorizationRequired, RefreshInProgress, KeyError) as error:
            logger.warning("Invoice balance not read", error=type(error).__name__)
            return False

    def _failed(self, payment: PaymentCompleted, attempt: str, error: QboError) -> PaymentResult:
        # Retrying cannot change QBO's answer: written down with the reason, not retried.
        entry = _entry(
            payment, EntryStatus.FAILED, reason=reason_for(error, what="payment"), maybe_in_qbo=True
        )
        self.ledger.release(payment.invoice_id, payment.payment_id, entry, attempt)
        logger.error(
            "QuickBooks refused the payment",
            payment_id=payment.payment_id,
            qbo_code=error.code,
            qbo_detail=error.detail,
            qbo_element=error.element,
        )
        return PaymentResult(PaymentOutcome.FAILED, payment.payment_id)

    def _retry_later(
        self, payment: PaymentCompleted, claim: Claim, attempt: str, error: Exception
    ) -> PaymentResult:
        outcome = self._released(payment, claim, attempt, error)
        if isinstance(outcome, PaymentResult):
            return outcome
        raise outcome from error

    def _released(
        self, payment: PaymentCompleted, claim: Claim, attempt: str, error: Exception
    ) -> PaymentNotRecorded | PaymentResult:
        """A temporary failure, counted: to be tried again later, or failed for good once the
        window of attempts is over (the contractor's Retry records it)."""
        # A parked payment stays findable as parked (its invoice's export tries it again).
        parked = payment.payment_id in claim.ledger.parked
        tries = (claim.previous.attempts if claim.previous else 0) + 1
        gave_up = gives_up(tries) and not parked
        status = EntryStatus.PARKED if parked else EntryStatus.FAILED
        why = reason(ReasonCode.GAVE_UP) if gave_up else RETRYING
        entry = _entry(
            payment, status, reason=why, maybe_in_qbo=True, attempts=None if gave_up else tries
        )
        try:
            self.ledger.release(payment.invoice_id, payment.payment_id, entry, attempt)
        except Exception:
            logger.exception("Could not release the payment; its lease will run out")
        if gave_up:
            logger.warning("QuickBooks kept failing; the payment gives up", attempts=tries)
            return PaymentResult(PaymentOutcome.FAILED, payment.payment_id)
        return PaymentNotRecorded(f"payment {payment.payment_id} not recorded: {error}", tries)


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


def _entry(payment: PaymentCompleted, status: EntryStatus, **values: Any) -> dict[str, Any]:
    entry = {
        "status": status,
        "amount": payment.amount,
        "detail": payment.model_dump(mode="json"),
        "updated_at": iso_now(),
        **values,
    }
    if "lease_until" in entry:
        entry["lease_until"] = int(entry["lease_until"])
    if status == EntryStatus.RECORDED:
        del entry["detail"]  # only an unrecorded payment needs its event again
    return {key: value for key, value in entry.items() if value is not None}


def _applied_to(created: dict[str, Any], qbo_invoice_id: str) -> Decimal:
    """What the QBO Payment applies to the invoice: read from QBO's answer, which is the truth
    even when it is the replay of an earlier attempt's request."""
    return sum(
        (
            Decimal(str(line.get("Amount", 0)))
            for line in created.get("Line", [])
            for linked in line.get("LinkedTxn", [])
            if linked.get("TxnId") == qbo_invoice_id and linked.get("TxnType") == "Invoice"
        ),
        Decimal("0"),
    )
