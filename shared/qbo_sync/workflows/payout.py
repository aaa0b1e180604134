"""A payout-paid event (contracts.md §10): one QBO Deposit, exactly once, or a wait for what it
needs (its payments recorded, a bank account chosen, QuickBooks reconnected). Its Payout
Deposited or Payout Waiting event comes from the payout item's change (payouts/changes.py, the
outbox), only when its status or reason changed.

The steps cross domains, so they are sequenced here: the payout item's claim (payouts/), the
bank account (accounts/), the recorded payments (ledger/payment_index.py), the refunds
(the same index's refund items), the fees and refunds clearing accounts (accounts/clearing.py), the
deposit (payouts/depositor.py), and the payments marked as deposited. In the steady state that
is one QBO request (the create) and, for a payout of n payments, ⌈n/100⌉ + ⌈n/25⌉ + 4 DynamoDB
requests.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.accounts.clearing import AccountRole, account_for, chosen_account
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired, RefreshInProgress
from qbo_sync.core.clock import now
from qbo_sync.core.delivery import delay_for, gives_up
from qbo_sync.core.reasons import Reason, ReasonCode, reason
from qbo_sync.core.statuses import PayoutOutcome, PayoutStatus
from qbo_sync.events import PayoutPaid, PayoutPayment, PayoutRefund
from qbo_sync.ledger.payment_index import PaymentIndex, RecordedPayment, payment_index, refund_index
from qbo_sync.payouts.depositor import Depositor
from qbo_sync.payouts.lines import (
    DepositAccounts,
    deposit_fields,
    needs_fees_account,
    needs_refunds_account,
)
from qbo_sync.payouts.listing import payout_listing
from qbo_sync.payouts.queue import send_payouts
from qbo_sync.payouts.records import Claim, PayoutRecords, payout_records
from qbo_sync.qbo.faults import AuthenticationFailed, QboError, reason_for

logger = Logger(child=True)

LEASE_SECONDS = 90  # longer than the function's Timeout (60 s in template.yaml)
WAIT_FOR_OTHER_SECONDS = 10.0


@dataclass(frozen=True)
class PayoutResult:
    outcome: PayoutOutcome
    payout_id: str
    qbo_deposit_id: str | None = None


class PayoutNotDeposited(Exception):
    """A temporary failure: the event is delivered again after `delay_seconds`."""

    def __init__(self, message: str, attempt: int = 1) -> None:
        super().__init__(message)
        self.attempt = attempt
        self.delay_seconds = delay_for(attempt)


def deposit_payout(payout: PayoutPaid) -> PayoutResult:
    connection = services.connections().get(payout.contractor_id)
    if connection is None:
        logger.info("Payout not deposited: QuickBooks is not connected")
        return PayoutResult(PayoutOutcome.SKIPPED, payout.payout_id)
    records = payout_records(connection.contractor_id, connection.realm_id)
    attempt = uuid.uuid4().hex
    claim = _claim(records, payout, attempt)
    if not claim.claimed:
        qbo_deposit_id = claim.previous.values.get("qbo_deposit_id")
        logger.info("Payout already deposited", qbo_deposit_id=qbo_deposit_id)
        return PayoutResult(PayoutOutcome.ALREADY_DEPOSITED, payout.payout_id, qbo_deposit_id)
    return _Attempt(connection, payout, records, claim, attempt).run()


def resume_payouts(connection: Connection, payout_ids: set[str] | list[str]) -> None:
    """Sends the payouts that waited for something that just happened to the queue again."""
    records = payout_records(connection.contractor_id, connection.realm_id)
    details: list[dict[str, Any]] = []
    for payout_id in sorted(payout_ids):
        record = records.get(payout_id)
        if record is not None and record.status != PayoutStatus.DEPOSITED:
            details.append(record.detail)
    if details:
        send_payouts(details)
        logger.info("Waiting payouts sent again", payouts=len(details))


def resume_all_waiting(contractor_id: str) -> int:
    """After a reconnect or a bank account chosen: every waiting payout is sent again (those
    still waiting for a payment wait again, at no QBO cost); returns how many."""
    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        return 0
    waiting = payout_listing(contractor_id).waiting()
    if waiting:
        resume_payouts(connection, waiting)
    return len(waiting)


def _claim(records: PayoutRecords, payout: PayoutPaid, attempt: str) -> Claim:
    """Waits a little for an attempt already in progress elsewhere (a duplicate delivery)."""
    deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
    while True:
        claim = records.claim(payout, attempt, now(), LEASE_SECONDS)
        if claim.claimed or claim.previous.status == PayoutStatus.DEPOSITED:
            return claim
        if time.monotonic() > deadline:
            raise PayoutNotDeposited(f"payout {payout.payout_id} is held by another invocation")
        time.sleep(0.2)


class _Attempt:
    def __init__(
        self,
        connection: Connection,
        payout: PayoutPaid,
        records: PayoutRecords,
        claim: Claim,
        attempt: str,
    ) -> None:
        self.connection, self.payout, self.records = connection, payout, records
        self.previous, self.attempt = claim.previous, attempt
        self.depositor = Depositor(connection)
        self.index = payment_index(connection.contractor_id, connection.realm_id)
        self.refunds = refund_index(connection.contractor_id, connection.realm_id)

    def run(self) -> PayoutResult:
        try:
            return self._deposit()
        except ReauthorizationRequired:
            return self._wait(reason(ReasonCode.REAUTHORIZATION), maybe_in_qbo=True)
        except QboError as error:
            if error.transient or isinstance(error, AuthenticationFailed):
                return self._retry_later(error)
            logger.error(
                "QuickBooks refused the deposit",
                qbo_code=error.code,
                qbo_detail=error.detail,
                qbo_element=error.element,
            )
            return self._fail(reason_for(error, what="payout"), maybe_in_qbo=True)
        except RefreshInProgress as error:
            return self._retry_later(error)

    def _deposit(self) -> PayoutResult:
        if not self.connection.usable:
            return self._wait(reason(ReasonCode.REAUTHORIZATION))
        bank = chosen_account(self.connection, AccountRole.PAYOUT)
        if bank is None:
            return self._wait(reason(ReasonCode.PAYOUT_ACCOUNT_REQUIRED))
        payments = self._recorded(self.index, PayoutPayment)
        refunds = self._recorded(self.refunds, PayoutRefund)
        if payments is None or refunds is None:
            return self._wait(reason(ReasonCode.PAYMENT_NOT_RECORDED))
        problem = self._problem(payments)
        if problem is not None:
            return self._fail(reason(problem))
        deposit = self.depositor.find(self.payout) if self.previous.maybe_in_qbo else None
        if deposit is None:
            fields = deposit_fields(
                self.payout,
                self._accounts(bank),
                {pid: p.qbo_payment_id for pid, p in payments.items()},
                {rid: r.qbo_payment_id for rid, r in refunds.items()},
            )
            deposit = self.depositor.create(self.payout, fields, self.previous.retry)
        self.refunds.deposited(list(refunds.values()), self.payout.payout_id)
        return self._deposited(deposit, list(payments.values()))

    def _recorded(
        self, index: PaymentIndex, kind: type[PayoutPayment] | type[PayoutRefund]
    ) -> dict[str, RecordedPayment] | None:
        """The payout's payments (or refunds) as recorded in QBO, or None when one is not
        recorded yet (then the payout is marked as waiting for each: its recorder resumes it)."""
        wanted = [_id_of(item) for item in self.payout.items if isinstance(item, kind)]
        found = index.found(wanted)
        missing = []
        for item_id in (i for i in wanted if i not in found):
            recorded = index.wait_for(item_id, self.payout.payout_id)
            if recorded is None:
                missing.append(item_id)
            else:  # recorded between the read and the wait
                found[item_id] = recorded
        if missing:
            logger.info("Payout waits for payments or refunds to be recorded", ids=missing[:20])
            return None
        return found

    def _problem(self, payments: dict[str, RecordedPayment]) -> ReasonCode | None:
        """What QBO would refuse, found before asking it, with a reason of its own."""
        for item in self.payout.items:
            if not isinstance(item, PayoutPayment):
                continue
            recorded = payments[item.payment_id]
            if recorded.deposited_by not in (None, self.payout.payout_id):
                logger.warning(
                    "Payment already deposited by another payout",
                    payment_id=item.payment_id,
                    other_payout_id=recorded.deposited_by,
                )
                return ReasonCode.PAYMENT_ALREADY_DEPOSITED
            if recorded.amount != item.amount:
                logger.warning(
                    "Payout lists a payment with another amount than its QBO Payment",
                    payment_id=item.payment_id,
                    payout_amount=str(item.amount),
                    recorded_amount=str(recorded.amount),
                )
                return ReasonCode.PAYOUT_AMOUNT_MISMATCH
        return None

    def _accounts(self, bank: str) -> DepositAccounts:
        qbo = self.depositor.qbo
        fees = (
            account_for(self.connection, AccountRole.FEES, qbo)
            if needs_fees_account(self.payout)
            else None
        )
        refunds = (
            account_for(self.connection, AccountRole.REFUNDS_CLEARING, qbo)
            if needs_refunds_account(self.payout)
            else None
        )
        return DepositAccounts(bank, fees, refunds)

    # -- outcomes -----------------------------------------------------------------------------

    def _deposited(self, deposit: dict[str, Any], payments: list[RecordedPayment]) -> PayoutResult:
        qbo_deposit_id = str(deposit["Id"])
        total = Decimal(str(deposit.get("TotalAmt", "0")))
        if total != self.payout.amount:  # the model checked the items: this is QBO's doing
            logger.error("Deposit total differs from the payout", qbo_total=str(total))
        # Before the status, so that a death in between leaves a payout that finds its deposit.
        self.index.deposited(payments, self.payout.payout_id)
        old = self.records.finish(
            self.payout.payout_id,
            self.attempt,
            PayoutStatus.DEPOSITED,
            qbo_deposit_id=qbo_deposit_id,
        )
        if old is None:
            logger.warning("Payout deposited by another attempt", qbo_deposit_id=qbo_deposit_id)
            return PayoutResult(
                PayoutOutcome.ALREADY_DEPOSITED, self.payout.payout_id, qbo_deposit_id
            )
        logger.info(
            "Payout deposited", qbo_deposit_id=qbo_deposit_id, lines=len(deposit.get("Line", []))
        )
        return PayoutResult(PayoutOutcome.DEPOSITED, self.payout.payout_id, qbo_deposit_id)

    def _wait(self, why: Reason, **kwargs: Any) -> PayoutResult:
        # Its Payout Waiting event, when this changes the status or reason, comes from the write.
        self.records.finish(
            self.payout.payout_id, self.attempt, PayoutStatus.WAITING, reason=why, **kwargs
        )
        logger.info("Payout waits", reason=why["code"])
        return PayoutResult(PayoutOutcome.WAITING, self.payout.payout_id)

    def _fail(self, why: Reason, maybe_in_qbo: bool = False) -> PayoutResult:
        self.records.finish(
            self.payout.payout_id,
            self.attempt,
            PayoutStatus.FAILED,
            reason=why,
            maybe_in_qbo=maybe_in_qbo,
        )
        logger.error("Payout not deposited", reason=why["code"])
        return PayoutResult(PayoutOutcome.FAILED, self.payout.payout_id)

    def _retry_later(self, error: Exception) -> PayoutResult:
        """A temporary failure, counted: tried again later, or failed once the window of
        attempts is over (the contractor's Retry deposits it)."""
        tries = self.previous.attempts + 1
        if gives_up(tries):
            logger.warning("QuickBooks kept failing; the payout gives up", attempts=tries)
            return self._fail(reason(ReasonCode.GAVE_UP), maybe_in_qbo=True)
        self._wait(reason(ReasonCode.TEMPORARY), maybe_in_qbo=True, attempts=tries)
        raise PayoutNotDeposited(f"payout {self.payout.payout_id} not deposited: {error}", tries)


def _id_of(item: PayoutPayment | PayoutRefund) -> str:
    return item.payment_id if isinstance(item, PayoutPayment) else item.refund_id
