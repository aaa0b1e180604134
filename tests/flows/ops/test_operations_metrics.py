"""The dashboard's time from sent to exported (docs/operations.md): published by the outbox
once, when an export record first becomes exported, as now minus the invoice's sent_at."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from payments_support import export

from local import samples
from local.environment import LocalEnvironment


def latencies(stdout: str) -> list[float]:
    found: list[float] = []
    for line in stdout.splitlines():
        if line.startswith('{"_aws"') and '"SecondsFromSentToExported"' in line:
            value = json.loads(line)["SecondsFromSentToExported"]
            found += value if isinstance(value, list) else [value]
    return found


def test_the_time_from_sent_to_exported_is_published_once_per_invoice(
    env: LocalEnvironment, contractor: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    message = export(env, contractor, "900", "10.00")
    env.runtime.poll_streams()

    [seconds] = latencies(capsys.readouterr().out)
    sent = datetime.strptime(message["sent_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    # The functions' clock is the local stack's (earlier tests may have advanced it).
    assert abs(seconds - (env.clock.now() - sent.timestamp())) < 60

    # A new revision updates the invoice: not a first export, no second figure.
    env.platform.send_invoice(
        samples.invoice_sent(contractor, "900", "Payer Co", [("Job", "1", "12.00")], revision=2)
    )
    env.runtime.poll_sqs("InvoiceSentFunction")
    env.runtime.poll_streams()
    assert latencies(capsys.readouterr().out) == []
