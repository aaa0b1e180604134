"""Consumes invoice-sent messages from the FIFO queue and exports each invoice to QuickBooks."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import ValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from qbo_sync.events import parse_invoice_sent, validation_problems
from qbo_sync.export import export_invoice

logger = Logger()
metrics = Metrics()
# A failure stops only that contractor's message group; other contractors' messages go on.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)

METRIC_BY_STATUS = {
    "exported": "InvoicesExported",
    "unchanged": "InvoicesAlreadyExported",
    "updated": "InvoicesUpdated",
    "skipped": "InvoicesSkipped",
    "pending": "InvoicesPending",
}


def record_handler(record: SQSRecord) -> None:
    try:
        message = parse_invoice_sent(record.body)
    except ValidationError as invalid:
        problems = validation_problems(invalid)
        logger.error(
            "Invoice-sent message refused", message_id=record.message_id, problems=problems
        )
        raise
    logger.append_keys(contractor_id=message.contractor_id, invoice_id=message.invoice.id)
    result = export_invoice(message)
    metrics.add_metric(name=METRIC_BY_STATUS[result.status], unit=MetricUnit.Count, value=1)


@metrics.log_metrics
# clear_state: keys appended for one record must not label the next invocation's logs.
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
