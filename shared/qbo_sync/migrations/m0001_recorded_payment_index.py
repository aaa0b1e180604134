"""Migration 1: the recorded-payment index (ledger/payment_index.py) for payments and refunds
recorded before that index existed, and the export list's index keys (ledger/records.py's
`stale_index_keys`) for records stored before the list was scoped to the connected company.

A payout names payments by id and deposits only those the index knows; a payment recorded by
the release before it has its entry on its invoice's ledger item but no index item, so a payout
listing it waited for ever. This reads the ledger items (a Scan, a page at a time: a one-off
on deploy, never on a request path) and writes, for each recorded payment and refund, the
index item its recorder writes today (`PaymentIndex.remember`, which sets the same values
again when the item exists: idempotent). A payout already waiting for one of them is sent to
the queue again, as the recorder does when it records a payment a payout waits for.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.core import aws
from qbo_sync.core.dynamo import Update, from_item, key
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import EntryStatus, RefundStatus
from qbo_sync.ledger.entries import entries_of
from qbo_sync.ledger.keys import LEDGER_MARK, SKIPPED_PREFIX
from qbo_sync.ledger.payment_index import payment_index, refund_index
from qbo_sync.ledger.records import stale_index_keys
from qbo_sync.ledger.refunds import refunds_of

logger = Logger(child=True)

PAGE_SIZE = 200  # items a Scan page reads before the progress is recorded


def run_page(start: dict[str, Any] | None) -> tuple[dict[str, Any] | None, int]:
    request: dict[str, Any] = {
        "TableName": get_settings().mappings_table,
        "Limit": PAGE_SIZE,
        "FilterExpression": "contains(sk, :ledger) OR begins_with(sk, :skipped)",
        "ExpressionAttributeValues": {
            ":ledger": {"S": LEDGER_MARK},
            ":skipped": {"S": SKIPPED_PREFIX},
        },
    }
    if start:
        request["ExclusiveStartKey"] = start
    response = aws.dynamodb().scan(**request)
    written = 0
    waiting: dict[str, set[str]] = defaultdict(set)  # contractor id -> payouts to send again
    for raw in response.get("Items", []):
        values = from_item(raw)
        _reindex(values)
        if str(values["sk"]).startswith(SKIPPED_PREFIX):
            continue
        contractor_id = str(values["pk"])
        realm_id, _, invoice_id = str(values["sk"]).partition(LEDGER_MARK)
        payments = payment_index(contractor_id, realm_id)
        for entry in entries_of(values).values():
            if entry.status == EntryStatus.RECORDED and entry.qbo_payment_id:
                waiting[contractor_id] |= payments.remember(
                    entry.payment_id, invoice_id, entry.qbo_payment_id, entry.amount
                )
                written += 1
        refunds = refund_index(contractor_id, realm_id)
        for refund in refunds_of(values).values():
            if refund.status == RefundStatus.RECORDED and refund.qbo_refund_id:
                waiting[contractor_id] |= refunds.remember(
                    refund.refund_id, invoice_id, refund.qbo_refund_id, refund.amount
                )
                written += 1
    for contractor_id, payout_ids in waiting.items():
        _resume(contractor_id, payout_ids)
    last = response.get("LastEvaluatedKey")
    return (dict(last) if last else None), written


def _reindex(values: dict[str, Any]) -> None:
    """The record's index keys as the list reads them now (the same values twice: idempotent)."""
    stale = stale_index_keys(values)
    if not stale:
        return
    update = Update()
    for name, value in stale.items():
        update.set(name, value)
    aws.dynamodb().update_item(
        **update.request(get_settings().mappings_table, key(values["pk"], values["sk"]))
    )


def _resume(contractor_id: str, payout_ids: set[str]) -> None:
    if not payout_ids:
        return
    connection = services.connections().get(contractor_id)
    if connection is None:
        return  # reconnecting sends every waiting payout again (workflows/payout.py)
    # Imported here, as the recorders do: the payout modules load only when a payout waits.
    from qbo_sync.workflows.payout import resume_payouts

    resume_payouts(connection, payout_ids)
    logger.info("Waiting payouts sent again after the backfill", payouts=len(payout_ids))
