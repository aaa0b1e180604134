"""A batch's export claims the next new invoice's slot in its own settle (core/carry.py,
docs/exactly-once.md): one claim for a batch of new invoices, a carried claim no message took
released, and a next invoice written meanwhile claiming on its own."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import botocore.session

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number
from tests.flows.ops.test_metered_reads import metered_by_intuit

INVOICE_FUNCTION = "InvoiceSentFunction"


def _invoice(contractor: str, number: str, price: str) -> dict[str, Any]:
    return samples.invoice_sent(contractor, number, "Known Client", [("Work", "1", price)])


def _known_client(env: LocalEnvironment, contractor: str) -> None:
    env.platform.send_invoice(_invoice(contractor, "K-0", "1.00"))
    env.runtime.poll_sqs(INVOICE_FUNCTION)  # the customer, the item's account, the setup


def _statuses(env: LocalEnvironment, contractor: str) -> dict[str, str]:
    page = json.loads(env.platform.api("GET", "/quickbooks/exports", contractor)["body"])
    return {item["invoice_number"]: item["status"] for item in page["items"]}


def test_a_batch_of_new_invoices_claims_once(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, dynamodb_calls: Any
) -> None:
    _known_client(env, contractor)
    dynamodb_calls.clear()
    numbers = [f"C-{i}" for i in range(1, 9)]
    for i, number in enumerate(numbers):
        env.platform.send_invoice(_invoice(contractor, number, f"{10 + i}.25"))

    result = env.runtime.poll_sqs(INVOICE_FUNCTION, max_batches=1)

    assert (result.invocations, result.succeeded) == (1, len(numbers))
    shown = by_doc_number(qbo, realm)
    assert {n: Decimal(str(shown[n]["TotalAmt"])) for n in numbers} == {
        n: Decimal(f"{10 + i}.25") for i, n in enumerate(numbers)
    }
    assert len(qbo.entities(realm, "Invoice")) == len(numbers) + 1
    # The first invoice's claim; each settle claims the next invoice's slot.
    assert dynamodb_calls["UpdateItem"] == 1
    assert dynamodb_calls["TransactWriteItems"] == len(numbers)
    assert {n: _statuses(env, contractor)[n] for n in numbers} == dict.fromkeys(numbers, "exported")


class _RunningOut:
    """A context whose invocation has time for one record only."""

    function_name, function_version, memory_limit_in_mb = INVOICE_FUNCTION, "$LATEST", 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:InvoiceSentFunction"
    aws_request_id, log_group_name, log_stream_name = "req-running-out", "group", "stream"

    def __init__(self) -> None:
        self.asked = 0

    def get_remaining_time_in_millis(self) -> int:
        self.asked += 1
        return 60_000 if self.asked == 1 else 1_000


def test_a_carried_claim_no_message_took_is_released(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str
) -> None:
    _known_client(env, contractor)
    queue_arn = env.stack.attributes["InvoiceSentQueue"]["Arn"]
    records = []
    for number in ("R-1", "R-2"):
        body = json.dumps(_invoice(contractor, number, "20.00"))
        fifo = {"MessageGroupId": contractor, "MessageDeduplicationId": number}
        records.append(samples.sqs_record(body, queue_arn, env.stack.region, fifo))

    # R-1 is exported and its settle claims R-2's slot; R-2 finds too little time left.
    response = env.runtime.handler(INVOICE_FUNCTION)({"Records": records}, _RunningOut())

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [records[1]["messageId"]]
    assert set(by_doc_number(qbo, realm)) == {"K-0", "R-1"}
    before = metered_by_intuit(qbo, realm)
    env.platform.send_invoice(_invoice(contractor, "R-2", "20.00"))  # delivered again
    env.runtime.poll_sqs(INVOICE_FUNCTION)
    assert Decimal(str(by_doc_number(qbo, realm)["R-2"]["TotalAmt"])) == Decimal("20.00")
    # Released, its slot is fresh: no lookup in QuickBooks, as for an attempt that died.
    assert metered_by_intuit(qbo, realm) == before


def test_a_next_invoice_written_meanwhile_claims_on_its_own(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, dynamodb_calls: Any
) -> None:
    from qbo_sync.core import aws
    from qbo_sync.ledger.keys import ledger_key

    _known_client(env, contractor)
    table = env.stack.resources["MappingsTable"]
    another_invocation = botocore.session.get_session().create_client("dynamodb")
    written = threading.Event()

    def write_the_next_slot_first(**_: Any) -> None:
        if not written.is_set():  # before the first settle: another writer makes S-2's item
            written.set()
            item = {**ledger_key(contractor, realm, "inv_S-2"), "invoice_id": {"S": "inv_S-2"}}
            another_invocation.put_item(TableName=table, Item=item)

    events = aws.dynamodb().meta.events
    event, unique_id = "before-call.dynamodb.TransactWriteItems", "test-next-slot-written"
    events.register(event, write_the_next_slot_first, unique_id=unique_id)
    try:
        prices = {"S-1": "30.00", "S-2": "40.00", "S-3": "50.00"}
        for number, price in prices.items():
            env.platform.send_invoice(_invoice(contractor, number, price))
        dynamodb_calls.clear()
        result = env.runtime.poll_sqs(INVOICE_FUNCTION, max_batches=1)
    finally:
        events.unregister(event, unique_id=unique_id)

    assert (result.invocations, result.succeeded) == (1, 3)
    shown = by_doc_number(qbo, realm)
    assert {n: Decimal(str(shown[n]["TotalAmt"])) for n in prices} == {
        n: Decimal(p) for n, p in prices.items()
    }
    assert len(qbo.entities(realm, "Invoice")) == 4
    # S-1's settle was refused for the carried claim's sake and made again alone; S-2 claimed
    # on its own, and so did S-3: after a refusal (payments parking ahead of their invoices,
    # most often) the batch carries no more, each refusal costing a second transaction.
    assert (dynamodb_calls["UpdateItem"], dynamodb_calls["TransactWriteItems"]) == (3, 4)
