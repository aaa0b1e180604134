"""PaymentLedger: per invoice, what is known about its payments and their QBO counterparts.

One item per platform invoice in the mapping table (pk = contractor id,
sk = "<realm>#payments#<invoice id>"), so that one conditional write claims a payment and returns
everything the payment needs: the QBO invoice and customer, what the invoice is owed, what has been
applied to it so far, and the state of this payment's earlier attempts.

Attributes: invoice_id, qbo_invoice_id, qbo_customer_id, due (what the client owes on the invoice,
when known), applied (the sum of the Payment lines recorded against it), parked (a string set of
the payment ids waiting for the invoice or a reconnect), and one map per payment,
"payment:<payment id>" = {status, amount, detail, attempt, lease_until, qbo_payment_id, applied,
maybe_in_qbo, reason, updated_at, invoice_paid}; refunds add theirs (refunds.py) and
refunded_payments (a string set of the payments a refund ever named: keys.py's REFUNDED).

In a batch, a payment's claim may be made by the settle of the payment before it
(`carriable`, `carry_item`, `release_carried`; docs/exactly-once.md).

The same item carries the invoice's export record (records.py), so that the list the settings
page shows reads one item per invoice, payments included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from qbo_sync.core import aws, read_ahead
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import Update, cancelled_items, from_item, query_items, to_item
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ClaimOutcome, EntryStatus, ExportStatus, RefundStatus
from qbo_sync.ledger.keys import ENTRY_PREFIX, REFUNDED, ledger_key, ledger_sk
from qbo_sync.ledger.records import ExportRecord, RecordState, export_records, history_full
from qbo_sync.ledger.refunds import refunds_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PARKED, RECORDING, RECORDED, FAILED = (
    EntryStatus.PARKED,
    EntryStatus.RECORDING,
    EntryStatus.RECORDED,
    EntryStatus.FAILED,
)
_ENTRY = ENTRY_PREFIX

# An attempt may start when nobody holds the payment, or its last holder's lease has run out.
_CLAIMABLE = (
    "attribute_not_exists(#p) OR #p.#st IN (:parked, :failed) "
    "OR (#p.#st = :recording AND #p.lease_until < :now)"
)


class PaymentEntry(NamedTuple):
    payment_id: str
    status: EntryStatus
    amount: Decimal
    detail: dict[str, Any]
    qbo_payment_id: str | None = None
    applied: Decimal | None = None
    lease_until: int = 0
    maybe_in_qbo: bool = False
    reason: dict[str, str] | None = None
    updated_at: str | None = None
    attempts: int = 0  # temporary failures counted so far (core/delivery.py's window)
    # QBO's own answer, kept on a recorded payment only when the ledger did not know what the
    # invoice is owed (changes.py otherwise reads it from the item: applied >= due).
    invoice_paid: bool | None = None
    paid_at: str | None = None  # the platform's, as the payment event said
    # Not recorded in full: the invoice was adopted and paid, in part or whole, by hand
    # (payments/by_hand.py); payouts and refunds naming it fail with payment_recorded_by_hand.
    by_hand: bool = False

    def waiting(self, now: float) -> bool:
        """Parked, or left mid-way by an attempt that died."""
        return self.status == PARKED or (self.status == RECORDING and self.lease_until < now)


class Ledger(NamedTuple):
    invoice_id: str
    qbo_invoice_id: str | None = None
    qbo_customer_id: str | None = None
    due: Decimal | None = None
    applied: Decimal = Decimal("0")
    parked: frozenset[str] = frozenset()
    entries: Mapping[str, PaymentEntry] = MappingProxyType({})  # read-only: one shared default
    retry: str | None = None  # the contractor's latest retry of the invoice (records.py)
    voided: bool = False  # voided on the platform: its payments are the customer's credit
    # The payments whose refunds wait for them to be recorded (refunds.py).
    waiting_refunds: frozenset[str] = frozenset()
    # The invoice's CurrencyRef as exported ("": none); None when exported before it was kept.
    currency_ref: str | None = None
    adopted: bool = False  # exported by adopting a hand-keyed invoice (docs/interface.md §15)

    def waiting(self, now: float) -> list[PaymentEntry]:
        """The payments that wait for the invoice (see PaymentEntry.waiting)."""
        return [entry for entry in self.entries.values() if entry.waiting(now)]

    @property
    def open_balance(self) -> Decimal | None:
        return None if self.due is None else max(self.due - self.applied, Decimal("0"))


class Claim(NamedTuple):
    outcome: ClaimOutcome
    ledger: Ledger
    previous: PaymentEntry | None  # this payment's entry before the claim


class SideItemRefused(Exception):
    """The transaction of the ledger's entry and its side records (`recorded`'s `with_items`)
    was cancelled for another reason than the entry's own condition (a side record's condition,
    or a conflict with another write): nothing was written; the entry alone may be. `refused`:
    the positions in `with_items` whose condition did not hold (none for a conflict)."""

    def __init__(self, payment_id: str, refused: frozenset[int] = frozenset()) -> None:
        super().__init__(payment_id)
        self.refused = refused


# What a payment's claim answers that its plan and its settle read (payments/recorder.py), as
# attributes of its invoice's ledger item: a carried claim holds only while each is as read.
CARRIED_READS = (
    "qbo_invoice_id",
    "qbo_customer_id",
    "due",
    "applied",
    "export_status",
    "export_retry",
    "currency_ref",
    "adopted",
)


class PaymentLedger:
    def __init__(self, table: str, contractor_id: str, realm_id: str) -> None:
        self._table = table
        self._pk = contractor_id
        self._realm = realm_id

    def claim(self, invoice_id: str, payment_id: str, entry: dict[str, Any], now: float) -> Claim:
        """Starts an attempt (entry has status RECORDING, its attempt id and lease)."""
        dynamodb = aws.dynamodb()
        try:
            response = self._update(
                invoice_id,
                payment_id,
                "SET #p = :entry, invoice_id = :invoice, updated_at = :at",
                condition=_CLAIMABLE,
                values={":entry": entry, ":invoice": invoice_id, **_claimable_values(now)},
                names={"#st": "status"},
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException as error:
            ledger = _ledger(invoice_id, error.response.get("Item", {}))  # type: ignore[arg-type]
            previous = ledger.entries.get(payment_id)
            done = previous is not None and previous.status == RECORDED
            return Claim(ClaimOutcome.RECORDED if done else ClaimOutcome.BUSY, ledger, previous)
        ledger = _ledger(invoice_id, response.get("Attributes", {}))
        return Claim(ClaimOutcome.CLAIMED, ledger, ledger.entries.get(payment_id))

    def park(
        self,
        invoice_id: str,
        payment_id: str,
        entry: dict[str, Any],
        *,
        attempt: str | None,
        now: float,
    ) -> bool:
        """Parks the payment: by the holder of `attempt`, or by anyone when it is claimable.

        False when that did not hold (another attempt holds or recorded it)."""
        condition, values = (
            ("#p.attempt = :attempt", {":attempt": attempt})
            if attempt
            else (_CLAIMABLE, _claimable_values(now))
        )
        dynamodb = aws.dynamodb()
        try:
            self._update(
                invoice_id,
                payment_id,
                "SET #p = :entry, invoice_id = :invoice, updated_at = :at ADD parked :ids",
                condition=condition,
                values={":entry": entry, ":invoice": invoice_id, ":ids": {payment_id}, **values},
                names={"#st": "status"} if not attempt else {},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(
        self, invoice_id: str, payment_id: str, entry: dict[str, Any], attempt: str
    ) -> bool:
        """Ends an attempt that did not record the payment (entry: PARKED or FAILED)."""
        dynamodb = aws.dynamodb()
        try:
            self._update(
                invoice_id,
                payment_id,
                "SET #p = :entry, updated_at = :at",
                condition="#p.attempt = :attempt",
                values={":entry": entry, ":attempt": attempt},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def recorded(
        self,
        invoice_id: str,
        payment_id: str,
        entry: dict[str, Any],
        *,
        attempt: str,
        qbo_invoice_id: str,
        qbo_customer_id: str,
        due: Decimal | None,
        unpark: bool,
        adopts: str | None = None,
        with_items: Sequence[TransactWriteItemTypeDef] = (),
    ) -> Decimal | bool | None:
        """Writes down a recorded payment; returns what is now applied to the invoice, or None
        if this attempt had lost the payment to another (whose result is the same QBO Payment).
        `with_items`: records written in the same transaction (one request for both), which
        answers no values, so True instead of the total; SideItemRefused when it was cancelled
        for another reason than this entry's condition."""
        update = (
            "SET #p = :entry, updated_at = :at, "
            "qbo_invoice_id = if_not_exists(qbo_invoice_id, :qbo_invoice), "
            "qbo_customer_id = if_not_exists(qbo_customer_id, :qbo_customer)"
        )
        values: dict[str, Any] = {
            ":entry": entry,
            ":attempt": attempt,
            ":qbo_invoice": qbo_invoice_id,
            ":qbo_customer": qbo_customer_id,
            ":applied": entry["applied"],
        }
        if due is not None:
            update += ", due = :due"
            values[":due"] = due
        update += " ADD applied :applied"
        condition = "#p.attempt = :attempt"
        if adopts is not None:
            # A hand-keyed QBO Payment is adopted by one platform payment only (§15): the
            # claim and the entry are one write.
            update += ", adopted_payments :adopts"
            condition += " AND NOT contains(adopted_payments, :adopted)"
            values[":adopts"], values[":adopted"] = {adopts}, adopts
        if unpark:
            update += " DELETE parked :ids"
            values[":ids"] = {payment_id}
        dynamodb = aws.dynamodb()
        request = self._request(invoice_id, payment_id, update, condition=condition, values=values)
        if with_items:
            try:
                dynamodb.transact_write_items(TransactItems=[{"Update": request}, *with_items])  # type: ignore[typeddict-item]
            except dynamodb.exceptions.TransactionCanceledException as error:
                refused = cancelled_items(error)
                if 0 in refused:
                    return None
                # A side item's condition, or a conflict with another write: nothing was
                # written, and the entry alone is what the flow needed anyway.
                side = frozenset(position - 1 for position in refused)
                raise SideItemRefused(payment_id, side) from None
            return True
        try:
            response = dynamodb.update_item(**request, ReturnValues="UPDATED_NEW")
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return None
        return Decimal(from_item(dict(response["Attributes"]))["applied"])

    def carriable(self, invoice_id: str, payment_id: str) -> dict[str, Any] | None:
        """The invoice's ledger item as the batch's read-ahead holds it, when another payment's
        settle may claim this payment on it (`carry_item`): the invoice exported (neither
        adopted nor voided, what it is owed known), the payment never seen on it and no refund
        naming it; else None."""
        found, _ = read_ahead.served(self._table, [self._key(invoice_id)])
        item = found.get(ledger_sk(self._realm, invoice_id))
        if item is None or _ENTRY + payment_id in item:
            return None
        exported = bool(item.get("qbo_invoice_id")) and all(
            item.get(name) is not None for name in ("qbo_customer_id", "due")
        )
        plain = not item.get("adopted") and item.get("export_status") != ExportStatus.VOIDED
        refunds = payment_id in item.get(REFUNDED, ()) or any(
            refund.payment_id == payment_id for refund in refunds_of(item).values()
        )
        return item if exported and plain and not refunds else None

    def carry_item(
        self, invoice_id: str, payment_id: str, entry: dict[str, Any], seen: dict[str, Any]
    ) -> TransactWriteItemTypeDef:
        """The claim of a payment (`entry`: RECORDING, its attempt and lease), as an item of
        another payment's settle (core/carry.py). It holds only while the payment's entry does
        not exist, no refund names it, and what its plan reads of the ledger (CARRIED_READS) is
        as `seen` (`carriable`'s item): so it answers what `claim` would have, `seen`."""
        conditions = ["attribute_not_exists(#p)", f"NOT contains({REFUNDED}, :payment)"]
        names: dict[str, str] = {}
        values: dict[str, Any] = {":entry": entry, ":invoice": invoice_id, ":payment": payment_id}
        for n, attribute in enumerate(CARRIED_READS):
            names[f"#c{n}"] = attribute
            if seen.get(attribute) is None:
                conditions.append(f"attribute_not_exists(#c{n})")
            else:
                conditions.append(f"#c{n} = :c{n}")
                values[f":c{n}"] = seen[attribute]
        update = "SET #p = :entry, invoice_id = :invoice, updated_at = :at"
        request = self._request(
            invoice_id, payment_id, update, " AND ".join(conditions), values, names
        )
        return {"Update": request}  # type: ignore[typeddict-item]

    def release_carried(self, invoice_id: str, payment_id: str, attempt: str) -> None:
        """Ends a carried claim no message took: the payment's entry is gone again, not an
        attempt that died (which would cost its next delivery a lookup in QuickBooks)."""
        dynamodb = aws.dynamodb()
        # Refused: another attempt took the payment over, and it is that attempt's.
        with suppress(dynamodb.exceptions.ConditionalCheckFailedException):
            self._update(
                invoice_id,
                payment_id,
                "SET updated_at = :at REMOVE #p",
                condition="#p.attempt = :attempt",
                values={":attempt": attempt},
            )

    def attach_invoice(
        self,
        invoice_id: str,
        qbo_invoice_id: str,
        qbo_customer_id: str,
        due: Decimal | None,
        export: ExportRecord | None = None,
    ) -> tuple[Ledger, RecordState]:
        """After an export: the invoice's QBO ids, what it is owed (None: unknown, because the
        invoice may have changed) and, in the same write, its export record. Returns the ledger
        and the export record as it was before."""
        update = Update()
        if export is not None:
            export.add_to(update)
        update.set("invoice_id", invoice_id)
        update.set("qbo_invoice_id", qbo_invoice_id)
        update.set("qbo_customer_id", qbo_customer_id)
        update.set("updated_at", iso_now())
        if due is None:
            update.remove("due")
        else:
            update.set("due", due)
        # ALL_OLD: the old record tells whether this export changed it; the ledger after the
        # write is the old one with what was just set.
        response = aws.dynamodb().update_item(
            **update.request(self._table, self._key(invoice_id)), ReturnValues="ALL_OLD"
        )
        old = dict(response.get("Attributes", {}))
        if export is not None and export.history is not None and history_full(from_item(old)):
            export_records(self._pk).trim_history(self._realm, invoice_id)
        ledger = _ledger(invoice_id, old)._replace(
            qbo_invoice_id=qbo_invoice_id,
            qbo_customer_id=qbo_customer_id,
            due=due,
        )
        return ledger, RecordState.of_item(from_item(old) if old else {})

    def invoices_waiting_for_reconnect(self) -> list[str]:
        """The invoices with parked payments or refunds that wait for a reconnect. Reads every
        ledger of the company: only a reconnect needs it."""
        items = query_items(
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "FilterExpression": "attribute_exists(parked) OR attribute_exists(parked_refunds)",
                "ProjectionExpression": "invoice_id",
                "ExpressionAttributeValues": _values(
                    {":pk": self._pk, ":prefix": ledger_sk(self._realm)}
                ),
                "ConsistentRead": True,
            }
        )
        return [str(item["invoice_id"]) for item in items]

    def _key(self, invoice_id: str) -> dict[str, Any]:
        return ledger_key(self._pk, self._realm, invoice_id)

    def _update(
        self,
        invoice_id: str,
        payment_id: str,
        update: str,
        *,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        request = self._request(invoice_id, payment_id, update, condition, values, names)
        response: dict[str, Any] = aws.dynamodb().update_item(**request, **extra)  # type: ignore[assignment]
        return response

    def _request(
        self,
        invoice_id: str,
        payment_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """An UpdateItem of the payment's entry (`#p`), as update_item or a transaction takes it."""
        return {
            "TableName": self._table,
            "Key": self._key(invoice_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#p": _ENTRY + payment_id, **(names or {})},
            "ExpressionAttributeValues": _values({":at": iso_now(), **values}),
        }


def payment_ledger(contractor_id: str, realm_id: str) -> PaymentLedger:
    return PaymentLedger(get_settings().mappings_table, contractor_id, realm_id)


def _claimable_values(now: float) -> dict[str, Any]:
    return {":parked": PARKED, ":failed": FAILED, ":recording": RECORDING, ":now": int(now)}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    return to_item({key: value for key, value in values.items() if value is not None})


def entries_of(values: dict[str, Any]) -> dict[str, PaymentEntry]:
    """The payment entries of a ledger item (its attributes, deserialised)."""
    return {
        name[len(_ENTRY) :]: _entry(name[len(_ENTRY) :], value)
        for name, value in values.items()
        if name.startswith(_ENTRY)
    }


def _ledger(invoice_id: str, item: dict[str, Any]) -> Ledger:
    return ledger_of(invoice_id, from_item(item) if item else {})


def ledger_of(invoice_id: str, values: dict[str, Any]) -> Ledger:
    """The ledger of an item's attributes, deserialised."""
    entries = entries_of(values)
    due = values.get("due")
    return Ledger(
        invoice_id=invoice_id,
        qbo_invoice_id=values.get("qbo_invoice_id"),
        qbo_customer_id=values.get("qbo_customer_id"),
        due=Decimal(due) if due is not None else None,
        applied=Decimal(values.get("applied", 0)),
        parked=frozenset(values.get("parked", ())),
        entries=entries,
        retry=values.get("export_retry"),
        currency_ref=values.get("currency_ref"),
        voided=values.get("export_status") == ExportStatus.VOIDED,
        adopted=bool(values.get("adopted")),
        waiting_refunds=frozenset(
            refund.payment_id
            for refund in refunds_of(values).values()
            if refund.status == RefundStatus.WAITING
        ),
    )


def _entry(payment_id: str, value: dict[str, Any]) -> PaymentEntry:
    applied = value.get("applied")
    return PaymentEntry(
        payment_id=payment_id,
        status=EntryStatus(value["status"]),
        amount=Decimal(value["amount"]),
        detail=dict(value.get("detail", {})),
        qbo_payment_id=value.get("qbo_payment_id"),
        applied=Decimal(applied) if applied is not None else None,
        lease_until=int(value.get("lease_until", 0)),
        maybe_in_qbo=bool(value.get("maybe_in_qbo", False)),
        reason=value.get("reason"),
        updated_at=value.get("updated_at"),
        attempts=int(value.get("attempts", 0)),
        invoice_paid=value.get("invoice_paid"),
        paid_at=value.get("paid_at") or dict(value.get("detail", {})).get("paid_at"),
        by_hand=bool(value.get("by_hand", False)),
    )
