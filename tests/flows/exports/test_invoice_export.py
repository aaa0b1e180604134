"""invoice-sent messages through the SQS FIFO consumer, asserting on the emulated QBO company."""

from __future__ import annotations

import json
from decimal import Decimal

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture, by_doc_number

CONSUMER = "InvoiceSentFunction"


def test_sent_invoice_lands_in_quickbooks_with_number_customer_and_exact_total(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    message = samples.invoice_sent(
        contractor, "1042", "Jane O'Neil", [("Cabinets", "1", "1000.00"), ("Install", "4", "58.64")]
    )

    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)

    invoice = by_doc_number(qbo, realm)["1042"]
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("1234.56")
    customers = {c["Id"]: c for c in qbo.entities(realm, "Customer")}
    assert customers[invoice["CustomerRef"]["value"]]["DisplayName"] == "Jane O'Neil"
    items = {i["Id"]: i for i in qbo.entities(realm, "Item")}
    sales_lines = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    item_ids = {line["SalesItemLineDetail"]["ItemRef"]["value"] for line in sales_lines}
    assert {items[item_id]["Name"] for item_id in item_ids} == {"Invoice 1042"}
    assert items[item_ids.pop()]["Type"] == "Service"


def test_redelivered_message_creates_one_invoice_one_item_one_customer(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    message = samples.invoice_sent(contractor, "7", "Bob Builder", [("Work", "2", "50.00")])

    for attempt in range(3):
        env.platform.send_invoice({**message, "event_id": f"{message['event_id']}-{attempt}"})
        env.runtime.poll_sqs(CONSUMER)

    assert len(qbo.entities(realm, "Invoice")) == 1
    assert len(qbo.entities(realm, "Item")) == 1
    assert len(qbo.entities(realm, "Customer")) == 1


def test_second_invoice_for_a_known_client_reuses_the_customer(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    for number in ("1", "2"):
        env.platform.send_invoice(
            samples.invoice_sent(contractor, number, "Repeat Client", [("Visit", "1", "80.00")])
        )
    env.runtime.poll_sqs(CONSUMER)

    invoices = by_doc_number(qbo, realm)
    assert set(invoices) == {"1", "2"}
    assert invoices["1"]["CustomerRef"]["value"] == invoices["2"]["CustomerRef"]["value"]
    assert len(qbo.entities(realm, "Customer")) == 1


def test_existing_quickbooks_customer_with_the_same_name_is_reused(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    existing = qbo.add_customer(realm, "Jane O'Neil")

    env.platform.send_invoice(
        samples.invoice_sent(contractor, "9", "Jane O'Neil", [("X", "1", "5.00")])
    )
    env.runtime.poll_sqs(CONSUMER)

    assert by_doc_number(qbo, realm)["9"]["CustomerRef"]["value"] == existing
    assert len(qbo.entities(realm, "Customer")) == 1


def test_line_whose_rate_does_not_multiply_out_keeps_the_platform_amount(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    message = samples.invoice_sent(contractor, "15", "Hourly Client", total="50.00")
    message["invoice"]["lines"] = [
        {"description": "Consulting", "quantity": "1.5", "unit_price": "33.33", "amount": "50.00"}
    ]

    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)

    assert Decimal(str(by_doc_number(qbo, realm)["15"]["TotalAmt"])) == Decimal("50.00")


def test_invoice_without_lines_is_one_line_for_the_total(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    env.platform.send_invoice(samples.invoice_sent(contractor, "16", "Lump Sum", total="999.99"))
    env.runtime.poll_sqs(CONSUMER)

    assert Decimal(str(by_doc_number(qbo, realm)["16"]["TotalAmt"])) == Decimal("999.99")


def test_expired_access_token_is_refreshed_and_the_new_tokens_are_stored(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.expire_access_tokens(realm)

    env.platform.send_invoice(samples.invoice_sent(contractor, "20", "Ann", [("A", "1", "10.00")]))
    env.runtime.poll_sqs(CONSUMER)
    qbo.expire_access_tokens(realm)
    env.platform.send_invoice(samples.invoice_sent(contractor, "21", "Ann", [("A", "1", "10.00")]))
    env.runtime.poll_sqs(CONSUMER)

    # The second refresh only works if the first one's rotated refresh token was stored.
    assert set(by_doc_number(qbo, realm)) == {"20", "21"}
    view = json.loads(env.platform.api("GET", "/quickbooks/connection", contractor)["body"])
    assert view["status"] == "connected"
    assert view["last_export_at"]


def test_message_for_a_contractor_without_quickbooks_is_acknowledged(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    env.platform.send_invoice(samples.invoice_sent("ctr_nobody", "1", "Ann", [("A", "1", "1.00")]))
    result = env.runtime.poll_sqs(CONSUMER)

    assert result.failed == 0
    assert qbo.entities(realm, "Invoice") == []


def test_invalid_message_is_acknowledged_and_other_contractors_still_export(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    bad = samples.invoice_sent("ctr_other", "1", "Ann", [("A", "1", "1.00")])
    bad["invoice"]["total"] = "-5.00"
    env.platform.send_invoice(bad)
    env.platform.send_invoice(samples.invoice_sent(contractor, "30", "Ann", [("A", "1", "1.00")]))

    result = env.runtime.poll_sqs(CONSUMER, max_batches=1)

    assert (result.failed, result.succeeded) == (0, 2)
    assert set(by_doc_number(qbo, realm)) == {"30"}


def test_unknown_schema_version_is_refused_with_the_field_named(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, logs: LogCapture
) -> None:
    message = samples.invoice_sent(contractor, "31", "Ann", [("A", "1", "1.00")])
    message["schema_version"] = 2
    env.platform.send_invoice(message)

    result = env.runtime.poll_sqs(CONSUMER, max_batches=1)

    assert result.failed == 0
    assert qbo.entities(realm, "Invoice") == []
    refused = logs.records("Invoice-sent message refused")
    assert len(refused) == 1
    assert refused[0]["problems"] == ["schema_version: Input should be 1"]
