"""moto's FIFO queues hand out a batch as SQS does: as many messages of one group as it can.

AWS: "When you specify MaxNumberOfMessages, SQS returns as many messages with the same message
group ID as possible; the call can also return messages from other available message groups"
(AWS knowledge center, "sqs-fifo-messages-not-returned"). moto 5.2.5 fills a batch in queue
order, so a queue where contractors' invoices interleave gave each batch ten contractors, one
invoice each, exported one after another by one invocation: the burst benchmark then measured
moto's order, not Lambda's (every contractor's group in its own invocation, side by side).

`install()` orders a FIFO queue's visible messages group by group (groups in the order of their
oldest message, each group's messages in their own order); moto's receive still skips groups
with messages in flight, so the first group with none fills the batch, then the next.
"""

from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    """Idempotent: replaces moto's Queue.messages with a group-first order for FIFO queues."""
    global _installed
    if _installed:
        return
    from moto.sqs.models import Queue

    visible = Queue.messages

    def messages(self: Any) -> list[Any]:
        found: list[Any] = visible.fget(self)  # type: ignore[attr-defined]
        if not self.fifo_queue:
            return found
        groups: dict[str | None, list[Any]] = {}
        for message in found:
            groups.setdefault(message.group_id, []).append(message)
        return [message for group in groups.values() for message in group]

    Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
    _installed = True
