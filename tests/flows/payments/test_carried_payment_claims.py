"""A batch's payment claims the next payment in its own settle (core/carry.py,
workflows/payment_batch.py, docs/exactly-once.md): one claim for a batch of payments; a carried
claim no record took released; the next payment's ledger written meanwhile (another payment on
its invoice, a refund naming it) claiming on its own and answering what was written; a refund
waiting before the batch keeps its payment out of the carries."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import botocore.session
import pytest

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number
from tests.flows.ops.test_metered_reads import metered_by_intuit
from tests.support.export_support import connect
from tests.support.payments_support import CONSUMER, balance, export

NUMBERS = ("P-1", "P-2", "P-3")


def _payment(contractor: str, number: str, amount: str) -> dict[str, Any]:
    return samples.payment_completed(
        contractor, f"inv_{number}", number, amount, payment_id=f"pay_{number}"
    )


def _applied(qbo: QboEmulator, realm: str) -> dict[str, Decimal]:
    """What the QBO Payments apply to each invoice, by the invoice's number."""
    numbers = {str(i["Id"]): number for number, i in by_doc_number(qbo, realm).items()}
    applied: Counter[str] = Counter()
    for payment in qbo.entities(realm, "Payment"):
        for line in payment.get("Line", []):
            for linked in line.get("LinkedTxn", []):
                applied[numbers[str(linked["TxnId"])]] += Decimal(str(line["Amount"]))
    return dict(applied)


def test_a_batch_of_payments_claims_once(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, dynamodb_calls: Any
) -> None:
    numbers = [f"B-{i}" for i in range(1, 9)]
    amounts = {number: f"{20 + i}.35" for i, number in enumerate(numbers)}
    for number in numbers:
        export(env, contractor, number, amounts[number])
    for number in numbers:
        env.platform.complete_payment(_payment(contractor, number, amounts[number]))
    dynamodb_calls.clear()

    result = env.runtime.poll_sqs(CONSUMER, max_batches=1)

    assert (result.invocations, result.succeeded) == (1, len(numbers))
    assert {number: balance(qbo, realm, number) for number in numbers} == dict.fromkeys(
        numbers, Decimal("0")
    )
    assert len(qbo.entities(realm, "Payment")) == len(numbers)
    assert _applied(qbo, realm) == {number: Decimal(a) for number, a in amounts.items()}
    # The connection, the read-ahead of the next payments' ledgers, the first payment's claim;
    # each settle claims the next payment.
    assert (
        dynamodb_calls["GetItem"],
        dynamodb_calls["BatchGetItem"],
        dynamodb_calls["UpdateItem"],
    ) == (1, 1, 1)
    assert dynamodb_calls["TransactWriteItems"] == len(numbers)


def test_two_contractors_payments_interleaved_claim_once_each(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, dynamodb_calls: Any
) -> None:
    other = "ctr_interleaved"
    other_realm = connect(env, other, "Interleaved Roofing")
    for owner in (contractor, other):
        for number in NUMBERS:
            export(env, owner, number, "70.00")
    for number in NUMBERS:  # as a standard queue mixes them: one of each, in turn
        for owner in (contractor, other):
            env.platform.complete_payment(_payment(owner, number, "70.00"))
    dynamodb_calls.clear()

    result = env.runtime.poll_sqs(CONSUMER, max_batches=1)

    assert (result.invocations, result.succeeded) == (1, 2 * len(NUMBERS))
    for company in (realm, other_realm):
        assert _applied(qbo, company) == dict.fromkeys(NUMBERS, Decimal("70.00"))
    # Each payment's settle claims the next payment of its own connection, the other
    # contractor's payment in between: one claim and one connection read each.
    assert (
        dynamodb_calls["GetItem"],
        dynamodb_calls["BatchGetItem"],
        dynamodb_calls["UpdateItem"],
    ) == (2, 1, 2)
    assert dynamodb_calls["TransactWriteItems"] == 2 * len(NUMBERS)


def test_a_carried_claim_no_record_took_is_released(
    env: LocalEnvironment,
    qbo: QboEmulator,
    realm: str,
    contractor: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qbo_sync.core import carry

    for number in NUMBERS[:2]:
        export(env, contractor, number, "50.00")
        env.platform.complete_payment(_payment(contractor, number, "50.00"))
    take = carry.take
    failed: list[carry.Slot] = []

    def fails_once_carried(slot: carry.Slot) -> Any:
        taken = take(slot)
        if taken is not None and not failed:
            failed.append(slot)
            carry.carried(slot, taken.attempt, taken.answer)  # still held, as if never taken
            raise RuntimeError("the record failed before its claim")
        return taken

    monkeypatch.setattr(carry, "take", fails_once_carried)
    result = env.runtime.poll_sqs(CONSUMER, max_batches=1)

    assert (result.succeeded, result.failed) == (1, 1)
    [(_, _, failed_invoice, _)] = failed
    failed_number = failed_invoice.removeprefix("inv_")
    assert balance(qbo, realm, failed_number) == Decimal("50.00")
    before = metered_by_intuit(qbo, realm)
    env.runtime.poll_sqs(CONSUMER)  # delivered again
    assert balance(qbo, realm, failed_number) == 0
    assert len(qbo.entities(realm, "Payment")) == 2
    # Released, the payment's entry is gone: no lookup in QuickBooks, as for an attempt that died.
    assert metered_by_intuit(qbo, realm) == before


MEANWHILE = ("a payment of 40.00 on its invoice", "a refund of 15.00 of it, waiting for it")


def _written_meanwhile(env: LocalEnvironment, contractor: str, realm: str, what: str) -> Any:
    """A hook on the batch's first settle: before its transaction, another invocation writes
    the ledger of the payment that transaction claims (its last item), as `what` says (a
    refund through the refund ledger's own writes, as that invocation would). Keeps the number
    of that payment's invoice."""
    from qbo_sync.core.clock import now
    from qbo_sync.core.dynamo import to_item
    from qbo_sync.core.statuses import RefundStatus
    from qbo_sync.events.payments import PaymentRefunded
    from qbo_sync.ledger.refunds import refund_ledger
    from qbo_sync.refunds.recorder import _entry

    client = botocore.session.get_session().create_client("dynamodb")
    table = env.stack.resources["MappingsTable"]
    written: list[str] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        carried = params["TransactItems"][-1].get("Update", {})
        if written or "attribute_not_exists(#p)" not in carried.get("ConditionExpression", ""):
            return
        number = carried["ExpressionAttributeValues"][":invoice"]["S"].removeprefix("inv_")
        written.append(number)
        if what == MEANWHILE[0]:  # recorded by an invocation that ran beside this one
            entry = {"status": "recorded", "amount": Decimal("40.00"), "applied": Decimal("40")}
            values = to_item({":entry": entry, ":applied": Decimal("40.00")})
            client.update_item(
                TableName=table,
                Key=carried["Key"],
                UpdateExpression="SET #e = :entry ADD applied :applied",
                ExpressionAttributeNames={"#e": "payment:pay_other"},
                ExpressionAttributeValues=values,
            )
        else:  # the refund's own writes (ledger/refunds.py): claimed, then waiting for it
            detail = samples.payment_refunded(
                contractor, f"inv_{number}", number, f"pay_{number}", "15.00", refund_id="rfd_m"
            )
            refund = PaymentRefunded.model_validate(detail)
            ledger = refund_ledger(contractor, realm)
            claiming = _entry(refund, RefundStatus.RECORDING, attempt="other", lease_until=0)
            ledger.claim(refund.invoice_id, refund.refund_id, claiming, now())
            waiting = _entry(refund, RefundStatus.WAITING)
            ledger.settle(refund.invoice_id, refund.refund_id, waiting, "other")

    return hook, written


@pytest.mark.parametrize("what", MEANWHILE)
def test_a_next_payment_written_meanwhile_claims_on_its_own(
    env: LocalEnvironment,
    qbo: QboEmulator,
    realm: str,
    contractor: str,
    dynamodb_calls: Any,
    what: str,
) -> None:
    from qbo_sync.core import aws

    for number in NUMBERS:
        export(env, contractor, number, "100.00")
    for number in NUMBERS:
        env.platform.complete_payment(_payment(contractor, number, "100.00"))
    hook, written = _written_meanwhile(env, contractor, realm, what)
    events = aws.dynamodb().meta.events
    event = "before-parameter-build.dynamodb.TransactWriteItems"
    unique_id = "test-next-payment-written"
    events.register(event, hook, unique_id=unique_id)
    dynamodb_calls.clear()
    try:
        result = env.runtime.poll_sqs(CONSUMER, max_batches=1)
    finally:
        events.unregister(event, unique_id=unique_id)

    assert (result.invocations, result.succeeded) == (1, len(NUMBERS)), result
    [meanwhile] = written
    assert len(qbo.entities(realm, "Payment")) == len(NUMBERS)
    # The settle was refused for the carried claim's sake and made again alone; the payment
    # claimed on its own, answered what was written, and so did the next one: after a refusal
    # the batch carries no more.
    assert dynamodb_calls["TransactWriteItems"] == 4
    if what == MEANWHILE[0]:
        assert dynamodb_calls["UpdateItem"] == 3
        # 60.00 was left open on that invoice: the rest of the payment is the client's credit.
        expected = {number: Decimal("100.00") for number in NUMBERS} | {meanwhile: Decimal("60")}
        assert _applied(qbo, realm) == expected
    else:
        # The refund that waited for the payment is recorded once the payment is (its claim
        # and settle are the other writes).
        [receipt] = qbo.entities(realm, "RefundReceipt")
        assert Decimal(str(receipt["TotalAmt"])) == Decimal("15.00")
        assert _applied(qbo, realm) == {number: Decimal("100.00") for number in NUMBERS}


def test_a_refund_waiting_before_the_batch_keeps_its_payment_out_of_the_carries(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, dynamodb_calls: Any
) -> None:
    for number in NUMBERS[:2]:
        export(env, contractor, number, "80.00")
    refund = samples.payment_refunded(
        contractor, "inv_P-2", "P-2", "pay_P-2", "30.00", refund_id="rfd_early"
    )
    env.platform.refund_payment(refund)  # before its payment: it waits for it
    env.runtime.poll_sqs(CONSUMER)
    assert qbo.entities(realm, "RefundReceipt") == []
    for number in NUMBERS[:2]:
        env.platform.complete_payment(_payment(contractor, number, "80.00"))
    dynamodb_calls.clear()

    result = env.runtime.poll_sqs(CONSUMER, max_batches=1)

    assert (result.invocations, result.succeeded) == (1, 2)
    # Nothing was carried (a refund names P-2): each payment claimed on its own, and P-2's
    # claim answered the refund that waited for it, which is recorded now.
    assert dynamodb_calls["UpdateItem"] >= 2 and dynamodb_calls["BatchGetItem"] <= 1
    [receipt] = qbo.entities(realm, "RefundReceipt")
    assert Decimal(str(receipt["TotalAmt"])) == Decimal("30.00")
    assert _applied(qbo, realm) == {"P-1": Decimal("80.00"), "P-2": Decimal("80.00")}
