"""The settings page (web/) in headless chromium, against the local stack behind the gateway:
connect through Intuit's consent page, exports with their reasons, Retry, Disconnect."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, expect

from local import samples
from local.environment import LocalEnvironment
from local.gateway import DEMO_CONTRACTOR, Gateway
from tests.browser.conftest import shoot

QBO_APP = "https://app.sandbox.qbo.intuit.com"  # the qbo-app-url web/index.html embeds with


def _connect_button(page: Page) -> Any:
    return page.get_by_role("button", name="Connect to QuickBooks")


def _refresh(page: Page, gateway: Gateway) -> None:
    gateway.drain()  # the event source mappings deliver what is queued
    page.get_by_role("button", name="Refresh").click()


def _row(page: Page, number: str) -> Any:
    return page.locator(f'tr[data-invoice="{number}"]')


def _connect(page: Page, gateway: Gateway, company: str) -> None:
    page.goto(gateway.settings_page_url)
    _connect_button(page).click()
    expect(page.get_by_role("heading", name="Connect your QuickBooks company")).to_be_visible()
    # The browser kept the binding cookie under its own rules (Secure on localhost, SameSite).
    (binding,) = page.context.cookies(gateway.callback_url)
    assert (binding["name"], binding["sameSite"], binding["secure"]) == (
        "qbo_sync_connect",
        "Lax",
        True,
    )
    page.get_by_label("Company").select_option(label=company)
    shoot(page, "02-consent-page")
    page.get_by_role("button", name="Connect", exact=True).click()


def _api_item(env: LocalEnvironment, invoice_id: str) -> dict[str, Any]:
    response = env.platform.api("GET", "/quickbooks/exports", DEMO_CONTRACTOR)
    items = json.loads(response["body"])["items"]
    return next(item for item in items if item["invoice_id"] == invoice_id)


def test_connect_export_retry_and_disconnect(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    ui.qbo.create_company("Birch Books Ltd")
    realm = ui.qbo.create_company("Alder & Sons Contracting")
    page.goto(gateway.settings_page_url)
    expect(page.get_by_text("Not connected")).to_be_visible()
    shoot(page, "01-not-connected")

    _connect(page, gateway, "Alder & Sons Contracting")

    expect(page.get_by_role("status")).to_contain_text("QuickBooks is connected")
    expect(page.locator(".qbo-company")).to_have_text("Alder & Sons Contracting")
    expect(_connect_button(page)).to_have_count(0)
    assert "quickbooks=" not in page.url
    shoot(page, "03-connected")

    ui.platform.send_invoice(
        samples.invoice_sent(DEMO_CONTRACTOR, "1042", "Jane O'Neil", [("Cabinets", "1", "1000.00")])
    )
    _refresh(page, gateway)
    exported = _row(page, "1042")
    expect(exported.get_by_text("Exported")).to_be_visible()
    (invoice,) = ui.qbo.entities(realm, "Invoice")
    link = exported.get_by_role("link", name="Open invoice 1042 in QuickBooks (new tab)")
    expect(link).to_have_attribute("href", f"{QBO_APP}/app/invoice?txnId={invoice['Id']}")
    shoot(page, "04-exported")

    ui.qbo.close_books(realm, "2026-10-31")
    late = samples.invoice_sent(
        DEMO_CONTRACTOR, "1045", "Hill Street Bakery", [("Oven vent", "1", "780.00")]
    )
    late["invoice"].update(issue_date="2026-10-28", due_date="2026-11-27")
    ui.platform.send_invoice(late)
    _refresh(page, gateway)
    failed = _row(page, "1045")
    reason = _api_item(ui, late["invoice"]["id"])["reason"]
    assert reason["code"] == "accounting_period_closed"
    expect(failed.get_by_text("Failed")).to_be_visible()
    expect(failed.locator(".qbo-reason")).to_have_text(reason["message"])
    expect(page.get_by_text("Failed exports")).to_be_visible()
    shoot(page, "05-failed-with-reason")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "05b-phone-width")
    page.set_viewport_size({"width": 1000, "height": 760})

    ui.qbo.close_books(realm, None)
    failed.get_by_role("button", name="Retry exporting invoice 1045").click()
    expect(page.get_by_role("status")).to_contain_text("Invoice 1045 is queued for export again")
    expect(failed.get_by_text("Pending")).to_be_visible()
    _refresh(page, gateway)
    expect(failed.get_by_text("Exported")).to_be_visible()
    expect(failed.get_by_role("button", name="Retry exporting invoice 1045")).to_have_count(0)
    assert {i["DocNumber"] for i in ui.qbo.entities(realm, "Invoice")} == {"1042", "1045"}
    shoot(page, "06-retried-and-exported")

    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("payouts stop going to QuickBooks")).to_be_visible()
    page.get_by_role("button", name="Yes, disconnect").click()

    expect(_connect_button(page)).to_be_enabled()
    expect(_connect_button(page)).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text("QuickBooks is disconnected")
    shoot(page, "07-disconnected")


def test_reconnect_when_intuit_needs_the_contractor_again(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    realm = ui.qbo.create_company("Alder & Sons Contracting")
    _connect(page, gateway, "Alder & Sons Contracting")
    expect(page.locator(".qbo-company")).to_have_text("Alder & Sons Contracting")
    ui.qbo.revoke_refresh_tokens(realm)  # disconnected inside QuickBooks
    ui.qbo.expire_access_tokens(realm)
    ui.platform.send_invoice(
        samples.invoice_sent(DEMO_CONTRACTOR, "77", "Kept Client", [("Deck", "1", "500.00")])
    )
    _refresh(page, gateway)
    expect(page.get_by_text("Reconnect needed")).to_be_visible()
    expect(page.locator(".qbo-notice")).to_be_empty()  # no stale "connected" notice
    expect(_row(page, "77").get_by_text("Pending")).to_be_visible()
    shoot(page, "10-reconnect-needed")

    page.get_by_role("button", name="Reconnect to QuickBooks").click()
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("QuickBooks is connected")
    _refresh(page, gateway)

    expect(_row(page, "77").get_by_text("Exported")).to_be_visible()
    assert [i["DocNumber"] for i in ui.qbo.entities(realm, "Invoice")] == ["77"]


def test_cancel_at_intuit_shows_the_refusal(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    ui.qbo.create_company("Alder & Sons Contracting")
    page.goto(gateway.settings_page_url)
    _connect_button(page).focus()
    page.keyboard.press("Enter")  # keyboard only, as far as Intuit and back
    cancel = page.get_by_role("button", name="Cancel")
    cancel.focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("You cancelled at Intuit")
    expect(_connect_button(page)).to_be_enabled()
    view = json.loads(ui.platform.api("GET", "/quickbooks/connection", DEMO_CONTRACTOR)["body"])
    assert view["status"] == "not_connected"
    shoot(page, "08-cancelled-at-intuit")


def test_the_callback_only_completes_in_the_browser_that_clicked_connect(
    page: Page, ui: LocalEnvironment, gateway: Gateway, chromium: Any
) -> None:
    ui.qbo.create_company("Alder & Sons Contracting")
    page.goto(gateway.settings_page_url)
    _connect_button(page).click()
    expect(page.get_by_role("heading", name="Connect your QuickBooks company")).to_be_visible()
    other = chromium.new_context().new_page()

    other.goto(page.url)  # the consent link, opened in a browser without the connect cookie
    other.get_by_role("button", name="Connect", exact=True).click()

    expect(other.get_by_role("status")).to_contain_text("could not be matched to this browser")
    view = json.loads(ui.platform.api("GET", "/quickbooks/connection", DEMO_CONTRACTOR)["body"])
    assert view["status"] == "not_connected"
    other.context.close()


def test_connect_is_disabled_with_the_reason_when_payments_are_off(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    page.goto(gateway.settings_page_url + "?payments=off")

    button = _connect_button(page)
    expect(button).to_be_disabled()
    expect(button).to_have_accessible_description(
        "Turn on invoice payments first: QuickBooks export is for contractors who take payments."
    )
    shoot(page, "09-payments-off")
