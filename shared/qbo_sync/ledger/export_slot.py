"""The invoice's exactly-once slot (once.py): attributes of its ledger item (entries.py's
item, pk = contractor id, sk = "<realm>#payments#<invoice id>"), beside its export record.

- export_attempt: the attempt that holds the invoice's create; left behind by an attempt that
  died, it says the create may have reached QuickBooks. No lease: the FIFO queue already lets
  one message of a contractor run at a time, and two runs that race all the same (Lambda
  invoking twice) send the same requestid, look for ours first, and the settle is the
  attempt's that claimed last;
- export_maybe_in_qbo: an attempt ended without knowing whether QuickBooks made the invoice;
- export_attempts (records.py's ATTEMPTS) and export_retry: the temporary faults counted and
  the contractor's latest retry;
- qbo_invoice_id: set by the settle; the slot is done.

The settle is one item of the transaction that records the export (invoices/mappings.py's
record_export), conditional on the attempt and on no payment having parked since the claim, so
that the export records every payment that waited for it.
"""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from qbo_sync.core import aws, read_ahead
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import Update, from_item
from qbo_sync.core.settings import get_settings
from qbo_sync.ledger.keys import ledger_key
from qbo_sync.ledger.records import ATTEMPTS, ExportRecord, export_records, history_full

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

ATTEMPT, MAYBE = "export_attempt", "export_maybe_in_qbo"


class ExportClaim(NamedTuple):
    claimed: bool
    item: dict[str, Any]  # the ledger item before the claim, deserialised

    @property
    def done(self) -> str | None:
        value = self.item.get("qbo_invoice_id")
        return str(value) if value else None

    @property
    def maybe_in_qbo(self) -> bool:
        return bool(self.item.get(MAYBE)) or ATTEMPT in self.item

    @property
    def attempts(self) -> int:
        return int(self.item.get(ATTEMPTS, 0))

    @property
    def retry(self) -> str | None:
        value = self.item.get("export_retry")
        return str(value) if value else None

    @property
    def parked(self) -> int:
        return len(self.item.get("parked", ()))


class ExportSlot:
    def __init__(self, table: str, contractor_id: str, realm_id: str) -> None:
        self._table, self._pk, self._realm = table, contractor_id, realm_id

    def claim(self, invoice_id: str, attempt: str) -> ExportClaim:
        """Starts an attempt, unless the invoice is exported (then `done` names it)."""
        update = _claim_update(invoice_id, attempt)
        condition = "attribute_not_exists(qbo_invoice_id)"
        dynamodb = aws.dynamodb()
        try:
            response = dynamodb.update_item(
                **update.request(self._table, self._key(invoice_id), condition),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException as error:
            old: Any = error.response.get("Item", {})
            return ExportClaim(False, from_item(dict(old)))
        return ExportClaim(True, from_item(dict(response.get("Attributes", {}))))

    def absent_in_read_ahead(self, invoice_id: str) -> bool:
        """Whether the batch's read-ahead found no ledger item for the invoice (and nothing
        this invocation wrote made it forget that)."""
        found, missing = read_ahead.served(self._table, [self._key(invoice_id)])
        return not found and not missing

    def carry_item(self, invoice_id: str, attempt: str) -> TransactWriteItemTypeDef:
        """The claim of an invoice whose ledger item does not exist yet, as an item of another
        invoice's settle (core/carry.py): it holds only while the item does not exist, so
        what it answers is what `claim` would have (nothing)."""
        update = _claim_update(invoice_id, attempt)
        request = update.request(self._table, self._key(invoice_id), "attribute_not_exists(pk)")
        return {"Update": request}  # type: ignore[typeddict-item]

    def keep_carried(self, invoice_id: str, attempt: str) -> None:
        """The batch's read-ahead holds the item `carry_item` wrote, as the write left it (the
        write made it forget the item), so the next message reads nothing."""
        key = self._key(invoice_id)
        pk, sk = key["pk"]["S"], key["sk"]["S"]
        item = {"pk": pk, "sk": sk, **_claimed(invoice_id, attempt)}
        read_ahead.keep(self._table, [key], {(pk, sk): item})

    def release_carried(self, invoice_id: str, attempt: str) -> None:
        """Ends a carried claim no message took: the slot is fresh again, not an attempt that
        died (which would cost its next export a lookup in QuickBooks)."""
        update = Update()
        update.remove(ATTEMPT)
        condition = f"{update.name(ATTEMPT)} = {update.value(attempt)}"
        dynamodb = aws.dynamodb()
        # Refused: another attempt took the slot over, and it is that attempt's.
        with suppress(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.update_item(**update.request(self._table, self._key(invoice_id), condition))

    def done_item(
        self,
        attempt: str,
        record: ExportRecord,
        qbo_invoice_id: str,
        qbo_customer_id: str,
        due: Decimal | None,
        parked: int,
        currency_ref: str = "",
        adopted: bool = False,
        customer_name: str = "",
    ) -> TransactWriteItemTypeDef:
        """The settle, as an item of the transaction that records the export; `parked`: how
        many payments the claim saw parked (the write fails if one parked since);
        `currency_ref`: the invoice's CurrencyRef ("" when it has none), which its payments and
        refunds name too (company/setup.py's currency_ref); `customer_name`: the customer's
        name as QuickBooks answered it (the list shows it, docs/interface.md §14)."""
        update = Update()
        record.add_to(update)
        update.set("currency_ref", currency_ref)
        update.set("invoice_id", record.invoice_id)
        update.set("qbo_invoice_id", qbo_invoice_id)
        update.set("qbo_customer_id", qbo_customer_id)
        if customer_name:
            update.set("qbo_customer_name", customer_name)
        update.set("updated_at", iso_now())
        if adopted:  # a hand-keyed invoice (docs/interface.md §15): the list says so
            update.set("adopted", True)
        if due is None:
            update.remove("due")
        else:
            update.set("due", due)
        update.remove(ATTEMPT)
        update.remove(MAYBE)
        parked_name = update.name("parked")
        parked_now = (
            f"attribute_not_exists({parked_name})"
            if parked == 0
            else f"size({parked_name}) = {update.value(parked)}"
        )
        condition = f"{update.name(ATTEMPT)} = {update.value(attempt)} AND {parked_now}"
        request = update.request(self._table, self._key(record.invoice_id), condition)
        return {"Update": request}  # type: ignore[typeddict-item]

    def release(self, attempt: str, record: ExportRecord, maybe_in_qbo: bool) -> bool:
        """Ends an attempt without the invoice: its record (pending or failed, with the
        reason), and whether QuickBooks may have made it. False: another attempt holds it."""
        update = Update()
        record.add_to(update)
        update.set("invoice_id", record.invoice_id)
        update.set("updated_at", iso_now())
        update.remove(ATTEMPT)
        if maybe_in_qbo:
            update.set(MAYBE, True)
        else:
            update.remove(MAYBE)
        condition = f"{update.name(ATTEMPT)} = {update.value(attempt)}"
        dynamodb = aws.dynamodb()
        try:
            response = dynamodb.update_item(
                **update.request(self._table, self._key(record.invoice_id), condition),
                ReturnValues="ALL_OLD",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        self.trim(record, from_item(dict(response.get("Attributes", {}))))
        return True

    def trim(self, record: ExportRecord, old: dict[str, Any]) -> None:
        """The record's history cut back once a write filled it (records.py's HISTORY_KEPT);
        `old`: the item before that write (the claim's, for the settle's transaction)."""
        if record.history is not None and history_full(old):
            export_records(self._pk).trim_history(self._realm, record.invoice_id)

    def read(self, invoice_id: str) -> dict[str, Any]:
        response = aws.dynamodb().get_item(
            TableName=self._table, Key=self._key(invoice_id), ConsistentRead=True
        )
        return from_item(response.get("Item", {}))

    def _key(self, invoice_id: str) -> dict[str, Any]:
        return ledger_key(self._pk, self._realm, invoice_id)


def _claimed(invoice_id: str, attempt: str) -> dict[str, Any]:
    """What a claim writes on the slot, made by `claim` or carried by another settle alike."""
    return {"invoice_id": invoice_id, ATTEMPT: attempt}


def _claim_update(invoice_id: str, attempt: str) -> Update:
    update = Update()
    for name, value in _claimed(invoice_id, attempt).items():
        update.set(name, value)
    return update


def export_slot(contractor_id: str, realm_id: str) -> ExportSlot:
    return ExportSlot(get_settings().mappings_table, contractor_id, realm_id)
