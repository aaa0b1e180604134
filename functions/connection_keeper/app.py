"""Runs once a day (template.yaml's schedule): refreshes the QuickBooks connections nobody used
for 60 days, so Intuit's 100-day refresh token never dies of disuse, and announces the ones
about to expire."""

from __future__ import annotations

from qbo_sync.core import startup  # first: the rest is imported without garbage collection

# isort: split

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from qbo_sync.core.settings import configured
from qbo_sync.core.tracing import traced
from qbo_sync.workflows.keep_connections import keep_connections

logger = Logger()
metrics = Metrics()


@traced
@configured
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The schedule's "Scheduled Event" carries nothing to act on but its time; an operator's
    # manual `aws lambda invoke` sends {} and runs the same way.
    logger.info("Keeper run", scheduled_at=event.get("time"), rule=event.get("resources"))
    run = keep_connections(lambda: context.get_remaining_time_in_millis() / 1000)
    metrics.add_metric(name="ConnectionsRefreshed", unit=MetricUnit.Count, value=run.refreshed)
    metrics.add_metric(name="ConnectionRefreshFailures", unit=MetricUnit.Count, value=run.failed)
    metrics.add_metric(
        name="ConnectionsExpiringAnnounced", unit=MetricUnit.Count, value=run.expiring_announced
    )
    return {
        "seen": run.seen,
        "refreshed": run.refreshed,
        "reauthorization_required": run.reauthorization_required,
        "failed": run.failed,
        "expiring_announced": run.expiring_announced,
        "stopped_early": run.stopped_early,
    }


startup.started()
