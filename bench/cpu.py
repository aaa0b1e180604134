"""Figure 8: the consumers' own CPU time per message, and where it goes.

Invoices and payments for a few contractors go through the handlers in this process. Only the
handler's own thread is timed (`time.thread_time` around each invocation) and profiled
(cProfile, on every other invocation, with the same CPU clock): moto and the QBO emulator serve
it from other threads, so their work is not in it, nor is the local runtime's polling (Lambda's
poller is not billed as the function's CPU).
The outbox's delivery of the same changes is timed the same way, after the consumers ran.

The machine's own speed moves the figure (a shared 2-core machine gave the same code 4.5 and
5.5 ms a payment an hour apart), so the run also times a reference on the same thread clock:
one bare DynamoDB GetItem of a connection item through the layer's client, against the same
moto. "Per message / reference" is the figure to compare between runs and machines.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.common import INVOICE_FUNCTION, PAYMENT_FUNCTION, connect
from local import samples
from local.environment import LocalEnvironment

OUTBOX_FUNCTION = "OutboxFunction"
# Where a profiled function's file lives → the group it is counted in.
GROUPS = (
    ("botocore", "botocore/boto3 (AWS calls: serialise, sign, parse)"),
    ("boto3", "botocore/boto3 (AWS calls: serialise, sign, parse)"),
    ("urllib3", "HTTP (urllib3, requests, http.client)"),
    ("requests", "HTTP (urllib3, requests, http.client)"),
    ("http/client", "HTTP (urllib3, requests, http.client)"),
    ("socket", "HTTP (urllib3, requests, http.client)"),
    ("ssl", "HTTP (urllib3, requests, http.client)"),
    ("pydantic", "pydantic (parsing the events)"),
    ("aws_lambda_powertools", "Powertools (logger, metrics, batch)"),
    ("logging", "logging (stdlib)"),
    ("json", "json (stdlib)"),
    ("qbo_sync", "qbo_sync (the layer's own code)"),
    ("functions/", "qbo_sync (the layer's own code)"),
    ("dynamodb_deserializer", "Powertools (logger, metrics, batch)"),
)


class TimedHandlers:
    """Wraps the runtime's handlers: the CPU of the invoking thread per record, measured on the
    invocations that are not profiled (cProfile's own overhead would double it), and one
    profile of every other invocation."""

    def __init__(self, env: LocalEnvironment, function_ids: list[str]) -> None:
        self.cpu_s: Counter[str] = Counter()
        self.records: Counter[str] = Counter()
        self.invocations = 0
        # CPU of this thread, not wall time: waiting on moto or the emulator is not the handler's.
        self.profile = cProfile.Profile(time.thread_time)
        runtime = env.runtime
        for function_id in function_ids:
            real = runtime.handler(function_id)
            runtime._handlers[function_id] = self._timed(function_id, real)

    def _timed(self, function_id: str, real: Callable[[Any, Any], Any]) -> Callable[..., Any]:
        def handler(event: Any, context: Any) -> Any:
            self.invocations += 1
            if self.invocations % 2 == 0:
                self.profile.enable()
                try:
                    return real(event, context)
                finally:
                    self.profile.disable()
            started = time.thread_time()
            try:
                return real(event, context)
            finally:
                self.cpu_s[function_id] += time.thread_time() - started
                self.records[function_id] += len(event.get("Records", ()))

        return handler

    def ms_per_record(self, function_id: str) -> float:
        return self.cpu_s[function_id] / max(self.records[function_id], 1) * 1000

    def where(self, top: int = 8) -> list[dict[str, Any]]:
        stats = pstats.Stats(self.profile)
        by_group: Counter[str] = Counter()
        for (path, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
            by_group[_group(path)] += own
        total = sum(by_group.values()) or 1.0
        return [
            {"where": group, "share": seconds / total}
            for group, seconds in by_group.most_common(top)
        ]


def _group(path: str) -> str:
    for marker, group in GROUPS:
        if marker in path:
            return group
    return "other (stdlib, Python itself)"


def measure(env: LocalEnvironment, *, invoices: int = 200, contractors: int = 4) -> dict[str, Any]:
    names = [f"ctr_cpu_{i}" for i in range(contractors)]
    for name in names:
        connect(env, name)
    timed = TimedHandlers(env, [INVOICE_FUNCTION, PAYMENT_FUNCTION, OUTBOX_FUNCTION])
    runtime = env.runtime
    runtime.drive_streams = False  # the outbox is timed on its own, below
    try:
        for i in range(invoices // contractors):
            for name in names:
                number = f"C{name[-1]}-{i:04d}"
                message = samples.invoice_sent(
                    name, number, f"Client {i % 5}", [("Work", "1", f"{100 + i}.00")]
                )
                env.platform.send_invoice(message)
                env.platform.complete_payment(
                    samples.payment_completed(
                        name, f"inv_{number}", number, f"{100 + i}.00", payment_id=f"p_{number}"
                    )
                )
        runtime.poll_sqs(INVOICE_FUNCTION)
        runtime.poll_sqs(PAYMENT_FUNCTION)
        runtime.poll_sqs(INVOICE_FUNCTION)  # payments that arrived first are recorded by now
        changes = runtime.poll_streams()
    finally:
        runtime.drive_streams = True
    messages = (invoices // contractors) * contractors
    reference = reference_ms(env, names[0])
    per = {
        "invoice": timed.ms_per_record(INVOICE_FUNCTION),
        "payment": timed.ms_per_record(PAYMENT_FUNCTION),
        "outbox_per_change": timed.ms_per_record(OUTBOX_FUNCTION),
    }
    return {
        "invoices": messages,
        "payments": messages,
        "cpu_ms_per_message": per,
        "consumers_cpu_ms_per_message": (per["invoice"] + per["payment"]) / 2,
        "reference_getitem_ms": reference,
        "outbox_changes": changes.succeeded,
        "outbox_invocations": changes.invocations,
        "where": timed.where(),
        "target_ms": 5,  # issue 26 (it was 10 before)
    }


def reference_ms(env: LocalEnvironment, contractor_id: str, calls: int = 300) -> float:
    """CPU (this thread) of one GetItem of the contractor's connection item through the
    layer's DynamoDB client, warm: the median of three rounds of `calls`."""
    from qbo_sync.core import aws

    dynamodb, table = aws.dynamodb(), env.stack.resources["ConnectionsTable"]
    key = {"contractor_id": {"S": contractor_id}}
    rounds = []
    for _ in range(3):
        started = time.thread_time()
        for _ in range(calls):
            dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)
        rounds.append((time.thread_time() - started) / calls * 1000)
    return sorted(rounds)[1]
