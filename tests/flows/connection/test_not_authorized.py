"""Authorization problems Intuit reports in other shapes: a 403 code 3100 (the app lost the
company, lower-case `fault` body) asks the contractor to reconnect instead of refusing each
invoice, and every failing QBO answer keeps Intuit's intuit_tid (docs/interface.md §12)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from connection_support import NEEDS_REAUTHORIZATION, capture_events, connection_view
from export_support import CONSUMER, dead_letters
from payments_support import pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture, by_doc_number
from tests.flows.outbox.test_emitted_events import Emitted

SANDBOX_APP = "https://app.sandbox.qbo.intuit.com/app/invoice?txnId="


@pytest.fixture
def emitted(env: LocalEnvironment) -> Iterator[Emitted]:
    with capture_events("authorization-emitted") as captured:
        yield captured


def exports(env: LocalEnvironment, contractor: str) -> dict[str, dict[str, Any]]:
    response = env.platform.api("GET", "/quickbooks/exports", contractor)
    assert response["statusCode"] == 200, response
    return {item["invoice_id"]: item for item in json.loads(response["body"])["items"]}


def send(env: LocalEnvironment, message: dict[str, Any]) -> None:
    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)


def test_app_no_longer_authorized_asks_for_reconnect_and_exports_after_it(
    env: LocalEnvironment, qbo: QboEmulator, emitted: Emitted, contractor: str, realm: str
) -> None:
    qbo.deauthorize_app(realm)  # QBO now answers 403, code 3100, in lower-case keys
    send(env, samples.invoice_sent(contractor, "301", "Forbidden Client", [("Job", "1", "250")]))
    pay(env, samples.payment_completed(contractor, "inv_301", "301", "250.00", payment_id="p301"))
    send(env, samples.invoice_sent(contractor, "302", "Forbidden Client", [("Job", "1", "80")]))

    assert connection_view(env, contractor)["status"] == "reauthorization_required"
    assert emitted.details(NEEDS_REAUTHORIZATION) == [
        {
            "schema_version": 1,
            "contractor_id": contractor,
            "realm_id": realm,
            "company_name": "Alder & Sons Contracting",
        }
    ]
    waiting = exports(env, contractor)
    assert {item["status"] for item in waiting.values()} == {"pending"}
    assert waiting["inv_301"]["reason"]["code"] == "reauthorization_required"
    assert dead_letters(env) == []  # not refused: kept for the reconnect
    assert qbo.entities(realm, "Invoice") == []

    landed = env.platform.connect_quickbooks(contractor)
    env.runtime.drain()

    assert landed.endswith("quickbooks=connected")
    invoices = by_doc_number(qbo, realm)
    assert sorted(invoices) == ["301", "302"]
    assert Decimal(str(invoices["301"]["Balance"])) == 0
    assert len(qbo.entities(realm, "Payment")) == 1
    after = exports(env, contractor)
    assert after["inv_301"]["status"] == "exported"
    assert after["inv_301"]["qbo_url"] == SANDBOX_APP + invoices["301"]["Id"]
    assert after["inv_301"]["payments"][0]["status"] == "recorded"
    assert len(emitted.details(NEEDS_REAUTHORIZATION)) == 1


def test_a_refused_invoice_keeps_intuits_transaction_id_in_its_reason_and_the_log(
    env: LocalEnvironment, qbo: QboEmulator, logs: LogCapture, contractor: str, realm: str
) -> None:
    qbo.close_books(realm, "2026-11-30")  # QBO refuses it: 6210, an upper-case Fault body
    send(env, samples.invoice_sent(contractor, "303", "Closed Client", [("Job", "1", "40")]))

    reason = exports(env, contractor)["inv_303"]["reason"]
    assert reason["code"] == "accounting_period_closed"
    tid = reason["intuit_tid"]
    assert tid.startswith("1-")
    [logged] = [
        record
        for record in logs.records("QuickBooks request failed")
        if record.get("intuit_tid") == tid
    ]
    assert (logged["status"], logged["qbo_code"]) == (400, "6210")


def test_an_invoice_not_exported_has_no_quickbooks_link(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.close_books(realm, "2026-11-30")
    send(env, samples.invoice_sent(contractor, "304", "Closed Client", [("Job", "1", "40")]))
    assert exports(env, contractor)["inv_304"]["qbo_url"] is None
