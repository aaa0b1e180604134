"""How a queued message that failed for a temporary reason is tried again: later each time,
through the message's own visibility, and given up on by the code after a window of hours,
long before SQS's receive limit (a safety net for what the code never sees: a function that
dies) would dead-letter it.

The delay doubles from 30 s to a cap of 15 min, with jitter, so a contractor's QuickBooks that
fails for hours costs about four attempts an hour, and once it answers again the messages go on
within 15 minutes. The window counts the attempts the code made (not SQS's receives, which also
count the messages a failing one holds up in its FIFO group): after 12 hours of them the
message gives up (failed, `qbo_unavailable_gave_up`), and the contractor's Retry exports it.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from qbo_sync.core import aws

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef

logger = Logger(child=True)

FIRST_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 900
GIVE_UP_AFTER_SECONDS = 12 * 3600
_JITTER = 0.2


def scheduled_delay(attempt: int) -> int:
    """The delay after the `attempt`-th failed attempt (1 = the first), without jitter."""
    return int(min(FIRST_DELAY_SECONDS * 2 ** max(attempt - 1, 0), MAX_DELAY_SECONDS))


def delay_for(attempt: int) -> int:
    """The visibility to give a message after its `attempt`-th failed attempt: the schedule,
    give or take 20%, so that messages failing together do not come back together."""
    spread = 1 + random.uniform(-_JITTER, _JITTER)
    return max(1, min(round(scheduled_delay(attempt) * spread), MAX_DELAY_SECONDS))


def waited_before(attempt: int) -> int:
    """How long the schedule has waited between the first attempt and the `attempt`-th."""
    return sum(scheduled_delay(n) for n in range(1, attempt))


def gives_up(attempt: int) -> bool:
    """True when the `attempt`-th attempt failed after the whole window of retries."""
    return waited_before(attempt) >= GIVE_UP_AFTER_SECONDS


def defer_many(queue_url: str, later: list[tuple[str, int]]) -> None:
    """`defer` for (receipt handle, seconds) pairs, ten to a request; best effort likewise."""
    for start in range(0, len(later), 10):
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(index), "ReceiptHandle": receipt, "VisibilityTimeout": seconds}
            for index, (receipt, seconds) in enumerate(later[start : start + 10])
        ]
        try:
            aws.sqs().change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
        except Exception as error:
            logger.warning("Messages not deferred", error=type(error).__name__)


def defer(queue_url: str, receipt_handle: str, seconds: int) -> None:
    """The message comes back after `seconds` instead of the queue's visibility timeout. Best
    effort: if SQS refuses, the message comes back after the visibility timeout all the same."""
    try:
        aws.sqs().change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
    except Exception as error:
        logger.warning("Message not deferred", error=type(error).__name__)
