"""The payout's one QBO write: the Deposit, found before it is created again.

Exactly once rests on the payout item's claim (records.py: one attempt at a time), the same
requestid on every attempt (QBO answers a repeat with the deposit it made), and, after an
attempt that may have reached QBO without writing it down, a lookup of the deposit by its date
and PrivateNote, because QBO does not remember a requestid for ever."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.events import PayoutPaid
from qbo_sync.payouts.lines import noted_payout
from qbo_sync.qbo.client import QboClient, quote, request_id

logger = Logger(child=True)


class Depositor:
    def __init__(self, connection: Connection, qbo: QboClient | None = None) -> None:
        self.connection = connection
        self._qbo = qbo

    @property
    def qbo(self) -> QboClient:
        if self._qbo is None:
            self._qbo = services.qbo_client(self.connection)
        return self._qbo

    def find(self, payout: PayoutPaid) -> dict[str, Any] | None:
        """The deposit an earlier attempt may have created without writing it down."""
        statement = (
            f"select * from Deposit where TxnDate = {quote(payout.arrival_date.isoformat())} "
            "maxresults 1000"
        )
        for row in self.qbo.query(statement):
            if noted_payout(row.get("PrivateNote")) == payout.payout_id:
                logger.info("Deposit found in QuickBooks", qbo_deposit_id=row["Id"])
                return row
        return None

    def create(
        self, payout: PayoutPaid, fields: dict[str, Any], retry: str | None
    ) -> dict[str, Any]:
        # After the contractor's retry, its own requestids: QBO would replay a refusal.
        more = ("retry", retry) if retry else ()
        connection = self.connection
        requestid = request_id(
            connection.contractor_id, connection.realm_id, "deposit", payout.payout_id, *more
        )
        return self.qbo.create("Deposit", fields, requestid)
