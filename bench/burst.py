"""Figure 5: a month-end burst through the local pipeline.

Invoice-sent messages go to the FIFO queue (one message group per contractor) and payment events
to the bus, all before the consumers start; then `consumers` processes, each one Lambda execution
environment with its own module state (Powertools' batch processor is not thread-safe), poll the
queue and the bus's delivery queue as Lambda's event sources would, until both are empty. The
emulator enforces Intuit's per-realm limits (500 a minute, 10 a second, 10 in flight) with
windows scaled by `time_scale` (1.0: Intuit's real ones).

The bound is what those limits allow for the requests each realm needs (per-invoice and
per-payment counts from figure 2), all realms in parallel: request i of a realm cannot start
before max(i // 10 s, (i // 500) min), times time_scale.

Two runs use it (`bench/__main__.py`): the month-end burst (40 contractors: how the pipeline
holds up, bound locally by one moto process on 2 cores), and the same burst of a few realms
with every QuickBooks answer `latency_s` late ("5b, at Intuit's pace"). Intuit's limits are per
realm and realms run in parallel (in AWS DynamoDB and SQS scale out with them), so a few realms
carry the same bound as forty while the local stack stays off the critical path: the ratio is
then the pipeline's own, against Intuit's unscaled limits.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sys
import time
from collections import Counter
from decimal import Decimal
from typing import Any

from bench.common import INVOICE_FUNCTION, PAYMENT_FUNCTION, ROOT, connect
from local import samples
from local.environment import LocalEnvironment
from local.stack import LocalStack

CLIENTS_PER_CONTRACTOR = 5


def _worker(
    stack: LocalStack,
    environ: dict[str, str],
    ready: Any,
    go: Any,
    stop: Any,
    results: Any,
) -> None:
    """One Lambda execution environment serving both functions, one invocation at a time."""
    os.environ.update(environ)
    for path in (str(ROOT / "shared"), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    from local.lambda_runtime import LambdaRuntime, PollResult

    runtime = LambdaRuntime(stack, project_root=ROOT)
    # The main process delivers the streams (one reader per stream), after the burst.
    runtime.drive_streams = False
    runtime.handler(INVOICE_FUNCTION)
    runtime.handler(PAYMENT_FUNCTION)
    ready.release()
    go.wait()
    total = PollResult()
    idle = 0.0
    while not stop.is_set():
        invoices = runtime.poll_sqs(INVOICE_FUNCTION, max_batches=1)
        payments = runtime.poll_sqs(PAYMENT_FUNCTION, max_batches=1)
        total.add(invoices).add(payments)
        # Idle pollers back off, as Lambda's do, so they do not starve moto of the CPU.
        idle = 0.0 if invoices.invocations or payments.invocations else min(0.5, idle + 0.05)
        if idle:
            time.sleep(idle)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(
        {
            "invocations": total.invocations,
            "succeeded": total.succeeded,
            "failed": total.failed,
            "dead_lettered": total.dead_lettered,
            "errors": total.errors[:5],
            "cpu_s": usage.ru_utime + usage.ru_stime,
        }
    )


def _bound_s(requests: int, time_scale: float) -> float:
    last = max(requests - 1, 0)
    return max(last // 10 * 1.0, last // 500 * 60.0) * time_scale


def _queue_depth(env: LocalEnvironment, url: str) -> int:
    attributes = env.runtime.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def measure(
    env: LocalEnvironment,
    *,
    invoices: int,
    payments: int,
    contractors: int = 40,
    consumers: int = 10,
    time_scale: float = 1.0,
    per_invoice: dict[str, float],
    timeout_s: float = 300.0,
    latency_s: float = 0.0,
) -> dict[str, Any]:
    import boto3

    names = [f"ctr_burst_{i:02d}" for i in range(contractors)]
    realms = {name: connect(env, name) for name in names}
    per_contractor = invoices // contractors
    paid_per_contractor = payments // contractors
    messages, details = [], []
    for i in range(per_contractor):  # round-robin, so message groups interleave in the queue
        for c, name in enumerate(names):
            number = f"B{c:02d}-{i:04d}"
            client = f"Client {c:02d}-{i % CLIENTS_PER_CONTRACTOR}"
            price = f"{100 + i}.{c:02d}"
            message = samples.invoice_sent(name, number, client, [("Month-end work", "1", price)])
            messages.append(message)
            if i < paid_per_contractor:
                details.append(
                    samples.payment_completed(
                        name, f"inv_{number}", number, price, payment_id=f"pay_{number}"
                    )
                )

    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue_url = env.stack.resources["InvoiceSentQueue"]
    enqueue_started = time.perf_counter()
    for start in range(0, len(messages), 10):
        batch = messages[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {
                    "Id": str(n),
                    "MessageBody": json.dumps(m),
                    "MessageGroupId": m["contractor_id"],
                    "MessageDeduplicationId": m["event_id"],
                }
                for n, m in enumerate(batch)
            ],
        )
    parameters = env.stack.parameters
    for start in range(0, len(details), 10):
        response = events.put_events(
            Entries=[
                {
                    "EventBusName": env.stack.resources["EventBus"],
                    "Source": parameters["PaymentEventSource"],
                    "DetailType": parameters["PaymentEventDetailType"],
                    "Detail": json.dumps(d),
                }
                for d in details[start : start + 10]
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"put_events failed: {response['Entries']}")
    enqueue_s = time.perf_counter() - enqueue_started

    env.qbo.enforce_rate_limits(True, time_scale=time_scale)
    env.qbo.latency = latency_s
    before = len(env.qbo.requests)
    context = multiprocessing.get_context("spawn")
    ready, go, stop, results = (
        context.Semaphore(0),
        context.Event(),
        context.Event(),
        context.Queue(),
    )
    environ = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    workers = [
        context.Process(
            target=_worker, args=(env.stack, environ, ready, go, stop, results), daemon=True
        )
        for _ in range(consumers)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        while not ready.acquire(timeout=1):
            if any(worker.exitcode is not None for worker in workers):
                raise RuntimeError("a consumer exited before it was ready")
    queues = [queue_url] + [
        source.delivery_queue_url
        for source in env.stack.functions[PAYMENT_FUNCTION].eventbridge_sources
    ]
    cpu_before = os.times()
    started = time.perf_counter()
    go.set()
    empty_checks = 0
    timed_out = False
    while empty_checks < 2:
        time.sleep(0.25)
        if time.perf_counter() - started > timeout_s:
            timed_out = True
            break
        empty_checks = empty_checks + 1 if not any(_queue_depth(env, q) for q in queues) else 0
    wall_s = time.perf_counter() - started - (0.25 if not timed_out else 0.0)
    cpu_after = os.times()
    stop.set()
    reports = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    env.qbo.enforce_rate_limits(False)
    env.qbo.latency = 0.0
    # What the outbox then has to deliver: one change per export and per recorded payment.
    outbox_started = time.perf_counter()
    outbox = env.runtime.poll_streams()
    outbox_s = time.perf_counter() - outbox_started

    # --- what arrived in QuickBooks ---
    requests = env.qbo.requests[before:]
    api = [r for r in requests if r.kind == "api"]
    by_realm = Counter(r.realm_id for r in api if r.status == 200)
    throttled = sum(1 for r in api if r.status == 429)
    invoices_ok = payments_ok = True
    missing: list[str] = []
    for c, name in enumerate(names):
        realm = realms[name]
        numbers = [str(inv["DocNumber"]) for inv in env.qbo.entities(realm, "Invoice")]
        expected = [f"B{c:02d}-{i:04d}" for i in range(per_contractor)]
        if sorted(numbers) != expected:
            invoices_ok = False
            missing.append(f"{name}: {len(numbers)} invoices, {len(set(numbers))} distinct")
        paid = env.qbo.entities(realm, "Payment")
        if len(paid) != paid_per_contractor:
            payments_ok = False
            missing.append(f"{name}: {len(paid)} payments of {paid_per_contractor}")
        balances = {
            str(i["DocNumber"]): Decimal(str(i["Balance"]))
            for i in env.qbo.entities(realm, "Invoice")
        }
        if any(balances.get(f"B{c:02d}-{i:04d}") != 0 for i in range(paid_per_contractor)):
            payments_ok = False
    dead = {
        logical: _queue_depth(env, env.stack.resources[logical])
        for logical in ("InvoiceSentDeadLetterQueue", "PaymentEventsDeadLetterQueue")
    }
    ideal = (
        CLIENTS_PER_CONTRACTOR * per_invoice["new"]
        + (per_contractor - CLIENTS_PER_CONTRACTOR) * per_invoice["known"]
        + paid_per_contractor * per_invoice["payment"]
        + 1  # the realm's income account, looked up once
    )
    bound_s = _bound_s(int(ideal), time_scale)
    peak = max(env.qbo.peak_concurrency(realm) for realm in realms.values())
    return {
        "contractors": contractors,
        "invoices": per_contractor * contractors,
        "payments": paid_per_contractor * contractors,
        "consumers": consumers,
        "time_scale": time_scale,
        "latency_s": latency_s,
        "enqueue_s": enqueue_s,
        "wall_s": wall_s,
        "timed_out": timed_out,
        "bound_s": bound_s,
        "ratio": wall_s / bound_s if bound_s else None,
        "ideal_requests_per_realm": ideal,
        "actual_requests_per_realm_max": max(by_realm.values()) if by_realm else 0,
        "throttled_429": throttled,
        "peak_concurrency_per_realm": peak,
        "invoices_exactly_once": invoices_ok,
        "payments_exactly_once": payments_ok,
        "problems": missing[:10],
        "dead_letter_messages": dead,
        "consumer_invocations": sum(r["invocations"] for r in reports),
        "consumer_failed": sum(r["failed"] for r in reports),
        "consumer_errors": [e for r in reports for e in r["errors"]][:5],
        "outbox": {
            "changes": outbox.succeeded,
            "invocations": outbox.invocations,
            "failed": outbox.failed,
            "wall_s": outbox_s,
        },
        "cpu_s": {
            "consumers": sum(r["cpu_s"] for r in reports),
            "emulators": (cpu_after.user + cpu_after.system)
            - (cpu_before.user + cpu_before.system),
            "cores": os.cpu_count(),
        },
    }
