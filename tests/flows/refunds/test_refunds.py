"""payment-refunded events (docs/interface.md §9) through PaymentEventsQueue's consumer, asserting
on the emulated QBO company: one RefundReceipt per refund, on the invoice's item, out of Refunds
clearing; partial refunds that never exceed their payment; refunds that wait for their payment;
redeliveries, races and deaths after QBO's answer."""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payments_support import CONSUMER, balance, export, pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture, by_doc_number
from tests.flows.outbox import test_emitted_events as events_tests
from tests.flows.outbox.test_emitted_events import Emitted

RECORDED_EVENT = "QuickBooks Refund Recorded"
emitted = events_tests.emitted  # the fixture capturing every PutEvents
CENTS = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100)


def refund(env: LocalEnvironment, detail: dict[str, Any]) -> Any:
    env.platform.refund_payment(detail)
    return env.runtime.poll_sqs(CONSUMER)


def paid(env: LocalEnvironment, contractor: str, number: str, amount: str) -> str:
    """An exported invoice paid in full by one payment; returns the payment id."""
    export(env, contractor, number, amount)
    payment_id = f"pay_{number}"
    pay(
        env,
        samples.payment_completed(
            contractor, f"inv_{number}", number, amount, payment_id=payment_id
        ),
    )
    return payment_id


def refund_of(contractor: str, number: str, amount: str, **extra: Any) -> dict[str, Any]:
    return samples.payment_refunded(
        contractor, f"inv_{number}", number, f"pay_{number}", amount, **extra
    )


def receipts(qbo: QboEmulator, realm: str) -> dict[str, dict[str, Any]]:
    return {r["PaymentRefNum"]: r for r in qbo.entities(realm, "RefundReceipt")}


def listed_refunds(env: LocalEnvironment, contractor: str, invoice_id: str) -> list[Any]:
    body = json.loads(env.platform.api("GET", "/quickbooks/exports", contractor)["body"])
    [item] = [i for i in body["items"] if i["invoice_id"] == invoice_id]
    return [r for payment in item["payments"] for r in payment["refunds"]]


def test_a_refund_is_one_receipt_on_the_invoice_item_paid_out_of_refunds_clearing(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    paid(env, contractor, "1042", "1234.56")
    before = qbo.count_requests(realm)

    result = refund(env, refund_of(contractor, "1042", "200.00", refund_id="rfd_31"))

    assert (result.failed, result.succeeded) == (0, 1)
    invoice = by_doc_number(qbo, realm)["1042"]
    [receipt] = qbo.entities(realm, "RefundReceipt")
    assert receipt["TotalAmt"] == Decimal("200.00")
    assert receipt["CustomerRef"]["value"] == invoice["CustomerRef"]["value"]
    [line] = [line for line in receipt["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    item = invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"]
    assert line["SalesItemLineDetail"]["ItemRef"]["value"] == item  # the invoice number's item
    accounts = {a["Id"]: a for a in qbo.entities(realm, "Account")}
    clearing = accounts[receipt["DepositToAccountRef"]["value"]]
    assert (clearing["Name"], clearing["AccountType"]) == (
        "Refunds clearing",
        "Other Current Asset",
    )
    assert receipt["TxnDate"] == "2026-12-03"
    [payment] = qbo.entities(realm, "Payment")  # the original payment is kept as it was
    assert (payment["TotalAmt"], payment["UnappliedAmt"]) == (Decimal("1234.56"), 0)
    assert balance(qbo, realm, "1042") == 0
    # The first refund of the company finds or creates the account: a query and a create.
    assert qbo.count_requests(realm) - before == 3
    assert listed_refunds(env, contractor, "inv_1042") == [
        {
            "refund_id": "rfd_31",
            "amount": "200.00",
            "status": "recorded",
            "qbo_refund_id": receipt["Id"],
            "reason": None,
        }
    ]
    assert emitted.details(RECORDED_EVENT) == [
        {
            "schema_version": 1,
            "contractor_id": contractor,
            "refund_id": "rfd_31",
            "payment_id": "pay_1042",
            "qbo_refund_id": receipt["Id"],
        }
    ]


def test_a_second_refund_in_the_company_costs_one_qbo_request(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "20", "100.00")
    refund(env, refund_of(contractor, "20", "10.00"))
    before = qbo.count_requests(realm)

    refund(env, refund_of(contractor, "20", "15.00"))

    assert qbo.count_requests(realm) - before == 1
    assert len(qbo.entities(realm, "RefundReceipt")) == 2
    assert [a["Name"] for a in qbo.entities(realm, "Account")].count("Refunds clearing") == 1


@settings(
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payment=CENTS, parts=st.lists(CENTS, min_size=1, max_size=4))
def test_partial_refunds_are_each_recorded_to_the_cent_and_never_exceed_their_payment(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    logs: LogCapture,
    payment: Decimal,
    parts: list[Decimal],
) -> None:
    number = uuid.uuid4().hex[:8]
    paid(env, contractor, number, str(payment))
    expected: dict[str, Decimal] = {}
    left = payment
    for part in parts:
        refund_id = f"rfd_{uuid.uuid4().hex[:10]}"
        refund(env, refund_of(contractor, number, str(part), refund_id=refund_id))
        if part <= left:
            expected[refund_id] = part
            left -= part

    mine = {
        ref: r["TotalAmt"]
        for ref, r in receipts(qbo, realm).items()
        if f"invoice {number}" in r["PrivateNote"]
    }
    assert mine == expected
    assert sum(mine.values(), Decimal(0)) <= payment
    statuses = [r["status"] for r in listed_refunds(env, contractor, f"inv_{number}")]
    assert statuses.count("recorded") == len(expected)
    assert statuses.count("failed") == len(parts) - len(expected)


def test_a_refund_above_what_is_left_of_its_payment_is_refused_naming_amount(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    paid(env, contractor, "21", "100.00")
    refund(env, refund_of(contractor, "21", "60.00"))

    result = refund(env, refund_of(contractor, "21", "40.01", refund_id="rfd_over"))

    assert (result.invocations, result.failed) == (1, 0)  # acknowledged: retrying cannot help
    assert [r["TotalAmt"] for r in qbo.entities(realm, "RefundReceipt")] == [Decimal("60.00")]
    [refused] = logs.records("Refund refused")
    assert refused["levelname"] == "ERROR"
    assert refused["problems"][0].startswith("amount: ")
    over = next(
        r for r in listed_refunds(env, contractor, "inv_21") if r["refund_id"] == "rfd_over"
    )
    assert over["status"] == "failed"
    assert (over["reason"]["code"], over["reason"]["field"]) == ("refund_exceeds_payment", "amount")


def test_a_refund_before_its_payment_waits_and_is_recorded_right_after_it(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    export(env, contractor, "22", "80.00")

    waiting = refund(env, refund_of(contractor, "22", "30.00", refund_id="rfd_early"))

    assert (waiting.failed, waiting.succeeded) == (0, 1)
    assert qbo.entities(realm, "RefundReceipt") == []
    pay(env, samples.payment_completed(contractor, "inv_22", "22", "80.00", payment_id="pay_22"))
    [receipt] = qbo.entities(realm, "RefundReceipt")
    assert receipt["TotalAmt"] == Decimal("30.00")
    assert [r["status"] for r in listed_refunds(env, contractor, "inv_22")] == ["recorded"]
    assert len(emitted.details(RECORDED_EVENT)) == 1


def test_a_refund_before_its_payment_before_its_invoice_is_recorded_after_both(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    refund(env, refund_of(contractor, "23", "5.00"))
    pay(env, samples.payment_completed(contractor, "inv_23", "23", "50.00", payment_id="pay_23"))
    assert qbo.entities(realm, "RefundReceipt") == []

    export(env, contractor, "23", "50.00")

    assert [r["TotalAmt"] for r in qbo.entities(realm, "RefundReceipt")] == [Decimal("5.00")]
    assert balance(qbo, realm, "23") == 0


def test_a_refund_delivered_three_times_is_one_receipt(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    paid(env, contractor, "24", "100.00")
    detail = refund_of(contractor, "24", "25.00")

    for _ in range(3):
        env.platform.refund_payment(detail)
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.succeeded, result.failed) == (3, 0)
    assert len(qbo.entities(realm, "RefundReceipt")) == 1
    assert qbo.count_requests(realm, method="POST", path_suffix="/refundreceipt") == 1
    assert len(emitted.details(RECORDED_EVENT)) == 1


def test_two_invocations_racing_on_one_refund_record_it_once(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    paid(env, contractor, "25", "100.00")
    detail = refund_of(contractor, "25", "25.00")
    qbo.latency = 0.3  # the first invocation is still inside QBO when the second arrives
    start = threading.Barrier(2)
    answers: list[Any] = []

    def invoke() -> None:
        event = samples.payment_event(env.stack, detail, "RefundEventDetailType")
        start.wait()
        answers.append(env.runtime.invoke(CONSUMER, event))

    threads = [threading.Thread(target=invoke) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [{"batchItemFailures": []}] * 2
    handled = logs.records("Refund handled")
    assert sorted(record["outcome"] for record in handled) == ["already_recorded", "recorded"]
    assert len(qbo.entities(realm, "RefundReceipt")) == 1
    assert qbo.count_requests(realm, method="POST", path_suffix="/refundreceipt") == 1


def test_a_lost_answer_after_qbo_created_the_refund_is_one_receipt(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "26", "100.00")
    refund(env, refund_of(contractor, "26", "1.00"))  # the clearing account exists now
    qbo.crash_after_commit_next(1)

    result = refund(env, refund_of(contractor, "26", "25.00"))

    assert (result.succeeded, result.failed) == (1, 0)
    assert sorted(r["TotalAmt"] for r in qbo.entities(realm, "RefundReceipt")) == [
        Decimal("1.00"),
        Decimal("25.00"),
    ]


def test_a_death_between_qbo_and_the_ledger_is_healed_by_a_lookup_not_a_second_receipt(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
    logs: LogCapture,
) -> None:
    from qbo_sync.ledger.refunds import RefundLedger
    from qbo_sync.refunds import recorder as refunds

    paid(env, contractor, "27", "100.00")
    detail = refund_of(contractor, "27", "25.00")
    real = RefundLedger.settle

    class Killed(BaseException):
        """Lambda's timeout or an out-of-memory: nothing after it runs, not even `finally`."""

    def killed_on_recorded(self: RefundLedger, *args: Any, **kwargs: Any) -> bool:
        if args[2]["status"] == "recorded":
            raise Killed
        return real(self, *args, **kwargs)

    event = samples.payment_event(env.stack, detail, "RefundEventDetailType")
    with monkeypatch.context() as patch:
        patch.setattr(RefundLedger, "settle", killed_on_recorded)
        with pytest.raises(Killed):
            env.runtime.invoke(CONSUMER, event)
    assert len(qbo.entities(realm, "RefundReceipt")) == 1
    env.clock.advance(refunds.LEASE_SECONDS + 1)  # Lambda retries after the lease ran out
    qbo.forget_request_ids(realm)  # and after QBO forgot the requestid
    queries = qbo.count_requests(realm, path_suffix="/query")

    answer = env.runtime.invoke(CONSUMER, event)

    assert answer == {"batchItemFailures": []}
    assert qbo.count_requests(realm, path_suffix="/query") == queries + 1  # the lookup
    assert len(qbo.entities(realm, "RefundReceipt")) == 1
    assert [r["status"] for r in listed_refunds(env, contractor, "inv_27")] == ["recorded"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"reason": "whim"}, "reason"),
        ({"refund_id": ""}, "refund_id"),
        ({"refunded_at": "yesterday"}, "refunded_at"),
    ],
)
def test_an_invalid_refund_event_is_refused_naming_the_field_without_retries(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    logs: LogCapture,
    change: dict[str, Any],
    field: str,
) -> None:
    paid(env, contractor, "28", "10.00")

    result = refund(env, {**refund_of(contractor, "28", "1.00"), **change})

    assert (result.invocations, result.failed, result.dead_lettered) == (1, 0, 0)
    assert qbo.entities(realm, "RefundReceipt") == []
    [refusal] = logs.records("Refund event refused")
    assert any(problem.startswith(f"{field}: ") for problem in refusal["problems"])


def test_an_event_of_another_detail_type_on_the_payments_queue_is_refused_naming_it(
    env: LocalEnvironment, contractor: str, logs: LogCapture
) -> None:
    event = samples.payment_event(env.stack, refund_of(contractor, "29", "1.00"))
    body = json.loads(event["Records"][0]["body"])
    event["Records"][0]["body"] = json.dumps({**body, "detail-type": "Payment Disputed"})

    answer = env.runtime.invoke(CONSUMER, event)

    assert answer == {"batchItemFailures": []}
    [refusal] = logs.records("Payment event refused")
    assert refusal["problems"][0].startswith("detail-type: ")


def test_a_refund_of_a_voided_invoices_payment_is_refused_and_the_credit_kept(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    paid(env, contractor, "30", "100.00")
    env.platform.send_invoice(samples.invoice_voided(contractor, "inv_30", "30"))
    env.runtime.poll_sqs("InvoiceSentFunction")

    result = refund(env, refund_of(contractor, "30", "100.00"))

    assert (result.invocations, result.failed) == (1, 0)
    # A receipt on the item would reduce income the void already took out.
    assert qbo.entities(realm, "RefundReceipt") == []
    [payment] = qbo.entities(realm, "Payment")
    assert payment["UnappliedAmt"] == Decimal("100.00")
    [listed] = listed_refunds(env, contractor, "inv_30")
    assert (listed["status"], listed["reason"]["code"]) == ("failed", "refund_of_voided_invoice")


def test_a_waiting_refund_that_failed_for_a_while_is_recorded_when_the_export_comes_again(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, monkeypatch: Any
) -> None:
    from qbo_sync.qbo.faults import QboUnavailable
    from qbo_sync.refunds import recorder as refunds

    refund(env, refund_of(contractor, "31", "5.00"))
    pay(env, samples.payment_completed(contractor, "inv_31", "31", "50.00", payment_id="pay_31"))
    real, calls = refunds.account_for, []

    def down_once(*args: Any) -> str:
        calls.append(1)
        if len(calls) == 1:  # QuickBooks fails just as the refund follows its payment
            raise QboUnavailable(503, "503", "Service Unavailable")
        return real(*args)

    monkeypatch.setattr(refunds, "account_for", down_once)
    env.platform.send_invoice(
        samples.invoice_sent(contractor, "31", "Payer Co", [("Job", "1", "50.00")])
    )
    result = env.runtime.poll_sqs("InvoiceSentFunction")

    assert (result.failed, result.succeeded) == (1, 1)  # the message came again
    assert [r["TotalAmt"] for r in qbo.entities(realm, "RefundReceipt")] == [Decimal("5.00")]
    assert len(qbo.entities(realm, "Invoice")) == len(qbo.entities(realm, "Payment")) == 1
    assert [r["status"] for r in listed_refunds(env, contractor, "inv_31")] == ["recorded"]
