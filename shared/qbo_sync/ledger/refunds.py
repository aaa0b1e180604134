"""RefundLedger: each platform refund's entry on its invoice's ledger item (entries.py's item:
pk = contractor id, sk = "<realm>#payments#<invoice id>"), docs/interface.md §12's `refunds` of a
payment.

One attribute per refund, "refund:<refund id>" = {payment_id, status, amount, detail, attempt,
lease_until, qbo_refund_id, maybe_in_qbo, attempts, reason, updated_at}: beside the payments'
entries rather than inside one, because every payment write replaces its entry whole. One
conditional write claims a refund and answers with the whole item, so the claim alone tells
whether its payment is recorded, what the payment's other refunds add up to, and the customer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import from_item, to_item
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import ClaimOutcome, RefundStatus
from qbo_sync.ledger.keys import REFUND_PREFIX, REFUNDED, ledger_key

WAITING, RECORDING, RECORDED, FAILED = (
    RefundStatus.WAITING,
    RefundStatus.RECORDING,
    RefundStatus.RECORDED,
    RefundStatus.FAILED,
)
# The ledger item's string set of the refunds that wait for a reconnect.
PARKED_REFUNDS = "parked_refunds"
_CLAIMABLE = (
    "attribute_not_exists(#r) OR #r.#st IN (:waiting, :failed) "
    "OR (#r.#st = :recording AND #r.lease_until < :now)"
)


class RefundEntry(NamedTuple):
    refund_id: str
    payment_id: str
    status: RefundStatus
    amount: Decimal
    detail: dict[str, Any]
    qbo_refund_id: str | None = None
    lease_until: int = 0
    maybe_in_qbo: bool = False
    attempts: int = 0
    reason: dict[str, str] | None = None
    updated_at: str | None = None

    def waiting(self, now: float) -> bool:
        """Waiting for its payment, or left mid-way by an attempt that died."""
        return self.status == WAITING or (self.status == RECORDING and self.lease_until < now)

    def holds(self, now: float) -> bool:
        """Counts against its payment: recorded, or being recorded."""
        return self.status == RECORDED or (self.status == RECORDING and self.lease_until >= now)


class RefundClaim(NamedTuple):
    outcome: ClaimOutcome
    item: dict[str, Any]  # the ledger item before the claim, deserialised
    previous: RefundEntry | None


class RefundLedger:
    def __init__(self, table: str, contractor_id: str, realm_id: str) -> None:
        self._table = table
        self._pk = contractor_id
        self._realm = realm_id

    def claim(
        self, invoice_id: str, refund_id: str, entry: dict[str, Any], now: float
    ) -> RefundClaim:
        dynamodb = aws.dynamodb()
        try:
            response = self._update(
                invoice_id,
                refund_id,
                # REFUNDED: a payment's claim carried by another's settle holds only while no
                # refund names the payment (ledger/entries.py's carry_item).
                f"SET #r = :entry, invoice_id = :invoice, updated_at = :at ADD {REFUNDED} :paid",
                condition=_CLAIMABLE,
                values={
                    ":entry": entry,
                    ":paid": {entry["payment_id"]},
                    ":invoice": invoice_id,
                    ":waiting": WAITING,
                    ":failed": FAILED,
                    ":recording": RECORDING,
                    ":now": int(now),
                },
                names={"#st": "status"},
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException as error:
            item = from_item(error.response.get("Item", {}))  # type: ignore[arg-type]
            previous = refunds_of(item).get(refund_id)
            done = previous is not None and previous.status == RECORDED
            return RefundClaim(ClaimOutcome.RECORDED if done else ClaimOutcome.BUSY, item, previous)
        item = from_item(response.get("Attributes", {}))
        return RefundClaim(ClaimOutcome.CLAIMED, item, refunds_of(item).get(refund_id))

    def settle(
        self,
        invoice_id: str,
        refund_id: str,
        entry: dict[str, Any],
        attempt: str,
        *,
        until_reconnect: bool = False,
    ) -> bool:
        """Ends the attempt `attempt` holds: recorded, waiting or failed. False when another
        attempt took the refund over (its lease ran out). `until_reconnect`: it waits for the
        contractor to reconnect, and is listed in `parked_refunds` for the reconnect to find."""
        dynamodb = aws.dynamodb()
        marker = "ADD" if until_reconnect else "DELETE"
        try:
            self._update(
                invoice_id,
                refund_id,
                f"SET #r = :entry, updated_at = :at {marker} {PARKED_REFUNDS} :ids",
                condition="#r.attempt = :attempt",
                values={":entry": entry, ":attempt": attempt, ":ids": {refund_id}},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def wait_again(self, invoice_id: str, refund_ids: list[str]) -> None:
        """The contractor's retry of the invoice: its failed refunds wait again (the export's
        run records them once their payments are recorded), with fresh attempts."""
        for refund_id in refund_ids:
            dynamodb = aws.dynamodb()
            try:
                self._update(
                    invoice_id,
                    refund_id,
                    "SET #r.#st = :waiting, updated_at = :at REMOVE #r.#n",
                    condition="#r.#st = :failed",
                    values={":waiting": WAITING, ":failed": FAILED},
                    names={"#st": "status", "#n": "attempts"},
                )
            except dynamodb.exceptions.ConditionalCheckFailedException:
                continue  # it changed meanwhile (its event came again)

    def read(self, invoice_id: str) -> dict[str, Any]:
        response = aws.dynamodb().get_item(
            TableName=self._table,
            Key=ledger_key(self._pk, self._realm, invoice_id),
            ConsistentRead=True,
        )
        return from_item(response.get("Item", {}))

    def _update(
        self,
        invoice_id: str,
        refund_id: str,
        update: str,
        *,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        response: dict[str, Any] = aws.dynamodb().update_item(  # type: ignore[assignment]
            TableName=self._table,
            Key=ledger_key(self._pk, self._realm, invoice_id),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#r": REFUND_PREFIX + refund_id, **(names or {})},
            ExpressionAttributeValues=to_item({":at": iso_now(), **values}),
            **extra,
        )
        return response

    def refuse(self, invoice_id: str, refund_id: str, entry: dict[str, Any]) -> bool:
        """A refund refused at the edge, shown failed on its payment's ledger item
        (refused.py). Only beside a ledger item that exists, and never over a refund
        recorded or being recorded; False when not written."""
        dynamodb = aws.dynamodb()
        try:
            self._update(
                invoice_id,
                refund_id,
                f"SET #r = :entry, updated_at = :at ADD {REFUNDED} :paid",
                condition="attribute_exists(pk) AND (attribute_not_exists(#r) OR #r.#st = :failed)",
                values={":entry": entry, ":failed": FAILED, ":paid": {entry["payment_id"]}},
                names={"#st": "status"},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True


def refund_ledger(contractor_id: str, realm_id: str) -> RefundLedger:
    return RefundLedger(get_settings().mappings_table, contractor_id, realm_id)


def refunds_of(values: dict[str, Any]) -> dict[str, RefundEntry]:
    """The refund entries of a ledger item (its attributes, deserialised)."""
    return {
        name[len(REFUND_PREFIX) :]: _entry(name[len(REFUND_PREFIX) :], value)
        for name, value in values.items()
        if name.startswith(REFUND_PREFIX)
    }


def _entry(refund_id: str, value: dict[str, Any]) -> RefundEntry:
    return RefundEntry(
        refund_id=refund_id,
        payment_id=str(value["payment_id"]),
        status=RefundStatus(value["status"]),
        amount=Decimal(value["amount"]),
        detail=dict(value.get("detail", {})),
        qbo_refund_id=value.get("qbo_refund_id"),
        lease_until=int(value.get("lease_until", 0)),
        maybe_in_qbo=bool(value.get("maybe_in_qbo", False)),
        attempts=int(value.get("attempts", 0)),
        reason=value.get("reason"),
        updated_at=value.get("updated_at"),
    )
