"""Voids an exported invoice in QBO (docs/interface.md §8), safe to repeat.

QBO will not void an invoice a Payment settles (local/qbo_emulator/FACTS.md), so each recorded
payment is unlinked first: a sparse update of the Payment without the invoice's line keeps its
whole amount as the customer's unapplied credit. Then `operation=void` with the SyncToken the
mapping holds; a stale one (payments and edits move it) is read again and, unless QBO shows the
invoice voided already (an earlier attempt died after QBO's answer), the void is sent once more
with the current one. Each request's requestid names the token it carries, so QBO's replay of
an earlier answer is never mistaken for this one's.

In the steady state (no payment, token current) a void costs one QBO request; +1 read on a
stale token; with payments, a read and an update for each, and one read of the invoice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.invoices.mappings import ExportedInvoice
from qbo_sync.qbo.client import QboClient, request_id
from qbo_sync.qbo.faults import StaleObject

logger = Logger(child=True)


def void_exported(connection: Connection, invoice: ExportedInvoice, payments: list[str]) -> bool:
    """Voids the QBO invoice after unlinking `payments` (QBO Payment ids) from it. False when
    QBO shows it voided already."""
    qbo = services.qbo_client(connection)
    for qbo_payment_id in payments:
        _unlink(qbo, connection, qbo_payment_id, invoice.qbo_invoice_id)
    # Applying and unlinking payments moved the invoice's SyncToken: read it rather than send
    # a void bound to be refused.
    token = _current_token(qbo, invoice.qbo_invoice_id) if payments else invoice.sync_token
    if token is None:
        return False
    try:
        _void(qbo, connection, invoice.qbo_invoice_id, token)
    except StaleObject:
        token = _current_token(qbo, invoice.qbo_invoice_id)
        if token is None:
            return False
        _void(qbo, connection, invoice.qbo_invoice_id, token)
    return True


def _current_token(qbo: QboClient, qbo_invoice_id: str) -> str | None:
    """The invoice's current SyncToken; None when QBO shows it voided already."""
    current = qbo.read("Invoice", qbo_invoice_id)
    return None if is_voided(current) else str(current["SyncToken"])


def is_voided(invoice: dict[str, Any]) -> bool:
    """QBO's voided invoice: amounts 0 and "Voided" before its PrivateNote (an exported one
    never totals 0: the platform's total is above 0)."""
    total = Decimal(str(invoice.get("TotalAmt", 0)))
    return total == 0 and str(invoice.get("PrivateNote", "")).startswith("Voided")


def _void(qbo: QboClient, connection: Connection, qbo_invoice_id: str, sync_token: str) -> None:
    requestid = _request_id(connection, "void", qbo_invoice_id, sync_token)
    qbo.void("Invoice", {"Id": qbo_invoice_id, "SyncToken": sync_token}, requestid)
    logger.info("Invoice voided in QuickBooks", qbo_invoice_id=qbo_invoice_id)


def _unlink(qbo: QboClient, connection: Connection, qbo_payment_id: str, invoice_id: str) -> None:
    payment = qbo.read("Payment", qbo_payment_id)
    lines = payment.get("Line", [])
    kept = [line for line in lines if not _links(line, invoice_id)]
    if len(kept) == len(lines):
        return  # unlinked by an earlier attempt, or never linked (a credit from the start)
    token = str(payment["SyncToken"])
    fields = {"Id": qbo_payment_id, "SyncToken": token, "Line": kept}
    qbo.update("Payment", fields, _request_id(connection, "unlink", qbo_payment_id, token))
    logger.info("Payment unlinked from the voided invoice", qbo_payment_id=qbo_payment_id)


def _links(line: dict[str, Any], invoice_id: str) -> bool:
    return any(
        linked.get("TxnId") == invoice_id and linked.get("TxnType") == "Invoice"
        for linked in line.get("LinkedTxn", [])
    )


def _request_id(connection: Connection, *parts: str) -> str:
    return request_id(connection.contractor_id, connection.realm_id, *parts)
