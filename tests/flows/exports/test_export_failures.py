"""When things go wrong on the way to QuickBooks, through the SQS FIFO consumer: QBO throttling,
failing and timing out, one contractor's outage in a shared batch, invalid messages and QBO
validation errors (both refused to the dead-letter queue at once, with the reason)."""

from __future__ import annotations

import io
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from export_support import CONSUMER, connect, dead_letters, reason_of, record_retry_sleeps

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture, by_doc_number

CLIENTS = ("Harbor Dental", "Jane O'Neil", "Zoë Ünal")
TRANSIENT = (429, 500, 502, 503, 504)
# QBO answers these slow answers after the client's read timeout has passed, and still commits.
SLOW_ANSWER_S = 0.7
READ_TIMEOUT_S = 0.3


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_retry_sleeps(monkeypatch)


@pytest.fixture
def short_read_timeout(monkeypatch: pytest.MonkeyPatch, qbo: QboEmulator) -> Iterator[None]:
    """The client's read timeout cut from 10 s, so that a timed-out request costs little."""
    import qbo_sync.qbo.client
    import urllib3

    connect_timeout = qbo_sync.qbo.client.TIMEOUT.connect_timeout
    short = urllib3.Timeout(connect=connect_timeout, read=READ_TIMEOUT_S)
    monkeypatch.setattr(qbo_sync.qbo.client, "TIMEOUT", short)
    yield
    qbo.timeout_rate(0.0, 0.0)
    # Answers the client gave up on are still on their way; they must land before the next
    # test resets the emulator, whose realm ids start again from the same number.
    time.sleep(SLOW_ANSWER_S)


@pytest.fixture
def function_logs() -> Iterator[io.StringIO]:
    """What the functions' Powertools logger writes (one JSON object a line, with the keys it
    appends such as contractor_id and invoice_id, which log records do not carry)."""
    handlers = [
        handler
        for handler in logging.getLogger("qbo-sync").handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    assert handlers, "the functions log through Powertools' handler on the qbo-sync logger"
    buffer = io.StringIO()
    previous = [handler.setStream(buffer) for handler in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)


def _attempts_per_request() -> int:
    """How many times one QBO request is tried within an invocation (urllib3's Retry)."""
    from qbo_sync.qbo.client import RETRY

    assert RETRY.total is not None and RETRY.status is not None
    return min(RETRY.total, RETRY.status) + 1


def _sales_item_names(invoice: dict[str, Any], items: dict[str, str]) -> set[str]:
    return {
        items[line["SalesItemLineDetail"]["ItemRef"]["value"]]
        for line in invoice["Line"]
        if line["DetailType"] == "SalesItemLineDetail"
    }


def test_thirty_percent_of_qbo_requests_failing_still_exports_every_invoice_exactly_once(
    env: LocalEnvironment,
    qbo: QboEmulator,
    caplog: pytest.LogCaptureFixture,
    short_read_timeout: None,
) -> None:
    contractors = {f"ctr_busy{n}": connect(env, f"ctr_busy{n}", f"Busy Co {n}") for n in range(3)}
    expected: dict[str, dict[str, tuple[str, Decimal]]] = {c: {} for c in contractors}
    for k in range(10):
        for n, contractor in enumerate(contractors):
            number, client = f"{n}-{k + 1:04d}", CLIENTS[k % len(CLIENTS)]
            message = samples.invoice_sent(
                contractor, number, client, [("Labour", str(k + 1), "12.34"), ("Parts", "1", "5")]
            )
            env.platform.send_invoice(message)
            expected[contractor][number] = (client, Decimal(message["invoice"]["total"]))
    # About 30% of the requests: a 429 or a 5xx (25%), or a slow answer the client gives up on.
    qbo.fault_rate(0.25, statuses=TRANSIENT, seed=4)
    qbo.timeout_rate(0.07, SLOW_ANSWER_S, seed=4)

    result = env.runtime.poll_sqs(CONSUMER)  # failed records come back, as SQS returns them
    qbo.fault_rate(0.0)
    qbo.timeout_rate(0.0, 0.0)

    statuses = Counter(r.status for r in qbo.requests if r.kind == "api")
    timeouts = [r for r in caplog.records if "ReadTimeoutError" in r.getMessage()]
    assert sum(statuses[status] for status in TRANSIENT) >= 20, statuses  # the faults were real
    assert timeouts
    assert result.succeeded == 30
    assert dead_letters(env) == []
    for contractor, realm in contractors.items():
        invoices = qbo.entities(realm, "Invoice")
        assert sorted(invoice["DocNumber"] for invoice in invoices) == sorted(expected[contractor])
        customers = {c["Id"]: c["DisplayName"] for c in qbo.entities(realm, "Customer")}
        assert sorted(customers.values()) == sorted(CLIENTS)
        items = {item["Id"]: item["Name"] for item in qbo.entities(realm, "Item")}
        assert sorted(items.values()) == sorted(f"Invoice {n}" for n in expected[contractor])
        for invoice in invoices:
            client, total = expected[contractor][invoice["DocNumber"]]
            assert customers[invoice["CustomerRef"]["value"]] == client
            assert Decimal(str(invoice["TotalAmt"])) == total
            assert _sales_item_names(invoice, items) == {f"Invoice {invoice['DocNumber']}"}


def test_qbo_faults_are_retried_with_exponential_backoff_and_jitter_honouring_retry_after(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits = record_retry_sleeps(monkeypatch)  # the waits urllib3 would have slept
    qbo.fail_next(1, status=429, realm_id=realm)  # Intuit's throttle, with Retry-After: 1
    env.platform.send_invoice(samples.invoice_sent(contractor, "B-1", "Client", [("A", "1", "9")]))

    throttled = env.runtime.poll_sqs(CONSUMER)

    assert (throttled.succeeded, throttled.failed) == (1, 0)
    assert waits == [1.0]
    waits.clear()
    qbo.fail_next(_attempts_per_request() - 1, status=503, realm_id=realm)
    env.platform.send_invoice(samples.invoice_sent(contractor, "B-2", "Client", [("A", "1", "9")]))

    failing = env.runtime.poll_sqs(CONSUMER)

    assert (failing.succeeded, failing.failed) == (1, 0)  # recovered within the invocation
    bases = [0.5 * 2**n for n in range(_attempts_per_request() - 1)]  # 0.5, 1, 2, 4 s
    assert len(waits) == len(bases)
    assert all(base <= wait <= base + 0.25 for wait, base in zip(waits, bases, strict=True))
    assert waits != bases  # jittered
    assert set(by_doc_number(qbo, realm)) == {"B-1", "B-2"}


def test_one_contractors_outage_fails_only_that_contractors_messages_in_the_batch(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    down = connect(env, "ctr_down", "Down Co")
    up = connect(env, "ctr_up", "Up Co")
    for number in ("1", "2"):
        for contractor in ("ctr_down", "ctr_up"):
            env.platform.send_invoice(
                samples.invoice_sent(contractor, number, "Client", [("A", "1", "10")])
            )
    # Every attempt of the first request for ctr_down's company fails: its first message goes
    # back to SQS.
    qbo.fail_next(_attempts_per_request(), status=503, realm_id=down)
    down_requests = qbo.count_requests(down)

    first = env.runtime.poll_sqs(CONSUMER, max_batches=1)

    assert (first.invocations, first.succeeded, first.failed) == (1, 2, 2)
    assert set(by_doc_number(qbo, up)) == {"1", "2"}
    assert qbo.entities(down, "Invoice") == []
    # ctr_down's second message was not tried after the first failed: its order is kept.
    assert qbo.count_requests(down) - down_requests == _attempts_per_request()

    rest = env.runtime.poll_sqs(CONSUMER)

    assert (rest.succeeded, rest.failed) == (2, 0)
    assert set(by_doc_number(qbo, down)) == {"1", "2"}
    assert len(qbo.entities(down, "Customer")) == 1
    assert dead_letters(env) == []


def _send_raw(env: LocalEnvironment, body: str, group: str) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=env.stack.resources["InvoiceSentQueue"],
        MessageBody=body,
        MessageGroupId=group,
        MessageDeduplicationId=f"raw-{time.time_ns()}",
    )


def _bad(contractor: str, number: str, **changes: Any) -> dict[str, Any]:
    message = samples.invoice_sent(contractor, number, "Bad Body", [("A", "2", "50.00")])
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = message
        for key in parents:
            target = target[key]
        if value is _MISSING:
            del target[last]
        else:
            target[last] = value
    return message


_MISSING = object()


def test_invalid_messages_go_to_the_dead_letter_queue_with_the_field_and_the_batch_goes_on(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    bad = {
        "body: Invalid JSON": "{'schema_version': 1, ",
        "invoice.total: Field required": _bad(contractor, "b1", invoice__total=_MISSING),
        "schema_version: Input should be 1": _bad(contractor, "b2", schema_version=2),
        "invoice.total: Value error, total must be greater than 0": _bad(
            contractor, "b3", invoice__total="0.00", invoice__lines=[]
        ),
        "invoice.total: Decimal input should have no more than 2 decimal places": _bad(
            contractor, "b4", invoice__total="100.001"
        ),
        "invoice.number: String should have at most 21 characters": _bad(
            contractor, "1234567890123456789012"
        ),
        "invoice.total: Value error, total is not the lines minus the discount plus the tax": _bad(
            contractor, "b6", invoice__total="99.99"
        ),
        "client.id: Field required": _bad(contractor, "b7", client__id=_MISSING),
    }
    good = [samples.invoice_sent(contractor, n, "Good Body", [("A", "1", "9")]) for n in "12"]
    # One batch, one message group: each refusal must leave the messages after it alone.
    for why, body in bad.items():
        if isinstance(body, str):
            _send_raw(env, body, contractor)
        else:
            env.platform.send_invoice(body)
        if why.startswith("schema_version"):
            env.platform.send_invoice(good[0])
    env.platform.send_invoice(good[1])

    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.invocations, result.succeeded, result.failed) == (1, 10, 0)  # no retries
    assert set(by_doc_number(qbo, realm)) == {"1", "2"}
    letters = dead_letters(env)
    assert len(letters) == len(bad)
    reasons = {letter["Body"]: reason_of(letter) for letter in letters}
    for why, body in bad.items():
        reason = reasons[body if isinstance(body, str) else json.dumps(body)]
        assert reason.startswith("invalid message: ") and why in reason, (why, reason)
    refusals = logs.records("Invoice-sent message refused")
    assert len(refusals) == len(bad)
    assert all(refusal["problems"] for refusal in refusals)
    assert env.runtime.poll_sqs(CONSUMER).invocations == 0  # nothing comes back


BUSINESS_DETAIL = (
    "Business Validation Error: You must select a product/service or an account for each "
    "split line with either an amount or a billable flag."
)


def test_quickbooks_validation_error_is_refused_once_with_intuits_code_and_detail(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    function_logs: io.StringIO,
) -> None:
    refused = samples.invoice_sent(contractor, "40", "Client", [("A", "1", "10")])
    after = samples.invoice_sent(contractor, "41", "Client", [("B", "1", "20")])
    env.platform.send_invoice(refused)
    env.platform.send_invoice(after)
    qbo.reject_next("6000", BUSINESS_DETAIL, entity="Invoice", element="Line", realm_id=realm)

    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.invocations, result.succeeded, result.failed) == (1, 2, 0)  # no retries
    assert set(by_doc_number(qbo, realm)) == {"41"}  # the rest of the batch went on
    assert qbo.count_requests(realm, method="POST", path_suffix="/invoice") == 2
    [letter] = dead_letters(env)
    assert json.loads(letter["Body"]) == refused
    assert letter["MessageAttributes"]["error_code"]["StringValue"] == "6000"
    assert "6000" in reason_of(letter)
    # The function's structured log line, as CloudWatch receives it.
    [logged] = [
        line
        for line in map(json.loads, function_logs.getvalue().splitlines())
        if line.get("message") == "Invoice refused by QuickBooks"
    ]
    assert (logged["error_code"], logged["detail"], logged["element"]) == (
        "6000",
        BUSINESS_DETAIL,
        "Line",
    )
    assert (logged["contractor_id"], logged["invoice_id"]) == (contractor, "inv_40")


def test_invoices_sent_while_reauthorization_is_needed_are_kept_not_retried_then_exported(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.revoke_refresh_tokens(realm)  # the company disconnected the app inside QuickBooks
    qbo.expire_access_tokens(realm)
    for number in ("K-1", "K-2"):
        env.platform.send_invoice(
            samples.invoice_sent(contractor, number, "Kept Client", [("Deck", "1", "500.00")])
        )
    refreshes = qbo.count_requests(kind="oauth", path_suffix="/tokens/bearer")

    kept = env.runtime.poll_sqs(CONSUMER)

    # Both acknowledged at once: nothing goes back to SQS to fail again and again.
    assert (kept.invocations, kept.succeeded, kept.failed) == (1, 2, 0)
    # One refresh found the grant revoked; the second invoice did not ask Intuit again.
    assert qbo.count_requests(kind="oauth", path_suffix="/tokens/bearer") == refreshes + 1
    assert qbo.entities(realm, "Invoice") == []
    assert env.runtime.poll_sqs(CONSUMER).invocations == 0
    status = json.loads(env.platform.api("GET", "/quickbooks/connection", contractor)["body"])
    assert status["status"] == "reauthorization_required"

    landed = env.platform.connect_quickbooks(contractor)  # the real callback; no retry click
    resumed = env.runtime.drain()

    assert landed.endswith("quickbooks=connected")
    assert (resumed.succeeded, resumed.failed) == (2, 0)
    assert set(by_doc_number(qbo, realm)) == {"K-1", "K-2"}
    assert len(qbo.entities(realm, "Customer")) == 1
    assert env.runtime.drain().invocations == 0  # and nothing loops afterwards
    assert dead_letters(env) == []


def test_invoice_failing_for_the_whole_window_gives_up_as_failed_and_exports_on_retry(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    message = samples.invoice_sent(contractor, "D-1", "Client", [("A", "1", "10.00")])
    env.platform.send_invoice(message)
    qbo.outage(realm, 13 * 3600, statuses=(503,))  # longer than the 12 hours it keeps trying

    result = env.runtime.poll_sqs(CONSUMER)

    attempts = len(logs.records("Invoice not exported; it is tried again later"))
    assert 50 <= attempts <= 60 and result.failed == attempts and result.succeeded == 1
    assert qbo.entities(realm, "Invoice") == []
    assert dead_letters(env) == []  # given up by the function, not moved by SQS
    status = json.loads(env.platform.api("GET", "/quickbooks/exports", contractor)["body"])
    [item] = status["items"]
    assert (item["status"], item["reason"]["code"]) == ("failed", "qbo_unavailable_gave_up")

    env.clock.advance(3 * 3600)  # past the outage (jitter may have given up early); Retry
    assert (
        env.platform.api("POST", "/quickbooks/exports/inv_D-1/retry", contractor)["statusCode"]
        == 202
    )
    retried = env.runtime.poll_sqs(CONSUMER)

    assert (retried.failed, retried.succeeded) == (0, 1)
    assert set(by_doc_number(qbo, realm)) == {"D-1"}
    assert len(qbo.entities(realm, "Customer")) == 1
