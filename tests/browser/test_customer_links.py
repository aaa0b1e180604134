"""The contractor's own customers on the page (contracts §16), in headless chromium against the
local stack, with the contractor `make demo-ui` seeds for it (local/demo_seed.py)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from local import demo_seed
from local.environment import LocalEnvironment
from local.gateway import Gateway
from tests.browser.conftest import shoot


def _open(page: Page, gateway: Gateway) -> None:
    page.goto(f"{gateway.settings_page_url}?contractor={demo_seed.CUSTOMERS}")
    expect(page.locator("qbo-export-settings")).to_have_attribute("data-loaded-at", re.compile("."))


def _row(page: Page, number: str) -> Any:
    return page.locator(f'tr[data-invoice="{number}"]')


def _customer(env: LocalEnvironment, realm: str, name: str) -> str:
    [found] = [c["Id"] for c in env.qbo.entities(realm, "Customer") if c["DisplayName"] == name]
    return str(found)


def test_link_a_failed_invoice_client_to_her_quickbooks_customer(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    realm = demo_seed.seed_customers(ui)
    _open(page, gateway)
    row = _row(page, "5001")
    expect(row.locator(".qbo-badge")).to_have_text("Failed")

    row.get_by_role("button", name="Link invoice 5001's client to a QuickBooks customer").click()
    search = row.get_by_label("Customer in QuickBooks for Jane O'Neil")
    expect(search).to_be_focused()
    search.fill("")
    row.get_by_role("button", name="Find").click()
    expect(row.get_by_role("alert")).to_contain_text("Type part of the customer's name")

    search.fill("o'neil")
    page.keyboard.press("Enter")
    found = row.get_by_role("list", name="Customers found in QuickBooks")
    expect(found.locator("li")).to_have_count(2)  # by display name, and by company name
    expect(found).to_contain_text("jane@example.com")
    shoot(page, "50-link-customer-search")
    desktop = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "50b-link-customer-search-phone")
    page.set_viewport_size(desktop or {"width": 1000, "height": 760})
    found.get_by_role("button", name="Link to O'Neil, Jane").click()

    status = page.get_by_role("status")
    expect(status).to_contain_text("Jane O'Neil is linked to O'Neil, Jane in QuickBooks")
    expect(status).to_be_focused()
    gateway.drain()
    page.get_by_role("button", name="Refresh").click()
    expect(row.locator(".qbo-badge")).to_have_text("Exported")
    expect(row).to_contain_text("Customer in QuickBooks: O'Neil, Jane")
    [invoice] = [i for i in ui.qbo.entities(realm, "Invoice") if i["DocNumber"] == "5001"]
    assert invoice["CustomerRef"]["value"] == _customer(ui, realm, "O'Neil, Jane")
    clients = page.locator("tr[data-client]")
    expect(clients).to_have_count(2)
    expect(page.locator(f'tr[data-client="{demo_seed.JANE}"]')).to_contain_text("O'Neil, Jane")
    shoot(page, "51-linked-and-exported")


def test_a_customer_linked_to_another_client_cannot_be_picked(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.seed_customers(ui)
    _open(page, gateway)
    row = _row(page, "5001")
    row.get_by_role("button", name="Link invoice 5001's client to a QuickBooks customer").click()
    loaded = page.locator("qbo-export-settings").get_attribute("data-loaded-at") or ""
    row.get_by_label("Customer in QuickBooks for Jane O'Neil").fill("ruiz")
    row.get_by_role("button", name="Find").click()

    found = row.get_by_role("list", name="Customers found in QuickBooks")
    taken = found.locator("li", has_text="Ruiz, Marco")
    expect(taken).to_contain_text("(linked to another client)")
    expect(taken.get_by_role("button")).to_have_count(0)
    expect(found.get_by_role("button", name="Link to Marco Ruiz")).to_be_visible()
    # The list refreshes (every refresh-seconds, or Refresh): the open picker stays as it was.
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("qbo-export-settings")).not_to_have_attribute("data-loaded-at", loaded)
    expect(row.get_by_label("Customer in QuickBooks for Jane O'Neil")).to_have_value("ruiz")
    expect(taken).to_contain_text("(linked to another client)")
    row.get_by_role("button", name="Cancel").click()
    expect(
        row.get_by_role("button", name="Link invoice 5001's client to a QuickBooks customer")
    ).to_be_focused()


def test_the_clients_view_lists_links_and_unlinks_after_asking(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    realm = demo_seed.seed_customers(ui)
    _open(page, gateway)
    section = page.get_by_role("region", name="Clients linked to QuickBooks customers")
    marco = section.locator("tr[data-client]")
    expect(marco).to_have_count(1)
    expect(marco).to_contain_text("Marco Ruiz")
    expect(marco).to_contain_text("Ruiz, Marco")
    shoot(page, "52-clients-view")

    marco.get_by_role("button", name="Unlink Marco Ruiz").click()
    expect(marco.get_by_role("button", name="Cancel")).to_be_focused()
    marco.get_by_role("button", name="Yes, unlink Marco Ruiz").click()

    expect(page.get_by_role("status")).to_contain_text("Marco Ruiz is no longer linked")
    expect(section).to_contain_text("No client is linked")
    # The next invoice of that client goes to the customer with his name again.
    message = demo_seed.invoice(demo_seed.CUSTOMERS, "5003", "75.00", 3)
    demo_seed.send(ui, message)
    [invoice] = [i for i in ui.qbo.entities(realm, "Invoice") if i["DocNumber"] == "5003"]
    assert invoice["CustomerRef"]["value"] == _customer(ui, realm, "Marco Ruiz")
