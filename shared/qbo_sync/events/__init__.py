"""The platform's event shapes (docs/interface.md §3, §4, §8, §9, §10), validated at the edge:
one module per queue's events (`invoices`, `payments`, `payouts`), so that a function builds the
classes of the events it reads only (each model class costs its import about a millisecond; the
payment function has no use for the invoice models: bench figure 1). Here what they share."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

Money = Annotated[Decimal, Field(max_digits=15, decimal_places=2)]
# Quantities and rates are not money: more decimals are fine, but they stay finite and bounded so
# that Qty × UnitPrice can never overflow.
Measure = Annotated[Decimal, Field(max_digits=20, decimal_places=8)]
NonEmpty = Annotated[str, Field(min_length=1, max_length=200)]


def _positive(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise ValueError("amount must be greater than 0")
    return amount


# The amount of a payment, a refund, or a payout's payment or refund: money that moved.
PositiveAmount = Annotated[Money, AfterValidator(_positive)]

# The largest integer every JSON reader keeps exact; a larger revision would also overflow
# DynamoDB's 38 digits and fail every delivery instead of being refused once.
MAX_REVISION = 2**53 - 1


class EventModel(BaseModel):
    # Unknown fields are ignored (docs/interface.md: fields may be added). Each model's validator
    # is built when it first validates, not on import: a function validates one or two kinds of
    # event, and building them all was a tenth of a consumer's cold start (bench figure 1).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class LineKind(StrEnum):
    """What an invoice line bills (docs/interface.md §17)."""

    WORK = "work"
    FEE = "fee"  # a processing fee passed on to the client
    RETAINAGE_RELEASE = "retainage_release"  # retainage held on earlier invoices, now billed


def validation_problems(error: ValidationError) -> list[str]:
    """Which field and why, for a log line a person can act on; never the offending values."""
    # A problem with no location is the body's own (not JSON, not an object).
    return sorted(
        {(".".join(map(str, e["loc"])) or "body") + ": " + e["msg"] for e in error.errors()}
    )
