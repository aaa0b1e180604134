"""The page's "Earlier invoices" section (docs/interface.md §15): ask for the history from a
date, and see its progress."""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from qbo_sync.api.errors import HistoryNotFound, InvalidRequest
from qbo_sync.api.requests import contractor, json_response
from qbo_sync.core.clock import now

# The routes import the history workflow when they are called: it loads the event models
# (pydantic) and the export's whole path, which the page's first request does not need.

router = APIGatewayHttpRouter()

MAX_YEARS = 5
INVALID_SINCE = "invalid_since"


@router.post("/quickbooks/history")
def post_history() -> Response[Any]:
    from qbo_sync.workflows.history_request import request_history

    contractor_id, _ = contractor(router)
    try:
        body = router.current_event.json_body
    except ValueError:
        body = None
    since = parse_since(body.get("since") if isinstance(body, dict) else None)
    return json_response(202, request_history(contractor_id, since))


@router.get("/quickbooks/history")
def get_history() -> Response[Any]:
    from qbo_sync.workflows.history_request import history_progress

    contractor_id, _ = contractor(router)
    progress = history_progress(contractor_id)
    if progress is None:
        raise HistoryNotFound()
    return json_response(200, progress.answer())


def parse_since(value: object) -> date:
    """`since`: a date (YYYY-MM-DD), not in the future, at most five years ago."""
    try:
        since = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        since = None
    if since is None:
        raise InvalidRequest(INVALID_SINCE, "since: give the first date as YYYY-MM-DD.")
    today = date.fromtimestamp(now())
    if since > today:
        raise InvalidRequest(INVALID_SINCE, "since: the date is in the future.")
    if since < today.replace(year=today.year - MAX_YEARS, day=min(today.day, 28)):
        raise InvalidRequest(INVALID_SINCE, "since: history goes back at most five years.")
    return since
