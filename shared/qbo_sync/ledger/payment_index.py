"""The recorded payments by payment id: what a payout needs to deposit a payment it lists.

A payout names payments by their platform id only, while their entries live in their invoice's
ledger item (entries.py). So each recorded payment also gets one small item (pk = contractor id,
sk = "<realm>#recorded#<payment id>", keys.py): invoice_id, qbo_payment_id, amount, and the
payouts that concern it: `waiting_payouts` (a string set of the payouts waiting for it to be
recorded) and `deposited_by` (the payout whose deposit holds it).

Invariant: a payout that waits for a payment is always resumed. Both sides write this one item
atomically and read it back in the same request: the recorder's write answers the payouts that
wait, a payout's wait answers the payment if it was recorded meanwhile; whichever comes second
sees the other. While no payout waits, the recorder writes the item in one transaction with
the ledger's entry (`remember_item`, conditional on no payout waiting); when one does, that
transaction is refused and the item is written after the entry (`remember`, which reads back
the payouts). The recorder writes the item again when a redelivered payment finds itself
recorded, so a crash between the ledger's write and this one heals on the redelivery.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import BATCH_GET, Key, Update, from_item, to_item
from qbo_sync.core.settings import get_settings
from qbo_sync.ledger.keys import recorded_payment_key, recorded_refund_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

BATCH_WRITE = 25  # DynamoDB's limit per BatchWriteItem


class RecordedPayment(NamedTuple):
    payment_id: str
    invoice_id: str
    qbo_payment_id: str
    amount: Decimal
    deposited_by: str | None = None
    # Not recorded in full in QuickBooks (docs/interface.md §15: the invoice was adopted and
    # paid by hand): a payout naming it fails with payment_recorded_by_hand.
    by_hand: bool = False


class PaymentIndex:
    def __init__(
        self,
        table: str,
        contractor_id: str,
        realm_id: str,
        key_of: Callable[[str, str, str], Key] = recorded_payment_key,
    ) -> None:
        self._table, self._contractor, self._realm = table, contractor_id, realm_id
        self._key_of = key_of

    def remember(
        self,
        payment_id: str,
        invoice_id: str,
        qbo_payment_id: str,
        amount: Decimal,
        by_hand: bool = False,
    ) -> set[str]:
        """Writes down a recorded payment (`qbo_payment_id` "" and `by_hand`: none was recorded,
        QuickBooks has it by hand); returns the payouts that wait for it."""
        update = _remembered(payment_id, invoice_id, qbo_payment_id, amount, by_hand)
        values = self._write(update, payment_id)
        return set(values.get("waiting_payouts", ()))

    def remember_item(
        self,
        payment_id: str,
        invoice_id: str,
        qbo_payment_id: str,
        amount: Decimal,
        by_hand: bool = False,
    ) -> TransactWriteItemTypeDef:
        """`remember`'s write as an item of the recorder's transaction (one request for the
        ledger's entry and this), which answers nothing: so it holds only while no payout waits
        for the payment. When one does, the transaction is refused and the recorder remembers
        the payment alone, reading back the payouts to resume (the invariant above)."""
        update = _remembered(payment_id, invoice_id, qbo_payment_id, amount, by_hand)
        condition = f"attribute_not_exists({update.name('waiting_payouts')})"
        request = update.request(self._table, self._key(payment_id), condition)
        return {"Update": request}  # type: ignore[typeddict-item]

    def wait_for(self, payment_id: str, payout_id: str) -> RecordedPayment | None:
        """Marks `payout_id` as waiting for the payment; the payment if it is recorded after all."""
        update = Update()
        update.set("payment_id", payment_id)
        update.add("waiting_payouts", {payout_id})
        return _recorded(self._write(update, payment_id))

    def found(self, payment_ids: list[str]) -> dict[str, RecordedPayment]:
        """The recorded ones among `payment_ids`: one consistent BatchGetItem per 100."""
        found: dict[str, RecordedPayment] = {}
        for start in range(0, len(payment_ids), BATCH_GET):
            keys = [self._key(p) for p in payment_ids[start : start + BATCH_GET]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = aws.dynamodb().batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    recorded = _recorded(from_item(item))
                    if recorded is not None:
                        found[recorded.payment_id] = recorded
                request = dict(response.get("UnprocessedKeys") or {})
        return found

    def deposited(self, payments: list[RecordedPayment], payout_id: str) -> None:
        """After the payout's deposit: each payment is held by it, and waits for nothing.
        Whole items put 25 a request (the values are the ones just read, and a recorded
        payment's item does not change any more)."""
        items = [
            {
                "PutRequest": {
                    "Item": {
                        **self._key(p.payment_id),
                        **to_item(
                            {
                                "payment_id": p.payment_id,
                                "invoice_id": p.invoice_id,
                                "qbo_payment_id": p.qbo_payment_id,
                                "amount": p.amount,
                                "deposited_by": payout_id,
                                "updated_at": iso_now(),
                            }
                        ),
                    }
                }
            }
            for p in payments
        ]
        for start in range(0, len(items), BATCH_WRITE):
            request: dict[str, Any] = {self._table: items[start : start + BATCH_WRITE]}
            while request:
                response = aws.dynamodb().batch_write_item(RequestItems=request)
                request = dict(response.get("UnprocessedItems") or {})

    def _write(self, update: Update, payment_id: str) -> dict[str, Any]:
        response = aws.dynamodb().update_item(
            **update.request(self._table, self._key(payment_id)), ReturnValues="ALL_NEW"
        )
        return from_item(dict(response.get("Attributes", {})))

    def _key(self, payment_id: str) -> dict[str, Any]:
        return self._key_of(self._contractor, self._realm, payment_id)


def _remembered(
    payment_id: str, invoice_id: str, qbo_payment_id: str, amount: Decimal, by_hand: bool
) -> Update:
    update = Update()
    update.set("payment_id", payment_id)
    update.set("invoice_id", invoice_id)
    update.set("qbo_payment_id", qbo_payment_id)
    update.set("amount", amount)
    if by_hand:
        update.set("by_hand", True)
    update.set("updated_at", iso_now())
    return update


def payment_index(contractor_id: str, realm_id: str) -> PaymentIndex:
    return PaymentIndex(get_settings().mappings_table, contractor_id, realm_id)


def refund_index(contractor_id: str, realm_id: str) -> PaymentIndex:
    """The recorded refunds by refund id (see the module's docstring)."""
    return PaymentIndex(
        get_settings().mappings_table, contractor_id, realm_id, key_of=recorded_refund_key
    )


def _recorded(values: dict[str, Any]) -> RecordedPayment | None:
    by_hand = bool(values.get("by_hand"))
    if not values.get("qbo_payment_id") and not by_hand:
        return None  # only payouts wait for it so far
    return RecordedPayment(
        payment_id=str(values["payment_id"]),
        invoice_id=str(values["invoice_id"]),
        qbo_payment_id=str(values.get("qbo_payment_id") or ""),
        amount=Decimal(values["amount"]),
        deposited_by=values.get("deposited_by"),
        by_hand=by_hand,
    )
