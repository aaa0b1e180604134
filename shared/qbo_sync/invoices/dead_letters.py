"""Messages that retrying cannot fix go to the invoice-sent dead-letter queue at once, with why.

The copy carries the original body, and the reason as the message attribute `reason` (and
`error_code` when QuickBooks gave one), so an operator can read, fix and redrive it. The original
is then acknowledged by the caller, so it neither retries pointlessly nor blocks its FIFO group.

The copy is made once per message (Powertools idempotency, keyed on the SQS message id): SQS
deduplicates the FIFO copy for five minutes only, and a redelivery after a lost acknowledgement
comes after the queue's visibility timeout, later than that.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from qbo_sync.core import aws

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef
from qbo_sync.core.settings import get_settings

MAX_REASON = 1000
REMEMBER_COPIES_SECONDS = 14 * 24 * 3600  # the queue's message retention


def dead_letter(
    body: str,
    *,
    message_id: str,
    group_id: str,
    reason: str,
    error_code: str = "",
    lambda_context: Any = None,
) -> None:
    """`lambda_context` lets the idempotency record of a copy that died mid-way expire with the
    invocation rather than later."""
    copy, config = _copy_once()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    refusal = {
        "message_id": message_id,
        "group_id": group_id,
        "reason": reason[:MAX_REASON],
        "error_code": error_code,
    }
    copy(refusal=refusal, body=body)


@cache
def _copy_once() -> tuple[Callable[..., Any], Any]:
    # Imported on first use: refusals are rare, and the utility is heavy for a cold start.
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    settings = get_settings()
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table, boto3_client=aws.dynamodb()
    )
    config = IdempotencyConfig(
        event_key_jmespath="message_id", expires_after_seconds=REMEMBER_COPIES_SECONDS
    )

    @idempotent_function(
        data_keyword_argument="refusal",
        persistence_store=persistence,
        config=config,
        key_prefix="invoice-sent-dead-letter",
    )
    def copy(refusal: dict[str, str], body: str) -> str:
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            "reason": {"DataType": "String", "StringValue": refusal["reason"] or "-"}
        }
        if refusal["error_code"]:
            attributes["error_code"] = {"DataType": "String", "StringValue": refusal["error_code"]}
        sent = aws.sqs().send_message(
            QueueUrl=settings.invoice_sent_dead_letter_queue_url,
            MessageBody=body,
            MessageGroupId=refusal["group_id"],
            MessageDeduplicationId=refusal["message_id"],
            MessageAttributes=attributes,
        )
        return str(sent["MessageId"])

    return copy, config
