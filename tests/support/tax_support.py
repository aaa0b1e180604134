"""What the sales tax tests share: companies of each kind, taxed and discounted invoices
(docs/interface.md §7), and the export status the settings page shows."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from export_support import CONSUMER

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

CENT = Decimal("0.01")
# (description, amount, taxable)
Line = tuple[str, str, bool]


def company(
    env: LocalEnvironment, contractor: str, kind: str, *, multicurrency: bool = False
) -> str:
    """Connects `contractor` to a new company of that kind (local/qbo_emulator/kinds.py)."""
    realm = env.qbo.create_company(f"{kind} books", kind=kind, multicurrency=multicurrency)
    env.qbo.consent(realm)
    landed = env.platform.connect_quickbooks(contractor)
    assert landed.endswith("quickbooks=connected"), landed
    return realm


def taxed(
    contractor: str,
    number: str,
    lines: list[Line],
    *,
    tax: tuple[str, str | None, str | None] | None = None,
    discount: str | None = None,
    currency: str = "USD",
    client: str = "Jane O'Neil",
    revision: int = 1,
) -> dict[str, Any]:
    """An invoice-sent body with §7's fields; `tax` is (amount, rate, name); the total is
    computed as the contract says."""
    message = samples.invoice_sent(contractor, number, client, revision=revision)
    body_lines = [
        {"description": d, "quantity": "1", "unit_price": a, "amount": a, "taxable": t}
        for d, a, t in lines
    ]
    total = sum((Decimal(a) for _, a, _ in lines), Decimal("0"))
    invoice = message["invoice"]
    invoice.update(lines=body_lines, currency=currency)
    if discount is not None:
        invoice["discount"] = {"amount": discount, "description": "Spring promotion"}
        total -= Decimal(discount)
    if tax is not None:
        amount, rate, name = tax
        invoice["tax"] = {"amount": amount, "rate": rate, "name": name}
        total += Decimal(amount)
    invoice["total"] = str(total)
    return message


def send(env: LocalEnvironment, message: dict[str, Any]) -> Any:
    env.platform.send_invoice(message)
    return env.runtime.poll_sqs(CONSUMER)


def qbo_invoice(qbo: QboEmulator, realm: str, number: str) -> dict[str, Any]:
    [invoice] = [i for i in qbo.entities(realm, "Invoice") if i.get("DocNumber") == number]
    return invoice


def money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def export_item(env: LocalEnvironment, contractor: str, invoice_id: str) -> dict[str, Any]:
    response = env.platform.api("GET", "/quickbooks/exports", contractor)
    items = {item["invoice_id"]: item for item in json.loads(response["body"])["items"]}
    return dict(items[invoice_id])


def retry(env: LocalEnvironment, contractor: str, invoice_id: str) -> None:
    answer = env.platform.api("POST", f"/quickbooks/exports/{invoice_id}/retry", contractor)
    assert answer["statusCode"] == 202, answer
    env.runtime.poll_sqs(CONSUMER)


def line_codes(invoice: dict[str, Any]) -> list[str]:
    return [
        line["SalesItemLineDetail"]["TaxCodeRef"]["value"]
        for line in invoice["Line"]
        if line["DetailType"] == "SalesItemLineDetail"
    ]


def discount_lines(invoice: dict[str, Any]) -> list[Decimal]:
    lines = invoice["Line"]
    return [money(line["Amount"]) for line in lines if line["DetailType"] == "DiscountLineDetail"]
