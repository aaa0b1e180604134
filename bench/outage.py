"""Figure 7: one company's QuickBooks failing for 6 simulated hours among 40.

Two rounds in one run, each on a fresh set of companies: without an outage, then with one of
them failing (throttles and server errors in turn) for 6 hours of the simulated clock
(local/clock.py). Each company gets invoices and a payment. Reports dead-lettered messages,
simulated time from QuickBooks answering again to the failing company's last export, and the
other companies' export latency (real time from publishing to drained) with and without it.

urllib3's back-off between retries (its policy: which attempt, how long, Retry-After) moves the
simulated clock instead of sleeping: in Lambda the failing company's invocation waits beside
the others, but the local runtime runs one invocation at a time, so a real sleep there held up
every other company (a 9.3x latency ratio) and took minutes of the benchmark's wall time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.common import PAYMENT_FUNCTION, connect
from local import samples
from local.environment import LocalEnvironment

OUTAGE_SECONDS = 6 * 3600


def measure(env: LocalEnvironment, companies: int = 40, invoices: int = 3) -> dict[str, Any]:
    with _backoff_on_the_clock(env) as waits:
        calm = _round(env, "calm", companies, invoices, outage=False)
        stormy = _round(env, "storm", companies, invoices, outage=True)
    return {
        "companies": companies,
        "invoices_per_company": invoices,
        "outage_hours": OUTAGE_SECONDS / 3600,
        "dead_lettered": stormy["dead_lettered"],
        "exported_all": stormy["exported_all"] and calm["exported_all"],
        "recovery_to_last_export_s": stormy["recovery_to_last_export_s"],
        "others_latency_ms": {"without": calm["others_ms"], "with": stormy["others_ms"]},
        "others_latency_ratio": stormy["others_ms"] / calm["others_ms"],
        "backoff": {"waits": len(waits), "simulated_s": round(sum(waits), 1)},
    }


@contextmanager
def _backoff_on_the_clock(env: LocalEnvironment) -> Iterator[list[float]]:
    from urllib3.util.retry import Retry

    waits: list[float] = []
    real_sleep = Retry.sleep

    def sleep(self: Retry, response: Any = None) -> None:
        retry_after = self.get_retry_after(response) if response is not None else None
        waits.append(retry_after if retry_after is not None else self.get_backoff_time())
        env.clock.advance(waits[-1])

    Retry.sleep = sleep  # type: ignore[method-assign]
    try:
        yield waits
    finally:
        Retry.sleep = real_sleep  # type: ignore[method-assign]


def _round(
    env: LocalEnvironment, label: str, companies: int, invoices: int, *, outage: bool
) -> dict[str, Any]:
    contractors = [f"ctr_{label}_{n}" for n in range(companies)]
    realms = {contractor: connect(env, contractor) for contractor in contractors}
    failing = contractors[0]
    if outage:
        env.qbo.outage(realms[failing], OUTAGE_SECONDS)
    started_clock = env.clock.now()
    started = time.perf_counter()
    for contractor in contractors:
        for n in range(invoices):
            number = f"{label[0].upper()}{n}"
            env.platform.send_invoice(
                samples.invoice_sent(contractor, number, "Client", [("Work", "1", "10.00")])
            )
        first = f"{label[0].upper()}0"
        env.platform.complete_payment(
            samples.payment_completed(contractor, f"inv_{first}", first, "10.00")
        )
    # The others first, as Lambda's pollers would serve them while the failing one waits.
    env.runtime.poll_sqs("InvoiceSentFunction", max_batches=companies * invoices)
    env.runtime.poll_sqs(PAYMENT_FUNCTION, max_batches=companies)
    others_ms = (time.perf_counter() - started) * 1000
    env.runtime.drain(timeout_s=1800)
    last_export = env.clock.now() - started_clock
    exported = all(
        len(env.qbo.entities(realm, "Invoice")) == invoices
        and len(env.qbo.entities(realm, "Payment")) == 1
        for realm in realms.values()
    )
    return {
        "others_ms": others_ms,
        "exported_all": exported,
        "recovery_to_last_export_s": max(0.0, last_export - OUTAGE_SECONDS) if outage else 0.0,
        "dead_lettered": _dead_lettered(env),
    }


def _dead_lettered(env: LocalEnvironment) -> int:
    import boto3

    sqs = boto3.client("sqs")
    total = 0
    for name in ("InvoiceSentDeadLetterQueue", "PaymentEventsDeadLetterQueue"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=env.stack.resources[name], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        total += int(attributes["ApproximateNumberOfMessages"])
    return total
