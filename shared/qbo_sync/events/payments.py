"""The payment system's payment events (docs/interface.md §4, §9): payment-completed and
payment-refunded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from qbo_sync.events import EventModel, NonEmpty, PositiveAmount


class PaymentCompleted(EventModel):
    schema_version: Literal[1]
    payment_id: NonEmpty
    contractor_id: NonEmpty
    invoice_id: NonEmpty
    invoice_number: Annotated[str, Field(min_length=1, max_length=21)]
    amount: PositiveAmount
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    paid_at: datetime
    method: Literal["card", "ach", "other"] = "other"


class PaymentRefunded(EventModel):
    """docs/interface.md §9."""

    schema_version: Literal[1]
    refund_id: NonEmpty
    payment_id: NonEmpty
    contractor_id: NonEmpty
    invoice_id: NonEmpty
    invoice_number: Annotated[str, Field(min_length=1, max_length=21)]
    amount: PositiveAmount
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    refunded_at: datetime
    reason: Literal["requested_by_customer", "duplicate", "dispute_lost", "other"] = "other"
