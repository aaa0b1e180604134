"""`make demo`'s sales tax step (docs/interface.md §7): a taxed, discounted invoice exported into a
US company on Automated Sales Tax, and the invoice as QuickBooks shows it: its lines, its discount
line and its tax line, with the platform's total and tax to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from local import samples
from local.environment import LocalEnvironment

CONTRACTOR = "ctr_demo_tax"


def _invoice() -> dict[str, Any]:
    message = samples.invoice_sent(CONTRACTOR, "2001", "Jane O'Neil")
    message["invoice"].update(
        total="1190.70",
        discount={"amount": "50.00", "description": "Spring promotion"},
        tax={"amount": "90.70", "rate": "8.25", "name": "Austin, TX"},
        lines=[
            {
                "description": "Cabinets",
                "quantity": "1",
                "unit_price": "1000.00",
                "amount": "1000.00",
                "taxable": True,
            },
            {
                "description": "Install",
                "quantity": "2",
                "unit_price": "75.00",
                "amount": "150.00",
                "taxable": False,
            },
        ],
    )
    return message


def run(env: LocalEnvironment) -> int:
    """0 when QuickBooks shows the platform's total and tax exactly."""
    print("==> Sales tax: a contractor whose company is on Automated Sales Tax connects")
    realm = env.qbo.create_company("Demo Tax Contracting LLC", kind="us_ast")
    env.qbo.consent(realm)
    env.platform.connect_quickbooks(CONTRACTOR)
    message = _invoice()
    invoice = message["invoice"]
    print(
        f"    invoice {invoice['number']}: lines 1150.00, discount 50.00, tax 90.70 at 8.25%, "
        f"total {invoice['total']}"
    )
    env.platform.send_invoice(message)
    env.runtime.poll_sqs("InvoiceSentFunction")
    [exported] = env.qbo.entities(realm, "Invoice")
    for line in exported["Line"]:
        detail = line.get("SalesItemLineDetail") or {}
        code = detail.get("TaxCodeRef", {}).get("value", "")
        label = line.get("Description") or line["DetailType"]
        print(
            f"    {line['DetailType']:<20} {label:<18} {Decimal(str(line['Amount'])):>9.2f} {code}"
        )
    tax = exported["TxnTaxDetail"]
    for tax_line in tax.get("TaxLine", []):
        detail = tax_line["TaxLineDetail"]
        print(
            f"    tax line: {detail['TaxPercent']}% on {detail['NetAmountTaxable']:.2f} "
            f"= {Decimal(str(tax_line['Amount'])):.2f}"
        )
    total, total_tax = Decimal(str(exported["TotalAmt"])), Decimal(str(tax["TotalTax"]))
    print(f"    QuickBooks: TotalTax {total_tax:.2f}, TotalAmt {total:.2f}")
    exact = total == Decimal(invoice["total"]) and total_tax == Decimal("90.70")
    return 0 if exact else 1
