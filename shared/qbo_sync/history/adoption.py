"""Adoption (docs/interface.md §15): an invoice the contractor keyed into QuickBooks by hand,
with the platform invoice's number, customer and total, is recorded as exported to it; nothing
is created or changed. The same number otherwise is `invoice_number_taken`, nothing written.

The one rule, for both ways a hand-keyed invoice is met: a history invoice's number among the
company's invoices read when the request was handled (numbers.py, no read here), and a live
export whose create QuickBooks refused as a duplicate number (invoices/invoice_write.py)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from qbo_sync.history.store import history_store

if TYPE_CHECKING:
    from qbo_sync.connection.store import Connection
    from qbo_sync.core.dynamo import Key
    from qbo_sync.events.invoices import InvoiceSent


class HandKeyed(NamedTuple):
    qbo_invoice_id: str
    customer_id: str
    customer_name: str
    total: Decimal
    sync_token: str = "0"
    currency_ref: str = ""

    @classmethod
    def of_kept(cls, row: dict[str, Any]) -> HandKeyed:
        """From a row numbers.py kept with the request."""
        return cls(
            str(row["qbo_invoice_id"]),
            str(row["customer_id"]),
            str(row.get("customer_name", "")),
            Decimal(str(row["total"])),
            str(row.get("sync_token", "0")),
            str(row.get("currency_ref", "")),
        )

    @classmethod
    def of_qbo(cls, row: dict[str, Any]) -> HandKeyed:
        customer = row.get("CustomerRef") or {}
        return cls(
            str(row["Id"]),
            str(customer.get("value", "")),
            str(customer.get("name", "")),
            Decimal(str(row.get("TotalAmt", "0"))),
            str(row.get("SyncToken", "0")),
            str((row.get("CurrencyRef") or {}).get("value", "")),
        )

    def entity(self) -> dict[str, Any]:
        """As QuickBooks' answer to a create would show it: what the export records."""
        entity: dict[str, Any] = {
            "Id": self.qbo_invoice_id,
            "SyncToken": self.sync_token,
            "TotalAmt": str(self.total),
            "CustomerRef": {"value": self.customer_id, "name": self.customer_name},
        }
        if self.currency_ref:
            entity["CurrencyRef"] = {"value": self.currency_ref}
        return entity


def adoptable(
    candidates: Iterable[HandKeyed], customer_ids: set[str], name: str, total: Decimal
) -> HandKeyed | None:
    """The hand-keyed invoice to adopt: the client's customer (by id, or by display name when
    the client has none yet) and the same total."""
    for found in candidates:
        same_customer = found.customer_id in customer_ids or (
            bool(name) and found.customer_name == name
        )
        if same_customer and found.total == total:
            return found
    return None


def hand_keyed_keys(connection: Connection, message: InvoiceSent) -> list[Key]:
    """The key of the invoice's number among the request's hand-keyed ones (history only):
    read in the export's one BatchGetItem."""
    if message.history is None:
        return []
    store = history_store(connection.contractor_id, connection.realm_id)
    return [store.number_key(message.history.request_id, message.invoice.number)]


def hand_keyed_rows(
    connection: Connection, message: InvoiceSent, found: dict[str, dict[str, Any]]
) -> list[HandKeyed]:
    """The company's hand-keyed invoices with the history invoice's number ([]: none, or a
    live invoice)."""
    if message.history is None:
        return []
    store = history_store(connection.contractor_id, connection.realm_id)
    item = found.get(store.number_sk(message.history.request_id, message.invoice.number))
    return [HandKeyed.of_kept(row) for row in (item or {}).get("invoices", [])]
