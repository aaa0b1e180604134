"""`make demo`: the whole flow on this machine, printed as it goes.

A contractor connects QuickBooks through the real redirect flow, sends invoices, their clients pay,
and the QuickBooks company's invoice list is read back through the Accounting API. Then an invoice
dated in a period the bookkeeper closed fails, the settings page shows why, the period is
reopened and the contractor clicks Retry; then a construction job on its sub-customer with a
fee passed on and retainage held then released (local/demo_construction.py), the export status
list, and the contractor's payout deposited in QuickBooks (local/demo_payouts.py).
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from typing import Any

from local import demo_construction, demo_sales_tax, demo_voids_refunds, samples
from local.demo_payouts import run_payout
from local.environment import LocalEnvironment, local_environment

CONTRACTOR = "ctr_demo"
INVOICES = [
    samples.invoice_sent(
        CONTRACTOR,
        "1042",
        "Jane O'Neil",
        [("Cabinets", "1", "1000.00"), ("Install", "4", "58.64")],
    ),
    samples.invoice_sent(
        CONTRACTOR, "1043", "Riverside Dental, LLC", [("Tile work", "12", "45.50")]
    ),
    samples.invoice_sent(CONTRACTOR, "1044", "Jane O'Neil", [("Paint touch-up", "2.5", "40.00")]),
]
# Invoice 1043 is paid in two parts; 1044's payment arrives before the invoice is exported.
PAYMENTS = [
    samples.payment_completed(CONTRACTOR, "inv_1042", "1042", "1234.56", payment_id="pay_1042"),
    samples.payment_completed(CONTRACTOR, "inv_1043", "1043", "300.00", payment_id="pay_1043a"),
    samples.payment_completed(CONTRACTOR, "inv_1043", "1043", "246.00", payment_id="pay_1043b"),
]
EARLY_PAYMENT = samples.payment_completed(
    CONTRACTOR, "inv_1044", "1044", "100.00", payment_id="pay_1044"
)
# An October job invoiced late, after the bookkeeper closed the books through October.
CLOSED_THROUGH = "2026-10-31"
LATE_INVOICE = samples.invoice_sent(
    CONTRACTOR, "1045", "Hill Street Bakery", [("Oven vent", "1", "780.00")]
)
LATE_INVOICE["invoice"].update(issue_date="2026-10-28", due_date="2026-11-27")


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def run(env: LocalEnvironment) -> int:
    realm = env.qbo.create_company("Demo Contracting LLC")
    step(f"QuickBooks Online company 'Demo Contracting LLC' (realm {realm}) is ready")

    step(f"Contractor {CONTRACTOR} clicks Connect; Intuit consent; callback")
    landed = env.platform.connect_quickbooks(CONTRACTOR)
    print(f"    browser lands on {landed}")

    step(f"An early payment for invoice {EARLY_PAYMENT['invoice_number']} arrives first")
    env.platform.complete_payment(EARLY_PAYMENT)
    env.runtime.poll_sqs("PaymentCompletedFunction")

    step(f"Invoicing service publishes {len(INVOICES)} invoice-sent messages to the FIFO queue")
    for message in INVOICES:
        env.platform.send_invoice(message)
        invoice = message["invoice"]
        client = message["client"]["display_name"]
        print(f"    invoice {invoice['number']} for {client}: {invoice['total']}")
    result = env.runtime.poll_sqs("InvoiceSentFunction")
    print(f"    consumer: {result.succeeded} exported, {result.failed} failed")

    step(f"Payment system emits {len(PAYMENTS)} payment-completed events on the bus")
    for detail in PAYMENTS:
        env.platform.complete_payment(detail)
    result = env.runtime.poll_sqs("PaymentCompletedFunction")
    print(f"    consumer: {result.succeeded} handled, {result.failed} failed")

    step(f"The bookkeeper closes the books through {CLOSED_THROUGH} in QuickBooks")
    env.qbo.close_books(realm, CLOSED_THROUGH)
    late = LATE_INVOICE["invoice"]
    step(f"Invoice {late['number']}, dated {late['issue_date']}, is sent")
    env.platform.send_invoice(LATE_INVOICE)
    env.runtime.poll_sqs("InvoiceSentFunction")
    step("Settings page: GET /quickbooks/exports")
    print_export_status(env)

    step("The bookkeeper reopens the period; the contractor clicks Retry on invoice 1045")
    env.qbo.close_books(realm, None)
    retried = env.platform.api("POST", f"/quickbooks/exports/{late['id']}/retry", CONTRACTOR)
    print(f"    POST .../exports/{late['id']}/retry -> {retried['statusCode']} {retried['body']}")
    env.runtime.poll_sqs("InvoiceSentFunction")

    demo_voids_refunds.void_and_refund(env, CONTRACTOR)
    step("QuickBooks invoice list, read back through the Accounting API")
    status = print_invoice_list(env, realm)
    step("QuickBooks refund receipts")
    status = demo_voids_refunds.print_refunds(env, CONTRACTOR) or status
    status = demo_sales_tax.run(env) or status
    status = demo_construction.run(env) or status
    step("Settings page: GET /quickbooks/exports")
    status = print_export_status(env) or status
    return run_payout(env, CONTRACTOR, step) or status


def print_invoice_list(env: LocalEnvironment, realm: str) -> int:
    from qbo_sync.connection import services

    connection = services.connections().get(CONTRACTOR)
    if connection is None:
        print("    the contractor is not connected", file=sys.stderr)
        return 1
    client = services.qbo_client(connection)
    customers = {c["Id"]: c["DisplayName"] for c in client.query("select * from Customer")}
    invoices = client.query("select * from Invoice")
    print(f"    {'Number':<8} {'Customer':<24} {'Total':>10} {'Balance':>10}  Status")
    for invoice in sorted(invoices, key=lambda i: str(i["DocNumber"])):
        balance = Decimal(str(invoice["Balance"]))
        status = "Paid" if balance == 0 else "Open"
        if str(invoice.get("PrivateNote", "")).startswith("Voided"):
            status = "Voided"
        customer = customers.get(invoice["CustomerRef"]["value"], "?")
        total = Decimal(str(invoice["TotalAmt"]))
        number = invoice["DocNumber"]
        print(f"    {number:<8} {customer:<24} {total:>10.2f} {balance:>10.2f}  {status}")
    expected = {message["invoice"]["number"] for message in [*INVOICES, LATE_INVOICE]}
    exported = {str(invoice["DocNumber"]) for invoice in invoices}
    paid = all(str(i["DocNumber"]) == "1045" or Decimal(str(i["Balance"])) == 0 for i in invoices)
    return 0 if exported == expected and paid else 1


def print_export_status(env: LocalEnvironment) -> int:
    """The list as the settings page shows it; 0 when every invoice ended up exported (or
    voided)."""
    response = env.platform.api("GET", "/quickbooks/exports", CONTRACTOR)
    items: list[dict[str, Any]] = json.loads(response["body"])["items"]
    view = json.loads(env.platform.api("GET", "/quickbooks/connection", CONTRACTOR)["body"])
    print(f"    failed exports: {view['failed_exports']}")
    print(f"    {'Number':<8} {'Status':<9} {'QBO id':<7} Payments")
    for item in items:
        payments = ", ".join(map(demo_voids_refunds.payment_text, item["payments"])) or "-"
        qbo_id = item["qbo_invoice_id"] or "-"
        print(f"    {item['invoice_number']:<8} {item['status']:<9} {qbo_id:<7} {payments}")
        if item["reason"]:
            print(f"             why: {item['reason']['message']}")
    done = ("exported", "voided")
    return 0 if items and all(item["status"] in done for item in items) else 1


def main() -> int:
    started = time.monotonic()
    step("Starting AWS emulation (moto), the Intuit/QuickBooks emulator and the template's stack")
    verbose = "--verbose" in sys.argv[1:]
    # The functions' JSON logs and metrics would bury the story; --verbose shows them. The
    # invoice refused on purpose logs an ERROR, so only CRITICAL gets through; the demo's exit
    # status still says whether everything ended where it should.
    quiet = (
        {}
        if verbose
        else {"POWERTOOLS_LOG_LEVEL": "CRITICAL", "POWERTOOLS_METRICS_DISABLED": "true"}
    )
    with local_environment(overrides=quiet) as env:
        status = run(env)
    print(f"==> done in {time.monotonic() - started:.1f}s" + ("" if status == 0 else " (FAILED)"))
    return status


if __name__ == "__main__":
    sys.exit(main())
