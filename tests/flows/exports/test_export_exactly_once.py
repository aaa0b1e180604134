"""Exactly once: redeliveries, duplicate publishes, racing invocations, a crash between QBO and the
mapping table, lost answers, and re-sent revisions, all through the SQS FIFO consumer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest
from export_support import (
    CONSUMER,
    dead_letters,
    posts,
    race_the_queued_batch,
    record_retry_sleeps,
)

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_retry_sleeps(monkeypatch)


class LambdaKilled(Exception):
    """Stands for the function dying (timeout, out of memory) at the point it is raised."""


def one_of_each(qbo: QboEmulator, realm: str) -> None:
    assert len(qbo.entities(realm, "Invoice")) == 1
    assert len(qbo.entities(realm, "Item")) == 1
    assert len(qbo.entities(realm, "Customer")) == 1


def test_message_delivered_five_times_creates_one_invoice_one_item_one_customer(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The first four deliveries die after everything was written, before SQS hears of it.
    import qbo_sync.workflows.export

    deliveries = []
    real = qbo_sync.workflows.export.after_export

    def dies_four_times(*args: Any, **kwargs: Any) -> Any:
        deliveries.append(1)
        if len(deliveries) <= 4:
            raise LambdaKilled()
        return real(*args, **kwargs)

    monkeypatch.setattr(qbo_sync.workflows.export, "after_export", dies_four_times)
    env.platform.send_invoice(samples.invoice_sent(contractor, "7", "Bob", [("Work", "2", "50")]))

    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.invocations, result.failed, result.succeeded) == (5, 4, 1)
    one_of_each(qbo, realm)
    assert posts(qbo, realm, "Invoice") == 1
    assert dead_letters(env) == []


def test_duplicate_publishes_of_one_revision_create_one_invoice(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    message = samples.invoice_sent(contractor, "8", "Bob Builder", [("Work", "2", "50.00")])

    for attempt in range(3):
        env.platform.send_invoice({**message, "event_id": f"{message['event_id']}-{attempt}"})
    result = env.runtime.poll_sqs(CONSUMER)

    assert result.failed == 0
    one_of_each(qbo, realm)
    assert posts(qbo, realm, "Invoice") == 1


def test_two_invocations_racing_on_one_message_create_one_of_each(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    # Lambda may invoke twice with the same batch; two invocations are two processes.
    env.platform.send_invoice(samples.invoice_sent(contractor, "9", "Racy", [("A", "3", "7")]))
    race_the_queued_batch(env, qbo)

    one_of_each(qbo, realm)
    assert qbo.peak_concurrency(realm) == 2  # they did race


def _dies_before_the_mapping_is_written(
    monkeypatch: pytest.MonkeyPatch, before_dying: Any = None
) -> list[int]:
    from qbo_sync.invoices.mappings import MappingStore

    deaths: list[int] = []
    real = MappingStore.record_export

    def record_export(self: MappingStore, *args: Any, **kwargs: Any) -> None:
        if not deaths:
            deaths.append(1)
            if before_dying:
                before_dying()
            raise LambdaKilled("killed after QBO accepted the invoice")
        real(self, *args, **kwargs)

    monkeypatch.setattr(MappingStore, "record_export", record_export)
    return deaths


def test_crash_after_qbo_accepted_the_invoice_creates_no_second_one_on_retry(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deaths = _dies_before_the_mapping_is_written(monkeypatch)
    env.platform.send_invoice(samples.invoice_sent(contractor, "10", "Cee", [("A", "1", "9.99")]))

    result = env.runtime.poll_sqs(CONSUMER)

    assert deaths == [1]
    assert (result.failed, result.succeeded) == (1, 1)
    one_of_each(qbo, realm)
    # The redelivery looked the invoice up by its number and adopted it: no second create.
    assert posts(qbo, realm, "Invoice") == 1


def test_crash_window_with_a_forgotten_requestid_still_creates_one_invoice(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # QBO does not promise to remember a requestid: the DocNumber lookup must be enough.
    _dies_before_the_mapping_is_written(monkeypatch, lambda: qbo.forget_request_ids(realm))
    env.platform.send_invoice(samples.invoice_sent(contractor, "11", "Dee", [("A", "2", "5")]))

    env.runtime.poll_sqs(CONSUMER)

    one_of_each(qbo, realm)
    invoice = by_doc_number(qbo, realm)["11"]
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("10.00")
    assert invoice["SyncToken"] == "0"  # adopted as it was: same revision, nothing to update


def test_lost_answers_to_creates_are_retried_with_the_same_requestid(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.crash_after_commit_next(3)  # customer, item and invoice: each stored, answer lost

    env.platform.send_invoice(samples.invoice_sent(contractor, "12", "Eve", [("A", "1", "1")]))
    result = env.runtime.poll_sqs(CONSUMER)

    assert result.failed == 0
    one_of_each(qbo, realm)


def test_lost_mapping_in_a_company_refusing_duplicate_numbers_finds_the_invoice_by_number(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.company_settings(realm, warn_duplicate_doc_number=True)
    message = samples.invoice_sent(contractor, "13", "Fay", [("A", "1", "20.00")])
    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)
    # The mapping is lost (say, restored from an older backup) and QBO forgot the requestid.
    _delete_invoice_mappings(env, contractor)
    qbo.forget_request_ids(realm)

    env.platform.send_invoice({**message, "event_id": message["event_id"] + "-again"})
    result = env.runtime.poll_sqs(CONSUMER)

    assert result.failed == 0
    one_of_each(qbo, realm)
    assert dead_letters(env) == []


def _delete_invoice_mappings(env: LocalEnvironment, contractor: str) -> None:
    dynamodb = boto3.client("dynamodb")
    table = env.stack.resources["MappingsTable"]
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": contractor}},
    )["Items"]
    for item in items:
        if "#invoice#" in item["sk"]["S"]:
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


# -- re-sent and edited invoices ---------------------------------------------------------------


def test_higher_revision_updates_the_same_qbo_invoice_in_place(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    first = samples.invoice_sent(contractor, "20", "Gus", [("Paint", "2", "100.00")])
    env.platform.send_invoice(first)
    env.runtime.poll_sqs(CONSUMER)
    before = by_doc_number(qbo, realm)["20"]

    edited = samples.invoice_sent(
        contractor, "20", "Gus", [("Paint", "2", "100.00"), ("Trim", "1", "45.50")], revision=2
    )
    env.platform.send_invoice(edited)
    result = env.runtime.poll_sqs(CONSUMER)

    assert result.failed == 0
    (after,) = qbo.entities(realm, "Invoice")
    assert after["Id"] == before["Id"]
    assert int(after["SyncToken"]) == int(before["SyncToken"]) + 1
    assert Decimal(str(after["TotalAmt"])) == Decimal("245.50")
    descriptions = [
        line.get("Description") for line in after["Line"] if "SalesItemLineDetail" in line
    ]
    assert descriptions == ["Paint", "Trim"]
    assert len(qbo.entities(realm, "Item")) == 1


def test_revision_after_a_change_in_quickbooks_retries_once_with_the_current_synctoken(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    env.platform.send_invoice(samples.invoice_sent(contractor, "21", "Hal", [("A", "1", "300")]))
    env.runtime.poll_sqs(CONSUMER)
    # A payment applied in QuickBooks moves the invoice's SyncToken past the one we hold.
    env.platform.complete_payment(samples.payment_completed(contractor, "inv_21", "21", "100.00"))
    env.runtime.poll_sqs("PaymentCompletedFunction")
    (exported,) = qbo.entities(realm, "Invoice")
    read_path = f"/invoice/{exported['Id']}"
    reads_before = qbo.count_requests(realm, method="GET", path_suffix=read_path)

    edited = samples.invoice_sent(contractor, "21", "Hal", [("A", "1", "350")], revision=2)
    env.platform.send_invoice(edited)
    result = env.runtime.poll_sqs(CONSUMER)

    assert result.failed == 0
    (invoice,) = qbo.entities(realm, "Invoice")
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("350.00")
    assert Decimal(str(invoice["Balance"])) == Decimal("250.00")
    assert qbo.count_requests(realm, method="GET", path_suffix=read_path) == reads_before + 1


def test_lower_or_equal_revision_arriving_late_changes_nothing(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    newer = samples.invoice_sent(contractor, "22", "Ida", [("A", "1", "80.00")], revision=3)
    env.platform.send_invoice(newer)
    env.runtime.poll_sqs(CONSUMER)
    requests_before = qbo.count_requests(realm)

    for revision in (2, 3):
        late = samples.invoice_sent(
            contractor, "22", "Ida", [("A", "1", "60.00")], revision=revision
        )
        env.platform.send_invoice(late)
    result = env.runtime.poll_sqs(CONSUMER)

    assert result.failed == 0
    (invoice,) = qbo.entities(realm, "Invoice")
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("80.00")
    assert invoice["SyncToken"] == "0"
    assert qbo.count_requests(realm) == requests_before  # not one request to QuickBooks
