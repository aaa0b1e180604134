"""A contractor's history (docs/interface.md §15), the page's side: the request and its progress.
(The queue's side, each replayed message and the close: workflows/history.py.)

The request reads the company's invoices once (history/numbers.py), keeps their numbers with
the request, then writes the request, which is the event that asks the platform to replay (the
outbox emits QuickBooks History Requested from that write), and sends the skipped invoices from
that date back on their way.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.api.errors import HistoryInProgress, NotConnected
from qbo_sync.connection import services
from qbo_sync.connection.tokens import ReauthorizationRequired
from qbo_sync.history.numbers import hand_keyed
from qbo_sync.history.store import Progress, history_store
from qbo_sync.invoices.queue import send_history
from qbo_sync.ledger.listing import skipped_bodies

logger = Logger(child=True)


def request_history(contractor_id: str, since: date) -> dict[str, Any]:
    """docs/interface.md §15's POST: 202's body. Raises NotConnected or HistoryInProgress."""
    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        raise NotConnected()
    store = history_store(contractor_id, connection.realm_id)
    current = store.latest()
    if current is not None and not store.progress(current).done:
        raise HistoryInProgress()
    try:
        numbers = hand_keyed(services.qbo_client(connection), since)
    except ReauthorizationRequired as error:
        raise NotConnected() from error
    request = store.start(since, current.request_id if current else None, numbers)
    if request is None:
        raise HistoryInProgress()  # another request was made meanwhile
    bodies = [body for body in skipped_bodies(contractor_id) if _issued_since(body, since)]
    send_history(contractor_id, request.request_id, bodies)
    logger.info(
        "History requested",
        request_id=request.request_id,
        since=since.isoformat(),
        hand_keyed_numbers=len(numbers),
        skipped_resent=len(bodies),
    )
    return {"request_id": request.request_id, "since": since.isoformat(), "status": "requested"}


def history_progress(contractor_id: str) -> Progress | None:
    """The latest request of the connected company and its progress (None: none made)."""
    connection = services.connections().get(contractor_id)
    if connection is None:
        return None
    store = history_store(contractor_id, connection.realm_id)
    request = store.latest()
    return None if request is None else store.progress(request)


def _issued_since(body: str, since: date) -> bool:
    from qbo_sync.events.invoices import parse_invoice_sent  # the models only where a body is read

    return parse_invoice_sent(body).invoice.issue_date >= since
