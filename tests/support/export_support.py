"""What the invoice-export tests share: the consumer's name, fast retries, the DLQ, metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from urllib3.util.retry import Retry

from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

CONSUMER = "InvoiceSentFunction"


def record_retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """urllib3's retries keep their policy (which attempt, how long) but do not sleep: the
    waits they would have made are returned, in order, for tests that check the backoff."""
    waits: list[float] = []

    def sleep(self: Retry, response: Any = None) -> None:
        retry_after = self.get_retry_after(response) if response is not None else None
        waits.append(retry_after if retry_after is not None else self.get_backoff_time())

    monkeypatch.setattr(Retry, "sleep", sleep)
    return waits


def dead_letters(env: LocalEnvironment) -> list[dict[str, Any]]:
    """Every message on the invoice-sent dead-letter queue (each received once, then hidden)."""
    sqs = boto3.client("sqs")
    url = env.stack.resources["InvoiceSentDeadLetterQueue"]
    found: list[dict[str, Any]] = []
    while True:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        )
        messages = response.get("Messages", [])
        if not messages:
            return found
        found.extend(messages)


def reason_of(message: dict[str, Any]) -> str:
    return str(message.get("MessageAttributes", {}).get("reason", {}).get("StringValue", ""))


def emitted_metrics(stdout: str) -> Counter[str]:
    """Sums the metrics the functions emitted (CloudWatch embedded metric format on stdout)."""
    totals: Counter[str] = Counter()
    for line in stdout.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                totals[metric["Name"]] += int(sum(values if isinstance(values, list) else [values]))
    return totals


def connect(env: LocalEnvironment, contractor_id: str, company: str) -> str:
    """Connects another contractor to a new QBO company; returns its realm id."""
    realm = env.qbo.create_company(company)
    env.qbo.consent(realm)
    landed = env.platform.connect_quickbooks(contractor_id)
    assert landed.endswith("quickbooks=connected"), landed
    return realm


def posts(qbo: QboEmulator, realm: str, entity: str) -> int:
    return qbo.count_requests(realm, method="POST", path_suffix=f"/{entity.lower()}")


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """Names every DynamoDB call the layer makes (on its own cached client) while open."""
    from qbo_sync.core import aws

    calls: list[str] = []
    client = aws.dynamodb()

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[1])

    client.meta.events.register("before-call.dynamodb.*", count, unique_id="count-calls")
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", unique_id="count-calls")


# One invocation of InvoiceSentFunction in a process of its own: the project root, when to
# start, a request id and the batch in argv (not stdin: on stdin each racer would wait for the
# other's communicate(), and they would run one after the other). It prints its answer, then
# the modules it loaded.
INVOKE_IN_ANOTHER_PROCESS = """
import json, sys, time, types
sys.path[:0] = [sys.argv[1] + "/shared", sys.argv[1]]
from functions.invoice_sent.app import lambda_handler
event, start_at = json.loads(sys.argv[4]), float(sys.argv[2])
context = types.SimpleNamespace(
    function_name="InvoiceSentFunction", function_version="$LATEST", memory_limit_in_mb=256,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:InvoiceSentFunction",
    aws_request_id=sys.argv[3], get_remaining_time_in_millis=lambda: 60_000,
)
time.sleep(max(0.0, start_at - time.time()))
print("RESULT " + json.dumps(lambda_handler(event, context)))
print("LOADED " + json.dumps(sorted(sys.modules)))
"""
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def race_the_queued_batch(env: LocalEnvironment, qbo: QboEmulator) -> None:
    """Lambda may invoke twice with the same batch: the invoice-sent queue's messages go, as one
    batch, to two processes at once (each imports the handler first, then they go together,
    and every QBO answer is slow enough for them to overlap). Both must answer without a
    failure."""
    source = env.runtime.function(CONSUMER).sqs_sources[0]
    received = boto3.client("sqs").receive_message(
        QueueUrl=source.queue_url, MessageSystemAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    event = {"Records": [env.runtime._sqs_record(source, m) for m in received]}
    os.environ.update(env.runtime.function(CONSUMER).environment)  # as the runtime does
    qbo.latency = 0.15
    start_at = time.time() + 4.0
    racers = [
        subprocess.Popen(
            [
                *(sys.executable, "-c", INVOKE_IN_ANOTHER_PROCESS, str(PROJECT_ROOT)),
                *(str(start_at), n, json.dumps(event)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for n in ("racer-1", "racer-2")
    ]
    for racer in racers:
        stdout, stderr = racer.communicate(timeout=60)
        assert racer.returncode == 0, stderr
        result = next(line for line in stdout.splitlines() if line.startswith("RESULT "))
        assert json.loads(result[len("RESULT ") :]) == {"batchItemFailures": []}
