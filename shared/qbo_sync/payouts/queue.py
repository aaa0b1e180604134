"""Sends a payout again to PaymentEventsQueue, as the bus rule would deliver it: after what it
waited for happened (its payment recorded, its bank account chosen) or the contractor's retry.
The consumer runs it through the one exactly-once deposit, so a payout sent twice deposits once.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.settings import get_settings

SQS_BATCH = 10


def send_payouts(details: list[dict[str, Any]]) -> None:
    settings = get_settings()
    bodies = [_bus_event(detail, settings.payout_event_detail_type) for detail in details]
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start : start + SQS_BATCH]
        aws.sqs().send_message_batch(
            QueueUrl=settings.payment_events_queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)],
        )


def _bus_event(detail: dict[str, Any], detail_type: str) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "source": "qbo-sync",
            "account": "",
            "time": iso_now(),
            "region": os.environ.get("AWS_REGION", ""),
            "resources": [],
            "detail-type": detail_type,
            "detail": detail,
        }
    )
