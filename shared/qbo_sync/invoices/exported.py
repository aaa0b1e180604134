"""What an invoice's export produced (`Exported`) and what it planned to write (`Plan`):
shared by the exporter (invoices/exporter.py) and the create's adapter (invoice_write.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from qbo_sync.core.statuses import ExportOutcome
from qbo_sync.invoices.mappings import ExportedInvoice
from qbo_sync.ledger.entries import Ledger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class Exported(NamedTuple):
    outcome: ExportOutcome  # EXPORTED, UPDATED, UNCHANGED or GAVE_UP
    invoice: ExportedInvoice | None  # the invoice's mapping as it now is (None: gave up)
    total: Decimal | None  # the QBO invoice's TotalAmt, when this run wrote it
    skipped_record: bool = False  # a "skipped" export record of this invoice is to go
    ledger: Ledger | None = None  # the ledger as the create's settle left it


class Plan(NamedTuple):
    fields: dict[str, Any]
    customer_id: str
    item_id: str
    learnt: dict[tuple[str, str], str]
    # Other owners' items written in the export's transaction (the retainage entry).
    with_items: tuple[TransactWriteItemTypeDef, ...] = ()
    # A hand-keyed invoice to adopt (docs/interface.md §15): its QBO fields; nothing is created.
    adopted: dict[str, Any] | None = None


def total_of(written: dict[str, Any]) -> Decimal | None:
    total = written.get("TotalAmt")
    return None if total is None else Decimal(str(total))
