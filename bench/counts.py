"""Figures 2 to 4, in this process: QBO and DynamoDB requests per invoice and per payment, token
refreshes, and the time the handler adds on top of QBO's own latency.

QBO requests are counted by the emulator; DynamoDB (and KMS) requests by a botocore hook on the
layer's cached clients, so every request the handler makes is seen whoever makes it.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bench.common import (
    INVOICE_FUNCTION,
    PAYMENT_FUNCTION,
    connect,
    median,
    sqs_event,
)
from local import samples
from local.environment import LocalEnvironment

CONTRACTOR = "ctr_counts"
LATENCY_S = 0.1
TOKEN_PATH = "/tokens/bearer"


class AwsCalls:
    """Counts the layer's boto3 requests by service and operation, and times them: locally each
    one is served by moto in this process, which is slower than DynamoDB itself."""

    SERVICES = ("dynamodb", "kms", "events", "sqs")

    def __init__(self) -> None:
        from qbo_sync.core import aws

        self.calls: Counter[str] = Counter()
        self.spans: list[tuple[float, float]] = []
        for service in self.SERVICES:
            events = getattr(aws, service)().meta.events
            events.register(f"before-call.{service}", self._count)
            events.register(f"after-call.{service}", self._timed)

    def _count(self, model: Any, params: Any = None, context: Any = None, **_: Any) -> None:
        table = params.get("TableName", "") if isinstance(params, dict) else ""
        label = f"{model.service_model.service_name}.{model.name}"
        if model.service_model.service_name in ("dynamodb", "kms"):
            self.calls[f"{label} {table}".strip()] += 1
        elif model.service_model.service_name in ("sqs", "eventbridge"):
            self.calls[label] += 1
        if label == "eventbridge.PutEvents" and isinstance(params, dict):
            self.calls["events.entries"] += len(params.get("Entries", []))
        if isinstance(context, dict):
            context["bench_started"] = time.perf_counter()

    def _timed(self, context: Any = None, **_: Any) -> None:
        if isinstance(context, dict) and "bench_started" in context:
            self.spans.append((context["bench_started"], time.perf_counter()))

    def seconds_between(self, start: float, end: float) -> float:
        return sum(done - began for began, done in self.spans if began >= start and done <= end)

    def snapshot(self) -> Counter[str]:
        return Counter(self.calls)


class Probe:
    """One invocation's cost: QBO requests (by method and entity), AWS calls, wall time."""

    def __init__(self, env: LocalEnvironment, realm: str, aws: AwsCalls) -> None:
        self.env, self.realm, self.aws = env, realm, aws

    def run(self, function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        before_qbo = len(self.env.qbo.requests)
        before_aws = self.aws.snapshot()
        runtime = self.env.runtime
        runtime.drive_streams = False  # the outbox's delivery is timed apart from the handler's
        try:
            started = time.perf_counter()
            response = runtime.invoke(function_id, event)
            elapsed = time.perf_counter() - started
        finally:
            runtime.drive_streams = True
        outbox_started = time.perf_counter()
        outbox = runtime.poll_streams()
        outbox_s = time.perf_counter() - outbox_started
        new = self.env.qbo.requests[before_qbo:]
        aws_calls = self.aws.snapshot() - before_aws
        api = [r for r in new if r.kind == "api" and r.realm_id == self.realm]
        return {
            "response": response,
            "elapsed_s": elapsed,
            "qbo": len(api),
            # Intuit's metered (CorePlus) reads among them: 2xx GET, query, batch, CDC.
            "metered": sum(1 for r in api if metered_request(r)),
            "qbo_calls": [f"{r.method} {r.entity or r.path.rsplit('/', 1)[-1]}" for r in api],
            "token": sum(1 for r in new if r.kind == "oauth" and r.path.endswith(TOKEN_PATH)),
            "dynamodb": sum(n for name, n in aws_calls.items() if name.startswith("dynamodb.")),
            "kms": sum(n for name, n in aws_calls.items() if name.startswith("kms.")),
            "events": aws_calls["events.entries"],
            "outbox_s": outbox_s,
            "outbox_invocations": outbox.invocations,
            "aws_calls": dict(aws_calls),
        }


READS = ("GetItem", "BatchGetItem", "Query", "Scan")


def metered_request(request: Any) -> bool:
    """What Intuit meters (qbo_sync.core.metering.is_metered, answered 2xx)."""
    from qbo_sync.core.metering import is_metered

    endpoint = request.path.split("/v3/company/", 1)[-1].split("/", 1)[-1]
    ok = request.kind == "api" and 200 <= request.status < 300
    return ok and is_metered(request.method, endpoint)


def _reads(calls: dict[str, int]) -> int:
    return sum(
        n for name, n in calls.items() if name.startswith("dynamodb.") and _op(name) in READS
    )


def _writes(calls: dict[str, int]) -> int:
    # A transaction's write costs twice a plain one, per item (DynamoDB's pricing); counted so.
    return sum(
        n * (2 if _op(name) == "TransactWriteItems" else 1)
        for name, n in calls.items()
        if name.startswith("dynamodb.") and _op(name) not in READS
    )


def _op(name: str) -> str:
    return name.split(" ", 1)[0].split(".", 1)[1]


LINES = [("Work", "2", "150.00")]


def _invoice(env: LocalEnvironment, probe: Probe, number: str, client: str) -> dict[str, Any]:
    message = samples.invoice_sent(CONTRACTOR, number, client, LINES)
    cost = probe.run(INVOICE_FUNCTION, sqs_event(env, message))
    if cost["response"].get("batchItemFailures"):
        raise RuntimeError(f"invoice {number} failed: {cost['response']}")
    return cost


def _payment(env: LocalEnvironment, probe: Probe, number: str, serial: int) -> dict[str, Any]:
    detail = samples.payment_completed(
        CONTRACTOR, f"inv_{number}", number, "100.00", payment_id=f"pay_{number}_{serial}"
    )
    cost = probe.run(PAYMENT_FUNCTION, samples.payment_event(env.stack, detail))
    if cost["response"].get("batchItemFailures") != []:
        raise RuntimeError(f"payment for {number} not recorded: {cost['response']}")
    return cost


def _summary(costs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "n": len(costs),
        "qbo_median": median([c["qbo"] for c in costs]),
        "qbo_max": max(c["qbo"] for c in costs),
        "dynamodb_median": median([c["dynamodb"] for c in costs]),
        "dynamodb_max": max(c["dynamodb"] for c in costs),
        "kms_median": median([c["kms"] for c in costs]),
        "events_median": median([c["events"] for c in costs]),
        "outbox_ms_median": median([c["outbox_s"] for c in costs]) * 1000,
        "dynamodb_reads_median": median([_reads(c["aws_calls"]) for c in costs]),
        "dynamodb_writes_median": median([_writes(c["aws_calls"]) for c in costs]),
        "token_requests": sum(c["token"] for c in costs),
        "qbo_calls": costs[-1]["qbo_calls"],
        "aws_calls": costs[-1]["aws_calls"],
    }


def measure(env: LocalEnvironment, n: int = 10) -> dict[str, Any]:
    realm = connect(env, CONTRACTOR)
    connect_metered = sum(1 for r in env.qbo.requests if r.realm_id == realm and metered_request(r))
    connected_tokens = env.qbo.count_requests(realm, kind="oauth", path_suffix=TOKEN_PATH)
    aws = AwsCalls()
    probe = Probe(env, realm, aws)
    # The realm's first invoice also looks up the income account, once per realm.
    first = _invoice(env, probe, "W-1", "Warm-up Client")
    first_payment = _payment(env, probe, "W-1", 0)
    new_customer = [_invoice(env, probe, f"N-{i}", f"New Client {i}") for i in range(n)]
    known_customer = [_invoice(env, probe, f"K-{i}", "New Client 0") for i in range(n)]
    payments = [_payment(env, probe, f"K-{i}", 1) for i in range(n)]
    batch = _batches(env, probe)
    # Token requests after the connect's code exchange: refreshes (none expected within the hour).
    steady_tokens = (
        env.qbo.count_requests(realm, kind="oauth", path_suffix=TOKEN_PATH) - connected_tokens
    )

    # What one refresh costs: Intuit expires the access token early, the next invoice pays.
    env.qbo.expire_access_tokens(realm)
    after_expiry = _invoice(env, probe, "E-1", "New Client 0")

    latency = _overhead(env, probe, n)
    return {
        # contracts.md §18: Intuit's metered reads, per 1,000 of each and per new company
        # (its connect, first invoice and first payment).
        "metered_reads": {
            "per_new_company": connect_metered + first["metered"] + first_payment["metered"],
            "connect": connect_metered,
            "first_invoice_of_realm": first["metered"],
            "first_payment_of_realm": first_payment["metered"],
            "per_1000_invoices_new_customer": _per_1000(new_customer),
            "per_1000_invoices_known_customer": _per_1000(known_customer),
            "per_1000_payments": _per_1000(payments),
            "first_invoice_calls": [c for c in first["qbo_calls"] if c.startswith("GET")],
        },
        "first_invoice_of_realm": _summary([first]),
        "invoice_new_customer": _summary(new_customer),
        "invoice_known_customer": _summary(known_customer),
        "payment": _summary(payments),
        "in_a_batch": batch,
        "token_refreshes_in_steady_state": steady_tokens,
        "after_access_token_expiry": {
            "qbo": after_expiry["qbo"],
            "token": after_expiry["token"],
            "qbo_calls": after_expiry["qbo_calls"],
            "extra_qbo_requests": after_expiry["qbo"] - _summary(known_customer)["qbo_median"],
        },
        "overhead": latency,
        "whole_invocation_ms": {
            "invoice": median([c["elapsed_s"] for c in known_customer]) * 1000,
            "payment": median([c["elapsed_s"] for c in payments]) * 1000,
        },
        "targets": {
            "qbo_new_customer": 3,
            "qbo_known_customer": 2,
            "qbo_payment": 1,
            "dynamodb_invoice": 4,
            "dynamodb_payment": 4,
            "aws_calls_in_a_batch": 2,
            "overhead_ms": 25,
        },
    }


BATCH = 10  # what SQS delivers at most in one receive, and the template's BatchSize


def _batches(env: LocalEnvironment, probe: Probe) -> dict[str, Any]:
    """Issue 26's figure: AWS calls (DynamoDB, KMS, SQS, EventBridge; a batch call divided by
    the messages it serves) per invoice and per payment when SQS delivers them 10 at a time,
    one contractor's known client (the steady state)."""
    invoices = [
        sqs_event(env, samples.invoice_sent(CONTRACTOR, f"B-{i}", "New Client 0", LINES))
        for i in range(BATCH)
    ]
    payments = [
        samples.payment_event(
            env.stack,
            samples.payment_completed(
                CONTRACTOR, f"inv_B-{i}", f"B-{i}", "100.00", payment_id=f"pay_B-{i}"
            ),
        )
        for i in range(BATCH)
    ]
    found: dict[str, Any] = {}
    for kind, function_id, events in (
        ("invoice", INVOICE_FUNCTION, invoices),
        ("payment", PAYMENT_FUNCTION, payments),
    ):
        cost = probe.run(function_id, {"Records": [e["Records"][0] for e in events]})
        if cost["response"].get("batchItemFailures"):
            raise RuntimeError(f"a batch of {kind}s failed: {cost['response']}")
        calls = {k: v for k, v in cost["aws_calls"].items() if k != "events.entries"}
        found[kind] = {
            "aws_calls_per_message": sum(calls.values()) / BATCH,
            "qbo_per_message": cost["qbo"] / BATCH,
            "aws_calls": calls,
        }
    return found


def _per_1000(costs: list[dict[str, Any]]) -> float:
    return 1000 * sum(c["metered"] for c in costs) / len(costs)


def _overhead(env: LocalEnvironment, probe: Probe, n: int) -> dict[str, Any]:
    """Every QBO answer 100 ms late: handler start → Invoice created, minus 100 ms a request."""
    from qbo_sync.connection import services

    created_at: list[float] = []
    pool = services.http_pool()
    urlopen = pool.urlopen

    def answered(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = urlopen(method, url, *args, **kwargs)
        if method == "POST" and "/invoice?" in url.lower():
            created_at.append(time.perf_counter())
        return response

    pool.urlopen = answered  # type: ignore[method-assign]
    env.qbo.latency = LATENCY_S
    to_invoice, whole, in_aws = [], [], []
    try:
        for i in range(n):
            created_at.clear()
            message = samples.invoice_sent(
                CONTRACTOR, f"L-{i}", "New Client 1", [("Work", "1", "5.00")]
            )
            event = sqs_event(env, message)
            started = time.perf_counter()
            cost = probe.run(INVOICE_FUNCTION, event)
            calls = cost["qbo_calls"]
            before_invoice = next(i for i, call in enumerate(calls) if call.endswith("Invoice")) + 1
            to_invoice.append(created_at[0] - started - before_invoice * LATENCY_S)
            in_aws.append(probe.aws.seconds_between(started, created_at[0]))
            whole.append(cost["elapsed_s"] - cost["qbo"] * LATENCY_S)
    finally:
        env.qbo.latency = 0.0
        del pool.urlopen  # the class's own again
    return {
        "n": n,
        "latency_ms": LATENCY_S * 1000,
        "to_invoice_ms_median": median(to_invoice) * 1000,
        "to_invoice_ms_max": max(to_invoice) * 1000,
        # Of which waiting for AWS calls (moto, in this process); the rest is the handler's code.
        "to_invoice_aws_ms_median": median(in_aws) * 1000,
        "to_invoice_without_aws_ms_median": median(
            [total - aws for total, aws in zip(to_invoice, in_aws, strict=True)]
        )
        * 1000,
        "whole_invocation_ms_median": median(whole) * 1000,
    }
