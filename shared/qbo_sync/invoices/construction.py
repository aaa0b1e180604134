"""What a construction invoice (docs/interface.md §17) needs besides its customer and item, found
or made in the exporter's plan before the invoice is written:

- the client's sub-customer for the job, when the connection's `job_tracking` is
  `sub_customers` (a Customer with Job, ParentRef, BillWithParent; remembered per job id);
- the "Processing fees collected" item, on the fee income account, for fee lines;
- the "Retainage" item, on the retainage account (an Other Current Asset), for the retainage
  held (a negative line) and released (positive lines).

Accounts come from accounts/clearing.py (the contractor's choice, else found or created once per
company); entities with unique names from qbo/names.py's `first_free`. What was found goes in the
plan's `learnt` (mapping table, written with the export) and is read back in the export's one
batch read (`keys`), so the steady state makes no QuickBooks request here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from qbo_sync.accounts.clearing import AccountRole, account_for
from qbo_sync.accounts.settings import AccountSettings, settings_store
from qbo_sync.core.dynamo import Key
from qbo_sync.core.reasons import ReasonCode, reason
from qbo_sync.events import LineKind
from qbo_sync.events.invoices import InvoiceSent, Job
from qbo_sync.qbo.client import content_digest, quote
from qbo_sync.qbo.faults import DUPLICATE_NAME, Refused
from qbo_sync.qbo.fields import (
    MAX_DISPLAY_NAME,
    currency_name,
    qbo_name,
    service_item_fields,
)
from qbo_sync.qbo.names import first_free

if TYPE_CHECKING:
    from qbo_sync.invoices.exporter import InvoiceExporter

FEE_ITEM = "Processing fees collected"
RETAINAGE_ITEM = "Retainage"
# The item of each kind of charge, its account's role and its name in QuickBooks.
CHARGES = {
    "fee": (AccountRole.FEE_INCOME, FEE_ITEM),
    "retainage": (AccountRole.RETAINAGE, RETAINAGE_ITEM),
}


class Charges(NamedTuple):
    """The invoice's customer (the job's sub-customer, or the one it was given) and the items of
    its fee and retainage lines ("fee", "retainage": item id)."""

    customer_id: str
    items: dict[str, str]
    job_in_memo: bool


def charges_needed(message: InvoiceSent) -> set[str]:
    invoice = message.invoice
    needed = set()
    if any(line.kind == LineKind.FEE for line in invoice.lines):
        needed.add("fee")
    if invoice.retainage_held > 0 or invoice.retainage_released > 0:
        needed.add("retainage")
    return needed


class Construction:
    def __init__(self, exporter: InvoiceExporter) -> None:
        self.exporter = exporter
        connection = exporter.connection
        self.settings = settings_store(connection.contractor_id, connection.realm_id)

    def keys(self, message: InvoiceSent) -> list[Key]:
        """What the export's one batch read also fetches for this invoice (nothing for an
        invoice without job, fee or retainage)."""
        invoice, mappings = message.invoice, self.exporter.mappings
        wanted = [
            mappings.key_of(f"customer#{client}#job#{invoice.job.id}")
            for client in (message.client.id, f"{message.client.id}#{invoice.currency}")
            if invoice.job
        ]
        for kind in charges_needed(message):
            wanted += [mappings.key_of(f"item#{kind}"), mappings.key_of(f"item#{kind}#account")]
        return wanted  # the settings item is read by every export already (exporter.py)

    def charges(
        self,
        message: InvoiceSent,
        found: dict[str, dict[str, Any]],
        learnt: dict[tuple[str, str], str],
        customer_id: str,
        currency: str | None,
        kept_customer: str | None,
    ) -> Charges:
        """`customer_id`: the client's customer; `kept_customer`: the customer an earlier
        revision went to (a revision stays with it)."""
        invoice = message.invoice
        settings = AccountSettings(found.get(self.settings.key["sk"]["S"], {}))
        job_customer = customer_id
        if invoice.job and kept_customer:
            job_customer = kept_customer
        elif invoice.job and settings.sub_customers:
            job_customer = self._sub_customer(
                message, invoice.job, customer_id, currency, found, learnt
            )
        items = {
            kind: self._item(kind, found, learnt, settings) for kind in charges_needed(message)
        }
        return Charges(job_customer, items, job_in_memo=job_customer == customer_id)

    # -- the job's sub-customer ---------------------------------------------------------------

    def _sub_customer(
        self,
        message: InvoiceSent,
        job: Job,
        parent_id: str,
        currency: str | None,
        found: dict[str, dict[str, Any]],
        learnt: dict[tuple[str, str], str],
    ) -> str:
        client = message.client.id if currency is None else f"{message.client.id}#{currency}"
        suffix = f"{client}#job#{job.id}"
        known = self.exporter.mappings.qbo_id_in(found, f"customer#{suffix}")
        if known:
            return known
        exporter = self.exporter
        plain = qbo_name(job.name, MAX_DISPLAY_NAME)
        names = [
            plain,
            _suffixed(job.name, message.client.display_name),
            _suffixed(job.name, job.id),
        ]
        if currency:
            names = [currency_name(name, currency) for name in names]

        def create(name: str) -> str:
            fields: dict[str, Any] = {
                "DisplayName": name,
                "Job": True,
                "ParentRef": {"value": parent_id},
                "BillWithParent": True,
            }
            if currency:
                fields["CurrencyRef"] = {"value": currency}
            requestid = exporter.request_id("sub_customer", job.id, content_digest(fields))
            return str(exporter.qbo.create("Customer", fields, requestid)["Id"])

        def find(name: str) -> str | None:
            # Ours only when it is this client's sub-customer: another's takes the next name.
            rows = exporter.qbo.query(f"select * from Customer where DisplayName = {quote(name)}")
            for row in rows:
                if str((row.get("ParentRef") or {}).get("value")) == parent_id:
                    return str(row["Id"])
            return None

        sub_customer = first_free(names, create, find)
        if sub_customer is None:
            raise Refused(
                f"QuickBooks has no free customer name for the job {job.name!r}",
                reason(ReasonCode.NAME_TAKEN),
                DUPLICATE_NAME,
            )
        learnt[("customer", suffix)] = sub_customer
        return sub_customer

    # -- the fee and retainage items ----------------------------------------------------------

    def _item(
        self,
        kind: str,
        found: dict[str, dict[str, Any]],
        learnt: dict[tuple[str, str], str],
        settings: AccountSettings,
    ) -> str:
        exporter, mappings = self.exporter, self.exporter.mappings
        role, base = CHARGES[kind]
        account = account_for(exporter.connection, role, exporter.qbo, settings)
        item = mappings.qbo_id_in(found, f"item#{kind}")
        if item and mappings.qbo_id_in(found, f"item#{kind}#account") == account:
            return item

        def create(name: str) -> str:
            fields = service_item_fields(name, account)
            requestid = exporter.request_id("item", name, content_digest(fields))
            return str(exporter.qbo.create("Item", fields, requestid)["Id"])

        def find(name: str) -> str | None:
            # An item of that name on another account is not ours to use.
            rows = exporter.qbo.query(f"select * from Item where Name = {quote(name)}")
            for row in rows:
                if str((row.get("IncomeAccountRef") or {}).get("value")) == account:
                    return str(row["Id"])
            return None

        names = (base, _suffixed(base, f"account {account}"))
        item = first_free(names, create, find)
        if item is None:
            raise Refused(
                f"QuickBooks has no free item name for {base!r}",
                reason(ReasonCode.ITEM_NAME_TAKEN),
                DUPLICATE_NAME,
            )
        learnt[("item", kind)] = item
        learnt[("item", f"{kind}#account")] = account
        return item


def _suffixed(name: str, suffix: str) -> str:
    tail = f" ({qbo_name(suffix, 100)})"
    return qbo_name(name, MAX_DISPLAY_NAME - len(tail)) + tail
