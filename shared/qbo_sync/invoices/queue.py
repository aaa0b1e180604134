"""The one place that sends to the invoice-sent FIFO queue (the platform is the other sender).

Both sends go to the contractor's message group, so they keep its order, and each names its own
deduplication id on purpose: FIFO deduplication (five minutes) must not swallow a second resume
of an invoice kept again, nor a second retry the contractor asks for.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from qbo_sync.core import aws
from qbo_sync.core.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

    from qbo_sync.invoices.kept import KeptInvoice

logger = Logger(child=True)

SQS_BATCH = 10


def send_kept(contractor_id: str, kept: list[KeptInvoice]) -> list[KeptInvoice]:
    """Sends kept messages in batches; returns those SQS took (the others stay kept)."""
    sent: list[KeptInvoice] = []
    for start in range(0, len(kept), SQS_BATCH):
        chunk = kept[start : start + SQS_BATCH]
        response = aws.sqs().send_message_batch(
            QueueUrl=get_settings().invoice_sent_queue_url,
            Entries=[
                {
                    "Id": str(index),
                    "MessageBody": message.body,
                    "MessageGroupId": contractor_id,
                    # Unique per keeping (see the module's docstring).
                    "MessageDeduplicationId": hashlib.sha256(
                        f"{message.invoice_id}\x1f{message.keep_id}".encode()
                    ).hexdigest(),
                }
                for index, message in enumerate(chunk)
            ],
        )
        failed = {entry["Id"] for entry in response.get("Failed", [])}
        for index, message in enumerate(chunk):
            if str(index) in failed:
                logger.error(
                    "Kept invoice not re-sent; it stays kept",
                    contractor_id=contractor_id,
                    invoice_id=message.invoice_id,
                )
            else:
                sent.append(message)
    return sent


def send_retry(contractor_id: str, body: str) -> None:
    aws.sqs().send_message(
        QueueUrl=get_settings().invoice_sent_queue_url,
        MessageBody=body,
        MessageGroupId=contractor_id,
        # Each retry is its own message (see the module's docstring).
        MessageDeduplicationId=uuid.uuid4().hex,
    )


def send_history(contractor_id: str, request_id: str, bodies: list[str]) -> None:
    """Skipped invoices back on their way for a history request (docs/interface.md §15), on the
    history queue and tagged with the request, as the platform's replays are."""
    queue_url = get_settings().history_queue_url
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start : start + SQS_BATCH]
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {
                "Id": str(index),
                "MessageBody": json.dumps(
                    {**json.loads(body), "history": {"request_id": request_id}}
                ),
                "MessageGroupId": contractor_id,
                "MessageDeduplicationId": uuid.uuid4().hex,
            }
            for index, body in enumerate(chunk)
        ]
        response = aws.sqs().send_message_batch(QueueUrl=queue_url, Entries=entries)
        if response.get("Failed"):
            # The platform replays these invoices too: a lost resend is not a lost invoice.
            logger.warning("Skipped invoices not resent", failed=len(response["Failed"]))
