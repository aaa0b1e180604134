"""Consumes the payment system's events, as the bus rules queue them on PaymentEventsQueue:
payment-completed records a payment in QuickBooks, payment-refunded a refund, payout-paid
deposits a payout (partial batch responses: one failing event is tried again later, the others
of the batch are done). Which is which: the record's detail-type, through `_routes`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, assert_never, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import ValidationError, envelopes, parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from qbo_sync.core.delivery import defer
from qbo_sync.core.settings import configured, get_settings
from qbo_sync.core.statuses import PaymentOutcome, PayoutOutcome, RefundOutcome
from qbo_sync.core.tracing import traced
from qbo_sync.events import PaymentCompleted, PaymentRefunded, PayoutPaid, validation_problems
from qbo_sync.payments.recorder import PaymentNotRecorded
from qbo_sync.refunds.recorder import RefundNotRecorded
from qbo_sync.refused import show_refused_payout, show_refused_refund
from qbo_sync.workflows.payment import record_payment
from qbo_sync.workflows.payout import PayoutNotDeposited, deposit_payout
from qbo_sync.workflows.refund import record_refund

logger = Logger()
metrics = Metrics()
# A batch whose every payment failed is still a partial response, not a function error: one
# contractor's QuickBooks outage must not look like a broken function (or raise its alarm).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def metric_name(outcome: PaymentOutcome) -> str:
    match outcome:
        case PaymentOutcome.RECORDED:
            return "PaymentsRecorded"
        case PaymentOutcome.ALREADY_RECORDED:
            return "PaymentsAlreadyRecorded"
        case PaymentOutcome.PARKED:
            return "PaymentsParked"
        case PaymentOutcome.SKIPPED:
            return "PaymentsSkipped"
        case PaymentOutcome.FAILED:
            return "PaymentFailures"
        case _:
            assert_never(outcome)


def refund_metric_name(outcome: RefundOutcome) -> str:
    match outcome:
        case RefundOutcome.RECORDED:
            return "RefundsRecorded"
        case RefundOutcome.ALREADY_RECORDED:
            return "RefundsAlreadyRecorded"
        case RefundOutcome.WAITING:
            return "RefundsWaiting"
        case RefundOutcome.SKIPPED:
            return "RefundsSkipped"
        case RefundOutcome.FAILED:
            return "RefundFailures"
        case _:
            assert_never(outcome)


def payout_metric_name(outcome: PayoutOutcome) -> str:
    match outcome:
        case PayoutOutcome.DEPOSITED:
            return "PayoutsDeposited"
        case PayoutOutcome.ALREADY_DEPOSITED:
            return "PayoutsAlreadyDeposited"
        case PayoutOutcome.WAITING:
            return "PayoutsWaiting"
        case PayoutOutcome.SKIPPED:
            return "PayoutsSkipped"
        case PayoutOutcome.FAILED:
            return "PayoutFailures"
        case _:
            assert_never(outcome)


def record_handler(record: SQSRecord) -> None:
    logger.remove_keys(["contractor_id", "payment_id", "invoice_id", "refund_id", "payout_id"])
    try:
        event = json.loads(record.body)
    except ValueError:
        _refused(record, "Payment event refused", ["body: not JSON"], "PaymentsRefused")
        return
    kind = event.get("detail-type") if isinstance(event, dict) else None
    handle = _routes().get(kind) if isinstance(kind, str) else None
    if handle is None:
        problems = ["detail-type: not a payment-completed, payment-refunded or payout-paid event"]
        _refused(record, "Payment event refused", problems, "PaymentsRefused")
        return
    handle(record, event)


def _routes() -> dict[str, Callable[[SQSRecord, dict[str, Any]], None]]:
    """The queue's events by detail-type (template.yaml's parameters), each to its workflow."""
    settings = get_settings()
    return {
        settings.payment_event_detail_type: _payment,
        settings.refund_event_detail_type: _refund,
        settings.payout_event_detail_type: _payout,
    }


def _refused(record: SQSRecord, message: str, problems: list[str], metric: str) -> None:
    # Retrying cannot fix a malformed event: refuse it once, clearly, and acknowledge it.
    logger.error(message, message_id=record.message_id, problems=problems)
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="PaymentFailures", unit=MetricUnit.Count, value=1)


def _payment(record: SQSRecord, event: dict[str, Any]) -> None:
    try:
        payment = cast(
            PaymentCompleted,
            parse(event=event, model=PaymentCompleted, envelope=envelopes.EventBridgeEnvelope),
        )
    except ValidationError as invalid:
        problems = validation_problems(invalid)
        _refused(record, "Payment event refused", problems, "PaymentsRefused")
        return
    logger.append_keys(
        contractor_id=payment.contractor_id,
        payment_id=payment.payment_id,
        invoice_id=payment.invoice_id,
    )
    try:
        result = record_payment(payment)
    except (PaymentNotRecorded, RefundNotRecorded) as error:
        # Back on the queue after the delay its attempt number gives; the others go on.
        _defer(record, "Payment not recorded; it is tried again later", error)
        raise
    metrics.add_metric(name=metric_name(result.outcome), unit=MetricUnit.Count, value=1)
    logger.info("Payment handled", outcome=result.outcome, qbo_payment_id=result.qbo_payment_id)


def _refund(record: SQSRecord, event: dict[str, Any]) -> None:
    try:
        refund = cast(
            PaymentRefunded,
            parse(event=event, model=PaymentRefunded, envelope=envelopes.EventBridgeEnvelope),
        )
    except ValidationError as invalid:
        problems = validation_problems(invalid)
        _refused(record, "Refund event refused", problems, "RefundsRefused")
        show_refused_refund(event, problems)  # failed on its payment's entry, field named
        return
    logger.append_keys(
        contractor_id=refund.contractor_id,
        refund_id=refund.refund_id,
        payment_id=refund.payment_id,
        invoice_id=refund.invoice_id,
    )
    try:
        result = record_refund(refund)
    except RefundNotRecorded as error:
        _defer(record, "Refund not recorded; it is tried again later", error)
        raise
    metrics.add_metric(name=refund_metric_name(result.outcome), unit=MetricUnit.Count, value=1)
    logger.info("Refund handled", outcome=result.outcome, qbo_refund_id=result.qbo_refund_id)


def _payout(record: SQSRecord, event: dict[str, Any]) -> None:
    try:
        payout = cast(
            PayoutPaid,
            parse(event=event, model=PayoutPaid, envelope=envelopes.EventBridgeEnvelope),
        )
    except ValidationError as invalid:
        # Retrying cannot fix a malformed payout (items that do not add up): refused once.
        problems = validation_problems(invalid)
        _refused(record, "Payout event refused", problems, "PayoutsRefused")
        show_refused_payout(event, problems)  # listed as failed, its reason naming the field
        return
    logger.append_keys(contractor_id=payout.contractor_id, payout_id=payout.payout_id)
    try:
        result = deposit_payout(payout)
    except PayoutNotDeposited as error:
        _defer(record, "Payout not deposited; it is tried again later", error, "PayoutFailures")
        raise
    metrics.add_metric(name=payout_metric_name(result.outcome), unit=MetricUnit.Count, value=1)
    logger.info("Payout handled", outcome=result.outcome, qbo_deposit_id=result.qbo_deposit_id)


def _defer(
    record: SQSRecord,
    message: str,
    error: PaymentNotRecorded | RefundNotRecorded | PayoutNotDeposited,
    metric: str = "PaymentFailures",
) -> None:
    defer(get_settings().payment_events_queue_url, record.receipt_handle, error.delay_seconds)
    logger.warning(
        message, reason=str(error), attempt=error.attempt, retry_in_seconds=error.delay_seconds
    )
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


@traced
@configured
@metrics.log_metrics
# clear_state: keys appended for one record must not label the next invocation's logs.
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
