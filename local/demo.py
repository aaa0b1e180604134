"""`make demo`: the whole flow on this machine, printed as it goes.

A contractor connects QuickBooks through the real redirect flow, sends invoices, their clients pay,
and the QuickBooks company's invoice list is read back through the Accounting API.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal

from local import samples
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
    env.runtime.poll_eventbridge("PaymentCompletedFunction")

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
    result = env.runtime.poll_eventbridge("PaymentCompletedFunction")
    print(f"    consumer: {result.succeeded} handled, {result.failed} failed")

    step("QuickBooks invoice list, read back through the Accounting API")
    return print_invoice_list(env, realm)


def print_invoice_list(env: LocalEnvironment, realm: str) -> int:
    from qbo_sync import services

    connection = services.connections().get(CONTRACTOR)
    if connection is None:
        print("    the contractor is not connected", file=sys.stderr)
        return 1
    client = services.qbo_client(connection)
    customers = {c["Id"]: c["DisplayName"] for c in client.query("select * from Customer")}
    invoices = client.query("select * from Invoice")
    print(f"    {'Number':<8} {'Customer':<24} {'Total':>10} {'Balance':>10}  Status")
    all_paid = True
    for invoice in sorted(invoices, key=lambda i: str(i["DocNumber"])):
        balance = Decimal(str(invoice["Balance"]))
        status = "Paid" if balance == 0 else "Open"
        all_paid = all_paid and status == "Paid"
        customer = customers.get(invoice["CustomerRef"]["value"], "?")
        total = Decimal(str(invoice["TotalAmt"]))
        number = invoice["DocNumber"]
        print(f"    {number:<8} {customer:<24} {total:>10.2f} {balance:>10.2f}  {status}")
    expected = {message["invoice"]["number"] for message in INVOICES}
    exported = {str(invoice["DocNumber"]) for invoice in invoices}
    return 0 if exported == expected and all_paid else 1


def main() -> int:
    started = time.monotonic()
    step("Starting AWS emulation (moto), the Intuit/QuickBooks emulator and the template's stack")
    verbose = "--verbose" in sys.argv[1:]
    # The functions' JSON logs and metrics would bury the story; --verbose shows them.
    quiet = (
        {}
        if verbose
        else {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    )
    with local_environment(overrides=quiet) as env:
        status = run(env)
    print(f"==> done in {time.monotonic() - started:.1f}s" + ("" if status == 0 else " (FAILED)"))
    return status


if __name__ == "__main__":
    sys.exit(main())
