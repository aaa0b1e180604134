"""What the construction tests share (docs/interface.md §17): invoice-sent bodies with jobs, fee
lines and retainage, the connection's settings, and the company's books as QBO posts them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from export_support import CONSUMER

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

# (description, amount, taxable)
Work = tuple[str, str, bool]
CLIENT = "Jane O'Neil"


def construction(
    contractor: str,
    number: str,
    work: list[Work],
    *,
    fees: list[str] = (),  # type: ignore[assignment]
    releases: list[str] = (),  # type: ignore[assignment]
    retainage: str | None = None,
    job: tuple[str, str] | None = None,
    tax: tuple[str, str | None, str | None] | None = None,
    discount: str | None = None,
    currency: str = "USD",
    client: str = CLIENT,
    revision: int = 1,
) -> dict[str, Any]:
    """An invoice-sent body with §17's fields; the total is computed as the contract says:
    Σ lines - discount + tax - retainage."""
    message = samples.invoice_sent(contractor, number, client, revision=revision)
    lines: list[dict[str, Any]] = [
        {"description": d, "amount": a, "taxable": t} for d, a, t in work
    ]
    lines += [{"kind": "fee", "description": "Card fee passed on", "amount": a} for a in fees]
    lines += [
        {"kind": "retainage_release", "description": "Retainage released", "amount": a}
        for a in releases
    ]
    total = sum((Decimal(line["amount"]) for line in lines), Decimal("0"))
    invoice = message["invoice"]
    invoice.update(lines=lines, currency=currency)
    if job is not None:
        invoice["job"] = {"id": job[0], "name": job[1]}
    if retainage is not None:
        invoice["retainage"] = {"amount": retainage, "percent": "10"}
        total -= Decimal(retainage)
    if discount is not None:
        invoice["discount"] = {"amount": discount, "description": "Promotion"}
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


def put_settings(
    env: LocalEnvironment, contractor: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    response = env.platform.api("PUT", "/quickbooks/settings", contractor, body=json.dumps(body))
    return int(response["statusCode"]), json.loads(response["body"])


def get_settings(env: LocalEnvironment, contractor: str) -> dict[str, Any]:
    response = env.platform.api("GET", "/quickbooks/settings", contractor)
    assert response["statusCode"] == 200, response
    return dict(json.loads(response["body"]))


def export_item(env: LocalEnvironment, contractor: str, invoice_id: str) -> dict[str, Any]:
    response = env.platform.api("GET", "/quickbooks/exports", contractor)
    items = {item["invoice_id"]: item for item in json.loads(response["body"])["items"]}
    return dict(items[invoice_id])


def retry(env: LocalEnvironment, contractor: str, invoice_id: str) -> None:
    answer = env.platform.api("POST", f"/quickbooks/exports/{invoice_id}/retry", contractor)
    assert answer["statusCode"] == 202, answer
    env.runtime.poll_sqs(CONSUMER)


def books(qbo: QboEmulator, realm: str) -> dict[str, Decimal]:
    """Each account's balance by name, zero when it has none."""
    return {name: Decimal(str(v)) for name, v in qbo.account_balances(realm).items()}


def balance(qbo: QboEmulator, realm: str, account: str) -> Decimal:
    return books(qbo, realm).get(account, Decimal("0")).quantize(Decimal("0.01"))


def customers(qbo: QboEmulator, realm: str) -> dict[str, dict[str, Any]]:
    return {c["DisplayName"]: c for c in qbo.entities(realm, "Customer")}


def invoice_of(qbo: QboEmulator, realm: str, number: str) -> dict[str, Any]:
    [invoice] = [i for i in qbo.entities(realm, "Invoice") if i.get("DocNumber") == number]
    return invoice
