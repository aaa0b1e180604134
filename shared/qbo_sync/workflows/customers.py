"""The contractor's own customers (docs/interface.md §16): find one in QuickBooks, link a client
to it, unlink, and list the links.

A link is the client's customer mapping (invoices/mappings.py), so every later export of the
client reads it in its one batch read and goes to that customer with no QBO read. Linking sends
the client's invoices that failed for want of it (`client_name_taken`, `invoice_number_taken`)
back on their way, the way the contractor's Retry does (workflows/retry.py's `resend`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.api.errors import CustomerLinked, InvalidCustomer, InvalidRequest, NotConnected
from qbo_sync.company.setup import kept_setup
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired
from qbo_sync.core.clock import iso_now
from qbo_sync.core.reasons import ReasonCode
from qbo_sync.core.statuses import ExportStatus
from qbo_sync.invoices import mappings
from qbo_sync.invoices.mappings import CustomerLink, mapping_store
from qbo_sync.ledger.listing import client_records
from qbo_sync.qbo import customers
from qbo_sync.workflows.retry import resend

logger = Logger(child=True)

MAX_SEARCH, MAX_ITEMS = 100, 20
MAX_CUSTOMER_ID = 20
# The failures a link fixes: the name was not free, or a hand-keyed invoice was for another
# customer (docs/interface.md §15, §16).
FIXED_BY_LINK = {ReasonCode.NAME_TAKEN.value, ReasonCode.INVOICE_NUMBER_TAKEN.value}
NOT_CONNECTED = "Connect QuickBooks (or reconnect it) on this page first, then choose the customer."


def search_customers(contractor_id: str, text: str | None) -> dict[str, Any]:
    wanted = (text or "").strip()
    if not wanted or len(wanted) > MAX_SEARCH:
        raise InvalidRequest(
            "invalid_search", "search: type from 1 to 100 characters of the customer's name."
        )
    connection = _usable(contractor_id)
    try:
        rows = customers.search(services.qbo_client(connection), wanted, MAX_ITEMS)
    except ReauthorizationRequired as error:
        raise NotConnected(NOT_CONNECTED) from error
    linked = mapping_store(connection).linked_clients([str(row["Id"]) for row in rows])
    return {"items": [_item(row, linked.get(str(row["Id"]))) for row in rows]}


def link_client(contractor_id: str, client_id: str, body: Any) -> dict[str, Any]:
    """PUT's 200 body. Raises InvalidRequest, InvalidCustomer, CustomerLinked, NotConnected."""
    qbo_customer_id = _customer_id(body)
    connection = _usable(contractor_id)
    qbo = services.qbo_client(connection)
    try:
        customer = customers.active_customer(qbo, qbo_customer_id)
        if customer is None:
            raise InvalidCustomer()
        records = client_records(contractor_id, connection.realm_id, client_id)
        currency = str((customer.get("CurrencyRef") or {}).get("value") or "")
        invoiced = {_invoice(record)[0] for record in records} - {""}
        if currency and invoiced and currency not in invoiced:
            raise InvalidCustomer(
                f"This customer works in {currency}, but the client's invoices are in "
                f"{', '.join(sorted(invoiced))}. Choose a customer in the invoices' currency."
            )
        home = kept_setup(connection, qbo).home_currency
    except ReauthorizationRequired as error:
        raise NotConnected(NOT_CONNECTED) from error
    name = str(customer.get("DisplayName", ""))
    client_name = next((n for n in (_invoice(r)[1] for r in records) if n), "")
    foreign = currency if currency != home else None
    link = CustomerLink(client_id, qbo_customer_id, name, iso_now(), foreign, client_name)
    try:
        mapping_store(connection).link_customer(link)
    except mappings.CustomerLinked:
        raise CustomerLinked() from None
    resent = _resend_fixed(connection, records)
    logger.info("Client linked to a QuickBooks customer", client_id=client_id, resent=resent)
    return {"client_id": client_id, "qbo_customer_id": qbo_customer_id, "display_name": name}


def unlink_client(contractor_id: str, client_id: str) -> None:
    connection = _connected(contractor_id)
    removed = mapping_store(connection).unlink_customer(client_id)
    logger.info("Client unlinked", client_id=client_id, links=len(removed))


def client_links(contractor_id: str) -> dict[str, Any]:
    """The connected company's links, newest first (the page's Clients view)."""
    links = mapping_store(_connected(contractor_id)).customer_links()
    links.sort(key=lambda link: (link.linked_at, link.client_id), reverse=True)
    return {
        "items": [
            {
                "client_id": link.client_id,
                "client_name": link.client_name or None,
                "qbo_customer_id": link.qbo_customer_id,
                "display_name": link.display_name,
                "linked_at": link.linked_at,
                "currency": link.currency,
            }
            for link in links
        ]
    }


def _resend_fixed(connection: Connection, records: list[dict[str, Any]]) -> int:
    fixed = [
        record
        for record in records
        if record.get("export_status") == ExportStatus.FAILED
        and (record.get("export_reason") or {}).get("code") in FIXED_BY_LINK
        and record.get("export_body")
    ]
    for record in fixed:
        resend(connection, record)
    return len(fixed)


def _item(row: dict[str, Any], linked_client_id: str | None) -> dict[str, Any]:
    balance = row.get("Balance")
    return {
        "qbo_customer_id": str(row["Id"]),
        "display_name": row.get("DisplayName"),
        "company_name": row.get("CompanyName") or None,
        "email": (row.get("PrimaryEmailAddr") or {}).get("Address") or None,
        "balance": str(Decimal(str(balance)).quantize(Decimal("0.01")))
        if balance is not None
        else None,
        "currency": (row.get("CurrencyRef") or {}).get("value"),
        "linked_client_id": linked_client_id,
    }


def _customer_id(body: Any) -> str:
    value = body.get("qbo_customer_id") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(
            "invalid_request", "qbo_customer_id: send the id of a QuickBooks customer as text."
        )
    value = value.strip()
    # QBO's ids are digits; anything else is no customer (and never reaches a URL path).
    if not value.isdigit() or len(value) > MAX_CUSTOMER_ID:
        raise InvalidCustomer()
    return value


def _invoice(record: dict[str, Any]) -> tuple[str, str]:
    """The currency of a record's latest invoice, and its client's name there."""
    try:
        message = json.loads(str(record.get("export_body") or "{}"))
    except ValueError:
        return "", ""
    if not isinstance(message, dict):
        return "", ""
    invoice, client = message.get("invoice") or {}, message.get("client") or {}
    return str(invoice.get("currency") or "").upper(), str(client.get("display_name") or "")


def _usable(contractor_id: str) -> Connection:
    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        raise NotConnected(NOT_CONNECTED)
    return connection


def _connected(contractor_id: str) -> Connection:
    """Links need no QBO request: a connection waiting for reauthorization still has them."""
    connection = services.connections().get(contractor_id)
    if connection is None:
        raise NotConnected(NOT_CONNECTED)
    return connection
