"""Consumes the payment system's events, as the bus rules queue them on PaymentEventsQueue:
payment-completed records a payment in QuickBooks, payment-refunded a refund, payout-paid
deposits a payout (partial batch responses: one failing event is tried again later, the others
of the batch are done). Which is which: the record's detail-type, through one route table."""

from __future__ import annotations

from qbo_sync.core import startup  # first: the rest is imported without garbage collection

# isort: split

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError
from qbo_sync.connection import services
from qbo_sync.core.delivery import Deferred, defer
from qbo_sync.core.settings import configured, get_settings
from qbo_sync.core.statuses import Outcome
from qbo_sync.core.tracing import traced
from qbo_sync.events import validation_problems
from qbo_sync.events.payments import PaymentCompleted, PaymentRefunded
from qbo_sync.workflows.payment import record_payment
from qbo_sync.workflows.payment_batch import payment_batch

logger = Logger()
metrics = Metrics()
# A batch whose every payment failed is still a partial response, not a function error: one
# contractor's QuickBooks outage must not look like a broken function (or raise its alarm).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@dataclass(frozen=True)
class Flow:
    """What handles one kind of event: its model and its workflow, and what a refused event of
    that kind leaves for the contractor to see (refused.py)."""

    model: type[BaseModel]
    run: Callable[[Any], Any]  # returns a result with `outcome` (Outcome) and the QBO id
    refused: Callable[[Any, list[str]], object] | None = None


@cache
def _payment() -> Flow:
    return Flow(PaymentCompleted, record_payment)


# A refund's workflow and a payout's modules are imported with the first event of their kind:
# most of this function's cold starts serve payments (bench figure 1). (The refund's model is in
# the payments' module, loaded anyway.)
@cache
def _refund() -> Flow:
    from qbo_sync.refused import show_refused_refund
    from qbo_sync.workflows.refund import record_refund

    # A refused refund is shown failed on its payment's entry, the field named.
    return Flow(PaymentRefunded, record_refund, show_refused_refund)


@cache
def _payout() -> Flow:
    from qbo_sync.events.payouts import PayoutPaid
    from qbo_sync.refused import show_refused_payout
    from qbo_sync.workflows.payout import deposit_payout

    # A refused payout is listed as failed, its reason naming the field.
    return Flow(PayoutPaid, deposit_payout, show_refused_payout)


@dataclass(frozen=True)
class Route:
    """One kind of event: how it is handled, and the words its logs and metrics use."""

    flow: Callable[[], Flow]
    noun: str  # "Payment": metric PaymentsRecorded, log "Payment handled"
    done: str  # what WRITTEN is called: "recorded", "deposited"
    waiting: str  # what WAITING is called: "parked", "waiting"
    qbo_id: str  # the result's attribute (and log key) of the QBO entity's id
    log_keys: tuple[str, ...]  # the model's ids that label the logs
    not_done: str  # the log of a deferral

    def word(self, outcome: Outcome) -> str:
        """The outcome as this flow's logs name it ("already_recorded", "parked", ...)."""
        match outcome:
            case Outcome.WRITTEN:
                return self.done
            case Outcome.ALREADY:
                return f"already_{self.done}"
            case Outcome.WAITING:
                return self.waiting
            case Outcome.SKIPPED | Outcome.FAILED:
                return outcome.value

    def metric(self, outcome: Outcome) -> str:
        if outcome == Outcome.FAILED:
            return self.failures
        word = "".join(part.capitalize() for part in self.word(outcome).split("_"))
        return f"{self.noun}s{word}"

    @property
    def failures(self) -> str:
        return f"{self.noun}Failures"


PAYMENT = Route(
    _payment,
    "Payment",
    "recorded",
    "parked",
    "qbo_payment_id",
    ("contractor_id", "payment_id", "invoice_id"),
    "Payment not recorded; it is tried again later",
)
REFUND = Route(
    _refund,
    "Refund",
    "recorded",
    "waiting",
    "qbo_refund_id",
    ("contractor_id", "refund_id", "payment_id", "invoice_id"),
    "Refund not recorded; it is tried again later",
)
PAYOUT = Route(
    _payout,
    "Payout",
    "deposited",
    "waiting",
    "qbo_deposit_id",
    ("contractor_id", "payout_id"),
    "Payout not deposited; it is tried again later",
)
LOG_KEYS = sorted({key for route in (PAYMENT, REFUND, PAYOUT) for key in route.log_keys})


def _routes() -> dict[str, Route]:
    """The queue's events by detail-type (template.yaml's parameters)."""
    settings = get_settings()
    return {
        settings.payment_event_detail_type: PAYMENT,
        settings.refund_event_detail_type: REFUND,
        settings.payout_event_detail_type: PAYOUT,
    }


def record_handler(record: SQSRecord) -> None:
    logger.remove_keys(LOG_KEYS)
    try:
        event = json.loads(record.body)
    except ValueError:
        _refused(record, PAYMENT, ["body: not JSON"])
        return
    kind = event.get("detail-type") if isinstance(event, dict) else None
    route = _routes().get(kind) if isinstance(kind, str) else None
    if route is None:
        problems = ["detail-type: not a payment-completed, payment-refunded or payout-paid event"]
        _refused(record, PAYMENT, problems)
        return
    flow = route.flow()
    try:
        # The event's detail, as Powertools' EventBridgeEnvelope would hand it over: that
        # package builds every model of every AWS event it knows on import, a third of this
        # function's cold start (bench figure 1), for the one field read here.
        parsed = flow.model.model_validate(event.get("detail"))
    except ValidationError as invalid:
        # Retrying cannot fix a malformed event (a payout whose items do not add up).
        problems = validation_problems(invalid)
        _refused(record, route, problems)
        if flow.refused is not None:
            flow.refused(event, problems)
        return
    logger.append_keys(**{key: getattr(parsed, key) for key in route.log_keys})
    try:
        result = flow.run(parsed)
    except Deferred as deferred:
        # Back on the queue after the delay its attempt number gives; the others go on.
        queue_url = get_settings().payment_events_queue_url
        defer(queue_url, record.receipt_handle, deferred.delay_seconds)
        logger.warning(
            route.not_done,
            reason=str(deferred),
            attempt=deferred.attempt,
            retry_in_seconds=deferred.delay_seconds,
        )
        metrics.add_metric(name=route.failures, unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=route.metric(result.outcome), unit=MetricUnit.Count, value=1)
    logger.info(
        f"{route.noun} handled",
        outcome=route.word(result.outcome),
        **{route.qbo_id: getattr(result, route.qbo_id)},
    )


def _refused(record: SQSRecord, route: Route, problems: list[str]) -> None:
    # Retrying cannot fix a malformed event: refuse it once, clearly, and acknowledge it.
    logger.error(f"{route.noun} event refused", message_id=record.message_id, problems=problems)
    metrics.add_metric(name=f"{route.noun}sRefused", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="PaymentFailures", unit=MetricUnit.Count, value=1)


@traced
@configured
@metrics.log_metrics
# clear_state: keys appended for one record must not label the next invocation's logs.
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # Each contractor's connection is read once for the batch's payments (store.py's batch),
    # and what the payments share is read ahead (workflows/payment_batch.py).
    records = event.get("Records") or []
    with services.connections().batch(), payment_batch([str(r.get("body", "")) for r in records]):
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )


startup.started()
