"""MappingStore: which QBO entity stands for which platform thing, per contractor and company.

The mapping table is the record of truth for exactly-once: an invoice is exported when its
mapping exists. Keys: pk = contractor id, sk = "<realm>#<kind>#<platform id>"; kinds here are
`invoice` (the QBO invoice, its customer and item, the revision and SyncToken last written),
`customer` (per platform client; `customer#<client>#<currency>` for its customer in a currency
other than the company's home currency, since a QBO customer's currency cannot change) and
`account#income` (the income account new items use); for construction invoices (§17,
invoices/construction.py) `customer#<client>[#<currency>]#job#<job id>` (the job's
sub-customer), `item#fee` / `item#retainage` and `item#<kind>#account` (the account it was
found or made on).

A client's customer mapping may be the contractor's **link** (docs/interface.md §16): then it
carries `linked`, `linked_qbo_id` (the same id as `qbo_id`), `display_name` and `linked_at`, and a
reverse item "<realm>#customer-link#<QBO customer id>" (client id, the mapping's suffix) written
in the same transaction makes a customer linked to one client at most. Since the export reads the
mapping anyway, a linked client's invoices cost no extra read; an export that found or made a
customer by name while a link was being made never overwrites the link (`_learnt_write`).

An export reads everything it needs in one BatchGetItem (the ledger's own keys ride along, asked
for by the exporter and read back by ledger/) and writes everything it learnt in one write, so a
steady-state invoice costs two requests here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, cast

from qbo_sync.connection.store import Connection

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, UpdateTypeDef
from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import (
    Key,
    batch_get_by_sk,
    cancelled_items,
    from_item,
    query_items,
    to_item,
)
from qbo_sync.core.settings import get_settings

INCOME_ACCOUNT = ("account", "income")
LINK_PREFIX = "customer-link#"


class ExportedInvoice(NamedTuple):
    invoice_id: str
    revision: int
    qbo_invoice_id: str
    qbo_customer_id: str
    sync_token: str
    doc_number: str
    qbo_item_id: str | None = None


class ExportState(NamedTuple):
    """What the mapping table knows before an export: read together, in one request."""

    invoice: ExportedInvoice | None
    customer_id: str | None
    income_account_id: str | None
    # The customer is the contractor's link (docs/interface.md §16), not one found by name.
    customer_linked: bool = False


class CustomerLink(NamedTuple):
    """The contractor's link of a client to a QBO customer (docs/interface.md §16)."""

    client_id: str
    qbo_customer_id: str
    display_name: str
    linked_at: str
    currency: str | None = None  # None: the client's customer in the home currency
    client_name: str = ""  # the platform's name of the client, as its invoices had it

    @property
    def mapping(self) -> str:
        """The suffix of the customer mapping the link is (module docstring)."""
        suffix = f"customer#{self.client_id}"
        return f"{suffix}#{self.currency}" if self.currency else suffix


class CustomerLinked(Exception):
    """Another client of the contractor is linked to that customer."""


class NewerRevisionRecorded(Exception):
    """The mapping already holds a higher revision of the invoice than the one being written."""


class SettleRefused(Exception):
    """An item written with the export (`with_items`) did not meet its condition; `refused`:
    the positions in `with_items` of those that did not."""

    def __init__(self, invoice_id: str, refused: frozenset[int] = frozenset()) -> None:
        super().__init__(invoice_id)
        self.refused = refused


class MappingStore:
    def __init__(self, table: str, contractor_id: str, realm_id: str) -> None:
        self._table = table
        self._pk = contractor_id
        self._realm = realm_id

    def exported_invoice(self, invoice_id: str) -> ExportedInvoice | None:
        return _exported(invoice_id, self._get(f"invoice#{invoice_id}"))

    def export_state(
        self, invoice_id: str, client_id: str, also: list[Key]
    ) -> tuple[ExportState, dict[str, dict[str, Any]]]:
        """The mappings an export needs, and the items of the other keys `also` names, by sort
        key: one BatchGetItem for all."""
        found = batch_get_by_sk(self._table, self.export_keys(invoice_id, client_id) + also)
        prefix = f"{self._realm}#"
        mine = {sk[len(prefix) :]: item for sk, item in found.items() if sk.startswith(prefix)}
        customer = mine.get(f"customer#{client_id}")
        account = mine.get("#".join(INCOME_ACCOUNT))
        state = ExportState(
            invoice=_exported(invoice_id, mine.get(f"invoice#{invoice_id}")),
            customer_id=str(customer["qbo_id"]) if customer else None,
            income_account_id=str(account["qbo_id"]) if account else None,
            customer_linked=bool(customer and customer.get("linked")),
        )
        return state, found

    def export_keys(self, invoice_id: str, client_id: str) -> list[Key]:
        """The mappings `export_state` reads: the invoice's, the client's customer, the
        company's income account."""
        suffixes = (f"invoice#{invoice_id}", f"customer#{client_id}", "#".join(INCOME_ACCOUNT))
        return [self._key(suffix) for suffix in suffixes]

    def key_of(self, suffix: str) -> Key:
        """The key of a mapping ("<kind>#<platform id>"), to read with an export."""
        return self._key(suffix)

    def qbo_id_in(self, found: dict[str, dict[str, Any]], suffix: str) -> str | None:
        """The QBO id of that mapping among a batch read's items, if any."""
        item = found.get(self._key(suffix)["sk"]["S"])
        return str(item["qbo_id"]) if item else None

    def customer_key(self, client_id: str, currency: str) -> Key:
        """The key of the client's customer in a foreign currency, to read with an export."""
        return self._key(f"customer#{client_id}#{currency}")

    def customer_in(
        self, found: dict[str, dict[str, Any]], client_id: str, currency: str
    ) -> str | None:
        item = found.get(self.customer_key(client_id, currency)["sk"]["S"])
        return str(item["qbo_id"]) if item else None

    def linked_in(self, found: dict[str, dict[str, Any]], client_id: str, currency: str) -> bool:
        """Whether the client's customer in that (foreign) currency is the contractor's link."""
        item = found.get(self.customer_key(client_id, currency)["sk"]["S"])
        return bool(item and item.get("linked"))

    def record_export(
        self,
        exported: ExportedInvoice,
        learnt: dict[tuple[str, str], str] | None = None,
        with_items: list[TransactWriteItemTypeDef] | None = None,
    ) -> None:
        """Writes the invoice's mapping, with the mappings found on the way ((kind, platform id)
        → QBO id: a new customer, the income account) and the other owners' `with_items` (the
        ledger's settle), in one request.

        Raises NewerRevisionRecorded if a higher revision is recorded, SettleRefused if an item
        of `with_items` did not meet its condition; then nothing is written."""
        values = {
            ":qbo_id": exported.qbo_invoice_id,
            ":revision": exported.revision,
            ":customer": exported.qbo_customer_id,
            ":sync_token": exported.sync_token,
            ":doc_number": exported.doc_number,
            ":item": exported.qbo_item_id or "",
            ":at": iso_now(),
        }
        update: UpdateTypeDef = {
            "TableName": self._table,
            "Key": self._key(f"invoice#{exported.invoice_id}"),
            "UpdateExpression": (
                "SET qbo_id = :qbo_id, revision = :revision, qbo_customer_id = :customer, "
                "sync_token = :sync_token, doc_number = :doc_number, qbo_item_id = :item, "
                "updated_at = :at"
            ),
            # A redelivery writes the same revision again; an older one never overwrites.
            "ConditionExpression": "attribute_not_exists(revision) OR revision <= :revision",
            "ExpressionAttributeValues": to_item(values),
        }
        client = aws.dynamodb()
        others = with_items or []
        try:
            if not learnt and not others:
                client.update_item(**update)
                return
            puts = [
                self._learnt_write(f"{kind}#{pid}", qbo_id)
                for (kind, pid), qbo_id in (learnt or {}).items()
            ]
            client.transact_write_items(TransactItems=[{"Update": update}, *others, *puts])
        except client.exceptions.ConditionalCheckFailedException:
            raise NewerRevisionRecorded(exported.invoice_id) from None
        except client.exceptions.TransactionCanceledException as error:
            failed = cancelled_items(error)
            if 0 in failed:
                raise NewerRevisionRecorded(exported.invoice_id) from None
            if failed:
                # The export's own update is first in the transaction, then `with_items`.
                refused = frozenset(position - 1 for position in failed)
                raise SettleRefused(exported.invoice_id, refused) from None
            raise

    # -- the contractor's links (docs/interface.md §16) -------------------------------------------

    def customer_links(self) -> list[CustomerLink]:
        """Every link of the company: one Query of the reverse items."""
        prefix = f"{self._realm}#{LINK_PREFIX}"
        items = query_items(
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {":pk": {"S": self._pk}, ":prefix": {"S": prefix}},
                "ConsistentRead": True,
            }
        )
        return [_link(item) for item in items]

    def linked_clients(self, qbo_customer_ids: list[str]) -> dict[str, str]:
        """QBO customer id -> the client linked to it, for those that are: one BatchGetItem."""
        if not qbo_customer_ids:
            return {}
        keys = [self._key(LINK_PREFIX + qbo_id) for qbo_id in dict.fromkeys(qbo_customer_ids)]
        found = batch_get_by_sk(self._table, keys)
        return {str(i["qbo_customer_id"]): str(i["client_id"]) for i in found.values()}

    def link_customer(self, link: CustomerLink) -> None:
        """Writes the link as the client's customer mapping, with its reverse item, replacing
        the client's earlier link of the same currency, in one transaction. Raises
        CustomerLinked when another client holds that customer."""
        earlier = [
            known
            for known in self.customer_links()
            if known.mapping == link.mapping and known.qbo_customer_id != link.qbo_customer_id
        ]
        values = {"linked": True, "display_name": link.display_name, "linked_at": link.linked_at}
        mapping = {
            **self._key(link.mapping),
            **to_item({**values, "qbo_id": link.qbo_customer_id, "updated_at": iso_now()}),
            "linked_qbo_id": {"S": link.qbo_customer_id},
        }
        reverse = {
            **self._key(LINK_PREFIX + link.qbo_customer_id),
            **to_item({**values, "client_id": link.client_id, "mapping": link.mapping}),
            **to_item({"currency": link.currency, "client_name": link.client_name or None}),
            "qbo_customer_id": {"S": link.qbo_customer_id},
        }
        items: list[TransactWriteItemTypeDef] = [
            {"Put": {"TableName": self._table, "Item": mapping}},
            {
                "Put": {
                    "TableName": self._table,
                    "Item": reverse,
                    # One client per customer: absent, or this client's already.
                    "ConditionExpression": "attribute_not_exists(sk) OR client_id = :client",
                    "ExpressionAttributeValues": {":client": {"S": link.client_id}},
                }
            },
            *(self._reverse_delete(known) for known in earlier),
        ]
        client = aws.dynamodb()
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as error:
            if 1 in cancelled_items(error):
                raise CustomerLinked(link.qbo_customer_id) from None
            raise

    def unlink_customer(self, client_id: str) -> list[CustomerLink]:
        """Deletes the client's links (their mappings and reverse items): the next export finds
        or makes its customer by name again. Returns the links removed."""
        links = [known for known in self.customer_links() if known.client_id == client_id]
        if not links:
            return []
        items: list[TransactWriteItemTypeDef] = []
        for link in links:
            items.append({"Delete": {"TableName": self._table, "Key": self._key(link.mapping)}})
            items.append(self._reverse_delete(link))
        aws.dynamodb().transact_write_items(TransactItems=items)
        return links

    def _reverse_delete(self, link: CustomerLink) -> TransactWriteItemTypeDef:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": self._key(LINK_PREFIX + link.qbo_customer_id),
                "ConditionExpression": "client_id = :client",
                "ExpressionAttributeValues": {":client": {"S": link.client_id}},
            }
        }

    def _key(self, suffix: str) -> dict[str, Any]:
        return {"pk": {"S": self._pk}, "sk": {"S": f"{self._realm}#{suffix}"}}

    def _learnt_write(self, suffix: str, qbo_id: str) -> TransactWriteItemTypeDef:
        """A mapping found on the way. A customer mapping the contractor linked meanwhile keeps
        its linked customer (`linked_qbo_id`): the link wins over a name found before it."""
        update = {
            "TableName": self._table,
            "Key": self._key(suffix),
            "UpdateExpression": "SET qbo_id = if_not_exists(linked_qbo_id, :qbo_id), "
            "updated_at = :at",
            "ExpressionAttributeValues": to_item({":qbo_id": qbo_id, ":at": iso_now()}),
        }
        return cast("TransactWriteItemTypeDef", {"Update": update})

    def _get(self, suffix: str) -> dict[str, Any] | None:
        response = aws.dynamodb().get_item(
            TableName=self._table, Key=self._key(suffix), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None


def _exported(invoice_id: str, item: dict[str, Any] | None) -> ExportedInvoice | None:
    if not item or "qbo_id" not in item:
        return None
    return ExportedInvoice(
        invoice_id=invoice_id,
        revision=int(item["revision"]),
        qbo_invoice_id=str(item["qbo_id"]),
        qbo_customer_id=str(item["qbo_customer_id"]),
        sync_token=str(item["sync_token"]),
        doc_number=str(item["doc_number"]),
        qbo_item_id=str(item["qbo_item_id"]) if item.get("qbo_item_id") else None,
    )


def _link(item: dict[str, Any]) -> CustomerLink:
    return CustomerLink(
        str(item["client_id"]),
        str(item["qbo_customer_id"]),
        str(item.get("display_name", "")),
        str(item.get("linked_at", "")),
        str(item["currency"]) if item.get("currency") else None,
        str(item.get("client_name", "")),
    )


def mapping_store(connection: Connection) -> MappingStore:
    return MappingStore(
        get_settings().mappings_table, connection.contractor_id, connection.realm_id
    )
