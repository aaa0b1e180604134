"""The page a contractor runs their books from (issue 22), in headless chromium against the local
stack: the accounts, the payouts and the invoices sections, with the demo contractors `make
demo-ui` seeds (local/demo_seed.py). Each test keeps screenshots of the states it reaches
(build/screenshots/, listed in docs/settings-page.md)."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Page, expect

from local import demo_seed
from local.environment import LocalEnvironment
from local.gateway import Gateway
from tests.browser.conftest import shoot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1000, "height": 760}
UNREACHABLE = (
    "We can't reach the export service right now. Your invoices are safe and will export when "
    "it is back."
)


def _open(page: Page, gateway: Gateway, contractor: str, extra: str = "") -> None:
    page.goto(f"{gateway.settings_page_url}?contractor={contractor}{extra}")
    # Every section loaded (the element marks when it last loaded them all).
    expect(page.locator("qbo-export-settings")).to_have_attribute("data-loaded-at", re.compile("."))


def _row(page: Page, number: str) -> Any:
    return page.locator(f'tr[data-invoice="{number}"]')


def _refresh(page: Page, gateway: Gateway) -> None:
    gateway.drain()
    page.get_by_role("button", name="Refresh").click()


def _api(env: LocalEnvironment, path: str, contractor: str, **query: str) -> Any:
    return json.loads(env.platform.api("GET", path, contractor, query=query)["body"])


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.outerHTML.slice(0, 120)"))


def _tab_to(page: Page, accessible_text: str, limit: int = 40) -> None:
    """Presses Tab until the focused element's text or label is `accessible_text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        found = page.evaluate(
            "(() => { const e = document.activeElement;"
            " return e.getAttribute('aria-label') || e.textContent.trim(); })()"
        )
        if found == accessible_text:
            return
    raise AssertionError(f"Tab never reached {accessible_text!r}; at {_focused(page)}")


def test_every_state_of_the_seeded_contractor_at_desktop_and_phone_width(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.seed_states(ui)
    _open(page, gateway, demo_seed.STATES)

    expected = {
        "2001": "Exported",
        "2002": "Exported",
        "2003": "Exported",
        "2004": "Failed",
        "2005": "Skipped",
        "2006": "Dismissed",
        "2007": "Voided",
    }
    for number, label in expected.items():
        expect(_row(page, number).locator(".qbo-badge")).to_have_text(label)
    failed = _row(page, "2004")
    expect(failed.locator(".qbo-client")).to_have_text("Hill Street Bakery")
    expect(failed).to_contain_text("$780.00")
    expect(failed).to_contain_text("Oct 28, 2026")
    expect(failed.locator(".qbo-reason")).to_contain_text("closed accounting period")
    expect(_row(page, "2002").locator(".qbo-payment")).to_have_text(
        re.compile(r"^Payment of \$300\.00(,| on) \w+ \d+, \d{4}: recorded$")
    )
    expect(_row(page, "2003").locator(".qbo-refund")).to_have_text("Refund of $200.00: recorded")
    for number in ("2004", "2005", "2006"):
        expect(_row(page, number).get_by_role("button", name=f"Retry exporting invoice {number}"))
    expect(_row(page, "2001").get_by_role("button")).to_have_count(0)
    payout = page.locator('tr[data-payout="po_2001"]')
    expect(payout.locator(".qbo-badge")).to_have_text("Waiting")
    expect(payout).to_contain_text("$1,164.90")
    expect(payout.locator(".qbo-reason")).to_contain_text("Choose the bank account payouts")
    expect(page.locator('[data-field="payout_account_id"] .qbo-field-waiting')).to_have_text(
        "1 payout waits for this account. Choose the account and save: it is then deposited in "
        "QuickBooks."
    )
    expect(page.get_by_label("Bank account payouts arrive in")).to_have_accessible_description(
        "Each payout becomes one deposit into this account, so it matches the line on your bank "
        "feed. 1 payout waits for this account. Choose the account and save: it is then "
        "deposited in QuickBooks."
    )
    shoot(page, "20-every-state-desktop")

    _row(page, "2004").get_by_text("History (1)").click()
    expect(_row(page, "2004").locator(".qbo-history li")).to_contain_text("Refused by QuickBooks")
    shoot(page, "21-history-open")
    page.set_viewport_size(PHONE)
    shoot(page, "22-every-state-phone")
    page.set_viewport_size(DESKTOP)
    assert "Service Unavailable" not in page.content()


def test_choosing_the_payout_bank_account_deposits_the_waiting_payout_keyboard_only(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    realm = demo_seed.seed_states(ui)
    _open(page, gateway, demo_seed.STATES)
    shoot(page, "23-accounts-payout-waiting")

    page.get_by_label("Bank account payouts arrive in").focus()
    page.keyboard.type("Checking")  # a focused select picks the option typed
    _tab_to(page, "Save accounts")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Waiting payouts are being deposited")
    expect(page.get_by_role("status")).to_be_focused()
    _refresh(page, gateway)
    payout = page.locator('tr[data-payout="po_2001"]')
    expect(payout.locator(".qbo-badge")).to_have_text("Deposited")
    (deposit,) = ui.qbo.entities(realm, "Deposit")
    link = payout.get_by_role("link", name="Open the deposit of payout po_2001 in QuickBooks")
    expect(link).to_have_attribute(
        "href", f"https://app.sandbox.qbo.intuit.com/app/deposit?txnId={deposit['Id']}"
    )
    expect(page.locator(".qbo-field-waiting")).to_have_count(0)
    checking = demo_seed.account_id(ui, realm, "Checking")
    assert _api(ui, "/quickbooks/settings", demo_seed.STATES)["payout_account_id"] == checking
    shoot(page, "24-payout-deposited")


def test_a_refused_account_is_shown_at_its_field(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.seed_states(ui)
    _open(page, gateway, demo_seed.STATES)
    picker = page.get_by_label("Processing fees")
    # An account that is gone from the company by the time the contractor saves.
    picker.evaluate("s => s.append(new Option('Old fees account', '9999'))")
    picker.select_option("9999")
    page.get_by_role("button", name="Save accounts").click()

    field = page.locator('[data-field="fee_account_id"]')
    expect(field.locator(".qbo-field-error")).to_contain_text("Choose another one")
    expect(picker).to_have_attribute("aria-invalid", "true")
    expect(picker).to_be_focused()
    shoot(page, "25-invalid-account-at-its-field")


def test_the_chosen_income_account_is_used_by_the_next_invoice(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    realm = demo_seed.seed_states(ui)
    _open(page, gateway, demo_seed.STATES)
    income = demo_seed.account_id(ui, realm, "Contract income")
    # Its option reads "Contract income (USD)": chosen by the account's id.
    page.get_by_label("Income", exact=True).select_option(value=income)
    page.get_by_role("button", name="Save accounts").click()
    expect(page.get_by_role("status")).to_contain_text("Accounts saved")

    ui.platform.send_invoice(demo_seed.invoice(demo_seed.STATES, "2010", "410.00"))
    _refresh(page, gateway)

    expect(_row(page, "2010").locator(".qbo-badge")).to_have_text("Exported")
    exported = next(i for i in ui.qbo.entities(realm, "Invoice") if i["DocNumber"] == "2010")
    line = exported["Line"][0]
    item_id = line["SalesItemLineDetail"]["ItemRef"]["value"]
    (item,) = [i for i in ui.qbo.entities(realm, "Item") if i["Id"] == item_id]
    assert item["IncomeAccountRef"]["value"] == income


def test_retry_a_skipped_invoice_and_dismiss_then_undo_keyboard_only(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    realm = demo_seed.seed_states(ui)
    _open(page, gateway, demo_seed.STATES)
    failed_count = page.locator(".qbo-details dd").nth(2)
    expect(failed_count).to_have_text("1")

    _row(page, "2005").get_by_role("button", name="Retry exporting invoice 2005").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Invoice 2005 is queued for export again")
    expect(page.get_by_role("status")).to_be_focused()
    expect(_row(page, "2005").locator(".qbo-badge")).to_have_text("Pending")
    _refresh(page, gateway)
    expect(_row(page, "2005").locator(".qbo-badge")).to_have_text("Exported")
    shoot(page, "26-skipped-retried-and-exported")

    _row(page, "2004").get_by_role("button", name="Dismiss invoice 2004").focus()
    page.keyboard.press("Enter")
    confirm = _row(page, "2004").locator(".qbo-confirm")
    expect(confirm).to_contain_text("Dismiss invoice 2004?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    shoot(page, "27-dismiss-asks-first")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Invoice 2004 is dismissed")
    expect(page.get_by_role("status")).to_be_focused()
    expect(_row(page, "2004").locator(".qbo-badge")).to_have_text("Dismissed")
    expect(failed_count).to_have_text("0")  # the counts refresh after the action
    shoot(page, "28-dismissed")

    _row(page, "2004").get_by_role("button", name="Retry exporting invoice 2004").focus()
    page.keyboard.press("Enter")
    expect(_row(page, "2004").locator(".qbo-badge")).to_have_text("Pending")
    _refresh(page, gateway)
    expect(_row(page, "2004").locator(".qbo-badge")).to_have_text("Exported")
    numbers = {i["DocNumber"] for i in ui.qbo.entities(realm, "Invoice")}
    assert {"2004", "2005"} <= numbers and "2006" not in numbers
    history = _api(ui, "/quickbooks/exports", demo_seed.STATES, number="2004")["items"][0]
    assert [h["outcome"] for h in history["history"]][:3] == ["exported", "retried", "dismissed"]


def test_filter_by_status_and_search_by_number(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.seed_states(ui)
    _open(page, gateway, demo_seed.STATES)

    page.get_by_label("Status", exact=True).select_option(label="Failed")
    expect(page.locator("tr[data-invoice]")).to_have_count(1)
    expect(_row(page, "2004")).to_be_visible()
    shoot(page, "29-filtered-failed")

    page.get_by_label("Status", exact=True).select_option(label="All statuses")
    page.get_by_label("Invoice number").fill("#2003")
    page.get_by_label("Invoice number").press("Enter")
    expect(page.locator("tr[data-invoice]")).to_have_count(1)
    expect(_row(page, "2003")).to_be_visible()
    shoot(page, "30-search-by-number")

    page.get_by_label("Invoice number").fill("9999")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No invoice matches.")).to_be_visible()


def test_the_api_down_then_back_keeps_the_data_and_recovers_without_a_reload(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.seed_states(ui)
    _open(page, gateway, demo_seed.STATES)
    expect(_row(page, "2001")).to_be_visible()

    gateway.unavailable = True
    try:
        page.get_by_role("button", name="Refresh").click()
        problem = page.locator(".qbo-problem")
        expect(problem.get_by_role("alert")).to_contain_text(UNREACHABLE)
        expect(problem).to_contain_text("Showing what was loaded at")
        expect(_row(page, "2001")).to_be_visible()
        expect(page.locator(".qbo-company")).to_have_text("Oak Street Renovations")
        expect(page.get_by_role("alert")).to_have_count(1)
        assert "Service Unavailable" not in page.content()
        assert "Failed to fetch" not in page.content()
        shoot(page, "31-api-down-data-kept")
        page.set_viewport_size(PHONE)
        shoot(page, "31b-api-down-phone")
        page.set_viewport_size(DESKTOP)
    finally:
        gateway.unavailable = False

    page.get_by_role("button", name="Try again").click()
    expect(page.locator(".qbo-problem")).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("The export service is back")
    expect(page.get_by_role("status")).to_be_focused()
    shoot(page, "32-api-back")


def test_an_expired_token_is_refreshed_through_the_token_provider(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.seed_states(ui)

    _open(page, gateway, demo_seed.STATES, "&expired_token=1")

    expect(_row(page, "2001").locator(".qbo-badge")).to_have_text("Exported")
    expect(page.locator(".qbo-problem")).to_be_hidden()
    assert page.evaluate("window.qboTokenRequests.forced") == 1


def test_show_more_survives_the_refresh_and_a_deposited_payout_links_to_quickbooks(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.seed_pages(ui, invoices=30)
    _open(page, gateway, demo_seed.PAGES)
    rows = page.locator("tr[data-invoice]")
    expect(rows).to_have_count(25)

    page.get_by_role("button", name="Show more invoices").click()
    expect(rows).to_have_count(30)
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("button", name="Refresh")).to_be_enabled()
    page.wait_for_timeout(500)
    expect(rows).to_have_count(30)

    payout = page.locator('tr[data-payout="po_3000"]')
    expect(payout.locator(".qbo-badge")).to_have_text("Deposited")
    expect(payout.get_by_role("link")).to_have_text("View in QuickBooks")
    shoot(page, "33-deposited-payout-and-pages")
    page.set_viewport_size(PHONE)
    shoot(page, "34-deposited-payout-phone")


def test_the_seeded_company_that_needs_reconnecting(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.seed_reconnect(ui)
    _open(page, gateway, demo_seed.RECONNECT)

    expect(page.get_by_text("Reconnect needed")).to_be_visible()
    expect(_row(page, "4002").locator(".qbo-badge")).to_have_text("Pending")
    expect(page.locator('[data-section="accounts"]')).to_be_hidden()
    shoot(page, "35-needs-reconnecting")
    page.set_viewport_size(PHONE)
    shoot(page, "36-needs-reconnecting-phone")


def test_disconnect_asks_first_and_says_what_stops(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.seed_reconnect(ui)
    _open(page, gateway, demo_seed.RECONNECT)

    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("button", name="Cancel")).to_be_focused()
    expect(page.locator(".qbo-confirm")).to_contain_text("Nothing already in QuickBooks")
    shoot(page, "37-disconnect-asks-first")
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Disconnect")).to_be_focused()
    view = _api(ui, "/quickbooks/connection", demo_seed.RECONNECT)
    assert view["status"] == "reauthorization_required"


def test_coming_back_from_intuit_puts_the_focus_on_the_status_message(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    ui.qbo.create_company("Alder & Sons Contracting")
    page.goto(gateway.settings_page_url + "?contractor=ctr_demo")
    page.get_by_role("button", name="Connect to QuickBooks").click()
    page.get_by_label("Company").select_option(label="Alder & Sons Contracting")
    page.get_by_role("button", name="Connect", exact=True).click()

    status = page.get_by_role("status")
    expect(status).to_contain_text("QuickBooks is connected")
    expect(status).to_be_focused()
    expect(page.get_by_label("Bank account payouts arrive in")).to_be_visible()
