"""Consumes the Mappings and Connections tables' change streams and emits each change's events
(qbo_sync/outbox.py). Partial batch responses: a record whose events EventBridge did not take
is delivered again, from that record on, in order."""

from __future__ import annotations

from qbo_sync.core import startup  # first: the rest is imported without garbage collection

# isort: split

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from qbo_sync.core.settings import configured
from qbo_sync.core.tracing import traced
from qbo_sync.outbox import emit_changes, seconds_from_sent_to_exported, table_of

logger = Logger()
metrics = Metrics()
# A batch whose every record failed (EventBridge unavailable) is a partial response too.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


def record_handler(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    assert change is not None and record.event_id is not None
    table = table_of(str(record.event_source_arn))
    emitted = emit_changes(table, record.event_id, change.old_image, change.new_image)
    latency = seconds_from_sent_to_exported(table, change.old_image, change.new_image)
    if latency is not None:
        metrics.add_metric(name="SecondsFromSentToExported", unit=MetricUnit.Seconds, value=latency)
    metrics.add_metric(name="ChangesRead", unit=MetricUnit.Count, value=1)
    if emitted:
        metrics.add_metric(name="EventsEmitted", unit=MetricUnit.Count, value=emitted)


@traced
@configured
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


startup.started()
