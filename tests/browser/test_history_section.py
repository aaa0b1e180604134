"""The page's "Earlier invoices" section (contracts §15) in headless chromium against the local
stack: asking for the invoices issued since a date, following the request to its end, the
API's refusals as sentences at the date, and what the invoices list says of an invoice matched
to one keyed into QuickBooks by hand or refused because QuickBooks has its number. The
contractor is local/demo_seed.py's ctr_history; screenshots go to build/screenshots/."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from typing import Any

from playwright.sync_api import Page, expect

from local import demo_seed
from local.environment import LocalEnvironment
from local.gateway import Gateway
from tests.browser.conftest import shoot

CONSUMER = "InvoiceSentFunction"  # its second event source is the history queue
SINCE_SHOWN = "Sep 1, 2026"  # demo_seed.HISTORY_SINCE as the en-US page writes it
HAND_KEYED = {"5003", "5004"}
DATE_LABEL = "Send invoices issued since"
SEND = "Send earlier invoices"


def _open(page: Page, gateway: Gateway, contractor: str) -> None:
    page.goto(f"{gateway.settings_page_url}?contractor={contractor}")
    expect(page.locator("qbo-export-settings")).to_have_attribute("data-loaded-at", re.compile("."))


def _section(page: Page) -> Any:
    return page.locator('[data-section="earlier"]')


def _progress(page: Page) -> Any:
    return _section(page).locator(".qbo-earlier-progress")


def _row(page: Page, number: str) -> Any:
    return page.locator(f'tr[data-invoice="{number}"]')


def _ask(page: Page, since: str) -> None:
    page.get_by_label(DATE_LABEL).fill(since)
    page.get_by_role("button", name=SEND).click()


def _history_status(env: LocalEnvironment, contractor: str) -> tuple[int, Any]:
    answer = env.platform.api("GET", "/quickbooks/history", contractor)
    return int(answer["statusCode"]), json.loads(answer.get("body") or "null")


def _invoices(env: LocalEnvironment, realm: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for invoice in env.qbo.entities(realm, "Invoice"):
        found.setdefault(str(invoice["DocNumber"]), []).append(invoice)
    return found


def _history_requests(page: Page) -> list[str]:
    """Every GET /quickbooks/history the page makes from now on."""
    seen: list[str] = []
    page.on(
        "request",
        lambda r: (
            seen.append(r.url)
            if r.method == "GET" and r.url.endswith("/quickbooks/history")
            else None
        ),
    )
    return seen


def test_earlier_invoices_show_their_progress_then_what_quickbooks_got(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    realm = demo_seed.prepare_history(ui)
    _open(page, gateway, demo_seed.HISTORY)
    expect(_section(page)).to_contain_text("keyed into QuickBooks by hand")
    shoot(page, "40-earlier-invoices-form")

    _ask(page, demo_seed.HISTORY_SINCE)
    expect(_progress(page)).to_contain_text("Waiting for the platform to list your invoices…")
    expect(_progress(page)).to_contain_text(f"Invoices issued since {SINCE_SHOWN}.")
    expect(_progress(page)).to_be_focused()
    expect(page.get_by_role("button", name=SEND)).to_be_disabled()
    shoot(page, "41-earlier-invoices-waiting")

    # The two invoices skipped before connecting went back on their way with the request: one
    # batch of the history queue, while the platform has not answered yet.
    with gateway.lock:
        ui.runtime.poll_sqs(CONSUMER, max_batches=1)
    expect(_progress(page)).to_contain_text(
        "2 invoices done so far: 2 sent. Waiting for the platform to list the rest…"
    )
    shoot(page, "42-earlier-invoices-so-far")

    polls = _history_requests(page)
    loaded = page.locator("qbo-export-settings").get_attribute("data-loaded-at")
    gateway.drain()  # the platform replays what it sent since the date, then its count

    invoices = _invoices(ui, realm)
    assert "4999" not in invoices  # issued before the date
    created = sorted(n for n in invoices if n not in HAND_KEYED)
    assert created == ["5001", "5002"]
    assert all(len(invoices[n]) == 1 and invoices[n][0]["SyncToken"] == "0" for n in HAND_KEYED)
    assert Decimal(str(invoices["5004"][0]["TotalAmt"])) == Decimal("455.00")  # left as keyed
    expect(_progress(page)).to_contain_text(
        f"Done: 4 invoices issued since {SINCE_SHOWN}: {len(created)} sent, 1 matched an "
        "invoice already in QuickBooks, 1 needs attention."
    )
    expect(_progress(page)).to_contain_text("You asked for them on")
    expect(_progress(page)).to_contain_text("marked Failed in the list below")
    expect(page.get_by_role("button", name=SEND)).to_be_enabled()
    # The list was reloaded when the request was done.
    expect(_row(page, "5001").locator(".qbo-badge")).to_have_text("Exported")
    expect(_row(page, "5004").locator(".qbo-badge")).to_have_text("Failed")
    shoot(page, "43-earlier-invoices-done")
    desktop = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "43b-earlier-invoices-done-phone")
    page.set_viewport_size(desktop or {"width": 1000, "height": 760})

    # Done: the page stops asking (once the refresh that reloaded the list is over).
    element = page.locator("qbo-export-settings")
    expect(element).not_to_have_attribute("data-loaded-at", loaded or "")
    asked = len(polls)
    page.wait_for_timeout(4000)
    assert len(polls) == asked


def test_a_refused_date_is_a_sentence_next_to_the_field(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    demo_seed.prepare_history(ui)
    _open(page, gateway, demo_seed.HISTORY)
    field = page.get_by_label(DATE_LABEL)
    error = _section(page).locator(".qbo-field-error")

    _ask(page, "2999-01-01")
    expect(error).to_have_text("That date is after today. Choose today or an earlier date.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    expect(field).to_have_accessible_description(re.compile("That date is after today"))
    shoot(page, "44-earlier-invoices-date-refused")

    _ask(page, "2015-03-01")
    expect(error).to_have_text(
        "QuickBooks can receive invoices from the last five years only. Choose a later date."
    )
    page.get_by_label(DATE_LABEL).fill("")
    page.get_by_role("button", name=SEND).click()
    expect(error).to_contain_text("Enter the date of the first invoice to send")
    assert "since:" not in _section(page).inner_text()
    assert _history_status(ui, demo_seed.HISTORY)[0] == 404  # nothing was asked for
    expect(_progress(page)).to_be_empty()

    # Asked meanwhile from another tab: this page learns it from the refusal.
    assert (
        ui.platform.api(
            "POST",
            "/quickbooks/history",
            demo_seed.HISTORY,
            body=json.dumps({"since": "2026-09-01"}),
        )["statusCode"]
        == 202
    )
    _ask(page, "2026-10-01")
    expect(error).to_have_text(
        "Your earlier invoices are already being sent. You can send more once that finishes."
    )
    expect(_progress(page)).to_contain_text(f"Invoices issued since {SINCE_SHOWN}.")
    expect(field).to_have_attribute("aria-invalid", "true")

    # Running, it asks every few seconds; once the element leaves the page, never again.
    polls = _history_requests(page)
    page.wait_for_timeout(3500)
    assert polls, "the page does not follow a running request"
    page.evaluate("document.querySelector('qbo-export-settings').remove()")
    asked = len(polls)
    page.wait_for_timeout(4000)
    assert len(polls) == asked


def test_matched_and_number_taken_invoices_are_sentences_in_the_list(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    realm = demo_seed.seed_history(ui)
    _open(page, gateway, demo_seed.HISTORY)
    invoices = _invoices(ui, realm)
    (matched,), (taken,) = invoices["5003"], invoices["5004"]

    adopted = _row(page, "5003")
    expect(adopted.locator(".qbo-badge")).to_have_text("Exported")
    expect(adopted.locator(".qbo-adopted")).to_have_text(
        "Matched to the invoice already in QuickBooks (same number, client and total): nothing "
        "was added or changed there."
    )
    expect(
        adopted.get_by_role("link", name="Open invoice 5003 in QuickBooks (new tab)")
    ).to_have_attribute(
        "href", f"https://app.sandbox.qbo.intuit.com/app/invoice?txnId={matched['Id']}"
    )

    adopted.get_by_text("History (1)").click()
    expect(adopted.locator(".qbo-history li")).to_contain_text(
        "Matched to the invoice keyed into QuickBooks by hand"
    )

    refused = _row(page, "5004")
    expect(refused.locator(".qbo-badge")).to_have_text("Failed")
    expect(refused.locator(".qbo-reason")).to_contain_text(
        "QuickBooks already has an invoice with this number"
    )
    expect(refused.locator(".qbo-reason")).to_contain_text("QuickBooks invoice 5004")
    holder = refused.get_by_role(
        "link", name="Open the QuickBooks invoice that already has number 5004 (new tab)"
    )
    expect(holder).to_have_text("View the invoice numbered 5004")
    expect(holder).to_have_attribute(
        "href", f"https://app.sandbox.qbo.intuit.com/app/invoice?txnId={taken['Id']}"
    )
    expect(_row(page, "5001").locator(".qbo-adopted")).to_have_count(0)
    expect(_progress(page)).to_contain_text(
        f"Done: 4 invoices issued since {SINCE_SHOWN}: 2 sent, 1 matched an invoice already in "
        "QuickBooks, 1 needs attention."
    )
    shoot(page, "45-earlier-invoices-matched-and-taken")


def test_the_section_is_absent_until_quickbooks_is_connected(
    page: Page, ui: LocalEnvironment, gateway: Gateway
) -> None:
    polls = _history_requests(page)
    _open(page, gateway, "ctr_demo")
    expect(page.get_by_role("button", name="Connect to QuickBooks")).to_be_visible()
    expect(_section(page)).to_be_hidden()
    expect(page.get_by_label(DATE_LABEL)).to_have_count(0)

    demo_seed.seed_reconnect(ui)
    _open(page, gateway, demo_seed.RECONNECT)
    expect(page.get_by_text("Reconnect needed")).to_be_visible()
    expect(_section(page)).to_be_hidden()
    time.sleep(0.2)
    assert polls == []  # nothing asked of a company that cannot send


def test_the_progress_in_words_for_each_state(page: Page, gateway: Gateway) -> None:
    """The sentences of states the local stack does not hold still (a count known while some
    invoices still wait), from the page's own module; the others are reached above."""
    page.goto(gateway.settings_page_url + "?contractor=ctr_demo")
    request = {"since": "2026-09-01", "requested_at": "2026-12-05T10:00:00Z", "pending": 0}

    def words(**progress: Any) -> str:
        script = "p => import('/qbo-settings/history.js').then(m => m.describe(p).join(' '))"
        return str(page.evaluate(script, {**request, **progress}))

    counted = {"exported": 120, "adopted": 20, "failed": 2}
    assert words(status="running", expected=500, **counted) == (
        "142 of 500 invoices done: 120 sent, 20 matched invoices already in QuickBooks, 2 need "
        "attention. Invoices issued since Sep 1, 2026. This updates by itself."
    )
    one = {"exported": 0, "adopted": 1, "failed": 1}
    assert words(status="running", expected=3, **one).startswith(
        "2 of 3 invoices done: 1 matched an invoice already in QuickBooks, 1 needs attention."
    )
    none = {"exported": 0, "adopted": 0, "failed": 0}
    assert words(status="running", expected=1, **none).startswith("0 of 1 invoice done.")
    assert words(status="requested", expected=None, **none).startswith(
        "Waiting for the platform to list your invoices…"
    )
    assert words(status="done", expected=0, **none) == (
        "Done: the platform had no invoices issued since Sep 1, 2026. You asked for them on "
        "Dec 5, 2026."
    )
    assert words(status="done", expected=1, exported=1, adopted=0, failed=0) == (
        "Done: 1 invoice issued since Sep 1, 2026: 1 sent. You asked for them on Dec 5, 2026."
    )
