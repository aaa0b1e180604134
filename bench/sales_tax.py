"""Figure 10, sales tax: QBO requests per taxed, discounted invoice in each kind of company (US
with Automated Sales Tax, US manual, Canada-like), and how often each company's setup
(Preferences, CompanyInfo, TaxCode, TaxRate) is read: once per company, whatever the count."""

from __future__ import annotations

from typing import Any

from bench.common import INVOICE_FUNCTION, median
from local import samples
from local.environment import LocalEnvironment

KINDS = {"us_ast": ("8.25", "USD"), "us_manual": ("8.25", "USD"), "canada": ("13", "CAD")}
SETUP = {"Preferences", "CompanyInfo", "TaxCode", "TaxRate"}


def _invoice(contractor: str, number: str, client: str, rate: str, currency: str) -> Any:
    message = samples.invoice_sent(contractor, number, client)
    message["invoice"].update(
        currency=currency,
        total="1190.70",
        discount={"amount": "50.00"},
        tax={"amount": "90.70", "rate": rate},
        lines=[
            {"description": "Taxed", "amount": "1000.00", "taxable": True},
            {"description": "Untaxed", "amount": "150.00"},
        ],
    )
    return message


def _cost(env: LocalEnvironment, realm: str, message: dict[str, Any]) -> tuple[int, int]:
    """(QBO requests, of which setup reads) for one export."""
    before = len(env.qbo.requests)
    env.platform.send_invoice(message)
    result = env.runtime.poll_sqs(INVOICE_FUNCTION)
    if result.failed:
        raise RuntimeError(f"export failed: {result.errors}")
    new = [r for r in env.qbo.requests[before:] if r.realm_id == realm and r.kind == "api"]
    return len(new), sum(1 for r in new if r.entity in SETUP)


def measure(env: LocalEnvironment, n: int = 10) -> dict[str, Any]:
    figure: dict[str, Any] = {}
    for kind, (rate, currency) in KINDS.items():
        contractor = f"ctr_tax_{kind}"
        realm = env.qbo.create_company(f"Tax company {kind}", kind=kind)
        env.qbo.consent(realm)
        env.platform.connect_quickbooks(contractor)
        costs = [
            _cost(env, realm, _invoice(contractor, f"T{i}", f"Client {i}", rate, currency))
            for i in range(n)
        ]
        known = [
            _cost(env, realm, _invoice(contractor, f"K{i}", "Client 0", rate, currency))
            for i in range(n)
        ]
        figure[kind] = {
            "first_invoice_qbo": costs[0][0],
            "new_customer_qbo_median": median([float(c) for c, _ in costs[1:]]),
            "known_customer_qbo_median": median([float(c) for c, _ in known]),
            "setup_reads": sum(s for _, s in costs + known),
            "invoices": 2 * n,
        }
    return figure


def rows(figure: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    out = []
    for kind, counts in figure.items():
        out += [
            (
                "10 sales tax",
                f"{kind}: QBO / new customer",
                str(counts["new_customer_qbo_median"]),
                "3",
            ),
            (
                "10 sales tax",
                f"{kind}: QBO / known customer",
                str(counts["known_customer_qbo_median"]),
                "2",
            ),
            (
                "10 sales tax",
                f"{kind}: setup reads / {counts['invoices']} inv.",
                str(counts["setup_reads"]),
                "once",
            ),
        ]
    return out
