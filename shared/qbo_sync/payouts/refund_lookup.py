"""Where a payout finds the QBO RefundReceipt of a platform refund it nets."""

from __future__ import annotations

from qbo_sync.connection.store import Connection


def recorded_refund(connection: Connection, refund_id: str) -> str | None:
    """The QBO RefundReceipt id of a recorded refund, or None while it is not recorded.

    Always None for now: refunds (contracts.md §9) are recorded by another change, which wires
    this to its ledger, so a payout listing a refund waits (payment_not_recorded) until then."""
    return None
