"""The invoice queues' messages (docs/interface.md §3, §8, §15, §17): invoice-sent, invoice-voided
and a history's closing message."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from qbo_sync.events import MAX_REVISION, EventModel, LineKind, Measure, Money, NonEmpty


class Address(EventModel):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Client(EventModel):
    id: NonEmpty
    display_name: Annotated[str, Field(min_length=1, max_length=500)]
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    billing_address: Address | None = None


class InvoiceLine(EventModel):
    # `kind` first: the validators of amount and taxable read it.
    kind: LineKind = LineKind.WORK
    description: str = ""
    quantity: Measure = Decimal("1")
    unit_price: Measure | None = None
    amount: Money
    taxable: bool = False  # docs/interface.md §7

    @field_validator("amount")
    @classmethod
    def _release_is_positive(cls, amount: Decimal, info: ValidationInfo) -> Decimal:
        if info.data.get("kind") == LineKind.RETAINAGE_RELEASE and amount <= 0:
            raise ValueError("a retainage release must be greater than 0")
        return amount

    @field_validator("taxable")
    @classmethod
    def _only_work_is_taxed(cls, taxable: bool, info: ValidationInfo) -> bool:
        kind = info.data.get("kind")
        if taxable and kind is not None and kind != LineKind.WORK:
            raise ValueError(f"a {kind} line is never taxable")
        return taxable

    @property
    def is_work(self) -> bool:
        return self.kind == LineKind.WORK


class Job(EventModel):
    """The job (project) an invoice bills (docs/interface.md §17)."""

    id: NonEmpty
    name: Annotated[str, Field(min_length=1, max_length=500)]


class Retainage(EventModel):
    """The part of the invoice the client holds back until the job is done."""

    amount: Money
    percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=9, decimal_places=4)] | None = None


class Discount(EventModel):
    amount: Money
    description: str | None = None


class Tax(EventModel):
    """The platform's sales tax (docs/interface.md §7): `amount` is the truth; `rate` (a percentage)
    and `name` (the jurisdiction) say which of the company's tax rates it is."""

    amount: Money
    rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=9, decimal_places=4)] | None = None
    name: Annotated[str, Field(max_length=100)] | None = None


class Invoice(EventModel):
    # Fields are validated in this order, and each validator names its own field: lines, then
    # discount and tax (which need the lines), then total (which needs all three).
    id: NonEmpty
    number: Annotated[str, Field(min_length=1, max_length=21)]
    revision: Annotated[int, Field(ge=1, le=MAX_REVISION)]
    issue_date: date
    due_date: date | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")] = "USD"
    memo: str | None = None
    job: Job | None = None
    # A default, not a default_factory: pydantic copies it for each invoice, and a factory's
    # signature is inspected when the model is built (`list`'s: about 2 ms of a cold start).
    lines: list[InvoiceLine] = []  # noqa: RUF012 (a pydantic field: copied, never shared)
    discount: Discount | None = None
    tax: Tax | None = None
    retainage: Retainage | None = None
    total: Money

    @field_validator("currency")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        # Compared with QBO's home currency (ISO codes are upper case there): "usd" is USD.
        return value.upper()

    @field_validator("discount")
    @classmethod
    def _discount_within_lines(
        cls, discount: Discount | None, info: ValidationInfo
    ) -> Discount | None:
        if discount is None:
            return None
        if discount.amount < 0:
            raise ValueError("discount must not be negative")
        lines = info.data.get("lines")
        # A discount applies to the work (docs/interface.md §17), never to fees or releases.
        if lines and discount.amount > sum(line.amount for line in lines if line.is_work):
            raise ValueError("discount is larger than the lines")
        return discount

    @field_validator("tax")
    @classmethod
    def _tax_on_taxable_lines(cls, tax: Tax | None, info: ValidationInfo) -> Tax | None:
        if tax is None:
            return None
        if tax.amount < 0:
            raise ValueError("tax must not be negative")
        lines = info.data.get("lines")
        if tax.amount > 0 and lines and not any(line.taxable for line in lines):
            raise ValueError("tax is charged but no line is taxable")
        return tax

    @field_validator("retainage")
    @classmethod
    def _retainage_of_work(
        cls, retainage: Retainage | None, info: ValidationInfo
    ) -> Retainage | None:
        if retainage is None:
            return None
        if retainage.amount < 0:
            raise ValueError("retainage must not be negative")
        lines = info.data.get("lines")
        if lines is None:
            return retainage  # refused already, naming lines
        work = [line.amount for line in lines if line.is_work]
        if retainage.amount > 0 and not work:
            raise ValueError("retainage is held but the invoice has no work line")
        if retainage.amount > sum(work, Decimal(0)):
            raise ValueError("retainage is larger than the work lines")
        return retainage

    @field_validator("total")
    @classmethod
    def _total_adds_up(cls, total: Decimal, info: ValidationInfo) -> Decimal:
        if total <= 0:
            raise ValueError("total must be greater than 0")
        lines = info.data.get("lines")
        if not lines:
            return total
        if any(part not in info.data for part in ("discount", "tax", "retainage")):
            return total  # refused already, with its own field named
        discount, tax = info.data["discount"], info.data["tax"]
        expected = (
            sum(line.amount for line in lines)
            - _amount(discount)
            + _amount(tax)
            - _amount(info.data["retainage"])
        )
        if total != expected:
            raise ValueError(
                "total is not the lines minus the discount plus the tax minus the retainage"
            )
        return total

    @property
    def tax_amount(self) -> Decimal:
        return _amount(self.tax)

    @property
    def discount_amount(self) -> Decimal:
        return _amount(self.discount)

    @property
    def retainage_held(self) -> Decimal:
        return _amount(self.retainage)

    @property
    def retainage_released(self) -> Decimal:
        released = [line.amount for line in self.lines if line.kind == LineKind.RETAINAGE_RELEASE]
        return sum(released, Decimal("0.00"))

    def taxable_flags(self) -> list[bool]:
        """Whether each sales line of the QBO invoice is taxed, in order: the platform's lines
        (only work lines may be), then the retainage held (never); an invoice without lines
        has one line, taxed when the invoice is (docs/interface.md §7, §17)."""
        if not self.lines:
            return [self.tax is not None]
        flags = [line.taxable for line in self.lines]
        return [*flags, False] if self.retainage_held > 0 else flags


def _amount(part: Discount | Tax | Retainage | None) -> Decimal:
    return part.amount if part is not None else Decimal("0.00")


class HistoryTag(EventModel):
    """On a message the platform replays for a history request (docs/interface.md §15)."""

    request_id: NonEmpty


class InvoiceSent(EventModel):
    schema_version: Literal[1]
    event_id: NonEmpty
    contractor_id: NonEmpty
    sent_at: datetime
    invoice: Invoice
    client: Client
    history: HistoryTag | None = None


class MessageType(StrEnum):
    """The messages of the invoice-sent queue (docs/interface.md §8: none named is invoice-sent)."""

    INVOICE_SENT = "invoice_sent"
    INVOICE_VOIDED = "invoice_voided"
    HISTORY_COMPLETE = "history_complete"


class VoidedInvoice(EventModel):
    id: NonEmpty
    number: Annotated[str, Field(min_length=1, max_length=21)]
    revision: Annotated[int, Field(ge=1, le=MAX_REVISION)]


class InvoiceVoided(EventModel):
    schema_version: Literal[1]
    message_type: Literal[MessageType.INVOICE_VOIDED]
    event_id: NonEmpty
    contractor_id: NonEmpty
    voided_at: datetime
    invoice: VoidedInvoice
    reason: Annotated[str, Field(max_length=1000)] | None = None
    history: HistoryTag | None = None


class HistoryCount(EventModel):
    request_id: NonEmpty
    count: Annotated[int, Field(ge=0)]


class HistoryComplete(EventModel):
    """The platform's closing message of a history request (docs/interface.md §15): how many
    invoices it replayed."""

    schema_version: Literal[1]
    message_type: Literal[MessageType.HISTORY_COMPLETE]
    contractor_id: NonEmpty
    history: HistoryCount


class _Kind(BaseModel):
    """Only the message's type, to choose the model that validates the rest."""

    model_config = ConfigDict(extra="ignore")
    message_type: MessageType = MessageType.INVOICE_SENT


def parse_invoice_sent(body: str) -> InvoiceSent:
    """An SQS body is a JSON string; invalid JSON is a ValidationError like any other problem."""
    return InvoiceSent.model_validate_json(body)


InvoiceMessage = InvoiceSent | InvoiceVoided | HistoryComplete


def parse_invoice_message(body: str) -> InvoiceMessage:
    """A message of the invoice-sent or history queue, by its `message_type` (an unknown one is
    refused, naming message_type)."""
    kind = _Kind.model_validate_json(body).message_type
    if kind == MessageType.INVOICE_VOIDED:
        return InvoiceVoided.model_validate_json(body)
    if kind == MessageType.HISTORY_COMPLETE:
        return HistoryComplete.model_validate_json(body)
    return parse_invoice_sent(body)
