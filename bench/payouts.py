"""Figure 11: what a payout costs (docs/interface.md §10). A busy contractor's month of card
payments, 500, paid out in one transfer: QBO requests (the company's first payout also finds or
creates the fees account), DynamoDB requests, the Deposit's lines, and that its total is the
transfer and Undeposited Funds is empty afterwards; then one more payout, the steady state."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from bench.common import PAYMENT_FUNCTION, connect
from bench.counts import AwsCalls, Probe
from local import samples
from local.environment import LocalEnvironment

CONTRACTOR = "ctr_payouts"
AMOUNT, FEE = Decimal("10.00"), Decimal("0.59")


def measure(env: LocalEnvironment, payments: int = 500) -> dict[str, Any]:
    realm = connect(env, CONTRACTOR)
    ids = _recorded_payments(env, payments + 1)
    bank = next(a["Id"] for a in env.qbo.entities(realm, "Account") if a["Name"] == "Checking")
    body = json.dumps({"payout_account_id": bank})
    env.platform.api("PUT", "/quickbooks/settings", CONTRACTOR, body=body)
    probe = Probe(env, realm, AwsCalls())
    first = _payout(env, probe, "po_month", ids[:payments])
    steady = _payout(env, probe, "po_next", ids[payments:])
    deposits = env.qbo.entities(realm, "Deposit")
    expected = [len(ids[:payments]) * (AMOUNT - FEE), AMOUNT - FEE]
    return {
        "payments": payments,
        "first": first,
        "steady": steady,
        "deposit_lines": max(len(d["Line"]) for d in deposits),
        "totals_match": sorted(d["TotalAmt"] for d in deposits) == sorted(expected),
        "undeposited": str(_undeposited(env, realm)),
    }


def _recorded_payments(env: LocalEnvironment, count: int) -> list[str]:
    """Invoices of 100.00, each paid in card payments of 10.00 (each its own event)."""
    per_invoice = 10
    ids = []
    for n in range(0, count, per_invoice):
        number = f"M{n // per_invoice}"
        paying = min(per_invoice, count - n)
        total = str(AMOUNT * paying)
        env.platform.send_invoice(
            samples.invoice_sent(CONTRACTOR, number, "Client", [("Work", "1", total)])
        )
        for k in range(paying):
            ids.append(f"pay_{number}_{k}")
    env.runtime.poll_sqs("InvoiceSentFunction", max_batches=count)
    for payment_id in ids:
        number = payment_id.split("_")[1]
        env.platform.complete_payment(
            samples.payment_completed(
                CONTRACTOR, f"inv_{number}", number, str(AMOUNT), payment_id=payment_id
            )
        )
    result = env.runtime.poll_sqs(PAYMENT_FUNCTION, max_batches=count)
    if result.failed:
        raise RuntimeError(f"payments not recorded: {result.errors[:3]}")
    return ids


def _payout(env: LocalEnvironment, probe: Probe, payout_id: str, ids: list[str]) -> dict[str, Any]:
    items = [
        {"type": "payment", "payment_id": p, "amount": str(AMOUNT), "fee": str(FEE)} for p in ids
    ]
    detail = samples.payout_paid(CONTRACTOR, payout_id, items)
    bus_event = samples.payment_bus_event(env.stack, detail)
    bus_event["detail-type"] = env.stack.parameters["PayoutEventDetailType"]
    record = samples.sqs_record(
        json.dumps(bus_event), env.stack.attributes["PaymentEventsQueue"]["Arn"], env.stack.region
    )
    started = time.perf_counter()
    cost = probe.run(PAYMENT_FUNCTION, {"Records": [record]})
    if cost["response"].get("batchItemFailures"):
        raise RuntimeError(f"payout {payout_id} failed: {cost['response']}")
    return {
        "qbo": cost["qbo"],
        "qbo_calls": cost["qbo_calls"],
        "dynamodb": cost["dynamodb"],
        "aws_calls": cost["aws_calls"],
        "elapsed_s": round(time.perf_counter() - started, 2),
    }


def _undeposited(env: LocalEnvironment, realm: str) -> Decimal:
    received = sum((p["TotalAmt"] for p in env.qbo.entities(realm, "Payment")), Decimal("0"))
    deposited = sum(
        (
            line["Amount"]
            for d in env.qbo.entities(realm, "Deposit")
            for line in d["Line"]
            if line.get("LinkedTxn")
        ),
        Decimal("0"),
    )
    return Decimal(received - deposited)
