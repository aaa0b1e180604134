"""The contractor's own customers (docs/interface.md §16) through the HTTP routes and the
consumer, asserting on what the emulated QBO company shows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from customers_support import call, exports, link, links, search, unlink
from history_support import hand_key, metered_reads, request_history, run_history

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

CONTRACTOR = "ctr_cust"
JANE = "cli_jane"


@pytest.fixture
def realm(qbo: QboEmulator) -> str:
    return qbo.create_company("Oak Renovations")


@pytest.fixture
def connected(env: LocalEnvironment, realm: str) -> str:
    landed = env.platform.connect_quickbooks(CONTRACTOR)
    assert landed.endswith("quickbooks=connected"), landed
    return realm


def send(
    env: LocalEnvironment, number: str, amount: str = "100.00", client: str = JANE, **more: Any
) -> dict[str, Any]:
    name = more.pop("name", "Jane O'Neil")
    message = samples.invoice_sent(
        CONTRACTOR, number, name, [("Work", "1", amount)], client_id=client, **more
    )
    env.platform.send_invoice(message)
    env.runtime.drain()
    return message


def customer_of(qbo: QboEmulator, realm: str, number: str) -> str:
    return str(by_doc_number(qbo, realm)[number]["CustomerRef"]["value"])


def test_search_finds_active_customers_by_display_or_company_name_in_any_case(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    realm = connected
    oneil = qbo.add_customer(
        realm, "O'Neil, Jane", PrimaryEmailAddr={"Address": "jane@example.com"}
    )
    firm = qbo.add_customer(realm, "J. Smith", CompanyName="O'NEIL Holdings")
    qbo.add_customer(realm, "Jane O'Neil (old)", Active=False)
    qbo.add_vendor(realm, "O'Neil Lumber")
    before = metered_reads(qbo, realm)

    status, body = search(env, CONTRACTOR, "o'neil")

    assert status == 200, body
    assert [item["qbo_customer_id"] for item in body["items"]] == [oneil, firm]
    first = body["items"][0]
    assert first == {
        "qbo_customer_id": oneil,
        "display_name": "O'Neil, Jane",
        "company_name": None,
        "email": "jane@example.com",
        "balance": "0.00",
        "currency": "USD",
        "linked_client_id": None,
    }
    assert body["items"][1]["company_name"] == "O'NEIL Holdings"
    assert metered_reads(qbo, realm) - before == 2  # display names, then company names


def test_search_answers_at_most_20_with_one_read_when_display_names_fill_it(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    realm = connected
    for n in range(25):
        qbo.add_customer(realm, f"Maple Client {n:02d}")
    before = metered_reads(qbo, realm)

    status, body = search(env, CONTRACTOR, "MAPLE")

    assert status == 200 and len(body["items"]) == 20
    assert metered_reads(qbo, realm) - before == 1


@pytest.mark.parametrize("text", ["", "   ", "x" * 101])
def test_a_search_without_text_or_too_long_is_refused(
    env: LocalEnvironment, qbo: QboEmulator, connected: str, text: str
) -> None:
    before = metered_reads(qbo, connected)
    status, body = search(env, CONTRACTOR, text)
    assert (status, body["error"]) == (400, "invalid_search")
    assert metered_reads(qbo, connected) == before


def test_routes_need_a_connection(env: LocalEnvironment, realm: str) -> None:
    assert search(env, CONTRACTOR, "jane")[1]["error"] == "not_connected"
    status, body = link(env, CONTRACTOR, JANE, "1")
    assert (status, body["error"]) == (409, "not_connected")
    assert call(env, "GET", "/quickbooks/clients", CONTRACTOR)[0] == 409


def test_a_linked_client_invoices_go_to_its_customer_with_no_second_customer_and_no_read(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    realm = connected
    oneil = qbo.add_customer(realm, "O'Neil, Jane")
    send(env, "L-0", client="cli_other", name="Other Client")  # the company's setup is kept
    customers_before = len(qbo.entities(realm, "Customer"))

    status, body = link(env, CONTRACTOR, JANE, oneil)
    assert status == 200, body
    assert body == {"client_id": JANE, "qbo_customer_id": oneil, "display_name": "O'Neil, Jane"}
    reads_before = metered_reads(qbo, realm)
    send(env, "L-1")
    send(env, "L-2", "50.00")

    assert customer_of(qbo, realm, "L-1") == customer_of(qbo, realm, "L-2") == oneil
    assert len(qbo.entities(realm, "Customer")) == customers_before  # none made by name
    assert metered_reads(qbo, realm) == reads_before  # the live export reads nothing
    shown = exports(env, CONTRACTOR)["inv_L-1"]
    assert shown["customer"] == {"qbo_customer_id": oneil, "display_name": "O'Neil, Jane"}
    [listed] = links(env, CONTRACTOR)
    assert {k: listed[k] for k in ("client_id", "qbo_customer_id", "display_name")} == {
        "client_id": JANE,
        "qbo_customer_id": oneil,
        "display_name": "O'Neil, Jane",
    }
    assert listed["linked_at"] and listed["client_name"] is None  # no invoice of hers yet
    found = search(env, CONTRACTOR, "neil")[1]["items"]
    assert [item["linked_client_id"] for item in found] == [JANE]


def test_an_invoice_that_failed_for_want_of_a_name_is_exported_once_linked(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    realm = connected
    qbo.add_vendor(realm, "Jane O'Neil")
    qbo.add_customer(realm, f"Jane O'Neil ({JANE})", Active=False)
    oneil = qbo.add_customer(realm, "O'Neil, Jane")
    send(env, "T-1")
    item = exports(env, CONTRACTOR)["inv_T-1"]
    assert (item["status"], item["reason"]["code"]) == ("failed", "client_name_taken")
    assert "T-1" not in by_doc_number(qbo, realm)

    assert link(env, CONTRACTOR, JANE, oneil)[0] == 200
    env.runtime.drain()

    assert customer_of(qbo, realm, "T-1") == oneil
    again = exports(env, CONTRACTOR)["inv_T-1"]
    assert again["status"] == "exported"
    assert [entry["outcome"] for entry in again["history"][:2]] == ["exported", "retried"]
    [listed] = links(env, CONTRACTOR)
    assert (listed["client_name"], listed["display_name"]) == ("Jane O'Neil", "O'Neil, Jane")


def test_a_history_invoice_keyed_by_hand_under_another_name_is_adopted_once_linked(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    realm = connected
    oneil = qbo.add_customer(realm, "O'Neil, Jane")
    keyed = hand_key(qbo, realm, "H-7", oneil, "120.00")
    message = samples.invoice_sent(
        CONTRACTOR, "H-7", "Jane O'Neil", [("Work", "1", "120.00")], client_id=JANE
    )
    message["invoice"]["issue_date"] = "2026-10-01"
    env.platform.invoicing.remember(message)
    request_history(env, CONTRACTOR, "2026-01-01")
    run_history(env)
    item = exports(env, CONTRACTOR)["inv_H-7"]
    assert (item["status"], item["reason"]["code"]) == ("failed", "invoice_number_taken")

    assert link(env, CONTRACTOR, JANE, oneil)[0] == 200
    env.runtime.drain()

    item = exports(env, CONTRACTOR)["inv_H-7"]
    assert (item["status"], item["adopted"], item["qbo_invoice_id"]) == (
        "exported",
        True,
        keyed["Id"],
    )
    [invoice] = [i for i in qbo.entities(realm, "Invoice") if i["DocNumber"] == "H-7"]
    assert invoice["SyncToken"] == keyed["SyncToken"]  # nothing changed in QuickBooks
    assert [c["DisplayName"] for c in qbo.entities(realm, "Customer")] == ["O'Neil, Jane"]


def test_unlinked_the_next_invoice_finds_or_makes_its_customer_by_name(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    realm = connected
    oneil = qbo.add_customer(realm, "O'Neil, Jane")
    link(env, CONTRACTOR, JANE, oneil)
    send(env, "U-1")

    assert unlink(env, CONTRACTOR, JANE) == 204
    assert unlink(env, CONTRACTOR, JANE) == 204  # nothing left to remove: the same answer
    send(env, "U-2")

    assert customer_of(qbo, realm, "U-1") == oneil
    names = {c["Id"]: c["DisplayName"] for c in qbo.entities(realm, "Customer")}
    assert names[customer_of(qbo, realm, "U-2")] == "Jane O'Neil"
    assert links(env, CONTRACTOR) == []
    # Free again: another client may take it.
    assert link(env, CONTRACTOR, "cli_other", oneil)[0] == 200


def test_a_customer_linked_to_another_client_is_refused(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    oneil = qbo.add_customer(connected, "O'Neil, Jane")
    assert link(env, CONTRACTOR, JANE, oneil)[0] == 200
    assert link(env, CONTRACTOR, JANE, oneil)[0] == 200  # the same link again: fine

    status, body = link(env, CONTRACTOR, "cli_other", oneil)

    assert (status, body["error"]) == (409, "customer_linked")
    assert [item["client_id"] for item in links(env, CONTRACTOR)] == [JANE]


def test_relinking_a_client_frees_its_earlier_customer(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    first = qbo.add_customer(connected, "O'Neil, Jane")
    second = qbo.add_customer(connected, "Jane O'Neil-Smith")
    link(env, CONTRACTOR, JANE, first)
    assert link(env, CONTRACTOR, JANE, second)[0] == 200

    assert [item["qbo_customer_id"] for item in links(env, CONTRACTOR)] == [second]
    assert link(env, CONTRACTOR, "cli_other", first)[0] == 200


def test_a_customer_that_is_inactive_unknown_or_in_another_currency_is_refused(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    qbo.company_settings(realm, multicurrency=True)
    landed = env.platform.connect_quickbooks(CONTRACTOR)
    assert landed.endswith("quickbooks=connected")
    inactive = qbo.add_customer(realm, "Old Jane", Active=False)
    euro = qbo.add_customer(realm, "Jane (EUR)", CurrencyRef={"value": "EUR"})
    send(env, "C-1")  # the client's invoices are in USD

    for customer in (inactive, euro, "99999", "12abc"):
        status, body = link(env, CONTRACTOR, JANE, customer)
        assert (status, body["error"]) == (400, "invalid_customer"), customer
    assert links(env, CONTRACTOR) == []
    for bad in ({}, {"qbo_customer_id": 58}, None):
        status, body = call(env, "PUT", f"/quickbooks/clients/{JANE}/customer", CONTRACTOR, bad)
        assert status == 400 and body["message"].startswith("qbo_customer_id"), bad


def test_a_foreign_currency_link_takes_the_client_invoices_in_that_currency(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    qbo.company_settings(realm, multicurrency=True)
    env.platform.connect_quickbooks(CONTRACTOR)
    euro = qbo.add_customer(realm, "O'Neil, Jane (EUR)", CurrencyRef={"value": "EUR"})
    message = samples.invoice_sent(
        CONTRACTOR, "E-1", "Jane O'Neil", [("Work", "1", "80.00")], client_id=JANE
    )
    message["invoice"]["currency"] = "EUR"
    env.platform.send_invoice(message)
    env.runtime.drain()

    assert link(env, CONTRACTOR, JANE, euro)[0] == 200
    second = {**message, "event_id": "evt_e2"}
    second["invoice"] = {**message["invoice"], "id": "inv_E-2", "number": "E-2"}
    env.platform.send_invoice(second)
    env.runtime.drain()
    send(env, "D-1")  # the client's invoices in dollars keep their own customer

    assert customer_of(qbo, realm, "E-2") == euro
    assert customer_of(qbo, realm, "D-1") not in {euro, customer_of(qbo, realm, "E-1")}
    assert Decimal(str(by_doc_number(qbo, realm)["E-2"]["TotalAmt"])) == Decimal("80.00")


def test_links_belong_to_the_company_connected(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    oneil = qbo.add_customer(connected, "O'Neil, Jane")
    link(env, CONTRACTOR, JANE, oneil)

    other = qbo.create_company("Second Company LLC")
    qbo.consent(other)
    env.platform.connect_quickbooks(CONTRACTOR)
    assert links(env, CONTRACTOR) == []
    send(env, "N-1")

    names = {c["Id"]: c["DisplayName"] for c in qbo.entities(other, "Customer")}
    assert names[customer_of(qbo, other, "N-1")] == "Jane O'Neil"


def test_a_link_made_while_an_export_finds_the_customer_by_name_is_kept(
    env: LocalEnvironment, qbo: QboEmulator, connected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export read no mapping, then the contractor linked the client before its write: the
    invoice goes where it was planned, and the link stays for the next ones."""
    from qbo_sync.invoices.exporter import InvoiceExporter

    realm = connected
    oneil = qbo.add_customer(realm, "O'Neil, Jane")
    real = InvoiceExporter._customer

    def customer_then_link(self: InvoiceExporter, *args: Any) -> str:
        found = real(self, *args)
        assert link(env, CONTRACTOR, JANE, oneil)[0] == 200  # meanwhile, on the page
        return found

    monkeypatch.setattr(InvoiceExporter, "_customer", customer_then_link)
    send(env, "R-1")
    monkeypatch.setattr(InvoiceExporter, "_customer", real)
    send(env, "R-2")

    names = {c["Id"]: c["DisplayName"] for c in qbo.entities(realm, "Customer")}
    assert names[customer_of(qbo, realm, "R-1")] == "Jane O'Neil"
    assert customer_of(qbo, realm, "R-2") == oneil
    assert [item["qbo_customer_id"] for item in links(env, CONTRACTOR)] == [oneil]


def test_an_invoice_exported_before_the_link_stays_with_its_customer_when_revised(
    env: LocalEnvironment, qbo: QboEmulator, connected: str
) -> None:
    realm = connected
    oneil = qbo.add_customer(realm, "O'Neil, Jane")
    send(env, "S-1", "100.00")
    by_name = customer_of(qbo, realm, "S-1")
    link(env, CONTRACTOR, JANE, oneil)

    send(env, "S-1", "150.00", revision=2)
    assert customer_of(qbo, realm, "S-1") == by_name != oneil
    send(env, "S-2", "20.00")  # a new invoice goes to the linked customer
    assert customer_of(qbo, realm, "S-2") == oneil

    unlink(env, CONTRACTOR, JANE)
    send(env, "S-2", "25.00", revision=2)
    assert customer_of(qbo, realm, "S-2") == oneil
    assert Decimal(str(by_doc_number(qbo, realm)["S-2"]["TotalAmt"])) == Decimal("25.00")
