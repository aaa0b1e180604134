"""The payout's one QBO write, the Deposit, and how QuickBooks shows it is ours: its date and
PrivateNote (once.py looks for it whenever an earlier attempt may have made it)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.company.setup import currency_ref
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.events import PayoutPaid
from qbo_sync.qbo.client import QboClient, quote
from qbo_sync.qbo.marker import is_ours

logger = Logger(child=True)


class Depositor:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @cached_property
    def qbo(self) -> QboClient:
        return services.usable_client(self.connection)

    def find(self, payout: PayoutPaid) -> dict[str, Any] | None:
        """The deposit an earlier attempt may have created without writing it down."""
        statement = (
            f"select * from Deposit where TxnDate = {quote(payout.arrival_date.isoformat())} "
            "maxresults 1000"
        )
        for row in self.qbo.query(statement):
            if is_ours(row, "payout", payout.payout_id):
                logger.info("Deposit found in QuickBooks", qbo_deposit_id=row["Id"])
                return row
        return None

    def create(
        self, fields: dict[str, Any], requestid: str, currency: str | None = None
    ) -> dict[str, Any]:
        """`currency`: the payout's, named on the Deposit in a multicurrency company."""
        ref = currency_ref(self.connection, self.qbo, currency) if currency else None
        if ref:
            fields = {**fields, "CurrencyRef": ref}
        return self.qbo.create("Deposit", fields, requestid)
