"""The platform's event shapes (contracts.md §3, §4, §8, §9), validated at the edge."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

Money = Annotated[Decimal, Field(max_digits=15, decimal_places=2)]
# Quantities and rates are not money: more decimals are fine, but they stay finite and bounded so
# that Qty × UnitPrice can never overflow.
Measure = Annotated[Decimal, Field(max_digits=20, decimal_places=8)]
NonEmpty = Annotated[str, Field(min_length=1, max_length=200)]
# The largest integer every JSON reader keeps exact; a larger revision would also overflow
# DynamoDB's 38 digits and fail every delivery instead of being refused once.
MAX_REVISION = 2**53 - 1


class _Event(BaseModel):
    # Unknown fields are ignored (contracts.md: fields may be added).
    model_config = ConfigDict(extra="ignore", frozen=True)


class Address(_Event):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Client(_Event):
    id: NonEmpty
    display_name: Annotated[str, Field(min_length=1, max_length=500)]
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    billing_address: Address | None = None


class InvoiceLine(_Event):
    description: str = ""
    quantity: Measure = Decimal("1")
    unit_price: Measure | None = None
    amount: Money


class Invoice(_Event):
    id: NonEmpty
    number: Annotated[str, Field(min_length=1, max_length=21)]
    revision: Annotated[int, Field(ge=1, le=MAX_REVISION)]
    issue_date: date
    due_date: date | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    total: Money
    memo: str | None = None
    lines: list[InvoiceLine] = Field(default_factory=list)

    @field_validator("total")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("total must be greater than 0")
        return value

    # A field validator (lines come after total), not a model one: the refusal then names
    # invoice.lines, the field to fix.
    @field_validator("lines")
    @classmethod
    def _lines_sum_to_total(
        cls, lines: list[InvoiceLine], info: ValidationInfo
    ) -> list[InvoiceLine]:
        total = info.data.get("total")  # absent when the total itself was refused
        if lines and total is not None and sum(line.amount for line in lines) != total:
            raise ValueError("lines do not add up to the invoice total")
        return lines


class InvoiceSent(_Event):
    schema_version: Literal[1]
    event_id: NonEmpty
    contractor_id: NonEmpty
    sent_at: datetime
    invoice: Invoice
    client: Client


class PaymentCompleted(_Event):
    schema_version: Literal[1]
    payment_id: NonEmpty
    contractor_id: NonEmpty
    invoice_id: NonEmpty
    invoice_number: Annotated[str, Field(min_length=1, max_length=21)]
    amount: Money
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    paid_at: datetime
    method: Literal["card", "ach", "other"] = "other"

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("amount must be greater than 0")
        return value


class PaymentRefunded(_Event):
    """contracts.md §9."""

    schema_version: Literal[1]
    refund_id: NonEmpty
    payment_id: NonEmpty
    contractor_id: NonEmpty
    invoice_id: NonEmpty
    invoice_number: Annotated[str, Field(min_length=1, max_length=21)]
    amount: Money
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    refunded_at: datetime
    reason: Literal["requested_by_customer", "duplicate", "dispute_lost", "other"] = "other"

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("amount must be greater than 0")
        return value


class MessageType(StrEnum):
    """The messages of the invoice-sent queue (contracts.md §8: none named is invoice-sent)."""

    INVOICE_SENT = "invoice_sent"
    INVOICE_VOIDED = "invoice_voided"


class VoidedInvoice(_Event):
    id: NonEmpty
    number: Annotated[str, Field(min_length=1, max_length=21)]
    revision: Annotated[int, Field(ge=1, le=MAX_REVISION)]


class InvoiceVoided(_Event):
    schema_version: Literal[1]
    message_type: Literal[MessageType.INVOICE_VOIDED]
    event_id: NonEmpty
    contractor_id: NonEmpty
    voided_at: datetime
    invoice: VoidedInvoice
    reason: Annotated[str, Field(max_length=1000)] | None = None


class _Kind(BaseModel):
    """Only the message's type, to choose the model that validates the rest."""

    model_config = ConfigDict(extra="ignore")
    message_type: MessageType = MessageType.INVOICE_SENT


def validation_problems(error: ValidationError) -> list[str]:
    """Which field and why, for a log line a person can act on; never the offending values."""
    # A problem with no location is the body's own (not JSON, not an object).
    return sorted(
        {(".".join(map(str, e["loc"])) or "body") + ": " + e["msg"] for e in error.errors()}
    )


def parse_invoice_sent(body: str) -> InvoiceSent:
    """An SQS body is a JSON string; invalid JSON is a ValidationError like any other problem."""
    return InvoiceSent.model_validate_json(body)


def parse_invoice_message(body: str) -> InvoiceSent | InvoiceVoided:
    """A message of the invoice-sent queue, by its `message_type` (an unknown one is refused,
    naming message_type)."""
    if _Kind.model_validate_json(body).message_type == MessageType.INVOICE_VOIDED:
        return InvoiceVoided.model_validate_json(body)
    return parse_invoice_sent(body)
