"""A batch of the payment queue's events (functions/payment_completed): what its payments share.

Each contractor's connection is read once for the batch (connection/store.py's `batch`). A
payment's settle also claims the batch's next payment of the same connection (core/carry.py),
when that one pays another invoice which the batch's read-ahead (one request,
core/read_ahead.py) found exported and without it (ledger/entries.py's `carriable`):
a batch of 10 payments makes one claim instead of ten, and one read more. Each event is then
handled on its own, as it would be without the batch.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from qbo_sync.connection import services
from qbo_sync.core import carry, read_ahead
from qbo_sync.core.dynamo import read_ahead_items
from qbo_sync.core.settings import get_settings
from qbo_sync.events.payments import PaymentCompleted
from qbo_sync.ledger.entries import payment_ledger
from qbo_sync.ledger.keys import ledger_key
from qbo_sync.payments.recorder import payment_slot

logger = Logger(child=True)

Planned = tuple[carry.Slot, PaymentCompleted]


@contextmanager
def payment_batch(bodies: list[str]) -> Iterator[None]:
    """`bodies`: the batch's SQS message bodies (EventBridge events, invalid ones included:
    their records refuse them)."""
    with read_ahead.scope():
        after: dict[carry.Slot, carry.Slot] = {}
        messages: dict[carry.Slot, PaymentCompleted] = {}
        try:
            after, messages = _carries(_payments(bodies))
        except Exception as error:  # an optimisation: each payment still claims on its own
            logger.warning(
                "The batch's read-ahead failed; each payment claims on its own", error=str(error)
            )
        with carry.scope(after, messages):
            try:
                yield
            finally:
                _release_unused()


def _payments(bodies: list[str]) -> list[Planned | None]:
    """Each event's payment and slot when it is a payment of a usable connection, else None.
    A batch with a refund or a payout in it plans nothing: those write payments' ledgers too."""
    detail_type = get_settings().payment_event_detail_type
    planned: list[Planned | None] = []
    for body in bodies:
        try:
            event = json.loads(body)
            if event.get("detail-type") != detail_type:
                return []
            payment = PaymentCompleted.model_validate(event.get("detail"))
        except (ValueError, AttributeError, ValidationError):  # its record refuses it
            planned.append(None)
            continue
        connection = services.connections().usable_in_batch(payment.contractor_id)
        planned.append(None if connection is None else (payment_slot(connection, payment), payment))
    return planned


def _carries(
    planned: list[Planned | None],
) -> tuple[dict[carry.Slot, carry.Slot], dict[carry.Slot, PaymentCompleted]]:
    """Each payment's slot -> the slot of the batch's next payment of the same connection, when
    both pay invoices no other payment of the batch pays and the read-ahead (one request, for
    those next payments only) holds the next one's ledger as carriable; and the next payments'
    events, which their carried claims write. What runs between a pair (other connections'
    payments, and this connection's payments of other invoices) writes other invoices' items
    only; the carried claim's condition catches any other writer."""
    invoices = Counter(slot[:3] for slot, _ in filter(None, planned))
    unique = [(slot, payment) for slot, payment in filter(None, planned) if invoices[slot[:3]] == 1]
    last: dict[carry.Slot, carry.Slot] = {}  # connection (contractor, realm) -> its last slot
    pairs: list[tuple[carry.Slot, Planned]] = []
    for slot, payment in unique:
        if slot[:2] in last:
            pairs.append((last[slot[:2]], (slot, payment)))
        last[slot[:2]] = slot
    if not pairs:
        return {}, {}
    keys = [ledger_key(*following[0][:3]) for _, following in pairs]
    read_ahead_items(get_settings().mappings_table, keys)
    after: dict[carry.Slot, carry.Slot] = {}
    messages: dict[carry.Slot, PaymentCompleted] = {}
    for slot, (next_slot, payment) in pairs:
        ledger = payment_ledger(payment.contractor_id, next_slot[1])
        if ledger.carriable(payment.invoice_id, payment.payment_id) is not None:
            after[slot], messages[next_slot] = next_slot, payment
    return after, messages


def _release_unused() -> None:
    for (contractor, realm, invoice_id, payment_id), attempt in carry.unused().items():
        try:
            payment_ledger(contractor, realm).release_carried(invoice_id, payment_id, attempt)
        except Exception as error:  # its next delivery looks in QuickBooks first: still once
            logger.warning("A carried claim was not released", error=str(error))
