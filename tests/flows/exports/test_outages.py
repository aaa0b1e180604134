"""Nothing waits for a person: a contractor's QuickBooks failing for hours, through the
consumers and the simulated clock (local/clock.py), costs no dead-lettered message, exports
everything in order once it answers, and leaves other contractors alone."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from export_support import CONSUMER, connect, dead_letters, record_retry_sleeps
from payments_support import CONSUMER as PAYMENTS
from payments_support import balance

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

SIX_HOURS = 6 * 3600


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_retry_sleeps(monkeypatch)


def _totals(invoices: dict[str, dict[str, Any]]) -> dict[str, Decimal]:
    return {number: Decimal(str(invoice["TotalAmt"])) for number, invoice in invoices.items()}


def _payment_dead_letters(env: LocalEnvironment) -> list[dict[str, Any]]:
    import boto3

    url = env.stack.resources["PaymentEventsDeadLetterQueue"]
    return list(boto3.client("sqs").receive_message(QueueUrl=url).get("Messages", []))


def test_six_hour_outage_loses_nothing_exports_in_order_and_spares_other_companies(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    other_realm = connect(env, "ctr_other", "Unaffected Plumbing")
    qbo.outage(realm, SIX_HOURS)  # throttles and server errors, in turn, for 6 hours
    started = env.clock.now()
    # Revisions of one invoice, another invoice and its payment for the failing company; the
    # same for a healthy one, sent at the same time.
    for owner in (contractor, "ctr_other"):
        env.platform.send_invoice(samples.invoice_sent(owner, "O-1", "Ann", [("A", "1", "10")]))
        env.platform.send_invoice(
            samples.invoice_sent(owner, "O-1", "Ann", [("A", "1", "15")], revision=2)
        )
        env.platform.send_invoice(samples.invoice_sent(owner, "O-2", "Bob", [("B", "1", "20")]))
        env.platform.complete_payment(samples.payment_completed(owner, "inv_O-2", "O-2", "20.00"))

    healthy = env.runtime.drain(timeout_s=600)
    other = by_doc_number(qbo, other_realm)

    assert healthy.errors == []
    assert _totals(other) == {"O-1": Decimal("15"), "O-2": Decimal("20")}
    assert balance(qbo, other_realm, "O-2") == 0
    mine = by_doc_number(qbo, realm)
    # O-1 shows its second revision, written over the first: in order.
    assert _totals(mine) == {"O-1": Decimal("15"), "O-2": Decimal("20")}
    assert balance(qbo, realm, "O-2") == 0
    assert len(qbo.entities(realm, "Invoice")) == 2 and len(qbo.entities(realm, "Payment")) == 1
    assert dead_letters(env) == [] and _payment_dead_letters(env) == []
    # Exported within 15 minutes of QuickBooks answering again (docs/deployment.md): one capped
    # delay (14 minutes) and the attempt.
    assert SIX_HOURS <= env.clock.now() - started <= SIX_HOURS + 15 * 60


def test_messages_held_up_behind_a_failing_one_are_not_dead_lettered(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    # One invoice QBO keeps refusing with a server error (for 13 hours); the contractor's
    # next invoices wait behind it in their FIFO group, received with it every time.
    env.platform.send_invoice(samples.invoice_sent(contractor, "H-1", "Ann", [("A", "1", "10")]))
    for number in ("H-2", "H-3"):
        env.platform.send_invoice(
            samples.invoice_sent(contractor, number, "Ann", [("A", "1", "10")])
        )
    qbo.outage(realm, 13 * 3600, statuses=(503,))

    env.runtime.poll_sqs(CONSUMER)

    # Each gave up on its own attempts after the window, and none was moved by SQS's limit.
    assert dead_letters(env) == []
    page = json.loads(env.platform.api("GET", "/quickbooks/exports", contractor)["body"])
    statuses = {item["invoice_number"]: item["status"] for item in page["items"]}
    assert statuses == {"H-1": "failed", "H-2": "exported", "H-3": "exported"}
    [held] = [item for item in page["items"] if item["invoice_number"] == "H-1"]
    assert held["reason"]["code"] == "qbo_unavailable_gave_up"
    # QuickBooks answered again while the others were still within their own window.
    assert set(by_doc_number(qbo, realm)) == {"H-2", "H-3"}


def test_payment_waits_through_the_outage_and_is_recorded_after_it(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    env.platform.send_invoice(samples.invoice_sent(contractor, "P-1", "Ann", [("A", "1", "50")]))
    env.runtime.poll_sqs(CONSUMER)
    qbo.outage(realm, SIX_HOURS)
    env.platform.complete_payment(samples.payment_completed(contractor, "inv_P-1", "P-1", "50"))

    result = env.runtime.poll_sqs(PAYMENTS)

    assert result.succeeded == 1 and result.errors == []
    assert balance(qbo, realm, "P-1") == 0 and len(qbo.entities(realm, "Payment")) == 1
    assert _payment_dead_letters(env) == []
