"""Consumes invoice-sent messages from the FIFO queue and exports each invoice to QuickBooks."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import ValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from qbo_sync.dead_letters import dead_letter
from qbo_sync.events import parse_invoice_sent, validation_problems
from qbo_sync.export import ExportRefused, export_invoice

logger = Logger()
metrics = Metrics()


def _tracing_on() -> bool:
    """As Tracer decides, but before constructing it: Tracer() imports the X-Ray SDK (a quarter
    of a second of cold start) even where it then disables itself."""
    disabled = os.getenv("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true", "yes", "on")
    in_lambda = bool(os.getenv("LAMBDA_TASK_ROOT")) and not os.getenv("AWS_SAM_LOCAL")
    return in_lambda and not disabled


tracer = Tracer() if _tracing_on() else None
# A failure stops only that contractor's message group; other contractors' messages go on.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# Below this, a record is not started: it goes back to SQS rather than being cut off mid-way.
MIN_REMAINING_MS = 20_000

METRIC_BY_STATUS = {
    "exported": "InvoicesExported",
    "unchanged": "InvoicesAlreadyExported",
    "updated": "InvoicesUpdated",
    "skipped": "InvoicesSkipped",
    "pending": "InvoicesPending",
}


class OutOfTime(Exception):
    """Too little of the invocation is left to export another invoice safely."""


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    logger.remove_keys(["contractor_id", "invoice_id"])
    if lambda_context.get_remaining_time_in_millis() < MIN_REMAINING_MS:
        raise OutOfTime(record.message_id)
    try:
        message = parse_invoice_sent(record.body)
    except ValidationError as invalid:
        problems = validation_problems(invalid)
        logger.error(
            "Invoice-sent message refused", message_id=record.message_id, problems=problems
        )
        _refuse(record, lambda_context, "invalid message: " + "; ".join(problems))
        return
    logger.append_keys(contractor_id=message.contractor_id, invoice_id=message.invoice.id)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    try:
        result = export_invoice(message, receive_count=receive_count)
    except ExportRefused as refused:
        logger.error(
            "Invoice refused by QuickBooks",
            reason=refused.reason,
            error_code=refused.code,
            detail=refused.detail,
            element=refused.element,
        )
        _refuse(record, lambda_context, refused.reason, refused.code)
        return
    except Exception as failure:
        logger.warning("Invoice not exported; SQS delivers it again", error=str(failure))
        metrics.add_metric(name="ExportFailures", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=METRIC_BY_STATUS[result.status], unit=MetricUnit.Count, value=1)


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


@metrics.log_metrics
# clear_state: keys appended for one record must not label the next invocation's logs.
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


if tracer is not None:
    lambda_handler = tracer.capture_lambda_handler(lambda_handler)
