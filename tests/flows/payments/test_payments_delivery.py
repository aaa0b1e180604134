"""payment-completed as EventBridge and Lambda deliver it: more than once, concurrently, into a
crash, malformed, or while QuickBooks fails. Each payment still lands in QBO exactly once."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from payments_support import (
    CONSUMER,
    balance,
    export,
    fast_retries,  # noqa: F401  (a fixture)
    pay,
)

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture

_OUTAGE_ATTEMPTS = 5  # one request and urllib3's four retries


def test_duplicate_payment_events_record_one_payment(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "5", "100.00")
    detail = samples.payment_completed(contractor, "inv_5", "5", "100.00", payment_id="pay_dup")

    for _ in range(3):
        env.platform.complete_payment(detail)
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.succeeded, result.failed) == (3, 0)
    assert len(qbo.entities(realm, "Payment")) == 1
    assert qbo.count_requests(realm, method="POST", path_suffix="/payment") == 1
    assert balance(qbo, realm, "5") == 0


def test_two_invocations_racing_on_one_payment_record_it_once(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    export(env, contractor, "13", "100.00")
    detail = samples.payment_completed(contractor, "inv_13", "13", "100.00", payment_id="pay_race")
    qbo.latency = 0.3  # the first invocation is still inside QBO when the second arrives
    start = threading.Barrier(2)
    answers: list[Any] = []

    def invoke() -> None:
        event = samples.payment_event(env.stack, detail)
        start.wait()
        answers.append(env.runtime.invoke(CONSUMER, event))

    threads = [threading.Thread(target=invoke) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [{"batchItemFailures": []}] * 2
    handled = logs.records("Payment handled")
    assert sorted(record["outcome"] for record in handled) == ["already_recorded", "recorded"]
    assert len({record["qbo_payment_id"] for record in handled}) == 1
    assert len(qbo.entities(realm, "Payment")) == 1
    assert qbo.count_requests(realm, method="POST", path_suffix="/payment") == 1


def test_response_lost_after_qbo_created_the_payment_records_one_payment(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "14", "100.00")
    qbo.crash_after_commit_next(1)

    result = pay(env, samples.payment_completed(contractor, "inv_14", "14", "100.00"))

    assert (result.succeeded, result.failed) == (1, 0)
    assert len(qbo.entities(realm, "Payment")) == 1  # the retry's requestid got QBO's first answer
    assert balance(qbo, realm, "14") == 0


@pytest.mark.usefixtures("fast_retries")
def test_crash_window_then_a_late_retry_that_qbo_no_longer_recognises_finds_the_payment(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    export(env, contractor, "15", "100.00")
    detail = samples.payment_completed(contractor, "inv_15", "15", "100.00", payment_id="pay_15")
    # QBO creates the payment, the answer is lost, and QBO stays down for the invocation.
    qbo.crash_after_commit_next(1)
    qbo.fail_next(_OUTAGE_ATTEMPTS - 1, status=503, realm_id=realm)
    failed = env.runtime.invoke(CONSUMER, samples.payment_event(env.stack, detail))
    assert len(failed["batchItemFailures"]) == 1
    assert logs.records("Payment not recorded; it is tried again later")
    assert len(qbo.entities(realm, "Payment")) == 1
    qbo.forget_request_ids(realm)  # the retry comes later than QBO remembers requestids

    answer = env.runtime.invoke(CONSUMER, samples.payment_event(env.stack, detail))

    assert answer == {"batchItemFailures": []}
    [handled] = logs.records("Payment handled")
    assert handled["outcome"] == "recorded"
    assert handled["qbo_payment_id"] == qbo.entities(realm, "Payment")[0]["Id"]
    assert len(qbo.entities(realm, "Payment")) == 1
    assert balance(qbo, realm, "15") == 0


def test_function_killed_between_qbo_and_the_ledger_records_one_payment_when_retried(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
    logs: LogCapture,
) -> None:
    from qbo_sync.ledger.entries import PaymentLedger
    from qbo_sync.payments import recorder as payments

    export(env, contractor, "16", "100.00")
    detail = samples.payment_completed(contractor, "inv_16", "16", "100.00", payment_id="pay_16")

    class Killed(BaseException):
        """Lambda's timeout or an out-of-memory: nothing after it runs, not even `finally`."""

    def killed(*args: object, **kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(PaymentLedger, "recorded", killed)
        with pytest.raises(Killed):
            env.runtime.invoke(CONSUMER, samples.payment_event(env.stack, detail))
    assert len(qbo.entities(realm, "Payment")) == 1
    # Lambda retries after the dead attempt's lease has run out, and after QBO forgot it.
    env.clock.advance(payments.LEASE_SECONDS + 1)  # the functions' clock follows it
    qbo.forget_request_ids(realm)
    queries = qbo.count_requests(realm, path_suffix="/query")

    answer = env.runtime.invoke(CONSUMER, samples.payment_event(env.stack, detail))

    assert answer == {"batchItemFailures": []}
    assert [r["outcome"] for r in logs.records("Payment handled")] == ["recorded"]
    assert qbo.count_requests(realm, path_suffix="/query") == queries + 1  # the lookup
    assert len(qbo.entities(realm, "Payment")) == 1
    assert balance(qbo, realm, "16") == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schema_version": 2}, "schema_version"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"payment_id": None}, "payment_id"),
        ({"payment_id": ""}, "payment_id"),
        ({"contractor_id": None}, "contractor_id"),
        ({"invoice_id": ""}, "invoice_id"),
        ({"paid_at": "yesterday"}, "paid_at"),
    ],
)
def test_invalid_payment_event_is_refused_with_the_field_and_not_retried(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    logs: LogCapture,
    change: dict[str, Any],
    field: str,
) -> None:
    export(env, contractor, "9", "10.00")
    detail = samples.payment_completed(contractor, "inv_9", "9", "10.00")
    detail.update(change)
    detail = {key: value for key, value in detail.items() if value is not None}

    result = pay(env, detail)

    assert (result.invocations, result.failed, result.dead_lettered) == (1, 0, 0)
    assert qbo.entities(realm, "Payment") == []
    [refusal] = logs.records("Payment event refused")
    assert refusal["levelname"] == "ERROR"
    assert any(problem.startswith(f"{field}: ") for problem in refusal["problems"])


@pytest.mark.usefixtures("fast_retries")
def test_transient_qbo_failure_is_tried_again_later_and_the_payment_recorded_once(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "17", "100.00")
    qbo.fail_next(_OUTAGE_ATTEMPTS, status=503, realm_id=realm)  # all of the first invocation

    result = pay(env, samples.payment_completed(contractor, "inv_17", "17", "100.00"))

    assert (result.invocations, result.succeeded, result.dead_lettered) == (2, 1, 0)
    assert len(qbo.entities(realm, "Payment")) == 1
    assert balance(qbo, realm, "17") == 0


@pytest.mark.usefixtures("fast_retries")
def test_payment_failing_for_the_whole_window_gives_up_with_its_reason_and_a_retry_records_it(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    export(env, contractor, "18", "100.00")
    detail = samples.payment_completed(contractor, "inv_18", "18", "100.00", payment_id="pay_18")
    qbo.outage(realm, 13 * 3600, statuses=(503,))  # longer than the 12 hours it keeps trying

    result = pay(env, detail)

    attempts = len(logs.records("Payment not recorded; it is tried again later"))
    assert result.succeeded == 1 and result.failed == attempts  # the last one gave up
    assert 50 <= attempts <= 60  # about four an hour once the delay reaches 15 minutes
    assert qbo.entities(realm, "Payment") == [] and _dead_letters(env) == []
    listed = json.loads(env.platform.api("GET", "/quickbooks/exports", contractor)["body"])
    [payment] = listed["items"][0]["payments"]
    assert (payment["status"], payment["reason"]["code"]) == ("failed", "qbo_unavailable_gave_up")

    env.clock.advance(3 * 3600)  # past the outage (jitter may have given up early); Retry
    retried = env.platform.api("POST", "/quickbooks/exports/inv_18/retry", contractor)
    assert retried["statusCode"] == 202
    env.runtime.poll_sqs("InvoiceSentFunction")

    assert len(qbo.entities(realm, "Payment")) == 1
    assert balance(qbo, realm, "18") == 0


def test_payment_refused_by_quickbooks_is_failed_with_its_code_and_not_retried(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    logs: LogCapture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    from qbo_sync.core import settings
    from qbo_sync.payments import recorder as payments

    export(env, contractor, "19", "100.00")
    broken = settings.get_settings()._replace(deposit_account_id="9999")
    monkeypatch.setattr(payments, "get_settings", lambda: broken)

    result = pay(env, samples.payment_completed(contractor, "inv_19", "19", "100.00"))

    assert (result.invocations, result.failed, result.dead_lettered) == (1, 0, 0)
    assert qbo.entities(realm, "Payment") == []
    [refused] = logs.records("QuickBooks refused the payment")
    assert refused["qbo_code"] == "2500" and refused["qbo_element"] == "DepositToAccountRef"


def test_a_recorded_payment_costs_one_qbo_request_and_three_dynamodb_requests(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    from qbo_sync.core import aws

    export(env, contractor, "22", "100.00")
    pay(env, samples.payment_completed(contractor, "inv_22", "22", "40.00"))  # warm containers
    dynamodb = aws.dynamodb()
    calls: list[str] = []

    def count(model: Any, **kwargs: Any) -> None:
        calls.append(model.name)

    dynamodb.meta.events.register("before-call.dynamodb.*", count)
    qbo_before = qbo.count_requests(realm)
    try:
        answer = env.runtime.invoke(
            CONSUMER,
            samples.payment_event(
                env.stack, samples.payment_completed(contractor, "inv_22", "22", "60.00")
            ),
        )
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.*", count)

    assert answer == {"batchItemFailures": []}
    assert qbo.count_requests(realm) - qbo_before == 1
    # connection, claim, and in one transaction: the record and the payment findable by its id
    # for payouts (no payout waits for it: test_payouts' waiting payout takes the other way)
    assert calls == ["GetItem", "UpdateItem", "TransactWriteItems"]
    assert balance(qbo, realm, "22") == 0


def _dead_letters(env: LocalEnvironment) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    response = sqs.receive_message(
        QueueUrl=env.stack.resources["PaymentEventsDeadLetterQueue"],
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
    )
    return list(response.get("Messages", []))
