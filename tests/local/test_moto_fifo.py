"""local/moto_fifo.py: a FIFO batch holds as many messages of one group as SQS would give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from local_support import aws_pointed_at

from local import moto_fifo


@pytest.fixture(scope="module")
def queue(moto_endpoint: str) -> Iterator[tuple[Any, str]]:
    moto_fifo.install()
    with aws_pointed_at(moto_endpoint):
        sqs = boto3.client("sqs")
        url = sqs.create_queue(
            QueueName="moto-fifo-test.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]
        yield sqs, url


def _receive(sqs: Any, url: str) -> list[tuple[str, str]]:
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]
    ).get("Messages", [])
    return [(m["Attributes"]["MessageGroupId"], m["Body"]) for m in messages]


def test_a_batch_takes_one_group_first_in_order_then_the_next(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    for n in range(12):  # interleaved, as contractors' invoices arrive
        for group in ("a", "b"):
            sqs.send_message(QueueUrl=url, MessageBody=f"{group}{n}", MessageGroupId=group)
    first = _receive(sqs, url)
    assert first == [("a", f"a{n}") for n in range(10)]
    # Group a is in flight: the next batch is b's, in its order.
    assert _receive(sqs, url) == [("b", f"b{n}") for n in range(10)]
