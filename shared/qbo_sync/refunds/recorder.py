"""RefundRecorder: one platform refund becomes exactly one QBO RefundReceipt.

Exactly once, as for payments: a claim (one conditional write on the refund's entry, which
answers with the whole ledger item: the payment, its other refunds, the customer), the same
requestid on every attempt, and after an attempt that may have reached QBO without being
written down, a lookup by reference before creating again.

A refund whose payment is not recorded yet waits on its entry; the payment's recording picks
it up (workflows/payment.py). The parts of one payment never exceed it: recorded and
in-flight refunds count, and the claim's read is consistent with every earlier claim.

In the steady state a refund costs one QBO request (the create) and, the first time in a
company, the clearing account's lookup.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.accounts.clearing import AccountRole, account_for
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired, RefreshInProgress
from qbo_sync.core.clock import iso_now, now
from qbo_sync.core.delivery import delay_for, gives_up
from qbo_sync.core.reasons import Reason, ReasonCode, reason
from qbo_sync.core.statuses import (
    ClaimOutcome,
    EntryStatus,
    ExportStatus,
    RefundOutcome,
    RefundStatus,
)
from qbo_sync.events import PaymentRefunded
from qbo_sync.ledger.entries import PaymentEntry, entries_of
from qbo_sync.ledger.payment_index import refund_index
from qbo_sync.ledger.refunds import RefundClaim, RefundLedger, refund_ledger, refunds_of
from qbo_sync.qbo.client import QboClient, quote, request_id
from qbo_sync.qbo.faults import AuthenticationFailed, QboError, reason_for
from qbo_sync.qbo.fields import payment_ref
from qbo_sync.qbo.refund_fields import refund_fields, refund_note

logger = Logger(child=True)

LEASE_SECONDS = 90  # longer than the function's Timeout (60 s in template.yaml)
WAIT_FOR_OTHER_SECONDS = 10.0

ItemLookup = Callable[[str], str | None]  # invoice id -> its QBO item id, when known


@dataclass(frozen=True)
class RefundResult:
    outcome: RefundOutcome
    refund_id: str
    qbo_refund_id: str | None = None


class RefundNotRecorded(Exception):
    """A temporary failure: the event is to come again after `delay_seconds`."""

    def __init__(self, message: str, attempt: int = 1) -> None:
        super().__init__(message)
        self.attempt = attempt
        self.delay_seconds = delay_for(attempt)


class RefundRecorder:
    def __init__(self, connection: Connection, item_lookup: ItemLookup) -> None:
        self.connection = connection
        self.ledger: RefundLedger = refund_ledger(connection.contractor_id, connection.realm_id)
        self._item_lookup = item_lookup
        self._qbo: QboClient | None = None
        self.payouts_waiting: set[str] = set()  # payouts that waited for a refund it recorded

    @property
    def qbo(self) -> QboClient:
        if self._qbo is None:
            self._qbo = services.qbo_client(self.connection)
        return self._qbo

    def record_waiting(self, invoice_id: str, payment_id: str) -> list[RefundResult]:
        """After the payment is recorded: its refunds that waited for it."""
        item = self.ledger.read(invoice_id)
        waiting = [
            entry
            for entry in refunds_of(item).values()
            if entry.payment_id == payment_id and entry.waiting(now())
        ]
        return [self.record(PaymentRefunded.model_validate(e.detail)) for e in waiting]

    def record(self, refund: PaymentRefunded) -> RefundResult:
        attempt = uuid.uuid4().hex
        claim = self._claim(refund, attempt)
        if claim.outcome == ClaimOutcome.RECORDED:
            assert claim.previous is not None
            logger.info("Refund already recorded", refund_id=refund.refund_id)
            if claim.previous.qbo_refund_id:  # heals a death between the ledger's write and this
                self._index(refund, claim.previous.qbo_refund_id)
            return RefundResult(
                RefundOutcome.ALREADY_RECORDED, refund.refund_id, claim.previous.qbo_refund_id
            )
        payment = entries_of(claim.item).get(refund.payment_id)
        if payment is None or payment.status != EntryStatus.RECORDED:
            return self._wait(refund, claim, attempt)
        others = sum(
            (
                entry.amount
                for entry in refunds_of(claim.item).values()
                if entry.payment_id == refund.payment_id
                and entry.refund_id != refund.refund_id
                and entry.holds(now())
            ),
            Decimal("0"),
        )
        if others + refund.amount > payment.amount:
            return self._exceeds(refund, attempt, payment, others)
        if claim.item.get("export_status") == ExportStatus.VOIDED:
            # A receipt on the item would take the income out a second time (the void did).
            why = reason(ReasonCode.REFUND_OF_VOIDED_INVOICE)
            return self._refused(refund, attempt, why, "invoice_id: the invoice was voided")
        try:
            created = self._find_or_create(refund, claim)
        except (ReauthorizationRequired, RefreshInProgress) as error:
            return self._retry_later(refund, claim, attempt, error)
        except QboError as error:
            if error.transient or isinstance(error, AuthenticationFailed):
                return self._retry_later(refund, claim, attempt, error)
            return self._failed(refund, attempt, error)
        return self._written_down(refund, attempt, str(created["Id"]))

    # -- claim and waiting ----------------------------------------------------------------------

    def _claim(self, refund: PaymentRefunded, attempt: str) -> RefundClaim:
        """Waits a little for an attempt already in progress elsewhere (a duplicate delivery)."""
        deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
        entry = _entry(
            refund, RefundStatus.RECORDING, attempt=attempt, lease_until=now() + LEASE_SECONDS
        )
        while True:
            claim = self.ledger.claim(refund.invoice_id, refund.refund_id, entry, now())
            if claim.outcome != ClaimOutcome.BUSY:
                return claim
            if time.monotonic() > deadline:
                raise RefundNotRecorded(f"refund {refund.refund_id} is being recorded elsewhere")
            time.sleep(0.2)

    def _wait(self, refund: PaymentRefunded, claim: RefundClaim, attempt: str) -> RefundResult:
        previous = claim.previous
        entry = _entry(
            refund,
            RefundStatus.WAITING,
            reason=reason(ReasonCode.PAYMENT_NOT_RECORDED),
            maybe_in_qbo=bool(previous and previous.maybe_in_qbo),
        )
        self.ledger.settle(refund.invoice_id, refund.refund_id, entry, attempt)
        # The payment may have been recorded, and looked for waiting refunds, meanwhile.
        payment = entries_of(self.ledger.read(refund.invoice_id)).get(refund.payment_id)
        if payment is not None and payment.status == EntryStatus.RECORDED:
            return self.record(refund)
        if payment is not None and payment.status == EntryStatus.RECORDING:
            # Its recording read the ledger before this refund waited: come back shortly.
            raise RefundNotRecorded(f"payment {refund.payment_id} is being recorded")
        logger.info(
            "Refund waits for its payment",
            refund_id=refund.refund_id,
            payment_id=refund.payment_id,
        )
        return RefundResult(RefundOutcome.WAITING, refund.refund_id)

    # -- QBO --------------------------------------------------------------------------------------

    def _find_or_create(self, refund: PaymentRefunded, claim: RefundClaim) -> dict[str, Any]:
        customer_id = str(claim.item["qbo_customer_id"])
        previous = claim.previous
        if previous is not None and (
            previous.maybe_in_qbo or previous.status == RefundStatus.RECORDING
        ):
            found = self._find(refund, customer_id)
            if found is not None:
                logger.info("Refund found in QuickBooks", qbo_refund_id=found["Id"])
                return found
        item_id = self._item_lookup(refund.invoice_id) or self._item_of(claim.item)
        account_id = account_for(self.connection, AccountRole.REFUNDS_CLEARING)
        fields = refund_fields(refund, customer_id, item_id, account_id)
        connection = self.connection
        requestid = request_id(
            connection.contractor_id, connection.realm_id, "refund", refund.refund_id
        )
        return self.qbo.create("RefundReceipt", fields, requestid)

    def _find(self, refund: PaymentRefunded, customer_id: str) -> dict[str, Any] | None:
        """The RefundReceipt an earlier attempt may have created without writing it down."""
        statement = (
            f"select * from RefundReceipt where CustomerRef = {quote(customer_id)} "
            f"and TxnDate = {quote(refund.refunded_at.date().isoformat())} maxresults 1000"
        )
        reference, note = payment_ref(refund.refund_id), refund_note(refund.refund_id)
        for row in self.qbo.query(statement):
            if row.get("PaymentRefNum") == reference and note in str(row.get("PrivateNote", "")):
                return row
        return None

    def _item_of(self, item: dict[str, Any]) -> str:
        """The invoice's item, from QBO, where its mapping predates item ids."""
        invoice = self.qbo.read("Invoice", str(item["qbo_invoice_id"]))
        for line in invoice.get("Line", []):
            detail = line.get("SalesItemLineDetail")
            if isinstance(detail, dict) and "ItemRef" in detail:
                return str(detail["ItemRef"]["value"])
        raise QboError(400, "2020", "the invoice has no item line", element="ItemRef")

    # -- outcomes -------------------------------------------------------------------------------

    def _written_down(self, refund: PaymentRefunded, attempt: str, qbo_id: str) -> RefundResult:
        entry = _entry(refund, RefundStatus.RECORDED, qbo_refund_id=qbo_id)
        if not self.ledger.settle(refund.invoice_id, refund.refund_id, entry, attempt):
            logger.warning("Refund recorded by another attempt", qbo_refund_id=qbo_id)
            return RefundResult(RefundOutcome.ALREADY_RECORDED, refund.refund_id, qbo_id)
        self._index(refund, qbo_id)
        logger.info("Refund recorded", refund_id=refund.refund_id, qbo_refund_id=qbo_id)
        return RefundResult(RefundOutcome.RECORDED, refund.refund_id, qbo_id)

    def _index(self, refund: PaymentRefunded, qbo_refund_id: str) -> None:
        """Findable by its refund id, for the payouts that net it (ledger/payment_index.py)."""
        index = refund_index(self.connection.contractor_id, self.connection.realm_id)
        self.payouts_waiting |= index.remember(
            refund.refund_id, refund.invoice_id, qbo_refund_id, refund.amount
        )

    def _exceeds(
        self, refund: PaymentRefunded, attempt: str, payment: PaymentEntry, others: Decimal
    ) -> RefundResult:
        left = max(payment.amount - others, Decimal("0"))
        why: Reason = {**reason(ReasonCode.REFUND_EXCEEDS_PAYMENT), "field": "amount"}
        problem = f"amount: more than is left of payment {refund.payment_id} ({left})"
        return self._refused(refund, attempt, why, problem)

    def _refused(
        self, refund: PaymentRefunded, attempt: str, why: Reason, problem: str
    ) -> RefundResult:
        """Written down as failed with its reason, not retried: another delivery cannot help."""
        entry = _entry(refund, RefundStatus.FAILED, reason=why)
        self.ledger.settle(refund.invoice_id, refund.refund_id, entry, attempt)
        logger.error(
            "Refund refused",
            refund_id=refund.refund_id,
            problems=[problem],
        )
        return RefundResult(RefundOutcome.FAILED, refund.refund_id)

    def _failed(self, refund: PaymentRefunded, attempt: str, error: QboError) -> RefundResult:
        why = reason_for(error, what="refund")
        entry = _entry(refund, RefundStatus.FAILED, reason=why, maybe_in_qbo=True)
        self.ledger.settle(refund.invoice_id, refund.refund_id, entry, attempt)
        logger.error(
            "QuickBooks refused the refund",
            refund_id=refund.refund_id,
            qbo_code=error.code,
            qbo_element=error.element,
        )
        return RefundResult(RefundOutcome.FAILED, refund.refund_id)

    def _retry_later(
        self, refund: PaymentRefunded, claim: RefundClaim, attempt: str, error: Exception
    ) -> RefundResult:
        """Waiting again (counted), so the event's next delivery or its payment's next run
        tries it; failed for good once the window of attempts is over."""
        tries = (claim.previous.attempts if claim.previous else 0) + 1
        if gives_up(tries):
            entry = _entry(
                refund, RefundStatus.FAILED, reason=reason(ReasonCode.GAVE_UP), maybe_in_qbo=True
            )
            self.ledger.settle(refund.invoice_id, refund.refund_id, entry, attempt)
            logger.warning("QuickBooks kept failing; the refund gives up", attempts=tries)
            return RefundResult(RefundOutcome.FAILED, refund.refund_id)
        entry = _entry(
            refund,
            RefundStatus.WAITING,
            reason=reason(ReasonCode.TEMPORARY),
            maybe_in_qbo=True,
            attempts=tries,
        )
        self.ledger.settle(refund.invoice_id, refund.refund_id, entry, attempt)
        raise RefundNotRecorded(
            f"refund {refund.refund_id} not recorded: {error}", tries
        ) from error


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
