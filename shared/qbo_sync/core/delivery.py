"""How a queued message that failed for a temporary reason is tried again: later each time,
through the message's own visibility, and given up on by the code after a window of hours,
long before SQS's receive limit (a safety net for what the code never sees: a function that
dies) would dead-letter it.

The delay doubles from 30 s to a cap of 14 min, with jitter, so a contractor's QuickBooks that
fails for hours costs about four attempts an hour, and once it answers again the messages go on
within 15 minutes (the cap leaves a minute for the attempt itself: with a 15-minute cap, the
next attempt could come a few seconds late). The window counts the attempts the code made (not
SQS's receives, which also count the messages a failing one holds up in its FIFO group): after
12 hours of them the message gives up (failed, `qbo_unavailable_gave_up`), and the contractor's
Retry exports it.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from qbo_sync.core import aws

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef

logger = Logger(child=True)

FIRST_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 840  # 14 min: the next attempt within 15 min of QuickBooks answering again
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


class Deferred(Exception):
    """The one "try later": a temporary failure (or a slot another invocation holds). The
    message comes back after `delay_seconds`, through its visibility, for attempt + 1."""

    def __init__(self, message: str, attempt: int = 1) -> None:
        super().__init__(message)
        self.attempt = attempt
        self.delay_seconds = delay_for(attempt)


class HeldUp:
    """One invocation's deferred FIFO messages, by message group. The messages a deferred one
    held up in its group (not attempted: the FIFO processor skipped them) come back with it,
    rather than after the queue's visibility timeout, which would hold the group (and so its
    head) for longer than the head's own delay."""

    def __init__(self) -> None:
        self._heads: dict[str, tuple[str, int]] = {}

    def start(self) -> None:
        self._heads.clear()

    def deferred(self, group_id: str, message_id: str, seconds: int) -> None:
        self._heads[group_id] = (message_id, seconds)

    def defer_the_rest(self, queue_url: str, event: dict[str, Any], failed: set[str]) -> None:
        later: list[tuple[str, int]] = []
        for raw in event.get("Records", []):
            group = raw.get("attributes", {}).get("MessageGroupId", "")
            head = self._heads.get(group)
            if head and raw["messageId"] in failed and raw["messageId"] != head[0]:
                later.append((raw["receiptHandle"], head[1]))
        if later:
            defer_many(queue_url, later)
