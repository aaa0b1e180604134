"""A payout-paid event (docs/interface.md §10): one QBO Deposit, exactly once, or a wait for
what it needs (its payments recorded, a bank account chosen, QuickBooks reconnected). Its
Payout Deposited or Payout Waiting event comes from the payout item's change
(payouts/changes.py, the outbox), only when its status or reason changed.

`PayoutWrite` is the payout's adapter of once.py (docs/exactly-once.md). The steps cross
domains, so they are sequenced here: the payout item's claim (payouts/), the bank account
(accounts/), the recorded payments (ledger/payment_index.py), the refunds (the same index's
refund items), the fees and refunds clearing accounts (accounts/clearing.py), the deposit, and
the payments marked as deposited. In the steady state that is one QBO request (the create)
and, for a payout of n payments, ⌈n/100⌉ + ⌈n/25⌉ + 4 DynamoDB requests.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

from aws_lambda_powertools import Logger

from qbo_sync.accounts.clearing import AccountRole, account_for, chosen_account
from qbo_sync.company.setup import currency_ref
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired
from qbo_sync.core.delivery import gives_up
from qbo_sync.core.reasons import Reason, ReasonCode, reason, recorded_by_hand
from qbo_sync.core.statuses import Outcome, PayoutStatus
from qbo_sync.events.payouts import PayoutPaid, PayoutPayment, PayoutRefund
from qbo_sync.ledger.payment_index import PaymentIndex, RecordedPayment, payment_index, refund_index
from qbo_sync.once import (
    LEASE_SECONDS,
    ClaimStatus,
    Held,
    Unsettled,
    Wait,
    Written,
    request_ids,
    write_once,
)
from qbo_sync.payouts.lines import (
    DepositAccounts,
    deposit_fields,
    needs_fees_account,
    needs_refunds_account,
)
from qbo_sync.payouts.listing import payout_listing
from qbo_sync.payouts.queue import send_payouts
from qbo_sync.payouts.records import payout_records
from qbo_sync.qbo.client import QboClient
from qbo_sync.qbo.faults import Refused
from qbo_sync.qbo.marker import find_ours

logger = Logger(child=True)

__all__ = ["LEASE_SECONDS", "PayoutResult", "deposit_payout", "resume_all_waiting"]


class PayoutResult(NamedTuple):
    outcome: Outcome
    payout_id: str
    qbo_deposit_id: str | None = None


def deposit_payout(payout: PayoutPaid) -> PayoutResult:
    connection = services.connections().get(payout.contractor_id)
    if connection is None:
        logger.info("Payout not deposited: QuickBooks is not connected")
        return PayoutResult(Outcome.SKIPPED, payout.payout_id)
    result = write_once(PayoutWrite(connection, payout), request_ids(connection))
    if result.outcome == Outcome.ALREADY:
        logger.info("Payout already deposited", qbo_deposit_id=result.qbo_id)
    elif result.reason is not None:
        logger.info("Payout not deposited", reason=result.reason["code"])
    return PayoutResult(result.outcome, payout.payout_id, result.qbo_id)


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


class _Plan(NamedTuple):
    fields: dict[str, Any]  # the Deposit's
    payments: list[RecordedPayment]
    refunds: list[RecordedPayment]


class PayoutWrite:
    """The payout's adapter of once.py: its slot is the payout item (payouts/records.py)."""

    what = "payout"

    def __init__(self, connection: Connection, payout: PayoutPaid) -> None:
        self.connection, self.payout = connection, payout
        self.records = payout_records(connection.contractor_id, connection.realm_id)
        self.index = payment_index(connection.contractor_id, connection.realm_id)
        self.refunds = refund_index(connection.contractor_id, connection.realm_id)

    @cached_property
    def qbo(self) -> QboClient:
        return services.usable_client(self.connection)

    def carried_claim(self) -> tuple[str, Held] | None:
        return None  # claimed on its own: the claim answers what its plan needs

    def claim(self, attempt: str, lease_until: int, at: float) -> Held:
        claim = self.records.claim(self.payout, attempt, at, lease_until)
        previous = claim.previous
        if not claim.claimed:
            if previous.status == PayoutStatus.DEPOSITED:
                return Held(ClaimStatus.DONE, qbo_id=previous.values.get("qbo_deposit_id"))
            return Held(ClaimStatus.BUSY)
        return Held(
            ClaimStatus.CLAIMED,
            maybe_in_qbo=previous.maybe_in_qbo,
            attempts=previous.attempts,
            retry=previous.retry,
        )

    def settle(self, attempt: str, end: Written | Unsettled, plan: _Plan | None) -> bool:
        if isinstance(end, Written):
            assert plan is not None
            return self._deposited(attempt, end.entity, plan)
        status = PayoutStatus.FAILED if end.failed else PayoutStatus.WAITING
        # Its Payout Waiting event, when this changes the status or reason, comes from the write.
        finished = self.records.finish(
            self.payout.payout_id,
            attempt,
            status,
            reason=end.reason,
            maybe_in_qbo=end.maybe_in_qbo,
            attempts=end.attempts or None,
        )
        return finished is not None

    def gives_up(self, attempts: int) -> bool:
        return gives_up(attempts)

    # -- the preconditions ----------------------------------------------------------------------

    def plan(self, held: Held) -> _Plan | Wait:
        if not self.connection.usable:
            raise ReauthorizationRequired()
        bank = chosen_account(self.connection, AccountRole.PAYOUT)
        if bank is None:
            return Wait(reason(ReasonCode.PAYOUT_ACCOUNT_REQUIRED))
        payments = self._recorded(self.index, PayoutPayment)
        refunds = self._recorded(self.refunds, PayoutRefund)
        if payments is None or refunds is None:
            return Wait(reason(ReasonCode.PAYMENT_NOT_RECORDED))
        problem = self._problem(payments)
        if problem is not None:
            raise Refused(f"payout refused: {problem['code']}", problem)
        fields = deposit_fields(
            self.payout,
            self._accounts(bank),
            {pid: p.qbo_payment_id for pid, p in payments.items()},
            {rid: r.qbo_payment_id for rid, r in refunds.items()},
        )
        return _Plan(fields, list(payments.values()), list(refunds.values()))

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

    def _problem(self, payments: dict[str, RecordedPayment]) -> Reason | None:
        """What QBO would refuse, found before asking it, with a reason of its own."""
        for item in self.payout.items:
            if not isinstance(item, PayoutPayment):
                continue
            recorded = payments[item.payment_id]
            if recorded.by_hand:
                # §15: the invoice was adopted and paid by hand; a deposit of the platform's
                # amount would not match what QuickBooks holds. The bookkeeper deposits it.
                logger.warning("Payout names a payment paid by hand", payment_id=item.payment_id)
                return recorded_by_hand(item.payment_id)
            if recorded.deposited_by not in (None, self.payout.payout_id):
                logger.warning(
                    "Payment already deposited by another payout",
                    payment_id=item.payment_id,
                    other_payout_id=recorded.deposited_by,
                )
                return reason(ReasonCode.PAYMENT_ALREADY_DEPOSITED)
            if recorded.amount != item.amount:
                logger.warning(
                    "Payout lists a payment with another amount than its QBO Payment",
                    payment_id=item.payment_id,
                    payout_amount=str(item.amount),
                    recorded_amount=str(recorded.amount),
                )
                return reason(ReasonCode.PAYOUT_AMOUNT_MISMATCH)
        return None

    def _accounts(self, bank: str) -> DepositAccounts:
        qbo = self.qbo
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

    # -- QuickBooks -----------------------------------------------------------------------------

    def request_parts(self, plan: _Plan) -> tuple[str, ...]:
        return ("deposit", self.payout.payout_id)

    def find(self, plan: _Plan) -> dict[str, Any] | None:
        payout = self.payout
        found = find_ours(self.qbo, "Deposit", "payout", payout.payout_id, payout.arrival_date)
        if found is not None:
            logger.info("Deposit found in QuickBooks", qbo_deposit_id=found["Id"])
        return found

    def create(self, plan: _Plan, requestid: str) -> dict[str, Any]:
        ref = currency_ref(self.connection, self.qbo, self.payout.currency)
        fields = {**plan.fields, "CurrencyRef": ref} if ref else plan.fields
        return self.qbo.create("Deposit", fields, requestid)

    # -- the outcome ----------------------------------------------------------------------------

    def _deposited(self, attempt: str, deposit: dict[str, Any], plan: _Plan) -> bool:
        qbo_deposit_id = str(deposit["Id"])
        total = Decimal(str(deposit.get("TotalAmt", "0")))
        if total != self.payout.amount:  # the model checked the items: this is QBO's doing
            logger.error("Deposit total differs from the payout", qbo_total=str(total))
        # Before the status, so that a death in between leaves a payout that finds its deposit
        # and its payments marked (both writes are safe to repeat).
        self.refunds.deposited(plan.refunds, self.payout.payout_id)
        self.index.deposited(plan.payments, self.payout.payout_id)
        old = self.records.finish(
            self.payout.payout_id, attempt, PayoutStatus.DEPOSITED, qbo_deposit_id=qbo_deposit_id
        )
        if old is None:
            return False
        logger.info(
            "Payout deposited", qbo_deposit_id=qbo_deposit_id, lines=len(deposit.get("Line", []))
        )
        return True

    def side_records(self, plan: _Plan | None, qbo_id: str, written: Written | None) -> None:
        """None: the payments and refunds are marked before the settle (see _deposited)."""


def _id_of(item: PayoutPayment | PayoutRefund) -> str:
    return item.payment_id if isinstance(item, PayoutPayment) else item.refund_id
