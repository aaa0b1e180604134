"""A contractor's history (docs/interface.md §15), the queue's side: each replayed message and
the close. (The page's side, the request and its progress: workflows/history_request.py.)

Each replayed message is exported or voided as a live one is, through the same exactly-once
core; its outcome is then noted on the request (what the page's progress counts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.core.delivery import Deferred
from qbo_sync.core.reasons import ReasonCode
from qbo_sync.core.statuses import ExportOutcome, VoidOutcome
from qbo_sync.events.invoices import HistoryComplete, InvoiceMessage, InvoiceSent, InvoiceVoided
from qbo_sync.history.store import HistoryOutcome, history_store
from qbo_sync.qbo.faults import Refused
from qbo_sync.workflows.export import export_invoice
from qbo_sync.workflows.void import void_invoice

logger = Logger(child=True)

M = TypeVar("M", InvoiceSent, InvoiceVoided)
Handled = ExportOutcome | VoidOutcome


def handle_message(message: InvoiceMessage, *, receive_count: int = 1) -> Handled | None:
    """Any message of the invoice-sent or history queue (None: a history's closing message)."""
    if isinstance(message, HistoryComplete):
        _closing(message)
        return None
    if isinstance(message, InvoiceVoided):
        return _noted(message, void_invoice, receive_count)
    return _noted(message, export_invoice, receive_count)


def _noted(message: M, run: Callable[..., Handled], receive_count: int) -> Handled:
    if message.history is None:
        return run(message, receive_count=receive_count)
    note = _noter(message)
    try:
        outcome = run(message, receive_count=receive_count)
    except Refused as refused:
        note(HistoryOutcome.FAILED, str(refused.reason.get("code", "")))
        raise
    except Deferred:
        note(HistoryOutcome.PENDING, "")
        raise
    note(*_history_outcome(outcome))
    return outcome


def _noter(message: InvoiceSent | InvoiceVoided) -> Callable[[HistoryOutcome, str], None]:
    assert message.history is not None
    request_id = message.history.request_id

    def note(outcome: HistoryOutcome, code: str) -> None:
        connection = services.connections().get(message.contractor_id)
        if connection is None:
            return  # nothing connected: the request belonged to a company no longer here
        store = history_store(message.contractor_id, connection.realm_id)
        store.note(request_id, message.invoice.id, outcome, code)
        store.heard(request_id)

    return note


def _history_outcome(outcome: Handled) -> tuple[HistoryOutcome, str]:
    match outcome:
        case ExportOutcome.EXPORTED | ExportOutcome.UPDATED | ExportOutcome.UNCHANGED:
            return HistoryOutcome.EXPORTED, ""
        case ExportOutcome.ADOPTED:
            return HistoryOutcome.ADOPTED, ""
        case ExportOutcome.SKIPPED | ExportOutcome.PENDING:
            return HistoryOutcome.PENDING, ""
        case ExportOutcome.GAVE_UP:
            return HistoryOutcome.FAILED, ReasonCode.GAVE_UP.value
        case ExportOutcome.DISMISSED:
            return HistoryOutcome.FAILED, ReasonCode.INVOICE_DISMISSED.value
        case _:  # voided on the platform: never exported
            return HistoryOutcome.FAILED, ReasonCode.INVOICE_VOIDED.value


def _closing(message: HistoryComplete) -> None:
    connection = services.connections().get(message.contractor_id)
    if connection is None:
        return
    store = history_store(message.contractor_id, connection.realm_id)
    store.heard(message.history.request_id, count=message.history.count)
    logger.info("History's closing message", expected=message.history.count)
