"""Figure 12, in this process: QBO and DynamoDB requests per void and per refund (docs/interface.md
§8, §9), counted as figure 2 counts them (bench/counts.py's Probe).

The targets are the issue's: 1 QBO request per void and per refund in steady state; +1 read on
a stale SyncToken (a paid invoice's void also unlinks each payment: a read and an update);
nothing for a redelivered void; the company's first refund also finds or creates the refunds
clearing account.
"""

from __future__ import annotations

from typing import Any

from bench.common import INVOICE_FUNCTION, PAYMENT_FUNCTION, connect, sqs_event
from bench.counts import AwsCalls, Probe, _summary
from local import samples
from local.environment import LocalEnvironment

CONTRACTOR = "ctr_voids_refunds"
TARGETS = {"void": 1, "void_redelivered": 0, "refund": 1}
Row = tuple[str, str, str, str]


def _exported(env: LocalEnvironment, number: str, paid: bool) -> None:
    message = samples.invoice_sent(CONTRACTOR, number, "Bench Client", [("Work", "1", "100.00")])
    env.runtime.invoke(INVOICE_FUNCTION, sqs_event(env, message))
    if paid:
        detail = samples.payment_completed(
            CONTRACTOR, f"inv_{number}", number, "100.00", payment_id=f"pay_{number}"
        )
        env.runtime.invoke(PAYMENT_FUNCTION, samples.payment_event(env.stack, detail))


def _void(env: LocalEnvironment, probe: Probe, number: str) -> dict[str, Any]:
    message = samples.invoice_voided(CONTRACTOR, f"inv_{number}", number)
    cost = probe.run(INVOICE_FUNCTION, sqs_event(env, message))
    if cost["response"].get("batchItemFailures"):
        raise RuntimeError(f"void of {number} failed: {cost['response']}")
    return cost


def _refund(env: LocalEnvironment, probe: Probe, number: str, serial: int) -> dict[str, Any]:
    detail = samples.payment_refunded(
        CONTRACTOR, f"inv_{number}", number, f"pay_{number}", "10.00", refund_id=f"rfd_{serial}"
    )
    event = samples.payment_event(env.stack, detail, "RefundEventDetailType")
    cost = probe.run(PAYMENT_FUNCTION, event)
    if cost["response"].get("batchItemFailures") != []:
        raise RuntimeError(f"refund {serial} not recorded: {cost['response']}")
    return cost


def measure(env: LocalEnvironment, n: int = 10) -> dict[str, Any]:
    realm = connect(env, CONTRACTOR)
    probe = Probe(env, realm, AwsCalls())
    _exported(env, "R-W", paid=True)
    first_refund = _refund(env, probe, "R-W", 0)
    voids, paid_voids, redelivered, refunds = [], [], [], []
    for i in range(n):
        _exported(env, f"V-{i}", paid=False)
        voids.append(_void(env, probe, f"V-{i}"))
        redelivered.append(_void(env, probe, f"V-{i}"))
        _exported(env, f"P-{i}", paid=True)
        paid_voids.append(_void(env, probe, f"P-{i}"))
        refunds.append(_refund(env, probe, "R-W", i + 1))
    return {
        "targets": TARGETS,
        "void": _summary(voids),
        "void_redelivered": _summary(redelivered),
        "void_of_a_paid_invoice": _summary(paid_voids),
        "refund": _summary(refunds),
        "first_refund_of_realm": _summary([first_refund]),
    }


def rows(figure: dict[str, Any]) -> list[Row]:
    targets = figure["targets"]

    def row(measure: str, key: str) -> Row:
        value = figure[key]
        goal = ""
        if key in targets:
            met = "yes" if value["qbo_max"] <= targets[key] else "MISSED"
            goal = f"<= {targets[key]} {met}"
        text = f"{value['qbo_max']:g} (DynamoDB {value['dynamodb_median']:g})"
        return ("12 voids, refunds", measure, text, goal)

    return [
        row("QBO requests per void", "void"),
        row("per void delivered again", "void_redelivered"),
        row("per void of a paid invoice (unlink, stale read)", "void_of_a_paid_invoice"),
        row("per refund", "refund"),
        row("the company's first refund (clearing account)", "first_refund_of_realm"),
    ]
