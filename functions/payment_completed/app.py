"""Consumes the payment system's events, as the bus rules queue them on PaymentEventsQueue:
each payment-completed event records a payment in QuickBooks, each payout-paid event deposits a
payout (partial batch responses: one failing event is tried again later, the others of the
batch are done). Which is which: the record's detail-type, through record_handler's table
(any other detail-type is a payment's, as the payment rule's parameter may be changed)."""

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
from qbo_sync.core.statuses import PaymentOutcome, PayoutOutcome
from qbo_sync.core.tracing import traced
from qbo_sync.events import PaymentCompleted, PayoutPaid, validation_problems
from qbo_sync.payments.recorder import PaymentNotRecorded
from qbo_sync.workflows.payment import record_payment
from qbo_sync.workflows.payout import PayoutNotDeposited, deposit_payout

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
    logger.remove_keys(["contractor_id", "payment_id", "invoice_id", "payout_id"])
    try:
        event = json.loads(record.body)
    except ValueError:
        event = None
    detail_type = event.get("detail-type") if isinstance(event, dict) else None
    handlers: dict[str | None, Callable[[SQSRecord, Any], None]] = {
        get_settings().payout_event_detail_type: payout_handler,
    }
    handlers.get(detail_type, payment_handler)(record, event)


def payout_handler(record: SQSRecord, event: Any) -> None:
    try:
        payout = cast(
            PayoutPaid,
            parse(event=event, model=PayoutPaid, envelope=envelopes.EventBridgeEnvelope),
        )
    except ValidationError as invalid:
        # Retrying cannot fix a malformed payout (items that do not add up): refused once.
        problems = validation_problems(invalid)
        logger.error("Payout event refused", message_id=record.message_id, problems=problems)
        metrics.add_metric(name="PayoutsRefused", unit=MetricUnit.Count, value=1)
        return
    logger.append_keys(contractor_id=payout.contractor_id, payout_id=payout.payout_id)
    try:
        result = deposit_payout(payout)
    except PayoutNotDeposited as error:
        defer(get_settings().payment_events_queue_url, record.receipt_handle, error.delay_seconds)
        logger.warning(
            "Payout not deposited; it is tried again later",
            reason=str(error),
            attempt=error.attempt,
            retry_in_seconds=error.delay_seconds,
        )
        metrics.add_metric(name="PayoutFailures", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=payout_metric_name(result.outcome), unit=MetricUnit.Count, value=1)
    logger.info("Payout handled", outcome=result.outcome, qbo_deposit_id=result.qbo_deposit_id)


def payment_handler(record: SQSRecord, event: Any) -> None:
    try:
        if event is None:
            raise ValueError("not JSON")
        payment = cast(
            PaymentCompleted,
            parse(event=event, model=PaymentCompleted, envelope=envelopes.EventBridgeEnvelope),
        )
    except (ValueError, ValidationError) as invalid:
        # Retrying cannot fix a malformed event: refuse it once, clearly, and acknowledge it.
        problems = (
            validation_problems(invalid)
            if isinstance(invalid, ValidationError)
            else ["body: not JSON"]
        )
        logger.error("Payment event refused", message_id=record.message_id, problems=problems)
        metrics.add_metric(name="PaymentsRefused", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="PaymentFailures", unit=MetricUnit.Count, value=1)
        return
    logger.append_keys(
        contractor_id=payment.contractor_id,
        payment_id=payment.payment_id,
        invoice_id=payment.invoice_id,
    )
    try:
        result = record_payment(payment)
    except PaymentNotRecorded as error:
        # Back on the queue after the delay its attempt number gives; the others go on.
        defer(get_settings().payment_events_queue_url, record.receipt_handle, error.delay_seconds)
        logger.warning(
            "Payment not recorded; it is tried again later",
            reason=str(error),
            attempt=error.attempt,
            retry_in_seconds=error.delay_seconds,
        )
        metrics.add_metric(name="PaymentFailures", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=metric_name(result.outcome), unit=MetricUnit.Count, value=1)
    logger.info("Payment handled", outcome=result.outcome, qbo_payment_id=result.qbo_payment_id)


@traced
@configured
@metrics.log_metrics
# clear_state: keys appended for one record must not label the next invocation's logs.
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
