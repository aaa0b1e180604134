"""Consumes payment-completed events from EventBridge and records each payment in QuickBooks."""

from __future__ import annotations

from typing import Any, assert_never, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import ValidationError, envelopes, parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from qbo_sync.core.settings import configured
from qbo_sync.core.statuses import PaymentOutcome
from qbo_sync.core.tracing import traced
from qbo_sync.events import PaymentCompleted, validation_problems
from qbo_sync.payments.recorder import PaymentNotRecorded
from qbo_sync.workflows.payment import record_payment

logger = Logger()
metrics = Metrics()


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


@traced
@configured
@metrics.log_metrics
# clear_state: keys appended for one record must not label the next invocation's logs.
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        payment = cast(
            PaymentCompleted,
            parse(event=event, model=PaymentCompleted, envelope=envelopes.EventBridgeEnvelope),
        )
    except ValidationError as invalid:
        # Retrying cannot fix a malformed event: refuse it once, clearly, and do not raise.
        problems = validation_problems(invalid)
        logger.error("Payment event refused", event_id=event.get("id"), problems=problems)
        metrics.add_metric(name="PaymentsRefused", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="PaymentFailures", unit=MetricUnit.Count, value=1)
        return {"status": "refused"}
    logger.append_keys(
        contractor_id=payment.contractor_id,
        payment_id=payment.payment_id,
        invoice_id=payment.invoice_id,
    )
    try:
        result = record_payment(payment)
    except PaymentNotRecorded as error:
        # Raised on purpose: Lambda retries the event, then sends it to the dead-letter queue.
        logger.error("Payment not recorded; it will be retried", reason=str(error))
        metrics.add_metric(name="PaymentFailures", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=metric_name(result.outcome), unit=MetricUnit.Count, value=1)
    return {"status": result.outcome, "qbo_payment_id": result.qbo_payment_id}
