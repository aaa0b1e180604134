"""Demo contractors for `make demo-ui` (on by default; `--no-seed` leaves only ctr_demo), so that
every state of the settings page can be seen in one command, each with its own sign-in
(`/?contractor=<id>`, which asks `/demo/token?contractor=<id>`):

- `ctr_states` ("Oak Street Renovations"): invoices exported, failed with a reason, skipped,
  dismissed, voided, paid, partly paid and refunded, and a payout that waits for a bank account
  (choosing one on the page deposits it).
- `ctr_pages` ("Birch Lane Builders"): a deposited payout and several pages of invoices.
- `ctr_reconnect` ("Cedar Roofing Co"): a company that needs reconnecting, with an invoice
  waiting for it.
- `ctr_customers` ("Linden Way Remodeling"): a client whose name QuickBooks holds otherwise
  ("O'Neil, Jane" is her customer there), so her invoice failed until she is linked, and a
  client linked after his first invoice made a second customer (contracts §16).
- `ctr_history` ("Maple Court Remodeling"): earlier invoices sent to QuickBooks (contracts §15),
  one matched to an invoice keyed in by hand, one whose number QuickBooks already has.

Everything goes through the real flows: the HTTP routes, Intuit's consent page (the emulator's,
answered as a browser would), the invoice-sent queue and the payment events.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from local import samples
from local.environment import LocalEnvironment
from local.platform import Browser

STATES, PAGES, RECONNECT = "ctr_states", "ctr_pages", "ctr_reconnect"
CUSTOMERS = "ctr_customers"
JANE = "cli_jane"
HISTORY, HISTORY_SINCE = "ctr_history", "2026-09-01"
DESCRIPTIONS = {
    STATES: "every invoice state; a payout waiting for its bank account",
    PAGES: "a deposited payout and several pages of invoices",
    RECONNECT: "a company that needs reconnecting",
    CUSTOMERS: "an invoice to link to the client's QuickBooks customer; a linked client",
    HISTORY: "earlier invoices sent: one matched to a hand-keyed invoice, one number taken",
}
CLIENTS = ("Jane O'Neil", "Riverside Dental, LLC", "Hill Street Bakery", "Marco Ruiz")


def connect(env: LocalEnvironment, contractor_id: str, realm_id: str) -> None:
    """Connect, the consent page's Connect for that company, and the callback, as a browser."""
    browser = Browser()
    started = browser.receive(env.platform.api("GET", "/quickbooks/connect", contractor_id))
    authorize = started["headers"]["Location"]
    page = requests.get(authorize, allow_redirects=False, timeout=10)
    ticket = re.search(r'name="consent_ticket" value="([^"]+)"', page.text)
    if ticket is None:  # the emulator without its consent page decides at once
        back = page
    else:
        decision = {"consent_ticket": ticket.group(1), "realm_id": realm_id, "decision": "connect"}
        endpoint = authorize.split("?", 1)[0]
        back = requests.get(endpoint, params=decision, allow_redirects=False, timeout=10)
    query = {k: v[0] for k, v in parse_qs(urlsplit(back.headers["Location"]).query).items()}
    landed = env.platform.callback(query, browser)
    assert landed["headers"]["Location"].endswith("quickbooks=connected"), landed


def invoice(contractor_id: str, number: str, amount: str, client: int = 0, **extra: Any) -> Any:
    lines = [("Labor and materials", "1", amount)]
    message = samples.invoice_sent(contractor_id, number, CLIENTS[client % len(CLIENTS)], lines)
    message["invoice"].update(extra)
    return message


def api(env: LocalEnvironment, method: str, path: str, contractor_id: str, **kwargs: Any) -> Any:
    response = env.platform.api(method, path, contractor_id, **kwargs)
    assert response["statusCode"] < 300, response
    return json.loads(response["body"]) if response.get("body") else None


def send(env: LocalEnvironment, *messages: dict[str, Any]) -> None:
    for message in messages:
        env.platform.send_invoice(message)
    env.runtime.drain()


def account_id(env: LocalEnvironment, realm_id: str, name: str) -> str:
    (found,) = [a for a in env.qbo.entities(realm_id, "Account") if a["Name"] == name]
    return str(found["Id"])


def seed_states(env: LocalEnvironment) -> str:
    """ctr_states: every state of an invoice, and a payout waiting for its bank account."""
    c = STATES
    realm = env.qbo.create_company("Oak Street Renovations")
    env.qbo.add_account(realm, "Savings", "Bank", AccountSubType="Savings")
    env.qbo.add_account(realm, "Contract income", "Income", AccountSubType="ServiceFeeIncome")
    # Sent before QuickBooks was connected: skipped (one of them dismissed later).
    send(env, invoice(c, "2005", "640.00", 2), invoice(c, "2006", "95.00", 3))
    api(env, "POST", "/quickbooks/exports/inv_2006/dismiss", c)
    connect(env, c, realm)
    send(
        env,
        invoice(c, "2001", "1200.00", 0),
        invoice(c, "2002", "500.00", 1),
        invoice(c, "2003", "800.00", 0, issue_date="2026-11-20"),
        invoice(c, "2007", "350.00", 3),
    )
    env.qbo.close_books(realm, "2026-10-31")
    send(env, invoice(c, "2004", "780.00", 2, issue_date="2026-10-28", due_date="2026-11-27"))
    env.qbo.close_books(realm, None)  # reopened: Retry now exports it
    env.platform.send_invoice(samples.invoice_voided(c, "inv_2007", "2007"))
    paid = samples.payment_completed(c, "inv_2001", "2001", "1200.00", payment_id="pay_2001")
    part = samples.payment_completed(c, "inv_2002", "2002", "300.00", payment_id="pay_2002")
    refunded = samples.payment_completed(c, "inv_2003", "2003", "800.00", payment_id="pay_2003")
    for detail in (paid, part, refunded):
        env.platform.complete_payment(detail)
    env.runtime.drain()
    env.platform.refund_payment(
        samples.payment_refunded(c, "inv_2003", "2003", "pay_2003", "200.00", refund_id="rfd_2003")
    )
    env.runtime.drain()
    item = {"type": "payment", "payment_id": "pay_2001", "amount": "1200.00", "fee": "35.10"}
    env.platform.pay_out(samples.payout_paid(c, "po_2001", [item]))
    env.runtime.drain()
    return realm


def seed_pages(env: LocalEnvironment, invoices: int = 55) -> str:
    """ctr_pages: a deposited payout and several pages of invoices (25 a page)."""
    c = PAGES
    realm = env.qbo.create_company("Birch Lane Builders")
    connect(env, c, realm)
    api(
        env,
        "PUT",
        "/quickbooks/settings",
        c,
        body=json.dumps({"payout_account_id": account_id(env, realm, "Checking")}),
    )
    send(env, *(invoice(c, str(3000 + n), f"{100 + 7 * n}.00", n) for n in range(invoices)))
    for n in (0, 1):
        number = str(3000 + n)
        env.platform.complete_payment(
            samples.payment_completed(
                c, f"inv_{number}", number, f"{100 + 7 * n}.00", payment_id=f"pay_{number}"
            )
        )
    env.runtime.drain()
    items = [
        {"type": "payment", "payment_id": "pay_3000", "amount": "100.00", "fee": "3.20"},
        {"type": "payment", "payment_id": "pay_3001", "amount": "107.00", "fee": "3.40"},
    ]
    env.platform.pay_out(samples.payout_paid(c, "po_3000", items, arrival_date="2026-12-02"))
    env.runtime.drain()
    return realm


def seed_reconnect(env: LocalEnvironment) -> str:
    """ctr_reconnect: Intuit needs the contractor again; an invoice waits for the reconnect."""
    c = RECONNECT
    realm = env.qbo.create_company("Cedar Roofing Co")
    connect(env, c, realm)
    send(env, invoice(c, "4001", "2400.00", 0))
    env.qbo.revoke_refresh_tokens(realm)  # disconnected inside QuickBooks
    env.qbo.expire_access_tokens(realm)
    send(env, invoice(c, "4002", "910.00", 1))
    return realm


def seed_customers(env: LocalEnvironment) -> str:
    """ctr_customers: Jane O'Neil's name is a vendor's in QuickBooks (and her own name with her
    id an inactive customer's), so her invoice fails with client_name_taken until she is linked
    to "O'Neil, Jane"; Marco Ruiz was linked to "Ruiz, Marco" after his first invoice made a
    second customer by his name."""
    c, qbo = CUSTOMERS, env.qbo
    realm = qbo.create_company("Linden Way Remodeling")
    qbo.add_vendor(realm, "Jane O'Neil")
    qbo.add_customer(realm, f"Jane O'Neil ({JANE})", Active=False)
    qbo.add_customer(realm, "O'Neil, Jane", PrimaryEmailAddr={"Address": "jane@example.com"})
    qbo.add_customer(realm, "Neil Harbor Homes", CompanyName="O'Neil Holdings")
    ruiz = qbo.add_customer(realm, "Ruiz, Marco")
    connect(env, c, realm)
    jane = samples.invoice_sent(
        c, "5001", "Jane O'Neil", [("Kitchen", "1", "950.00")], client_id=JANE
    )
    marco = invoice(c, "5002", "420.00", 3)
    send(env, jane, marco)  # Marco's went to a second customer, "Marco Ruiz", made by name
    path = f"/quickbooks/clients/{marco['client']['id']}/customer"
    api(env, "PUT", path, c, body=json.dumps({"qbo_customer_id": ruiz}))
    return realm


def hand_key(env: LocalEnvironment, realm_id: str, number: str, client: str, amount: str) -> str:
    """An invoice the contractor keyed into QuickBooks by hand before connecting; its Id."""
    items = {i["Name"]: i["Id"] for i in env.qbo.entities(realm_id, "Item")}
    item = items.get("Services") or env.qbo.add_item(realm_id, "Services")
    customers = {c["DisplayName"]: c["Id"] for c in env.qbo.entities(realm_id, "Customer")}
    customer = customers.get(client) or env.qbo.add_customer(realm_id, client)
    line: dict[str, Any] = {"Amount": amount, "DetailType": "SalesItemLineDetail"}
    line["SalesItemLineDetail"] = {"ItemRef": {"value": item}}
    body = {"DocNumber": number, "TxnDate": "2026-10-05", "CustomerRef": {"value": customer}}
    return str(env.qbo.add_invoice(realm_id, {**body, "Line": [line]})["Id"])


def prepare_history(env: LocalEnvironment) -> str:
    """ctr_history before it asks for its earlier invoices: two sent while nothing was
    connected (skipped), three only the invoicing service knows (sent before this system ran,
    one before HISTORY_SINCE), and two numbers keyed into QuickBooks by hand: 5003 as the
    platform has it (matched), 5004 for another total (number taken)."""
    c = HISTORY
    realm = env.qbo.create_company("Maple Court Remodeling")
    send(
        env,
        invoice(c, "5001", "1500.00", 0, issue_date="2026-09-14"),
        invoice(c, "5002", "620.00", 1, issue_date="2026-10-03"),
    )
    for message in (
        invoice(c, "5003", "2750.00", 2, issue_date="2026-10-05"),
        invoice(c, "5004", "480.00", 3, issue_date="2026-10-07"),
        invoice(c, "4999", "300.00", 0, issue_date="2026-08-20"),
    ):
        env.platform.invoicing.remember(message)
    connect(env, c, realm)
    hand_key(env, realm, "5003", CLIENTS[2], "2750.00")
    hand_key(env, realm, "5004", CLIENTS[3], "455.00")
    return realm


def seed_history(env: LocalEnvironment) -> str:
    """ctr_history: its earlier invoices since HISTORY_SINCE asked for and sent (done)."""
    realm = prepare_history(env)
    api(env, "POST", "/quickbooks/history", HISTORY, body=json.dumps({"since": HISTORY_SINCE}))
    env.runtime.drain()  # the outbox tells the invoicing service, which replays
    env.platform.invoicing.answer()
    env.runtime.drain()
    return realm


def seed(env: LocalEnvironment) -> dict[str, str]:
    """Every demo contractor; their realms by contractor id."""
    return {
        STATES: seed_states(env),
        PAGES: seed_pages(env),
        RECONNECT: seed_reconnect(env),
        CUSTOMERS: seed_customers(env),
        HISTORY: seed_history(env),
    }
