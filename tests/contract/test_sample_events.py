"""Each sample in events/ (for `sam local invoke`) is a valid event for its handler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.environment import LocalEnvironment
from tests.conftest import LogCapture

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


@pytest.mark.parametrize(
    ("sample", "status"),
    [
        ("connect.json", 302),
        ("callback.json", 302),
        ("connection_get.json", 200),
        ("connection_delete.json", 204),
        ("exports_list.json", 200),
        # Routed to the retry (not a 404): the sample's contractor has no connection here.
        ("exports_retry.json", 409),
    ],
)
def test_http_samples_are_served_by_the_oauth_function(
    env: LocalEnvironment, sample: str, status: int
) -> None:
    response = env.runtime.invoke("OAuthFunction", _load(sample))

    assert response["statusCode"] == status


def test_invoice_sent_sample_is_accepted_by_the_consumer(env: LocalEnvironment) -> None:
    response = env.runtime.invoke("InvoiceSentFunction", _load("invoice_sent.json"))

    assert response == {"batchItemFailures": []}


def test_invoice_voided_sample_is_accepted_by_the_consumer(env: LocalEnvironment) -> None:
    response = env.runtime.invoke("InvoiceSentFunction", _load("invoice_voided.json"))

    assert response == {"batchItemFailures": []}


def test_payment_refunded_sample_is_accepted_by_the_consumer(
    env: LocalEnvironment, logs: LogCapture
) -> None:
    response = env.runtime.invoke("PaymentCompletedFunction", _load("payment_refunded.json"))

    assert response == {"batchItemFailures": []}
    [handled] = logs.records("Refund handled")
    assert handled["outcome"] == "skipped"  # ctr_123 has not connected QuickBooks in this test


def test_payment_completed_sample_is_accepted_by_the_consumer(
    env: LocalEnvironment, logs: LogCapture
) -> None:
    response = env.runtime.invoke("PaymentCompletedFunction", _load("payment_completed.json"))

    assert response == {"batchItemFailures": []}
    [handled] = logs.records("Payment handled")
    assert handled["outcome"] == "skipped"  # ctr_123 has not connected QuickBooks in this test


def test_payout_paid_sample_is_accepted_by_the_consumer(
    env: LocalEnvironment, logs: LogCapture
) -> None:
    response = env.runtime.invoke("PaymentCompletedFunction", _load("payout_paid.json"))

    assert response == {"batchItemFailures": []}
    [handled] = logs.records("Payout handled")
    assert handled["outcome"] == "skipped"  # ctr_123 has not connected QuickBooks in this test
