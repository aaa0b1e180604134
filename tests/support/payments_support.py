"""What the payment tests share: exporting an invoice, events as EventBridge delivers them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from urllib3.util.retry import Retry

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

CONSUMER = "PaymentCompletedFunction"


def export(env: LocalEnvironment, contractor: str, number: str, amount: str) -> dict[str, Any]:
    message = samples.invoice_sent(contractor, number, "Payer Co", [("Job", "1", amount)])
    env.platform.send_invoice(message)
    result = env.runtime.poll_sqs("InvoiceSentFunction")
    assert result.failed == 0, result.errors
    return message


def pay(env: LocalEnvironment, detail: dict[str, Any]) -> Any:
    env.platform.complete_payment(detail)
    return env.runtime.poll_sqs(CONSUMER)


def balance(qbo: QboEmulator, realm: str, number: str) -> Decimal:
    return Decimal(str(by_doc_number(qbo, realm)[number]["Balance"]))


@pytest.fixture
def fast_retries(env: LocalEnvironment, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The QBO client's urllib3 retries without their backoff, so outages take milliseconds."""
    from qbo_sync.qbo import client

    retry: Retry = client.RETRY
    monkeypatch.setattr(client, "RETRY", retry.new(backoff_factor=0, backoff_jitter=0))
    yield
