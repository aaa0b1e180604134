"""The client becomes a QBO Customer, whatever its name, through the SQS FIFO consumer: names QBO's
query language must escape or QBO refuses, names a Vendor or an Employee already holds, and the
client's contact details."""

from __future__ import annotations

import json
from typing import Any

import pytest
from export_support import CONSUMER, dead_letters, posts, record_retry_sleeps

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

# client name -> the DisplayName QBO ends up with
HARD_NAMES = {
    "Jane O'Neil": "Jane O'Neil",
    'The "Best" Builders': 'The "Best" Builders',
    "Back\\slash \\' Sons": "Back\\slash \\' Sons",
    "Ends with a backslash \\": "Ends with a backslash \\",
    "Zoë Ünal – 東京 🚀": "Zoë Ünal – 東京 🚀",
    "100% _Legit_ Co": "100% _Legit_ Co",
    # QBO refuses a colon (its sub-customer separator), tabs and line breaks in names.
    "Acme: Kitchen\tRemodel\nPhase 2": "Acme Kitchen Remodel Phase 2",
}


class LambdaKilled(Exception):
    """Stands for the function dying (timeout, out of memory) where it is raised."""


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_retry_sleeps(monkeypatch)


def _first_delivery_dies_and_quickbooks_forgets(
    monkeypatch: pytest.MonkeyPatch, qbo: QboEmulator, realm: str
) -> list[str]:
    """Each invoice's first export dies after QBO wrote everything but before the mapping
    table heard of it, and QBO forgets the requestids: the redelivery has nothing but names and
    numbers to find the customer and the invoice by."""
    from qbo_sync.invoices.mappings import MappingStore

    died: list[str] = []
    real = MappingStore.record_export

    def record_export(self: MappingStore, record: Any, *args: Any, **kwargs: Any) -> None:
        if record.invoice_id not in died:
            died.append(record.invoice_id)
            qbo.forget_request_ids(realm)
            raise LambdaKilled("killed before the mapping was written")
        real(self, record, *args, **kwargs)

    monkeypatch.setattr(MappingStore, "record_export", record_export)
    return died


def _customer_names(qbo: QboEmulator, realm: str) -> dict[str, str]:
    return {customer["Id"]: customer["DisplayName"] for customer in qbo.entities(realm, "Customer")}


def test_hard_client_names_export_and_are_found_again_on_redelivery(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    died = _first_delivery_dies_and_quickbooks_forgets(monkeypatch, qbo, realm)
    numbers = {}
    for n, name in enumerate(HARD_NAMES):
        number = f"N-{n}"
        numbers[number] = name
        message = samples.invoice_sent(contractor, number, name, [("Work", "1", "10.00")])
        env.platform.send_invoice(message)
        # One at a time: each dies once, and a failed message holds back the rest of its group.
        result = env.runtime.poll_sqs(CONSUMER)
        assert (result.failed, result.succeeded) == (1, 1), name

    assert len(died) == len(HARD_NAMES)
    customers = _customer_names(qbo, realm)
    assert sorted(customers.values()) == sorted(HARD_NAMES.values())  # no duplicate
    invoices = by_doc_number(qbo, realm)
    assert set(invoices) == set(numbers)
    for number, name in numbers.items():
        assert customers[invoices[number]["CustomerRef"]["value"]] == HARD_NAMES[name]
    # Every customer create was sent twice; the second was refused as a duplicate name, and
    # the query by that exact name found the first.
    assert posts(qbo, realm, "Customer") == 2 * len(HARD_NAMES)
    assert dead_letters(env) == []


def test_name_held_by_a_vendor_or_an_employee_gets_a_customer_of_its_own(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    qbo.add_vendor(realm, "Acme Supply")
    qbo.add_employee(realm, "Pat Lee")
    _first_delivery_dies_and_quickbooks_forgets(monkeypatch, qbo, realm)
    clients = {"cli_acme": "Acme Supply", "cli_pat": "Pat Lee"}
    for n, (client_id, name) in enumerate(clients.items()):
        message = samples.invoice_sent(
            contractor, f"V-{n}", name, [("Work", "1", "10.00")], client_id=client_id
        )
        env.platform.send_invoice(message)
        result = env.runtime.poll_sqs(CONSUMER)
        assert (result.failed, result.succeeded) == (1, 1), name  # the one deliberate death

    # A second invoice for each: the customer comes from the mapping now.
    for n, (client_id, name) in enumerate(clients.items()):
        message = samples.invoice_sent(
            contractor, f"W-{n}", name, [("More", "1", "5.00")], client_id=client_id
        )
        env.platform.send_invoice(message)
        env.runtime.poll_sqs(CONSUMER)

    customers = _customer_names(qbo, realm)
    assert sorted(customers.values()) == ["Acme Supply (cli_acme)", "Pat Lee (cli_pat)"]
    invoices = by_doc_number(qbo, realm)
    for prefix in ("V", "W"):
        assert customers[invoices[f"{prefix}-0"]["CustomerRef"]["value"]].startswith("Acme")
        assert customers[invoices[f"{prefix}-1"]["CustomerRef"]["value"]].startswith("Pat")
    assert [v["DisplayName"] for v in qbo.entities(realm, "Vendor")] == ["Acme Supply"]
    assert [e["DisplayName"] for e in qbo.entities(realm, "Employee")] == ["Pat Lee"]
    assert dead_letters(env) == []


def test_customer_carries_the_clients_email_phone_company_and_billing_address(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    message = samples.invoice_sent(contractor, "C-1", "Jane O'Neil", [("Work", "1", "10.00")])
    message["client"].update(
        company_name="O'Neil Renovations LLC",
        email="jane@oneil.example",
        phone="+1 512 555 0199",
        billing_address={
            "line1": "12 Congress Ave",
            "line2": "Suite 300",
            "city": "Austin",
            "region": "TX",
            "postal_code": "78701",
            "country": "US",
        },
    )

    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)

    [customer] = qbo.entities(realm, "Customer")
    assert customer["DisplayName"] == "Jane O'Neil"
    assert customer["CompanyName"] == "O'Neil Renovations LLC"
    assert customer["PrimaryEmailAddr"]["Address"] == "jane@oneil.example"
    assert customer["PrimaryPhone"]["FreeFormNumber"] == "+1 512 555 0199"
    address = customer["BillAddr"]
    assert (address["Line1"], address["Line2"], address["City"]) == (
        "12 Congress Ave",
        "Suite 300",
        "Austin",
    )
    assert (address["CountrySubDivisionCode"], address["PostalCode"]) == ("TX", "78701")
    assert address["Country"] == "USA"  # QBO answers ISO alpha-3 since Oct 2025
    invoice = by_doc_number(qbo, realm)["C-1"]
    assert invoice["BillEmail"]["Address"] == "jane@oneil.example"


def test_invoice_numbers_quickbooks_must_escape_are_found_again_on_redelivery(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The redelivery finds the invoice by DocNumber and its item by Name: both are quoted in
    # QBO's query language, and a company lets duplicate numbers through by default.
    numbers = ["O'Neil-1", 'Q"2', "back\\3", "end\\", "Ünï-5 東", "a:b"]
    _first_delivery_dies_and_quickbooks_forgets(monkeypatch, qbo, realm)
    for number in numbers:
        message = samples.invoice_sent(contractor, number, "Client", [("Work", "1", "10.00")])
        env.platform.send_invoice(message)
        result = env.runtime.poll_sqs(CONSUMER)
        assert (result.failed, result.succeeded) == (1, 1), number

    invoices = qbo.entities(realm, "Invoice")
    assert sorted(invoice["DocNumber"] for invoice in invoices) == sorted(numbers)
    items = sorted(item["Name"] for item in qbo.entities(realm, "Item"))
    # An item name may not hold a colon either.
    assert items == sorted(f"Invoice {number}".replace(":", " ") for number in numbers)
    assert len(qbo.entities(realm, "Customer")) == 1
    assert dead_letters(env) == []


def test_name_of_an_inactive_customer_gets_a_customer_of_its_own(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.add_customer(realm, "Old Client", Active=False)  # QBO's queries do not return it

    env.platform.send_invoice(
        samples.invoice_sent(
            contractor, "I-1", "Old Client", [("Work", "1", "10.00")], client_id="cli_old"
        )
    )
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.failed, result.succeeded) == (0, 1)
    customers = _customer_names(qbo, realm)
    invoice = by_doc_number(qbo, realm)["I-1"]
    assert customers[invoice["CustomerRef"]["value"]] == "Old Client (cli_old)"


def test_invoice_whose_item_names_inactive_items_hold_fails_naming_the_item(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    # The plain name and the one with the platform's id: both made inactive in QuickBooks.
    qbo.add_item(realm, "Invoice 88", Active=False)
    qbo.add_item(realm, "Invoice 88 (inv_88)", Active=False)

    env.platform.send_invoice(samples.invoice_sent(contractor, "88", "Ann", [("Work", "1", "5")]))
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.failed, result.succeeded, result.dead_lettered) == (0, 1, 0)
    assert "88" not in by_doc_number(qbo, realm)
    [letter] = dead_letters(env)
    assert "no free item name" in letter["MessageAttributes"]["reason"]["StringValue"]
    response = env.platform.api("GET", "/quickbooks/exports", contractor)
    [item] = json.loads(response["body"])["items"]
    assert (item["status"], item["reason"]["code"]) == ("failed", "item_name_taken")
    assert "client" not in item["reason"]["message"]
