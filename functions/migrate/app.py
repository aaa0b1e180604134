"""Runs the pending migrations of the stored items (shared/qbo_sync/migrations/).

Invoked by CloudFormation through the Migrations custom resource (on every deploy that changes
its LatestMigration), by the hourly schedule (which finishes a migration a deploy's run left
unfinished, and otherwise finds nothing to do), by the local stack when it starts, and by an
operator (docs/operations.md). A custom resource's answer goes to its pre-signed ResponseURL.
"""

from __future__ import annotations

from qbo_sync.core import startup  # first: the rest is imported without garbage collection

# isort: split

import json
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from qbo_sync.core.settings import configured
from qbo_sync.core.tracing import traced
from qbo_sync.migrations.runner import Report, run_pending

logger = Logger()
# Stops this long before the function's timeout: time to record progress and answer.
MARGIN_SECONDS = 60
PHYSICAL_ID = "qbo-sync-migrations"


@traced
@configured
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    custom_resource = isinstance(event, dict) and "ResponseURL" in event
    if custom_resource and event.get("RequestType") == "Delete":
        # Deleting the stack leaves the (retained) tables as they are.
        _answer(event, "SUCCESS", {})
        return {"status": "SUCCESS"}
    try:
        report = run_pending(lambda: context.get_remaining_time_in_millis() / 1000 - MARGIN_SECONDS)
    except Exception as error:
        logger.exception("Migration failed")
        if custom_resource:
            _answer(event, "FAILED", {}, reason=f"migration failed: {type(error).__name__}")
            return {"status": "FAILED"}
        raise
    data = _data(report)
    logger.info("Migrations run", **data)
    if custom_resource:
        # Unfinished is not a failure: the hourly schedule goes on from where this stopped.
        _answer(event, "SUCCESS", data)
    return {"status": "SUCCESS", **data}


def _data(report: Report) -> dict[str, Any]:
    return {
        "Done": ",".join(map(str, report.done)),
        "Pending": ",".join(map(str, report.pending)),
        "Complete": str(report.complete).lower(),
        "Items": report.items,
    }


def _answer(event: dict[str, Any], status: str, data: dict[str, Any], reason: str = "") -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or "See the MigrateFunction's log.",
            "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_ID,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


startup.started()
