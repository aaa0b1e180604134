"""A batch of the invoice queues' messages (functions/invoice_sent): what its messages share.

Each contractor's connection is read once for the batch (connection/store.py's `batch`), and the
items every export of the batch will read are read ahead in one request (core/read_ahead.py):
a batch of 10 invoices makes one BatchGetItem instead of ten. An export's settle also claims
the slot of the message right after it when that is a new invoice of the same connection
(core/carry.py): a batch of 10 new invoices makes one claim instead of ten. Each message is
then handled on its own, as it would be without the batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from qbo_sync.connection import services
from qbo_sync.core import carry, read_ahead
from qbo_sync.core.dynamo import Key, read_ahead_items
from qbo_sync.core.settings import get_settings
from qbo_sync.events.invoices import InvoiceSent, parse_invoice_message
from qbo_sync.invoices.exporter import InvoiceExporter
from qbo_sync.ledger.export_slot import export_slot

logger = Logger(child=True)


@contextmanager
def invoice_batch(bodies: list[str]) -> Iterator[None]:
    """`bodies`: the batch's message bodies, as SQS delivered them (invalid ones included: their
    records refuse them)."""
    with services.connections().batch(), read_ahead.scope():
        after: dict[carry.Slot, carry.Slot] = {}
        try:
            after = _carries(_read_ahead(bodies))
        except Exception as error:  # an optimisation: each message still reads what it needs
            logger.warning(
                "The batch's read-ahead failed; each message reads its own", error=str(error)
            )
        with carry.scope(after):
            try:
                yield
            finally:
                _release_unused()


def _read_ahead(bodies: list[str]) -> list[carry.Slot | None]:
    """Reads ahead; answers each message's invoice slot (contractor, realm, invoice id) when it
    is an export of a usable connection, else None."""
    keys: list[Key] = []
    slots: list[carry.Slot | None] = []
    for body in bodies:
        try:
            message = parse_invoice_message(body)
        except ValidationError:
            slots.append(None)
            continue
        # A void reads its invoice's slot itself; a history's close reads nothing. Either is
        # kept (with no realm) only so that an export of the same invoice is not carried.
        invoice = getattr(message, "invoice", None)
        unread = None if invoice is None else (message.contractor_id, "", invoice.id)
        if not isinstance(message, InvoiceSent):
            slots.append(unread)
            continue
        connection = services.connections().usable_in_batch(message.contractor_id)
        if connection is None:
            slots.append(unread)
            continue
        keys += InvoiceExporter(connection).read_keys(message)
        slots.append((message.contractor_id, connection.realm_id, message.invoice.id))
    if keys:
        read_ahead_items(get_settings().mappings_table, keys)
    return slots


def _carries(slots: list[carry.Slot | None]) -> dict[carry.Slot, carry.Slot]:
    """Each export's slot -> the slot of the message right after it, when that message is an
    export of the same connection whose invoice no other message of the batch names and whose
    ledger item the read-ahead found absent (the carried claim holds only then)."""
    named = Counter((slot[0], slot[-1]) for slot in slots if slot)
    after: dict[carry.Slot, carry.Slot] = {}
    for this, following in pairwise(slots):
        if not this or not following or not this[1] or this[:2] != following[:2]:
            continue
        contractor, realm, invoice_id = following
        unique = named[(contractor, invoice_id)] == 1 and named[(contractor, this[-1])] == 1
        if unique and export_slot(contractor, realm).absent_in_read_ahead(invoice_id):
            after[this] = following
    return after


def _release_unused() -> None:
    for (contractor, realm, invoice_id), attempt in carry.unused().items():
        try:
            export_slot(contractor, realm).release_carried(invoice_id, attempt)
        except Exception as error:  # its next export looks in QuickBooks first: still once
            logger.warning("A carried claim was not released", error=str(error))
