"""`make demo`'s construction step (docs/interface.md §17): a contractor who tracks jobs as
sub-customers sends a job's invoice with a card fee passed on and 10 % retainage held, then the
next invoice releases part of it; QuickBooks shows the job on its sub-customer and the
accounts' balances (Services, Processing fees collected, Retainage receivable, A/R)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from local import samples
from local.environment import LocalEnvironment

CONTRACTOR = "ctr_demo_build"
JOB = {"id": "job_12", "name": "Kitchen remodel"}
WATCHED = ("Services", "Processing fees collected", "Retainage receivable")
RECEIVABLE = "Accounts Receivable (A/R)"


def _invoice(number: str, lines: list[dict[str, Any]], retainage: str | None) -> dict[str, Any]:
    message = samples.invoice_sent(CONTRACTOR, number, "Harbor View Condos")
    total = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
    invoice = message["invoice"]
    invoice.update(lines=lines, job=JOB, memo=None)
    if retainage:
        invoice["retainage"] = {"amount": retainage, "percent": "10"}
        total -= Decimal(retainage)
    invoice["total"] = str(total)
    return message


HELD = _invoice(
    "3001",
    [
        {"description": "Phase 1 of 2", "amount": "3000.00"},
        {"kind": "fee", "description": "Card processing fee passed on", "amount": "29.00"},
    ],
    "300.00",
)
RELEASED = _invoice(
    "3002",
    [
        {"description": "Phase 2 of 2", "amount": "2000.00"},
        {
            "kind": "retainage_release",
            "description": "Retainage released, phase 1",
            "amount": "300.00",
        },
    ],
    "200.00",
)


def _balances(env: LocalEnvironment, realm: str) -> dict[str, Decimal]:
    return {k: Decimal(str(v)) for k, v in env.qbo.account_balances(realm).items()}


def _show(env: LocalEnvironment, realm: str, number: str) -> None:
    [invoice] = [i for i in env.qbo.entities(realm, "Invoice") if i.get("DocNumber") == number]
    people = {c["Id"]: c for c in env.qbo.entities(realm, "Customer")}
    customer = people[invoice["CustomerRef"]["value"]]
    items = {i["Id"]: i["Name"] for i in env.qbo.entities(realm, "Item")}
    print(
        f"    invoice {number} -> customer {customer['FullyQualifiedName']!r}, "
        f"TotalAmt {invoice['TotalAmt']}"
    )
    for line in invoice["Line"]:
        detail = line.get("SalesItemLineDetail")
        if detail:
            item = items[detail["ItemRef"]["value"]]
            print(f"      {line['Description']:<32} {item:<27} {line['Amount']:>10}")
    balances = _balances(env, realm)
    shown = ", ".join(f"{name} {balances.get(name, 0)}" for name in (*WATCHED, RECEIVABLE))
    print(f"    balances: {shown}")


def run(env: LocalEnvironment) -> int:
    """0 when QuickBooks shows the job's sub-customer, the fee and the retainage as the books
    say (docs/books.md)."""
    print("==> Construction: a contractor who tracks jobs connects and turns on sub-customers")
    realm = env.qbo.create_company("Demo Builders Inc")
    env.qbo.consent(realm)
    env.platform.connect_quickbooks(CONTRACTOR)
    answer = env.platform.api(
        "PUT",
        "/quickbooks/settings",
        CONTRACTOR,
        body=json.dumps({"job_tracking": "sub_customers"}),
    )
    print(f"    PUT /quickbooks/settings {{job_tracking: sub_customers}} -> {answer['statusCode']}")
    print("==> Invoice 3001: phase 1 (3000.00), card fee passed on (29.00), 10% retainage held")
    env.platform.send_invoice(HELD)
    env.runtime.poll_sqs("InvoiceSentFunction")
    _show(env, realm, "3001")
    print("==> Invoice 3002: phase 2 (2000.00), phase 1's retainage released (300.00), 10% held")
    env.platform.send_invoice(RELEASED)
    env.runtime.poll_sqs("InvoiceSentFunction")
    _show(env, realm, "3002")
    balances = _balances(env, realm)
    expected = {
        "Services": Decimal("5000.00"),
        "Processing fees collected": Decimal("29.00"),
        "Retainage receivable": Decimal("200.00"),
        RECEIVABLE: Decimal("4829.00"),
    }
    ok = all(balances.get(name, Decimal(0)) == amount for name, amount in expected.items())
    people = [c["FullyQualifiedName"] for c in env.qbo.entities(realm, "Customer")]
    ok = ok and "Harbor View Condos:Kitchen remodel" in people
    print(f"    customers: {', '.join(people)}; books as expected: {ok}")
    return 0 if ok else 1
