"""Intuit's metered reads (contracts.md §18), through the handlers: every metered request the
system makes is counted per company and for the stack, the month's figure is on the settings
page's connection, and the counts are published as metrics once per invocation.

What counts is what Intuit meters: a 2xx answer to a GET (entity reads, company info,
preferences), a query, a batch or a CDC call. The emulator records every request it answered,
so the test compares our count with its log, not with a number written down here.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from export_support import connect, record_retry_sleeps
from payments_support import CONSUMER, export, pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator


def metered_by_intuit(qbo: QboEmulator, realm: str) -> int:
    """The requests Intuit would meter for the company, from the emulator's own log."""
    return sum(
        1
        for r in qbo.requests
        if r.kind == "api"
        and r.realm_id == realm
        and 200 <= r.status < 300
        and (r.method == "GET" or r.path.rsplit("/", 1)[-1] in ("query", "batch", "cdc"))
    )


def connection(env: LocalEnvironment, contractor: str) -> dict[str, Any]:
    response = env.platform.api("GET", "/quickbooks/connection", contractor)
    assert response["statusCode"] == 200, response
    return dict(json.loads(response["body"]))


def metrics_by_dimension(stdout: str) -> Counter[tuple[str, str]]:
    """(metric, realm_id or "") -> sum, from the embedded-metric lines on stdout."""
    found: Counter[tuple[str, str]] = Counter()
    for line in stdout.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                total = sum(values if isinstance(values, list) else [values])
                found[(metric["Name"], str(blob.get("realm_id", "")))] += int(total)
    return found


def test_every_metered_read_is_counted_for_the_company_and_shown_on_the_connection(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    # Connecting read the company's name: a metered GET already.
    after_connect = connection(env, contractor)["metered_reads_this_month"]
    assert after_connect == metered_by_intuit(qbo, realm) >= 1

    export(env, contractor, "100", "120.00")
    pay(env, samples.payment_completed(contractor, "inv_100", "100", "120.00", payment_id="p1"))

    shown = connection(env, contractor)["metered_reads_this_month"]
    assert shown == metered_by_intuit(qbo, realm)
    assert shown > after_connect  # a company's first invoice reads its setup


def test_writes_are_not_metered_an_invoice_and_a_payment_after_the_first_read_nothing(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "200", "50.00")
    pay(env, samples.payment_completed(contractor, "inv_200", "200", "50.00", payment_id="p2"))
    before = connection(env, contractor)["metered_reads_this_month"]
    posts = qbo.count_requests(realm, method="POST")

    export(env, contractor, "201", "60.00")
    pay(env, samples.payment_completed(contractor, "inv_201", "201", "60.00", payment_id="p3"))

    assert qbo.count_requests(realm, method="POST") > posts  # QuickBooks was written
    assert connection(env, contractor)["metered_reads_this_month"] == before
    assert metered_by_intuit(qbo, realm) == before


def test_reads_are_counted_per_company_and_for_the_stack(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other_realm = connect(env, "ctr_other", "Birch Builders")
    capsys.readouterr()

    export(env, contractor, "300", "10.00")
    export(env, "ctr_other", "301", "20.00")

    emitted = metrics_by_dimension(capsys.readouterr().out)
    mine, theirs = (
        connection(env, contractor)["metered_reads_this_month"],
        connection(env, "ctr_other")["metered_reads_this_month"],
    )
    assert (mine, theirs) == (metered_by_intuit(qbo, realm), metered_by_intuit(qbo, other_realm))
    # Published by company and in total; the invocations' reads only (connecting was before).
    by_realm = emitted[("MeteredReads", realm)], emitted[("MeteredReads", other_realm)]
    assert all(count > 0 for count in by_realm)
    assert emitted[("MeteredReads", "")] == sum(by_realm)
    # The stack's month to date: everything both companies were metered for, connects included.
    assert stack_month_to_date(env) == mine + theirs


def stack_month_to_date(env: LocalEnvironment) -> int:
    import boto3
    from qbo_sync.core.metering import month

    item = boto3.client("dynamodb").get_item(
        TableName=env.stack.tables["OperationsTable"],
        Key={"pk": {"S": f"meter#{month()}"}, "sk": {"S": "total"}},
    )
    return int(item["Item"]["metered_reads"]["N"])


def test_the_month_to_date_metric_is_the_stacks_counter(
    env: LocalEnvironment, contractor: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    export(env, contractor, "400", "10.00")

    lines = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if '"MeteredReadsMonthToDate"' in line
    ]
    assert lines, "the export read QuickBooks, so the month-to-date figure went out"
    assert lines[-1]["MeteredReadsMonthToDate"] == [stack_month_to_date(env)]
    assert lines[-1]["service"] == "qbo-sync"


def test_an_invocation_that_reads_nothing_publishes_and_writes_nothing(
    env: LocalEnvironment, contractor: str, capsys: pytest.CaptureFixture[str]
) -> None:
    export(env, contractor, "500", "10.00")
    before = stack_month_to_date(env)
    capsys.readouterr()

    export(env, contractor, "501", "10.00")  # the company's setup is cached: no read

    assert "MeteredReads" not in capsys.readouterr().out
    assert stack_month_to_date(env) == before


def test_intuit_429s_are_published(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_retry_sleeps(monkeypatch)
    capsys.readouterr()
    qbo.fail_next(2, status=429, realm_id=realm)

    export(env, contractor, "600", "10.00")

    assert metrics_by_dimension(capsys.readouterr().out)[("QboThrottled", "")] == 2


def test_not_connected_has_no_metered_reads(env: LocalEnvironment) -> None:
    assert connection(env, "ctr_nobody")["metered_reads_this_month"] is None


def test_the_payment_consumer_counts_through_the_same_client(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    export(env, contractor, "700", "10.00")
    # A payment whose invoice the ledger does not know makes the recorder look it up.
    pay(env, samples.payment_completed(contractor, "inv_700", "700", "10.00", payment_id="p7"))
    env.runtime.poll_sqs(CONSUMER)

    assert connection(env, contractor)["metered_reads_this_month"] == metered_by_intuit(qbo, realm)


def test_no_metric_line_goes_out_while_metrics_are_disabled(
    env: LocalEnvironment,
    contractor: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """POWERTOOLS_METRICS_DISABLED (the demo's and the benchmarks' quiet runs) holds for the
    metered reads too: Powertools' single_metric prints its line whatever the setting."""
    for function in env.stack.functions.values():
        monkeypatch.setitem(function.environment, "POWERTOOLS_METRICS_DISABLED", "true")
    # An invocation copies its function's environment into os.environ (as a container has it):
    # set here too, so that the variable is taken away again after this test.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    capsys.readouterr()
    export(env, contractor, "402", "10.00")

    assert '"MeteredReads' not in capsys.readouterr().out
    assert stack_month_to_date(env) > 0  # the export read QuickBooks: still counted
