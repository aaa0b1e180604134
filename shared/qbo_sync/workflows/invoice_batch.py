"""A batch of the invoice queues' messages (functions/invoice_sent): what its messages share.

Each contractor's connection is read once for the batch (connection/store.py's `batch`), and the
items every export of the batch will read are read ahead in one request (core/read_ahead.py):
a batch of 10 invoices makes one BatchGetItem instead of ten. Each message is then handled on
its own, as it would be without the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from qbo_sync.connection import services
from qbo_sync.core import read_ahead
from qbo_sync.core.dynamo import Key, read_ahead_items
from qbo_sync.core.settings import get_settings
from qbo_sync.events import InvoiceSent, parse_invoice_message
from qbo_sync.invoices.exporter import InvoiceExporter

logger = Logger(child=True)


@contextmanager
def invoice_batch(bodies: list[str]) -> Iterator[None]:
    """`bodies`: the batch's message bodies, as SQS delivered them (invalid ones included: their
    records refuse them)."""
    with services.connections().batch(), read_ahead.scope():
        try:
            _read_ahead(bodies)
        except Exception as error:  # an optimisation: each message still reads what it needs
            logger.warning(
                "The batch's read-ahead failed; each message reads its own", error=str(error)
            )
        yield


def _read_ahead(bodies: list[str]) -> None:
    keys: list[Key] = []
    for body in bodies:
        try:
            message = parse_invoice_message(body)
        except ValidationError:
            continue
        if not isinstance(message, InvoiceSent):
            continue  # a void reads its invoice's slot itself; a history's close reads nothing
        connection = services.connections().get_in_batch(message.contractor_id)
        if connection is not None and connection.usable:
            keys += InvoiceExporter(connection).read_keys(message)
    if keys:
        read_ahead_items(get_settings().mappings_table, keys)
