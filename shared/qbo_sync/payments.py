"""record_payment: one platform payment becomes exactly one QBO Payment linked to its invoice.

Exactly once rests on three things. A claim: one conditional write on the payment's entry in its
invoice's ledger (payment_records.py) lets one attempt at a time through, and answers with what the
payment needs (the QBO invoice and customer, the invoice's open balance, earlier attempts). The same
QBO requestid on every attempt, so QBO answers a repeat with the Payment it already made. And after
an attempt that may have reached QBO without being written down, a lookup in QBO before creating,
because QBO does not promise to remember a requestid for ever.

In the steady state a payment costs one QBO request (the create) and three DynamoDB requests
(the connection, the claim, the record).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync import notifications, reasons, services
from qbo_sync.clock import iso_now, now
from qbo_sync.connections import Connection
from qbo_sync.events import PaymentCompleted
from qbo_sync.export_records import ExportRecord, announce
from qbo_sync.mappings import ExportedInvoice
from qbo_sync.payment_records import (
    BUSY,
    FAILED,
    PARKED,
    RECORDING,
    Claim,
    Ledger,
    PaymentLedger,
)
from qbo_sync.payment_records import RECORDED as ENTRY_RECORDED
from qbo_sync.qbo import (
    AuthenticationFailed,
    QboClient,
    QboError,
    QboUnavailable,
    quote,
    request_id,
)
from qbo_sync.qbo_fields import payment_fields, payment_ref
from qbo_sync.settings import get_settings
from qbo_sync.tokens import ReauthorizationRequired, RefreshInProgress

logger = Logger(child=True)

RECORDED, ALREADY_RECORDED, SKIPPED = "recorded", "already_recorded", "skipped"
# PARKED ("parked") and FAILED ("failed") are shared with the ledger's entry states.

LEASE_SECONDS = 90  # longer than the function's Timeout (60 s in template.yaml)
WAIT_FOR_OTHER_SECONDS = 10.0
NOT_EXPORTED = reasons.reason(reasons.INVOICE_NOT_EXPORTED)
NEEDS_REAUTHORIZATION = reasons.reason(reasons.REAUTHORIZATION)
RETRYING = reasons.reason(reasons.TEMPORARY)


@dataclass(frozen=True)
class PaymentResult:
    status: str
    qbo_payment_id: str | None = None
    payment_id: str | None = None
    invoice_paid: bool | None = None  # None: the invoice's total is not known here


class PaymentNotRecorded(Exception):
    """A transient failure. Raised so that Lambda retries the event, then sends it to the
    dead-letter queue with this message as the reason."""


def record_payment(payment: PaymentCompleted) -> PaymentResult:
    connection = services.connections().get(payment.contractor_id)
    if connection is None:
        logger.info(
            "Payment not recorded: QuickBooks is not connected", payment_id=payment.payment_id
        )
        return PaymentResult(SKIPPED, payment_id=payment.payment_id)
    recorder = _Recorder(connection)
    if not connection.usable:
        return recorder.park_until_reconnected(payment)
    return recorder.record(payment)


def apply_parked_payments(
    connection: Connection,
    invoice_id: str,
    *,
    exported: ExportedInvoice | None = None,
    invoice_total: Decimal | None = None,
    export: ExportRecord | None = None,
) -> list[PaymentResult]:
    """Records the payments that arrived before their invoice was exported (or while the
    connection needed reauthorization). Export calls it after every export of the invoice;
    passing what it just wrote (`exported`, the invoice's `invoice_total`) saves a read here
    and a QBO request for the first overpayment, and its `export` record goes into the same
    write (the ledger item is the invoice's export record)."""
    if not connection.usable:
        return []
    exported = exported or services.mappings(connection).exported_invoice(invoice_id)
    if exported is None:
        return []
    recorder = _Recorder(connection)
    ledger, before = recorder.ledger.attach_invoice(
        invoice_id, exported.qbo_invoice_id, exported.qbo_customer_id, invoice_total, export
    )
    if export is not None:
        announce(export, before, exported.qbo_invoice_id)
    waiting = [entry for entry in ledger.entries.values() if entry.waiting(now())]
    return [recorder.record(PaymentCompleted.model_validate(e.detail)) for e in waiting]


def resume_parked_payments(contractor_id: str) -> int:
    """After a reconnect: records every parked payment whose invoice is exported; returns how
    many were recorded. The others stay parked until their invoice is exported."""
    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        return 0
    recorded = 0
    for invoice_id in _Recorder(connection).ledger.invoices_with_parked_payments():
        try:
            results = apply_parked_payments(connection, invoice_id)
        except PaymentNotRecorded as error:
            # The reconnect must not fail for it; the payment stays parked for the next export.
            logger.error("Parked payment not recorded after reconnect", reason=str(error))
            continue
        recorded += sum(result.status == RECORDED for result in results)
    return recorded


class _Recorder:
    def __init__(self, connection: Connection) -> None:
        settings = get_settings()
        settings.require("mappings_table")
        self.connection = connection
        self.ledger = PaymentLedger(
            settings.mappings_table, connection.contractor_id, connection.realm_id
        )
        self._deposit_account_id = settings.deposit_account_id
        self._qbo: QboClient | None = None

    @property
    def qbo(self) -> QboClient:
        if self._qbo is None:
            self._qbo = services.qbo_client(self.connection)
        return self._qbo

    def park_until_reconnected(self, payment: PaymentCompleted) -> PaymentResult:
        entry = _entry(payment, PARKED, reason=NEEDS_REAUTHORIZATION)
        if not self.ledger.park(
            payment.invoice_id, payment.payment_id, entry, attempt=None, now=now()
        ):
            logger.info("Payment already recorded or being recorded", payment_id=payment.payment_id)
            return PaymentResult(ALREADY_RECORDED, payment_id=payment.payment_id)
        logger.info(
            "Payment parked: QuickBooks needs reauthorization",
            payment_id=payment.payment_id,
            invoice_id=payment.invoice_id,
        )
        return PaymentResult(PARKED, payment_id=payment.payment_id)

    def record(self, payment: PaymentCompleted) -> PaymentResult:
        attempt = uuid.uuid4().hex
        claim = self._claim(payment, attempt)
        previous = claim.previous
        if claim.outcome == ENTRY_RECORDED:
            assert previous is not None
            logger.info(
                "Payment already recorded",
                payment_id=payment.payment_id,
                qbo_payment_id=previous.qbo_payment_id,
            )
            return PaymentResult(ALREADY_RECORDED, previous.qbo_payment_id, payment.payment_id)
        ledger = claim.ledger
        if ledger.qbo_invoice_id is None or ledger.qbo_customer_id is None:
            exported = services.mappings(self.connection).exported_invoice(payment.invoice_id)
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
            entry = _entry(payment, PARKED, reason=NEEDS_REAUTHORIZATION, maybe_in_qbo=True)
            self.ledger.park(
                payment.invoice_id, payment.payment_id, entry, attempt=attempt, now=now()
            )
            logger.info(
                "Payment parked: QuickBooks needs reauthorization", payment_id=payment.payment_id
            )
            return PaymentResult(PARKED, payment_id=payment.payment_id)
        except QboError as error:
            # QboUnavailable is always transient (status 0 included).
            if error.transient or isinstance(error, AuthenticationFailed):
                raise self._released(payment, claim, attempt, error) from error
            return self._failed(payment, attempt, error)
        except RefreshInProgress as error:
            raise self._released(payment, claim, attempt, error) from error
        return self._written_down(payment, ledger, claim, attempt, created, due)

    # -- claim --------------------------------------------------------------------------------

    def _claim(self, payment: PaymentCompleted, attempt: str) -> Claim:
        """Waits a little for an attempt already in progress elsewhere (a duplicate delivery)."""
        deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
        entry = _entry(payment, RECORDING, attempt=attempt, lease_until=now() + LEASE_SECONDS)
        while True:
            claim = self.ledger.claim(payment.invoice_id, payment.payment_id, entry, now())
            if claim.outcome != BUSY:
                return claim
            if time.monotonic() > deadline:
                raise PaymentNotRecorded(
                    f"payment {payment.payment_id} is being recorded by another invocation"
                )
            time.sleep(0.2)

    def _park_claimed(self, payment: PaymentCompleted, claim: Claim, attempt: str) -> PaymentResult:
        previous = claim.previous
        entry = _entry(
            payment,
            PARKED,
            reason=NOT_EXPORTED,
            maybe_in_qbo=bool(previous and previous.maybe_in_qbo),
        )
        self.ledger.park(payment.invoice_id, payment.payment_id, entry, attempt=attempt, now=now())
        logger.info(
            "Payment parked: invoice not exported yet",
            payment_id=payment.payment_id,
            invoice_id=payment.invoice_id,
        )
        # The export may have finished, and looked for parked payments, before this was parked.
        exported = services.mappings(self.connection).exported_invoice(payment.invoice_id)
        if exported is not None:
            for result in apply_parked_payments(
                self.connection, payment.invoice_id, exported=exported
            ):
                if result.payment_id == payment.payment_id:
                    return result
        return PaymentResult(PARKED, payment_id=payment.payment_id)

    # -- QBO ----------------------------------------------------------------------------------

    def _find_or_create(
        self, payment: PaymentCompleted, ledger: Ledger, claim: Claim
    ) -> tuple[dict[str, Any], Decimal | None]:
        """The QBO Payment, and what the invoice is owed if QBO had to be asked."""
        previous = claim.previous
        if previous is not None and (previous.maybe_in_qbo or previous.status == RECORDING):
            found = self._find(payment, ledger)
            if found is not None:
                logger.info("Payment found in QuickBooks", qbo_payment_id=found["Id"])
                return found, None
        assert ledger.qbo_invoice_id is not None
        open_balance = ledger.open_balance
        applied = payment.amount if open_balance is None else min(payment.amount, open_balance)
        try:
            requestid = self._request_id(payment, ledger)
            return self._create(payment, ledger, applied, requestid), None
        except QboError as refused:
            if isinstance(refused, QboUnavailable) or refused.code != "6000" or applied == 0:
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
        entry = _entry(payment, ENTRY_RECORDED, qbo_payment_id=qbo_payment_id, applied=applied)
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
            return PaymentResult(ALREADY_RECORDED, qbo_payment_id, payment.payment_id)
        due = due if due is not None else ledger.due
        paid = None if due is None else total_applied >= due
        notifications.payment_recorded(
            self.connection.contractor_id,
            payment_id=payment.payment_id,
            invoice_id=payment.invoice_id,
            qbo_payment_id=qbo_payment_id,
            invoice_paid=paid if paid is not None else self._invoice_paid(ledger.qbo_invoice_id),
        )
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
            qbo_invoice_id=ledger.qbo_invoice_id,
            invoice_paid=paid,
        )
        return PaymentResult(RECORDED, qbo_payment_id, payment.payment_id, paid)

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
        reason = reasons.for_error(error, what="payment")
        entry = _entry(payment, FAILED, reason=reason, maybe_in_qbo=True)
        self.ledger.release(payment.invoice_id, payment.payment_id, entry, attempt)
        logger.error(
            "QuickBooks refused the payment",
            payment_id=payment.payment_id,
            qbo_code=error.code,
            qbo_detail=error.detail,
            qbo_element=error.element,
        )
        return PaymentResult(FAILED, payment_id=payment.payment_id)

    def _released(
        self, payment: PaymentCompleted, claim: Claim, attempt: str, error: Exception
    ) -> PaymentNotRecorded:
        # A parked payment stays findable as parked; any other is retried by Lambda.
        status = PARKED if payment.payment_id in claim.ledger.parked else FAILED
        entry = _entry(payment, status, reason=RETRYING, maybe_in_qbo=True)
        try:
            self.ledger.release(payment.invoice_id, payment.payment_id, entry, attempt)
        except Exception:
            logger.exception("Could not release the payment; its lease will run out")
        return PaymentNotRecorded(f"payment {payment.payment_id} not recorded: {error}")


def _entry(payment: PaymentCompleted, status: str, **values: Any) -> dict[str, Any]:
    entry = {
        "status": status,
        "amount": payment.amount,
        "detail": payment.model_dump(mode="json"),
        "updated_at": iso_now(),
        **values,
    }
    if "lease_until" in entry:
        entry["lease_until"] = int(entry["lease_until"])
    if status == ENTRY_RECORDED:
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
