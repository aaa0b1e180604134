"""A batch reads each contractor's connection once (connection/store.py's `batch`), and a
write made during the batch (a token refresh) is what the batch's next messages see."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

TOKEN_PATH = "/oauth2/v1/tokens/bearer"


@pytest.fixture
def connection_reads(env: LocalEnvironment, contractor: str) -> Iterator[Counter[str]]:
    """GetItem calls on the connections table, by contractor, from the layer's client."""
    from qbo_sync.core import aws

    table = env.stack.resources["ConnectionsTable"]
    reads: Counter[str] = Counter()

    def count(params: Any = None, **_: Any) -> None:
        if isinstance(params, dict) and params.get("TableName") == table:
            reads[params["Key"]["contractor_id"]["S"]] += 1

    events = aws.dynamodb().meta.events
    event, unique_id = "before-parameter-build.dynamodb.GetItem", "test-connection-reads"
    events.register(event, count, unique_id=unique_id)
    yield reads
    events.unregister(event, unique_id=unique_id)


def _send(env: LocalEnvironment, contractor: str, numbers: list[str]) -> None:
    for number in numbers:
        message = samples.invoice_sent(contractor, number, "Batch Client", [("Work", "1", "10.00")])
        env.platform.send_invoice(message)


def test_a_batch_reads_the_contractors_connection_once(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, connection_reads: Any
) -> None:
    numbers = [f"B-{i}" for i in range(6)]
    _send(env, contractor, numbers)

    result = env.runtime.poll_sqs("InvoiceSentFunction", max_batches=1)

    assert (result.invocations, result.succeeded) == (1, len(numbers))
    assert set(by_doc_number(qbo, realm)) == set(numbers)
    assert connection_reads[contractor] == 1


def test_a_refresh_in_the_batch_serves_the_batchs_next_messages(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, connection_reads: Any
) -> None:
    """Intuit expires the access token early: the batch's first export refreshes it, and the
    others use the refreshed tokens (one refresh, not one per message)."""
    qbo.expire_access_tokens(realm)
    before = qbo.count_requests(realm, kind="oauth", path_suffix=TOKEN_PATH)
    numbers = [f"R-{i}" for i in range(4)]
    _send(env, contractor, numbers)

    result = env.runtime.poll_sqs("InvoiceSentFunction", max_batches=1)

    assert (result.invocations, result.succeeded) == (1, len(numbers))
    assert set(by_doc_number(qbo, realm)) == set(numbers)
    assert qbo.count_requests(realm, kind="oauth", path_suffix=TOKEN_PATH) - before == 1
    assert connection_reads[contractor] == 2  # the batch's first read, and one after the refresh
