"""The outbox (docs/interface.md §6): an event goes out because its state change was written, even
when the function that wrote it died right after; at least once, with the same
`detail.event_id` on every delivery of one change, so the platform can drop a repeat."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from connection_support import capture_events
from export_support import CONSUMER, dead_letters
from payments_support import balance, pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture
from tests.flows.outbox.test_emitted_events import EXPORTED, RECORDED, Emitted, invoice, send

OUTBOX = "OutboxFunction"


class LambdaKilled(Exception):
    """Stands for the function dying (timeout, out of memory) at the point it is raised."""


@pytest.fixture
def emitted(env: LocalEnvironment) -> Iterator[Emitted]:
    with capture_events("outbox-emitted") as captured:
        yield captured


def killed_once_after(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """`owner.name` does its work, then the function dies, the first time only."""
    real = getattr(owner, name)
    deaths: list[int] = []

    def written_then_killed(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not deaths:
            deaths.append(1)
            raise LambdaKilled()
        return result

    monkeypatch.setattr(owner, name, written_then_killed)
    return deaths


def test_an_export_whose_function_dies_right_after_its_write_is_announced_once(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    emitted: Emitted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qbo_sync.invoices.mappings import MappingStore

    # The export's write: the mapping and, in the same transaction, the ledger's record.
    deaths = killed_once_after(monkeypatch, MappingStore, "record_export")
    env.platform.send_invoice(invoice(contractor, "41"))

    first = env.runtime.poll_sqs(CONSUMER, max_batches=1)
    assert (deaths, first.failed) == ([1], 1)
    # Out already, though the function died before it could have emitted anything.
    [exported] = emitted.details(EXPORTED)
    assert (exported["invoice_id"], exported["revision"]) == ("inv_41", 1)

    env.runtime.poll_sqs(CONSUMER)  # the redelivery writes the same state: nothing new

    assert len(emitted.details(EXPORTED)) == 1
    assert len(qbo.entities(realm, "Invoice")) == 1
    assert dead_letters(env) == []


def test_a_payment_whose_function_dies_right_after_its_write_is_announced_once(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    emitted: Emitted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qbo_sync.ledger.entries import PaymentLedger

    send(env, invoice(contractor, "42", "80.00"))
    deaths = killed_once_after(monkeypatch, PaymentLedger, "recorded")
    payment = samples.payment_completed(contractor, "inv_42", "42", "80.00", payment_id="p42")

    pay(env, payment)

    assert deaths == [1]
    [recorded] = emitted.details(RECORDED)
    assert recorded == {
        "schema_version": 1,
        "contractor_id": contractor,
        "payment_id": "p42",
        "invoice_id": "inv_42",
        "qbo_payment_id": qbo.entities(realm, "Payment")[0]["Id"],
        "invoice_paid": True,
    }
    assert len(qbo.entities(realm, "Payment")) == 1
    assert balance(qbo, realm, "42") == 0


def test_each_change_has_its_own_event_id_and_a_redelivered_change_the_same_one(
    env: LocalEnvironment,
    contractor: str,
    emitted: Emitted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import qbo_sync.notifications

    # The outbox's delivery fails after EventBridge took the events (before Lambda heard of
    # it): Lambda delivers the stream record again.
    killed_once_after(monkeypatch, qbo_sync.notifications, "publish")
    send(env, invoice(contractor, "43"))
    assert len(emitted.details(EXPORTED)) == 1

    env.runtime.poll_streams()

    once, again = emitted.details(EXPORTED, with_event_id=True)
    assert once == again
    uuid.UUID(once["event_id"])  # an id, not a sequence number that the platform must parse

    send(env, invoice(contractor, "43", "150.00", revision=2))
    *_, revised = emitted.details(EXPORTED, with_event_id=True)
    assert revised["revision"] == 2 and revised["event_id"] != once["event_id"]


def test_entries_eventbridge_refuses_are_sent_again_with_the_same_event_id(
    env: LocalEnvironment, contractor: str, emitted: Emitted, logs: LogCapture
) -> None:
    from qbo_sync.core import aws

    refusals: list[int] = []

    def throttled(**_: Any) -> Any:
        if refusals:
            return None
        refusals.append(1)
        answer = {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
        http = AWSResponse("https://events.us-east-1.amazonaws.com/", 200, {}, None)
        return http, {"FailedEntryCount": 1, "Entries": [answer]}

    events = aws.events().meta.events
    events.register_first("before-call.events.PutEvents", throttled, unique_id="throttled")
    try:
        send(env, invoice(contractor, "44"))
        refused = emitted.details(EXPORTED, with_event_id=True)
        env.runtime.poll_streams()
    finally:
        events.unregister("before-call.events.PutEvents", unique_id="throttled")

    assert refusals == [1]
    assert len(refused) == 1  # the refused attempt
    refused_then_taken = emitted.details(EXPORTED, with_event_id=True)
    assert len(refused_then_taken) == 2 and refused_then_taken[0] == refused_then_taken[1]
    [warning] = logs.records("Events not emitted; the record is delivered again")
    assert "ThrottlingException" in warning["reason"]


def test_the_outbox_emits_nothing_for_writes_no_contractor_sees(
    env: LocalEnvironment, contractor: str, emitted: Emitted
) -> None:
    message = invoice(contractor, "45")
    send(env, message)
    before = len(emitted.entries)

    send(env, {**message, "event_id": message["event_id"] + "-again"})
    env.platform.api("GET", "/quickbooks/exports", contractor)

    assert len(emitted.entries) == before == 1
