"""Intuit's metered reads (contracts.md §18): counted where every QBO request is made.

Intuit's App Partner Program meters "CorePlus" calls per developer workspace: every GET (company
info, preferences, an entity read), every query, batch and CDC call that answers 2xx; creates
and updates are free. On the free tier, past 500,000 in a calendar month Intuit refuses every
read of every company of the app. qbo/client.py calls `count_read` for each metered 2xx answer
and `count_throttled` for each 429 Intuit sends (its retries included).

Nothing is written per request. `flush()` runs once at the end of every invocation
(core/settings.configured) and, only if the invocation made a metered read:
- adds its reads to this month's counters in OperationsTable: one UpdateItem ADD per company it
  read and one for the stack (the ADD answers the new month-to-date figure);
- publishes, as CloudWatch embedded metrics, `MeteredReads` by `realm_id` and in total, and
  `MeteredReadsMonthToDate` for the stack, which MeteredReadsBudgetAlarm compares with
  MeteredReadsMonthlyBudget (an alarm cannot sum a calendar month).
Cost: two DynamoDB write units and two log lines per invocation that read QuickBooks; an export
or a payment that reads nothing costs nothing here.

Counters are per stack: Intuit counts the whole developer workspace, so stacks that share one
Intuit app share its budget (docs/operations.md). Sandbox calls are counted too, though Intuit
does not meter them: a sandbox stack's figures are what production would be metered.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from qbo_sync.core import aws
from qbo_sync.core.clock import now
from qbo_sync.core.settings import get_settings

logger = Logger(child=True)

STACK = "total"
# A month's counters are kept a year after it, then DynamoDB's TTL removes them.
KEEP_SECONDS = 400 * 86400

_reads: Counter[str] = Counter()
_throttled = 0


def is_metered(method: str, path: str) -> bool:
    """A CorePlus call: any GET, and a query, batch or CDC request whatever its method."""
    endpoint = path.split("?", 1)[0].split("/", 1)[0]
    return method.upper() == "GET" or endpoint in ("query", "batch", "cdc")


def count_read(realm_id: str) -> None:
    _reads[realm_id] += 1


def count_throttled() -> None:
    global _throttled
    _throttled += 1


def month(at: float | None = None) -> str:
    return time.strftime("%Y-%m", time.gmtime(now() if at is None else at))


def reads_this_month(realm_id: str) -> int:
    """The company's metered reads this calendar month (UTC), as the counters have them."""
    response = aws.dynamodb().get_item(
        TableName=get_settings().operations_table,
        Key=_key(month(), realm_id),
        ProjectionExpression="metered_reads",
    )
    value = response.get("Item", {}).get("metered_reads", {}).get("N")
    return int(value) if value else 0


def flush() -> None:
    """Stores and publishes the invocation's counts, then forgets them. Never raises: the
    invocation's own work is done, and a lost count must not undo it (it is logged)."""
    global _throttled
    reads, throttled = dict(_reads), _throttled
    _reads.clear()
    _throttled = 0
    try:
        if throttled:
            _publish("QboThrottled", throttled)
        if not reads:
            return
        this_month = month()
        for realm_id, count in sorted(reads.items()):
            _add(this_month, realm_id, count)
            _publish("MeteredReads", count, realm_id=realm_id)
        total = sum(reads.values())
        month_to_date = _add(this_month, STACK, total)
        _publish("MeteredReads", total)
        _publish("MeteredReadsMonthToDate", month_to_date)
    except Exception as error:
        logger.warning("Metered reads not recorded", reads=reads, error=str(error))


def _add(this_month: str, realm_id: str, count: int) -> int:
    response = aws.dynamodb().update_item(
        TableName=get_settings().operations_table,
        Key=_key(this_month, realm_id),
        UpdateExpression=(
            "ADD metered_reads :n SET expires_at = if_not_exists(expires_at, :expires)"
        ),
        ExpressionAttributeValues={
            ":n": {"N": str(count)},
            ":expires": {"N": str(int(now()) + KEEP_SECONDS)},
        },
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["metered_reads"]["N"])


def _key(this_month: str, realm_id: str) -> dict[str, Any]:
    sk = STACK if realm_id == STACK else f"realm#{realm_id}"
    return {"pk": {"S": f"meter#{this_month}"}, "sk": {"S": sk}}


def _publish(name: str, value: int, **dimensions: str) -> None:
    if is_metrics_disabled():  # single_metric prints its line even then (Powertools 3.37)
        return
    service = os.environ.get("POWERTOOLS_SERVICE_NAME") or "qbo-sync"
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "QboSync",
        default_dimensions={"service": service, **dimensions},
    ):
        pass
