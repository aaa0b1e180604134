"""A batch reads what its exports need in one request (workflows/invoice_batch.py,
core/read_ahead.py), and what a message writes is what the batch's next messages read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import botocore.session
import pytest

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

INVOICE_FUNCTION = "InvoiceSentFunction"


@pytest.fixture
def batch_reads(env: LocalEnvironment) -> Iterator[Counter[str]]:
    """The layer's BatchGetItem requests on the mapping table, and the keys they asked for."""
    from qbo_sync.core import aws

    table = env.stack.resources["MappingsTable"]
    reads: Counter[str] = Counter()

    def count(params: Any = None, **_: Any) -> None:
        keys = (params or {}).get("RequestItems", {}).get(table, {}).get("Keys", [])
        if keys:
            reads["requests"] += 1
            reads["keys"] += len(keys)

    events = aws.dynamodb().meta.events
    event, unique_id = "before-parameter-build.dynamodb.BatchGetItem", "test-batch-reads"
    events.register(event, count, unique_id=unique_id)
    yield reads
    events.unregister(event, unique_id=unique_id)


def _send(env: LocalEnvironment, contractor: str, bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        env.platform.send_invoice(body)


def _invoice(contractor: str, number: str, client: str, price: str, **kw: Any) -> dict[str, Any]:
    return samples.invoice_sent(contractor, number, client, [("Work", "1", price)], **kw)


def test_a_batch_of_a_known_clients_invoices_reads_once(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, batch_reads: Any
) -> None:
    _send(env, contractor, [_invoice(contractor, "K-0", "Known Client", "10.00")])
    env.runtime.poll_sqs(INVOICE_FUNCTION)  # the customer, the item's account, the setup
    batch_reads.clear()
    numbers = [f"K-{i}" for i in range(1, 9)]
    _send(env, contractor, [_invoice(contractor, n, "Known Client", "12.34") for n in numbers])

    result = env.runtime.poll_sqs(INVOICE_FUNCTION, max_batches=1)

    assert (result.invocations, result.succeeded) == (1, len(numbers))
    shown = by_doc_number(qbo, realm)
    assert {n: Decimal(str(shown[n]["TotalAmt"])) for n in numbers} == dict.fromkeys(
        numbers, Decimal("12.34")
    )
    assert len(qbo.entities(realm, "Customer")) == 1
    assert batch_reads["requests"] == 1  # the read-ahead; every message was served from it


def test_what_a_message_writes_is_what_the_batchs_next_messages_read(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, batch_reads: Any
) -> None:
    # One batch: a new client's invoice, its second invoice, then the first one revised. Read
    # ahead, the second would not know the customer and the revision would not know the invoice.
    first = _invoice(contractor, "W-1", "Fresh Client", "100.00", client_id="cl_fresh")
    second = _invoice(contractor, "W-2", "Fresh Client", "50.00", client_id="cl_fresh")
    revised = _invoice(contractor, "W-1", "Fresh Client", "175.25", client_id="cl_fresh")
    revised["invoice"]["revision"] = 2
    _send(env, contractor, [first, second, revised])

    result = env.runtime.poll_sqs(INVOICE_FUNCTION, max_batches=1)

    assert (result.invocations, result.succeeded) == (1, 3)
    shown = by_doc_number(qbo, realm)
    assert set(shown) == {"W-1", "W-2"}
    assert Decimal(str(shown["W-1"]["TotalAmt"])) == Decimal("175.25")
    assert Decimal(str(shown["W-2"]["TotalAmt"])) == Decimal("50.00")
    customers = qbo.entities(realm, "Customer")
    assert [c["DisplayName"] for c in customers] == ["Fresh Client"]
    assert {i["CustomerRef"]["value"] for i in shown.values()} == {customers[0]["Id"]}
    # The read-ahead, then only what the first message wrote, read again by the next two.
    assert batch_reads["requests"] == 3


@pytest.mark.parametrize(
    "write", ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"]
)
def test_every_kind_of_write_forgets_what_was_read_ahead(env: LocalEnvironment, write: str) -> None:
    from qbo_sync.core import aws, read_ahead
    from qbo_sync.core.dynamo import batch_get_by_sk, key, read_ahead_items

    table = env.stack.resources["MappingsTable"]
    dynamodb = aws.dynamodb()
    written, other = key("ctr_ahead", f"{write}#a"), key("ctr_ahead", f"{write}#b")
    for item_key in (written, other):
        dynamodb.put_item(TableName=table, Item={**item_key, "value": {"S": "before"}})
    after = {**written, "value": {"S": "after"}}
    requests = {
        "PutItem": lambda: dynamodb.put_item(TableName=table, Item=after),
        "UpdateItem": lambda: dynamodb.update_item(
            TableName=table,
            Key=written,
            UpdateExpression="SET #v = :v",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":v": {"S": "after"}},
        ),
        "DeleteItem": lambda: dynamodb.delete_item(TableName=table, Key=written),
        "TransactWriteItems": lambda: dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": after}}]
        ),
        "BatchWriteItem": lambda: dynamodb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": after}}]}
        ),
    }

    another_invocation = botocore.session.get_session().create_client("dynamodb")

    with read_ahead.scope():
        read_ahead_items(table, [written, other, written])  # duplicates are read once
        another_invocation.put_item(TableName=table, Item={**other, "value": {"S": "later"}})
        requests[write]()
        found = batch_get_by_sk(table, [written, other])

    expected = None if write == "DeleteItem" else "after"
    assert (found.get(f"{write}#a") or {}).get("value") == expected
    # Not written by this invocation: served as read ahead, the next batch reads "later".
    assert found[f"{write}#b"]["value"] == "before"
    assert batch_get_by_sk(table, [other])[f"{write}#b"]["value"] == "later"


def test_more_keys_than_one_request_takes_are_read_in_requests_of_100(
    env: LocalEnvironment, batch_reads: Any
) -> None:
    from qbo_sync.core import aws, read_ahead
    from qbo_sync.core.dynamo import batch_get_by_sk, key, read_ahead_items

    table = env.stack.resources["MappingsTable"]
    keys = [key("ctr_many", f"item#{i:03d}") for i in range(150)]
    for item_key in keys[::2]:
        aws.dynamodb().put_item(TableName=table, Item={**item_key, "n": {"N": "1"}})

    with read_ahead.scope():
        read_ahead_items(table, keys)
        ahead = dict(batch_reads)
        found = batch_get_by_sk(table, keys)

    assert ahead == {"requests": 2, "keys": 150}
    assert dict(batch_reads) == ahead  # every key served, the absent ones as absent
    assert sorted(found) == [f"item#{i:03d}" for i in range(0, 150, 2)]


def test_a_failed_read_ahead_leaves_each_message_to_read_its_own(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str
) -> None:
    from botocore.exceptions import ClientError
    from qbo_sync.core import aws

    numbers = ["F-1", "F-2", "F-3"]
    _send(env, contractor, [_invoice(contractor, n, "Failing Ahead", "20.00") for n in numbers])
    refused: list[int] = []

    def throttle_first(**_: Any) -> None:
        if not refused:
            refused.append(1)
            error = {"Error": {"Code": "ValidationException", "Message": "refused once"}}
            raise ClientError(error, "BatchGetItem")

    events = aws.dynamodb().meta.events
    event, unique_id = "before-call.dynamodb.BatchGetItem", "test-refuse-read-ahead"
    events.register(event, throttle_first, unique_id=unique_id)
    try:
        result = env.runtime.poll_sqs(INVOICE_FUNCTION, max_batches=1)
    finally:
        events.unregister(event, unique_id=unique_id)

    assert refused == [1]
    assert (result.invocations, result.succeeded) == (1, len(numbers))
    assert set(by_doc_number(qbo, realm)) == set(numbers)
