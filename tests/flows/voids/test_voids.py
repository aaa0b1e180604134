"""invoice-voided messages (docs/interface.md §8) through the invoice-sent FIFO consumer, asserting
on the emulated QBO company: voided once however often the message comes, racing or dying after
QBO's answer; payments kept as the customer's credit; voids that come before the export."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from export_support import (
    CONSUMER,
    dead_letters,
    posts,
    race_the_queued_batch,
    reason_of,
    record_retry_sleeps,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payments_support import export, pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number
from tests.flows.exports.test_export_exactly_once import LambdaKilled
from tests.flows.outbox import test_emitted_events as events_tests
from tests.flows.outbox.test_emitted_events import Emitted

VOIDED_EVENT = "QuickBooks Invoice Voided"
emitted = events_tests.emitted  # the fixture capturing every PutEvents


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_retry_sleeps(monkeypatch)


def void(env: LocalEnvironment, contractor: str, number: str, **extra: Any) -> Any:
    env.platform.send_invoice(samples.invoice_voided(contractor, f"inv_{number}", number, **extra))
    return env.runtime.poll_sqs(CONSUMER)


def listed(env: LocalEnvironment, contractor: str) -> dict[str, dict[str, Any]]:
    response = env.platform.api("GET", "/quickbooks/exports", contractor)
    assert response["statusCode"] == 200, response
    return {item["invoice_id"]: item for item in json.loads(response["body"])["items"]}


def assert_voided(invoice: dict[str, Any]) -> None:
    assert (invoice["TotalAmt"], invoice["Balance"]) == (0, 0)
    assert str(invoice["PrivateNote"]).startswith("Voided")
    assert all(line["Amount"] == 0 for line in invoice["Line"])


def void_posts(qbo: QboEmulator, realm: str) -> int:
    """The invoice POSTs after the one export's create (no test here updates an invoice)."""
    return posts(qbo, realm, "Invoice") - 1


def test_void_of_an_exported_invoice_zeroes_it_in_qbo_with_one_request(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    export(env, contractor, "1042", "1234.56")
    before = qbo.count_requests(realm)

    result = void(env, contractor, "1042")

    assert (result.failed, result.succeeded) == (0, 1)
    invoice = by_doc_number(qbo, realm)["1042"]
    assert_voided(invoice)
    assert invoice["SyncToken"] == "1"
    assert qbo.count_requests(realm) - before == 1  # the void, nothing read
    item = listed(env, contractor)["inv_1042"]
    assert (item["status"], item["reason"]["code"]) == ("voided", "invoice_voided")
    assert item["qbo_invoice_id"] == invoice["Id"]
    assert emitted.details(VOIDED_EVENT) == [
        {
            "schema_version": 1,
            "contractor_id": contractor,
            "invoice_id": "inv_1042",
            "qbo_invoice_id": invoice["Id"],
        }
    ]


def test_void_delivered_three_times_voids_once_and_announces_once(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    export(env, contractor, "5", "50.00")

    for _ in range(3):  # three publishes (three event ids): FIFO deduplication cannot help
        void(env, contractor, "5")

    assert void_posts(qbo, realm) == 1
    assert_voided(by_doc_number(qbo, realm)["5"])
    assert len(emitted.details(VOIDED_EVENT)) == 1
    assert dead_letters(env) == []


@pytest.mark.parametrize("qbo_forgets_the_requestid", [False, True])
def test_a_death_after_qbo_voided_it_is_healed_by_the_redelivery_without_a_second_void(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    emitted: Emitted,
    monkeypatch: pytest.MonkeyPatch,
    qbo_forgets_the_requestid: bool,
) -> None:
    from qbo_sync.ledger.records import ExportRecords

    export(env, contractor, "6", "60.00")
    real = ExportRecords.write_voided
    calls: list[int] = []

    def dies_once(self: ExportRecords, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            if qbo_forgets_the_requestid:
                qbo.forget_request_ids(realm)
            raise LambdaKilled()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ExportRecords, "write_voided", dies_once)

    result = void(env, contractor, "6")

    assert (result.failed, result.succeeded) == (1, 1)
    assert_voided(by_doc_number(qbo, realm)["6"])
    # Replayed by its requestid, or (forgotten) refused as stale, read, and found voided.
    assert void_posts(qbo, realm) == 2
    assert by_doc_number(qbo, realm)["6"]["SyncToken"] == "1"
    assert listed(env, contractor)["inv_6"]["status"] == "voided"
    assert len(emitted.details(VOIDED_EVENT)) == 1


def test_two_invocations_racing_on_one_void_void_it_once(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "9", "90.00")
    env.platform.send_invoice(samples.invoice_voided(contractor, "inv_9", "9"))
    race_the_queued_batch(env, qbo)
    invoice = by_doc_number(qbo, realm)["9"]
    assert_voided(invoice)
    assert invoice["SyncToken"] == "1"  # voided once: a second void would have moved it
    assert listed(env, contractor)["inv_9"]["status"] == "voided"


def test_payments_recorded_on_a_voided_invoice_stay_with_the_customer_as_credit(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "7", "100.00")
    for payment_id, amount in (("pay_7a", "30.00"), ("pay_7b", "20.00")):
        pay(env, samples.payment_completed(contractor, "inv_7", "7", amount, payment_id=payment_id))

    result = void(env, contractor, "7")  # the payments moved the invoice's SyncToken

    assert result.failed == 0
    assert_voided(by_doc_number(qbo, realm)["7"])
    payments = {p["PaymentRefNum"]: p for p in qbo.entities(realm, "Payment")}
    assert {ref: p["UnappliedAmt"] for ref, p in payments.items()} == {
        "pay_7a": Decimal("30.00"),
        "pay_7b": Decimal("20.00"),
    }
    assert all(p["TotalAmt"] == p["UnappliedAmt"] for p in payments.values())
    [customer] = qbo.entities(realm, "Customer")
    assert customer["Balance"] == Decimal("-50.00")  # A/R shows the customer's credit


def test_a_payment_for_a_voided_invoice_is_recorded_as_the_customers_credit(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "8", "80.00")
    void(env, contractor, "8")

    result = pay(env, samples.payment_completed(contractor, "inv_8", "8", "80.00"))

    assert result.failed == 0
    [payment] = qbo.entities(realm, "Payment")
    assert (payment["TotalAmt"], payment["UnappliedAmt"]) == (Decimal("80.00"), Decimal("80.00"))
    assert payment["Line"] == []
    assert listed(env, contractor)["inv_8"]["payments"][0]["status"] == "recorded"


def test_an_invoice_voided_before_its_export_is_never_exported(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    void(env, contractor, "11", revision=2)
    message = samples.invoice_sent(contractor, "11", "Late Co", [("Job", "1", "10.00")])

    for revision in (1, 2, 3):  # late messages, and a re-send after the void
        env.platform.send_invoice(
            {**message, "invoice": {**message["invoice"], "revision": revision}}
        )
        result = env.runtime.poll_sqs(CONSUMER)
        assert (result.failed, result.succeeded) == (0, 1)

    assert qbo.entities(realm, "Invoice") == []
    assert qbo.entities(realm, "Customer") == []
    item = listed(env, contractor)["inv_11"]
    assert (item["status"], item["reason"]["code"]) == ("voided", "invoice_voided")
    assert (item["invoice_number"], item["revision"], item["qbo_invoice_id"]) == ("11", 2, None)
    assert emitted.details(VOIDED_EVENT) == []  # nothing in QuickBooks was voided
    assert dead_letters(env) == []


def test_an_exported_then_voided_invoice_is_not_updated_by_a_later_revision(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    message = export(env, contractor, "12", "40.00")
    void(env, contractor, "12")
    resent = {**message, "event_id": "evt_resent", "invoice": {**message["invoice"], "revision": 2}}

    env.platform.send_invoice(resent)
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.failed, result.succeeded) == (0, 1)
    invoice = by_doc_number(qbo, realm)["12"]
    assert_voided(invoice)
    assert invoice["SyncToken"] == "1"
    assert listed(env, contractor)["inv_12"]["status"] == "voided"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m["invoice"].pop("id"), "invoice.id"),
        (lambda m: m.update(voided_at="yesterday"), "voided_at"),
        (lambda m: m.update(message_type="invoice_deleted"), "message_type"),
        (lambda m: m["invoice"].update(revision=0), "invoice.revision"),
    ],
)
def test_an_invalid_void_is_refused_naming_the_field_without_retries(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    change: Any,
    field: str,
) -> None:
    export(env, contractor, "13", "30.00")
    message = samples.invoice_voided(contractor, "inv_13", "13")
    change(message)

    env.platform.send_invoice(message)
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.invocations, result.failed) == (1, 0)
    [refused] = dead_letters(env)
    assert reason_of(refused).startswith("invalid message: " + field)
    assert by_doc_number(qbo, realm)["13"]["TotalAmt"] == Decimal("30.00")


def test_a_void_while_no_company_is_connected_keeps_the_invoice_from_ever_exporting(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    contractor = "ctr_later"
    message = samples.invoice_sent(contractor, "14", "Early Co", [("Job", "1", "10.00")])
    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)
    void(env, contractor, "14")
    assert env.platform.connect_quickbooks(contractor).endswith("quickbooks=connected")

    retried = env.platform.api("POST", "/quickbooks/exports/inv_14/retry", contractor)
    result = env.runtime.poll_sqs(CONSUMER)

    assert retried["statusCode"] == 202
    assert (result.failed, result.succeeded) == (0, 1)
    assert qbo.entities(realm, "Invoice") == []
    assert listed(env, contractor)["inv_14"]["status"] == "voided"


def test_the_contractors_retry_of_a_voided_invoice_leaves_it_voided(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.close_books(realm, "2026-11-30")  # the export fails: the period is closed
    env.platform.send_invoice(samples.invoice_sent(contractor, "15", "Shut Co", [("A", "1", "5")]))
    env.runtime.poll_sqs(CONSUMER)
    assert listed(env, contractor)["inv_15"]["status"] == "failed"
    void(env, contractor, "15")
    qbo.close_books(realm, None)

    retried = env.platform.api("POST", "/quickbooks/exports/inv_15/retry", contractor)
    env.runtime.poll_sqs(CONSUMER)

    assert retried["statusCode"] == 202
    assert qbo.entities(realm, "Invoice") == []
    item = listed(env, contractor)["inv_15"]
    assert (item["status"], item["reason"]["code"]) == ("voided", "invoice_voided")


def test_a_void_while_quickbooks_needs_reauthorization_is_kept_and_done_after_the_reconnect(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    export(env, contractor, "16", "70.00")
    qbo.revoke_refresh_tokens(realm)  # the company disconnected the app inside QuickBooks
    qbo.expire_access_tokens(realm)

    result = void(env, contractor, "16")

    assert (result.failed, result.succeeded) == (0, 1)  # acknowledged, kept: nothing loops
    assert by_doc_number(qbo, realm)["16"]["TotalAmt"] == Decimal("70.00")
    assert listed(env, contractor)["inv_16"]["status"] == "exported"
    landed = env.platform.connect_quickbooks(contractor)  # no retry click anywhere
    env.runtime.drain()

    assert landed.endswith("quickbooks=connected")
    assert_voided(by_doc_number(qbo, realm)["16"])
    assert listed(env, contractor)["inv_16"]["status"] == "voided"
    assert len(emitted.details(VOIDED_EVENT)) == 1
    assert env.runtime.poll_sqs(CONSUMER).invocations == 0


@settings(
    max_examples=4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parts=st.lists(st.integers(min_value=1, max_value=40_000), min_size=1, max_size=3))
def test_a_voided_invoices_payments_are_its_customers_credit_to_the_cent(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, parts: list[int]
) -> None:
    number = uuid.uuid4().hex[:8]
    amounts = [Decimal(cents) / 100 for cents in parts]
    total = sum(amounts, Decimal(0)) + Decimal("0.01")  # left open, so never paid in full
    client = f"Client {number}"
    message = samples.invoice_sent(contractor, number, client, [("Job", "1", str(total))])
    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)
    for index, amount in enumerate(amounts):
        detail = samples.payment_completed(
            contractor, f"inv_{number}", number, str(amount), payment_id=f"pay_{number}_{index}"
        )
        pay(env, detail)

    void(env, contractor, number)

    assert_voided(by_doc_number(qbo, realm)[number])
    mine = [p for p in qbo.entities(realm, "Payment") if f"invoice {number}" in p["PrivateNote"]]
    assert sorted(p["UnappliedAmt"] for p in mine) == sorted(amounts)
    [customer] = [c for c in qbo.entities(realm, "Customer") if c["DisplayName"] == client]
    assert customer["Balance"] == -sum(amounts, Decimal(0))
