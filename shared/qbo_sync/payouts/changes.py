"""What one write changed on a payout item, read from the item before and after it (the
table's stream images): the facts the outbox turns into events (docs/interface.md §12).

A payout's status changes only when an attempt ends (records.py), so a claim, a lease or a
redelivery that ends as it began changes nothing here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from qbo_sync.core.reasons import Reason
from qbo_sync.core.statuses import PayoutStatus
from qbo_sync.payouts.records import PayoutRecord, is_payout_sk

CENT = Decimal("0.01")


class PayoutDeposited(NamedTuple):
    contractor_id: str
    payout_id: str
    qbo_deposit_id: str
    amount: str  # the bank transfer, to the cent


class PayoutWaiting(NamedTuple):
    contractor_id: str
    payout_id: str
    reason: Reason


PayoutChange = PayoutDeposited | PayoutWaiting


def payout_changes(old: dict[str, Any], new: dict[str, Any]) -> list[PayoutChange]:
    """`old`, `new`: the item's images, deserialised (empty when absent)."""
    if not new or not is_payout_sk(str(new.get("sk", ""))):
        return []
    before, after = PayoutRecord(old), PayoutRecord(new)
    if after.status == PayoutStatus.DEPOSITED and before.status != PayoutStatus.DEPOSITED:
        amount = str(Decimal(str(new["amount"])).quantize(CENT))
        return [
            PayoutDeposited(_pk(new), str(new["payout_id"]), str(new["qbo_deposit_id"]), amount)
        ]
    waiting_now = before.status != PayoutStatus.WAITING or before.reason_code != after.reason_code
    if after.status == PayoutStatus.WAITING and waiting_now:
        reason: Reason = dict(new["payout_reason"])
        return [PayoutWaiting(_pk(new), str(new["payout_id"]), reason)]
    return []


def _pk(values: dict[str, Any]) -> str:
    return str(values["pk"])
