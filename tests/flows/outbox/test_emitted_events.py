"""The events qbo-sync emits on the bus (docs/interface.md §6): one per state change, never a token.

Every PutEvents the functions make is captured on the layer's own events client, so whichever
function emits, the test sees it; the events still reach the bus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from export_support import CONSUMER
from payments_support import pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

EXPORTED = "QuickBooks Invoice Exported"
FAILED = "QuickBooks Invoice Export Failed"
RECORDED = "QuickBooks Payment Recorded"
REAUTHORIZATION = "QuickBooks Connection Needs Reauthorization"
# botocore's hook with the call's own parameters (before-call only sees the HTTP request).
PUT_EVENTS = "before-parameter-build.eventbridge.PutEvents"


class Emitted:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def capture(self, params: dict[str, Any], **_: Any) -> None:
        self.entries.extend(params.get("Entries", []))

    def details(self, detail_type: str, *, with_event_id: bool = False) -> list[dict[str, Any]]:
        """The details of that type, without their event_id (a fresh id per state change,
        which test_outbox.py checks) unless asked."""
        details = [
            json.loads(entry["Detail"])
            for entry in self.entries
            if entry["DetailType"] == detail_type
        ]
        if not with_event_id:
            for detail in details:
                detail.pop("event_id")
        return details


@pytest.fixture
def emitted(env: LocalEnvironment) -> Iterator[Emitted]:
    from qbo_sync.core import aws

    captured = Emitted()
    events = aws.events().meta.events
    events.register(PUT_EVENTS, captured.capture, unique_id="emitted")
    try:
        yield captured
    finally:
        events.unregister(PUT_EVENTS, unique_id="emitted")


def send(env: LocalEnvironment, message: dict[str, Any]) -> None:
    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)


def invoice(contractor: str, number: str, amount: str = "100.00", **extra: Any) -> dict[str, Any]:
    return samples.invoice_sent(contractor, number, "Event Client", [("Job", "1", amount)], **extra)


def test_every_event_has_the_contract_envelope_and_lands_on_the_template_bus(
    env: LocalEnvironment, contractor: str, emitted: Emitted
) -> None:
    send(env, invoice(contractor, "1"))

    [entry] = emitted.entries
    assert entry["Source"] == "qbo-sync"
    assert entry["EventBusName"] == env.stack.resources["EventBus"]
    detail = json.loads(entry["Detail"])
    assert (detail["schema_version"], detail["contractor_id"]) == (1, contractor)


def test_invoice_exported_once_per_revision_however_often_the_message_comes(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    message = invoice(contractor, "10")
    send(env, message)
    for attempt in range(2):  # published again: nothing changes, nothing is emitted
        send(env, {**message, "event_id": f"{message['event_id']}-{attempt}"})

    assert emitted.details(EXPORTED) == [
        {
            "schema_version": 1,
            "contractor_id": contractor,
            "invoice_id": "inv_10",
            "invoice_number": "10",
            "revision": 1,
            "qbo_invoice_id": by_doc_number(qbo, realm)["10"]["Id"],
            "realm_id": realm,
        }
    ]

    send(env, invoice(contractor, "10", "150.00", revision=2))

    assert [d["revision"] for d in emitted.details(EXPORTED)] == [1, 2]
    assert emitted.details(FAILED) == []


def test_export_failed_once_then_exported_after_the_fix_and_retry(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    qbo.close_books(realm, "2026-11-30")
    message = invoice(contractor, "20")
    send(env, message)
    send(env, {**message, "event_id": message["event_id"] + "-again"})  # same refusal again

    [failed] = emitted.details(FAILED)
    assert failed["invoice_id"] == "inv_20"
    assert (failed["invoice_number"], failed["revision"]) == ("20", 1)
    assert failed["reason"]["code"] == "accounting_period_closed"
    assert emitted.details(EXPORTED) == []

    qbo.close_books(realm, None)
    retried = env.platform.api("POST", "/quickbooks/exports/inv_20/retry", contractor)
    assert retried["statusCode"] == 202
    env.runtime.poll_sqs(CONSUMER)

    assert [d["invoice_id"] for d in emitted.details(EXPORTED)] == ["inv_20"]
    assert len(emitted.details(FAILED)) == 1


def test_payment_recorded_once_with_whether_the_invoice_is_paid(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    send(env, invoice(contractor, "30", "500.00"))
    deposit = samples.payment_completed(contractor, "inv_30", "30", "200.00", payment_id="p30a")
    rest = samples.payment_completed(contractor, "inv_30", "30", "300.00", payment_id="p30b")
    pay(env, deposit)
    pay(env, deposit)  # delivered twice
    pay(env, rest)

    payments = {p["PaymentRefNum"]: p["Id"] for p in qbo.entities(realm, "Payment")}
    assert emitted.details(RECORDED) == [
        {
            "schema_version": 1,
            "contractor_id": contractor,
            "payment_id": "p30a",
            "invoice_id": "inv_30",
            "qbo_payment_id": payments["p30a"],
            "invoice_paid": False,
        },
        {
            "schema_version": 1,
            "contractor_id": contractor,
            "payment_id": "p30b",
            "invoice_id": "inv_30",
            "qbo_payment_id": payments["p30b"],
            "invoice_paid": True,
        },
    ]


def test_a_parked_payment_is_announced_when_the_invoice_export_records_it(
    env: LocalEnvironment, contractor: str, emitted: Emitted
) -> None:
    pay(env, samples.payment_completed(contractor, "inv_40", "40", "90.00", payment_id="p40"))
    assert emitted.details(RECORDED) == []

    send(env, invoice(contractor, "40", "90.00"))

    assert [(d["payment_id"], d["invoice_paid"]) for d in emitted.details(RECORDED)] == [
        ("p40", True)
    ]
    assert len(emitted.details(EXPORTED)) == 1


def test_reauthorization_announced_once_and_kept_work_announced_after_reconnect(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, emitted: Emitted
) -> None:
    qbo.revoke_refresh_tokens(realm)
    qbo.expire_access_tokens(realm)
    send(env, invoice(contractor, "50", "70.00"))
    send(env, invoice(contractor, "51"))
    pay(env, samples.payment_completed(contractor, "inv_50", "50", "70.00", payment_id="p50"))

    assert emitted.details(REAUTHORIZATION) == [
        {
            "schema_version": 1,
            "contractor_id": contractor,
            "realm_id": realm,
            "company_name": "Alder & Sons Contracting",
        }
    ]
    assert emitted.details(EXPORTED) == emitted.details(FAILED) == []

    assert env.platform.connect_quickbooks(contractor).endswith("quickbooks=connected")
    env.runtime.drain()

    assert sorted(d["invoice_id"] for d in emitted.details(EXPORTED)) == ["inv_50", "inv_51"]
    assert [(d["payment_id"], d["invoice_paid"]) for d in emitted.details(RECORDED)] == [
        ("p50", True)
    ]
    assert len(emitted.details(REAUTHORIZATION)) == 1
    everything = json.dumps(emitted.entries)
    for token in qbo.issued_tokens():
        assert token not in everything
