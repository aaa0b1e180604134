"""A refund that meets a connection needing reauthorization waits for the reconnect, uncounted,
and is recorded once after it; the contractor's Retry of an invoice re-drives its failed
refunds (issue 21)."""

from __future__ import annotations

import json
from typing import Any

from payments_support import CONSUMER, export, pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

TWELVE_HOURS = 12 * 3600


def _refunds(env: LocalEnvironment, contractor: str, invoice_id: str) -> list[dict[str, Any]]:
    body = json.loads(env.platform.api("GET", "/quickbooks/exports", contractor)["body"])
    [item] = [i for i in body["items"] if i["invoice_id"] == invoice_id]
    return [r for payment in item["payments"] for r in payment["refunds"]]


def _paid(env: LocalEnvironment, contractor: str, number: str, amount: str) -> None:
    export(env, contractor, number, amount)
    detail = samples.payment_completed(
        contractor, f"inv_{number}", number, amount, payment_id=f"pay_{number}"
    )
    pay(env, detail)


def _refund(contractor: str, number: str, amount: str) -> dict[str, Any]:
    return samples.payment_refunded(
        contractor, f"inv_{number}", number, f"pay_{number}", amount, refund_id=f"rfd_{number}"
    )


def test_a_refund_during_reauthorization_waits_and_is_recorded_once_after_the_reconnect(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    _paid(env, contractor, "RR-1", "300.00")
    qbo.revoke_refresh_tokens(realm)  # the company disconnected the app inside QuickBooks
    qbo.expire_access_tokens(realm)

    env.platform.refund_payment(_refund(contractor, "RR-1", "120.00"))
    first = env.runtime.poll_sqs(CONSUMER)
    env.clock.advance(TWELVE_HOURS + 3600)  # longer than any temporary failure is retried
    later = env.runtime.poll_sqs(CONSUMER)

    assert (first.failed, later.invocations) == (0, 0)  # waiting, not retried in a loop
    [waiting] = _refunds(env, contractor, "inv_RR-1")
    assert (waiting["status"], waiting["reason"]["code"]) == ("waiting", "reauthorization_required")
    assert qbo.entities(realm, "RefundReceipt") == []

    assert env.platform.connect_quickbooks(contractor).endswith("quickbooks=connected")
    env.runtime.drain()

    [receipt] = qbo.entities(realm, "RefundReceipt")
    assert str(receipt["TotalAmt"]) in ("120.00", "120.0", "120")
    [recorded] = _refunds(env, contractor, "inv_RR-1")
    assert (recorded["status"], recorded["qbo_refund_id"]) == ("recorded", receipt["Id"])
    env.platform.refund_payment(_refund(contractor, "RR-1", "120.00"))  # delivered again
    env.runtime.drain()
    assert len(qbo.entities(realm, "RefundReceipt")) == 1


def test_the_invoices_retry_re_drives_its_failed_refund(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    _paid(env, contractor, "RR-2", "80.00")
    qbo.close_books(realm, "2026-12-31")  # the refund's date falls in a closed period
    env.platform.refund_payment(_refund(contractor, "RR-2", "80.00"))
    env.runtime.poll_sqs(CONSUMER)
    [failed] = _refunds(env, contractor, "inv_RR-2")
    assert (failed["status"], failed["reason"]["code"]) == ("failed", "accounting_period_closed")

    qbo.close_books(realm, None)  # the bookkeeper reopens it, and the contractor retries
    answer = env.platform.api("POST", "/quickbooks/exports/inv_RR-2/retry", contractor)
    assert answer["statusCode"] == 202
    env.runtime.drain()

    [receipt] = qbo.entities(realm, "RefundReceipt")
    [recorded] = _refunds(env, contractor, "inv_RR-2")
    assert (recorded["status"], recorded["qbo_refund_id"]) == ("recorded", receipt["Id"])
