"""Consumes the invoice-sent FIFO queue and the history queue (docs/interface.md §15, the same
messages replayed): each invoice exported to QuickBooks, or voided, once."""

from __future__ import annotations

from qbo_sync.core import startup  # first: the rest is imported without garbage collection

# isort: split

from typing import Any, assert_never

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError  # not the parser's re-export: that package loads every model
from qbo_sync.core.delivery import Deferred, HeldUp, defer
from qbo_sync.core.settings import configured, get_settings
from qbo_sync.core.statuses import ExportOutcome, VoidOutcome
from qbo_sync.core.tracing import traced
from qbo_sync.events import validation_problems
from qbo_sync.events.invoices import parse_invoice_message
from qbo_sync.invoices.dead_letters import dead_letter
from qbo_sync.workflows.export import Refused
from qbo_sync.workflows.history import handle_message
from qbo_sync.workflows.invoice_batch import invoice_batch

logger = Logger()
metrics = Metrics()
# A failure stops only that contractor's message group; other contractors' messages go on.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# A batch whose every message failed is still a partial response, not a function error: one
# contractor's QuickBooks outage must not look like a broken function (or raise its alarm).
processor.raise_on_entire_batch_failure = False
# Below this, a record is not started: it goes back to SQS rather than being cut off mid-way.
MIN_REMAINING_MS = 20_000
# This invocation's deferred messages, whose groups' held-up messages come back with them.
held_up = HeldUp()


def metric_name(outcome: ExportOutcome | VoidOutcome) -> str:
    match outcome:
        case ExportOutcome.EXPORTED:
            return "InvoicesExported"
        case ExportOutcome.UNCHANGED:
            return "InvoicesAlreadyExported"
        case ExportOutcome.ADOPTED:
            return "InvoicesAdopted"
        case ExportOutcome.UPDATED:
            return "InvoicesUpdated"
        case ExportOutcome.SKIPPED:
            return "InvoicesSkipped"
        case ExportOutcome.PENDING:
            return "InvoicesPending"
        case ExportOutcome.GAVE_UP:
            return "InvoicesGaveUp"
        case ExportOutcome.VOIDED:
            return "InvoicesIgnoredAsVoided"
        case ExportOutcome.DISMISSED:
            return "InvoicesIgnoredAsDismissed"
        case VoidOutcome.VOIDED:
            return "InvoicesVoided"
        case VoidOutcome.ALREADY_VOIDED:
            return "InvoicesAlreadyVoided"
        case VoidOutcome.NOT_EXPORTED:
            return "InvoicesVoidedBeforeExport"
        case VoidOutcome.KEPT:
            return "InvoiceVoidsKept"
        case _:
            assert_never(outcome)


class OutOfTime(Exception):
    """Too little of the invocation is left to export another invoice safely."""


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    logger.remove_keys(["contractor_id", "invoice_id"])
    if lambda_context.get_remaining_time_in_millis() < MIN_REMAINING_MS:
        raise OutOfTime(record.message_id)
    try:
        message = parse_invoice_message(record.body)
    except ValidationError as invalid:
        problems = validation_problems(invalid)
        logger.error(
            "Invoice-sent message refused", message_id=record.message_id, problems=problems
        )
        _refuse(record, lambda_context, "invalid message: " + "; ".join(problems))
        return
    invoice_id = getattr(getattr(message, "invoice", None), "id", None)
    logger.append_keys(contractor_id=message.contractor_id, invoice_id=invoice_id)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    try:
        outcome = handle_message(message, receive_count=receive_count)
    except Refused as refused:
        logger.error(
            "Invoice refused by QuickBooks",
            reason=refused.message,
            error_code=refused.code,
            detail=refused.detail,
            element=refused.element,
        )
        _refuse(record, lambda_context, refused.message, refused.code)
        return
    except Deferred as deferred:
        # Back on the queue later rather than after the queue's visibility timeout; the
        # contractor's other messages wait behind it, in order, and other contractors go on.
        queue_url = get_settings().queue_url_of(record.event_source_arn)
        defer(queue_url, record.receipt_handle, deferred.delay_seconds)
        group = record.attributes.message_group_id or ""
        held_up.deferred(group, record.message_id, deferred.delay_seconds)
        logger.warning(
            "Invoice not exported; it is tried again later",
            attempt=deferred.attempt,
            retry_in_seconds=deferred.delay_seconds,
            error=str(deferred.__cause__),
        )
        metrics.add_metric(name="ExportFailures", unit=MetricUnit.Count, value=1)
        raise
    except Exception as failure:
        logger.warning("Invoice not exported; SQS delivers it again", error=str(failure))
        metrics.add_metric(name="ExportFailures", unit=MetricUnit.Count, value=1)
        raise
    if outcome is not None:  # None: a history's closing message
        metrics.add_metric(name=metric_name(outcome), unit=MetricUnit.Count, value=1)


def _refuse(
    record: SQSRecord, lambda_context: LambdaContext, reason: str, error_code: str = ""
) -> None:
    """Copied to the dead-letter queue with the reason, then acknowledged: no retries."""
    dead_letter(
        record.body,
        message_id=record.message_id,
        group_id=record.attributes.message_group_id or "refused",
        reason=reason,
        error_code=error_code,
        lambda_context=lambda_context,
    )
    metrics.add_metric(name="InvoicesRefused", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ExportFailures", unit=MetricUnit.Count, value=1)


@traced
@configured
@metrics.log_metrics
# clear_state: keys appended for one record must not label the next invocation's logs.
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    held_up.start()
    records = event.get("Records") or [{}]
    # What the batch's messages share is read once for them all (workflows/invoice_batch.py).
    with invoice_batch([str(record.get("body", "")) for record in records]):
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    failed = {str(item["itemIdentifier"]) for item in response["batchItemFailures"]}
    queue_url = get_settings().queue_url_of(str(records[0].get("eventSourceARN", "")))
    held_up.defer_the_rest(queue_url, event, failed)
    return response


startup.started()
