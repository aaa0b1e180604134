"""The contractor's retry of a payout (docs/interface.md §12): its event goes back on the queue with
a retry mark, so the consumer runs it through the one exactly-once deposit with requestids of
its own (QBO would replay a refusal). Retrying a deposited payout creates nothing."""

from __future__ import annotations

import uuid

from aws_lambda_powertools import Logger

from qbo_sync.api.errors import NotConnected, PayoutNotFound
from qbo_sync.connection import services
from qbo_sync.core.statuses import PayoutStatus
from qbo_sync.payouts.queue import send_payouts
from qbo_sync.payouts.records import payout_records

logger = Logger(child=True)


def retry_payout(contractor_id: str, payout_id: str) -> None:
    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        raise NotConnected(contractor_id)
    records = payout_records(connection.contractor_id, connection.realm_id)
    record = records.get(payout_id)
    if record is None:
        raise PayoutNotFound(payout_id)
    if record.status == PayoutStatus.FAILED:
        # Marked first, then queued: once queued, the consumer may finish before this returns.
        records.mark_retry(payout_id, uuid.uuid4().hex)
    send_payouts([record.detail])
    logger.info("Payout retry queued", payout_id=payout_id)
