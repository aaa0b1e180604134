"""Figure 14, history (docs/interface.md §15): one contractor's history of N invoices (default
1,000; a tenth of them keyed into QuickBooks by hand first, so adopted) from the request to
`done`, through the HTTP route, the outbox, the local invoicing service's replay on the history
queue and the consumer, as `make demo-ui` runs it.

Prints: metered reads of the request and the whole history, per 1,000 history invoices (the
emulator's own count); the history's wall time (request to done); and a live invoice's latency
while the history drains (sent after a tenth of the history was handled; from its send to its
Invoice in QBO), against the same live invoice's latency on idle queues, as a ratio in one run.
`python -m bench.history [--invoices N]`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any

from bench.common import environment
from bench.counts import metered_request
from local import samples
from local.environment import LocalEnvironment

CONTRACTOR = "ctr_bench_history"


_LOCK = threading.Lock()  # one invocation at a time: the local runtime is not reentrant


def _metered(env: LocalEnvironment, realm: str) -> int:
    """Intuit's metered reads of the company, from the emulator's own log (as figure 13)."""
    return sum(1 for r in env.qbo.requests if r.realm_id == realm and metered_request(r))


def _step(env: LocalEnvironment) -> None:
    """One round of `LambdaRuntime.drain`: a batch per SQS-fed function, the bus's events."""
    for function_id, function in env.stack.functions.items():
        with _LOCK:
            if function.sqs_sources:
                env.runtime.poll_sqs(function_id, max_batches=1)
            if function.eventbridge_sources:
                env.runtime.poll_eventbridge(function_id, max_events=10)


def _api(env: LocalEnvironment, method: str, body: Any = None) -> dict[str, Any]:
    kwargs = {} if body is None else {"body": json.dumps(body)}
    with _LOCK:
        response = env.platform.api(method, "/quickbooks/history", CONTRACTOR, **kwargs)
    assert int(response["statusCode"]) in (200, 202), response
    return dict(json.loads(response["body"]))


def _client(number: str) -> str:
    """25 clients: a contractor's history goes to the same clients again and again."""
    return f"Client {int(number[-5:]) % 25:02d}"


def _invoice(number: str, amount: str = "125.00") -> dict[str, Any]:
    message = samples.invoice_sent(CONTRACTOR, number, _client(number), [("Work", "1", amount)])
    message["invoice"]["issue_date"] = "2026-10-01"
    return message


def _hand_key(env: LocalEnvironment, realm: str, number: str) -> None:
    customers = {c["DisplayName"]: c["Id"] for c in env.qbo.entities(realm, "Customer")}
    client = _client(number)
    customer = customers.get(client) or env.qbo.add_customer(realm, client)
    env.qbo.key_invoice(realm, number, customer, "125.00")


def _exported(env: LocalEnvironment, realm: str, number: str) -> bool:
    return any(i.get("DocNumber") == number for i in env.qbo.entities(realm, "Invoice"))


def _live_latency(env: LocalEnvironment, realm: str, number: str) -> float:
    started = time.perf_counter()
    env.platform.send_invoice(
        samples.invoice_sent(CONTRACTOR, number, "Live Client", [("Job", "1", "10.00")])
    )
    while not _exported(env, realm, number):
        time.sleep(0.005)
    return time.perf_counter() - started


def run(invoices: int = 1000) -> dict[str, Any]:
    from bench.common import connect

    with environment("qbo-sync-bench-history") as env:
        realm = connect(env, CONTRACTOR)
        numbers = [f"HB-{n:05d}" for n in range(invoices)]
        for n, number in enumerate(numbers):
            env.platform.invoicing.remember(_invoice(number))
            if n % 10 == 0:
                _hand_key(env, realm, number)
        # The live invoice on idle queues: the baseline (a drain thread polls as below).
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                _step(env)
                time.sleep(0.001)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        idle = _live_latency(env, realm, "LIVE-IDLE")
        reads_before = _metered(env, realm)
        started = time.perf_counter()
        _api(env, "POST", {"since": "2026-01-01"})
        request_reads = _metered(env, realm) - reads_before
        while True:  # the invoicing service answers once the outbox emitted History Requested
            with _LOCK:
                if env.platform.invoicing.answer():
                    break
            time.sleep(0.01)
        while (
            sum(1 for i in env.qbo.entities(realm, "Invoice") if i["DocNumber"].startswith("HB-"))
            < invoices // 10
        ):
            time.sleep(0.01)
        busy = _live_latency(env, realm, "LIVE-BUSY")
        # Read the progress every 2 s: each read is an invocation that holds the runtime's lock.
        while (shown := _api(env, "GET"))["status"] != "done":
            time.sleep(2)
        wall = time.perf_counter() - started
        stop.set()
        poller.join()
        reads = _metered(env, realm) - reads_before
        limited = sum(1 for r in env.qbo.requests if r.realm_id == realm and r.status == 429)
        return {
            "history_invoices": invoices,
            "history_seconds": round(wall, 1),
            "expected": shown["expected"],  # the history plus the idle live invoice
            "exported": shown["exported"],
            "adopted": shown["adopted"],
            "failed": shown["failed"],
            "metered_reads_request": request_reads,
            "metered_reads_history": reads,
            "qbo_429s": limited,
            "live_latency_idle_s": round(idle, 3),
            "live_latency_busy_s": round(busy, 3),
            "live_latency_ratio": round(busy / idle, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    parser.add_argument("--invoices", type=int, default=1000)
    print(json.dumps(run(parser.parse_args().invoices), indent=2))


if __name__ == "__main__":
    main()
