"""The payment system's payout-paid event (docs/interface.md §10)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from qbo_sync.events import EventModel, Money, NonEmpty, PositiveAmount


class PayoutPayment(EventModel):
    type: Literal["payment"]
    payment_id: NonEmpty
    amount: PositiveAmount
    fee: Money = Decimal("0")

    @field_validator("fee")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("fee must not be negative")
        return value


class PayoutRefund(EventModel):
    type: Literal["refund"]
    refund_id: NonEmpty
    amount: PositiveAmount


class PayoutAdjustment(EventModel):
    type: Literal["adjustment"]
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    amount: Money

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("amount must not be 0")
        return value


PayoutItem = Annotated[PayoutPayment | PayoutRefund | PayoutAdjustment, Field(discriminator="type")]


class PayoutPaid(EventModel):
    schema_version: Literal[1]
    payout_id: NonEmpty
    contractor_id: NonEmpty
    amount: Money
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    arrival_date: date
    items: Annotated[list[PayoutItem], Field(min_length=1)]

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("amount must be greater than 0: a payout is money into the bank")
        return value

    # On items (they come after amount), so that the refusal names the field to fix.
    @field_validator("items")
    @classmethod
    def _items_add_up(cls, items: list[PayoutItem], info: ValidationInfo) -> list[PayoutItem]:
        payments = [item.payment_id for item in items if isinstance(item, PayoutPayment)]
        refunds = [item.refund_id for item in items if isinstance(item, PayoutRefund)]
        if len(set(payments)) != len(payments) or len(set(refunds)) != len(refunds):
            raise ValueError("a payment or refund is listed twice")
        amount = info.data.get("amount")  # absent when the amount itself was refused
        if amount is not None and payout_net(items) != amount:
            raise ValueError(
                "items do not add up to the payout amount (payments - fees - refunds + adjustments)"
            )
        return items


def payout_net(items: list[PayoutItem]) -> Decimal:
    """What the bank receives for these items (docs/interface.md §10)."""
    total = Decimal("0")
    for item in items:
        if isinstance(item, PayoutPayment):
            total += item.amount - item.fee
        elif isinstance(item, PayoutRefund):
            total -= item.amount
        else:
            total += item.amount
    return total
