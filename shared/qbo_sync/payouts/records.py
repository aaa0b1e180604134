"""The payout item: what is known about one platform payout and its QBO Deposit.

pk = contractor id, sk = "<realm>#payout#<payout id>". Attributes: payout_id, detail (the
payout-paid detail as JSON text, for a retry or a resumption), amount, arrival_date,
payout_status (absent until an attempt ends: waiting, deposited, failed), payout_reason,
qbo_deposit_id; while an attempt holds it, `attempt` and `lease_until` (removed when it ends,
so an item that still has them was left by an attempt that died: maybe in QBO).
`maybe_in_qbo` marks an attempt that ended without knowing whether QBO created the deposit;
`retry` the contractor's latest retry (its own requestids); `attempts` the temporary failures
counted. Sparse index keys: payouts_pk, payouts_status_pk, payouts_sk.

The status changes only when an attempt ends, so an item's old and new images say what changed:
the Deposited and Waiting events are derived from that transition (changes.py, for the outbox).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import Update, from_item, key
from qbo_sync.core.reasons import Reason
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import PayoutStatus

if TYPE_CHECKING:  # the pydantic models are not loaded on the settings page's routes
    from qbo_sync.events.payouts import PayoutPaid

PAYOUT_MARK = "#payout#"


def is_payout_sk(sk: str) -> bool:
    return PAYOUT_MARK in sk


class PayoutRecord(NamedTuple):
    values: dict[str, Any]

    @property
    def status(self) -> PayoutStatus | None:
        value = self.values.get("payout_status")
        return PayoutStatus(value) if value else None

    @property
    def reason_code(self) -> str | None:
        reason = self.values.get("payout_reason")
        return str(reason["code"]) if isinstance(reason, dict) else None

    @property
    def held(self) -> bool:
        """An attempt holds it, or held it and died."""
        return "lease_until" in self.values

    @property
    def maybe_in_qbo(self) -> bool:
        return self.held or bool(self.values.get("maybe_in_qbo"))

    @property
    def attempts(self) -> int:
        return int(self.values.get("attempts", 0))

    @property
    def detail(self) -> dict[str, Any]:
        return dict(json.loads(str(self.values["detail"])))

    @property
    def retry(self) -> str | None:
        value = self.values.get("retry")
        return str(value) if value else None


class Claim(NamedTuple):
    claimed: bool
    previous: PayoutRecord  # the item before the claim (empty: first seen)


class PayoutRecords:
    def __init__(self, table: str, contractor_id: str, realm_id: str) -> None:
        self._table, self._contractor, self._realm = table, contractor_id, realm_id

    def claim(self, payout: PayoutPaid, attempt: str, now: float, lease_until: int) -> Claim:
        """Starts an attempt, unless the payout is deposited or another attempt holds it."""
        update = Update()
        update.set("payout_id", payout.payout_id)
        update.set("detail", payout.model_dump_json())
        update.set("amount", payout.amount)
        update.set("arrival_date", payout.arrival_date.isoformat())
        update.set("payouts_pk", self._contractor)
        update.set("payouts_sk", f"{payout.arrival_date.isoformat()}#{payout.payout_id}")
        update.set("attempt", attempt)
        update.set("lease_until", lease_until)
        update.set("updated_at", iso_now(), keep_if_present=True)
        condition = (
            f"(attribute_not_exists(payout_status) OR payout_status <> {update.value('deposited')})"
            f" AND (attribute_not_exists(lease_until) OR lease_until < {update.value(int(now))})"
        )
        dynamodb = aws.dynamodb()
        try:
            response = dynamodb.update_item(
                **update.request(self._table, self._key(payout.payout_id), condition),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException as error:
            old: Any = error.response.get("Item", {})
            return Claim(False, PayoutRecord(from_item(dict(old))))
        return Claim(True, PayoutRecord(from_item(dict(response.get("Attributes", {})))))

    def finish(
        self,
        payout_id: str,
        attempt: str,
        status: PayoutStatus,
        *,
        reason: Reason | None = None,
        qbo_deposit_id: str | None = None,
        maybe_in_qbo: bool = False,
        attempts: int | None = None,
    ) -> PayoutRecord | None:
        """Ends an attempt with its outcome; the item as it was before (None: this attempt had
        lost its hold, to one that finds the same deposit)."""
        update = Update()
        update.set("payout_status", status)
        update.set("payouts_status_pk", f"{self._contractor}#{status}")
        update.set("updated_at", iso_now())
        for attribute, value in (
            ("payout_reason", reason),
            ("qbo_deposit_id", qbo_deposit_id),
            ("maybe_in_qbo", maybe_in_qbo or None),
            ("attempts", attempts),
        ):
            if value is None:
                update.remove(attribute)
            else:
                update.set(attribute, value)
        update.remove("attempt")
        update.remove("lease_until")
        condition = f"attempt = {update.value(attempt)}"
        dynamodb = aws.dynamodb()
        try:
            response = dynamodb.update_item(
                **update.request(self._table, self._key(payout_id), condition),
                ReturnValues="ALL_OLD",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return None
        return PayoutRecord(from_item(dict(response.get("Attributes", {}))))

    def get(self, payout_id: str) -> PayoutRecord | None:
        response = aws.dynamodb().get_item(
            TableName=self._table, Key=self._key(payout_id), ConsistentRead=True
        )
        item = response.get("Item")
        return PayoutRecord(from_item(dict(item))) if item else None

    def mark_retry(self, payout_id: str, retry: str) -> None:
        """The contractor's retry: new requestids (QBO would replay a refusal), fresh attempts."""
        update = Update()
        update.set("retry", retry)
        update.remove("attempts")
        aws.dynamodb().update_item(**update.request(self._table, self._key(payout_id)))

    def _key(self, payout_id: str) -> dict[str, Any]:
        return key(self._contractor, f"{self._realm}{PAYOUT_MARK}{payout_id}")


def payout_records(contractor_id: str, realm_id: str) -> PayoutRecords:
    return PayoutRecords(get_settings().mappings_table, contractor_id, realm_id)
