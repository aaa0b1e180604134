"""The one marker that says an entity in QuickBooks is ours: its PrivateNote starts with
"qbo-sync: platform <kind> <platform id>", then ends, or goes on with ", " or " (" and
details a bookkeeper reads (the invoice's revision, the payment's method, the refund's reason).
Every create writes it (qbo/fields.py, refund_fields.py, payouts/lines.py) and every lookup
after an attempt that may have reached QuickBooks reads it (once.py's adapters), so a lookup
recognises exactly what a create wrote, whatever the platform id holds."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qbo_sync.qbo.client import QboClient

_REVISION = re.compile(r", revision (?P<revision>\d+)")


def marker(kind: str, platform_id: str) -> str:
    return f"qbo-sync: platform {kind} {platform_id}"


def is_ours(row: dict[str, Any], kind: str, platform_id: str) -> bool:
    note, mark = str(row.get("PrivateNote") or ""), marker(kind, platform_id)
    return note == mark or note.startswith((f"{mark},", f"{mark} ("))


def made_by_us(row: dict[str, Any], kind: str) -> bool:
    """Ours, for whichever platform id: not something a person keyed in."""
    return str(row.get("PrivateNote") or "").startswith(marker(kind, ""))


def noted_revision(row: dict[str, Any], invoice_id: str) -> int | None:
    """The revision an invoice of ours was written at; None when it is not ours."""
    if not is_ours(row, "invoice", invoice_id):
        return None
    note = str(row["PrivateNote"])[len(marker("invoice", invoice_id)) :]
    found = _REVISION.fullmatch(note)
    return int(found["revision"]) if found else None


def find_ours(
    qbo: QboClient,
    entity: str,
    kind: str,
    platform_id: str,
    txn_date: date,
    customer_id: str | None = None,
) -> dict[str, Any] | None:
    """Ours among the transactions of that date (and customer): one metered query."""
    from qbo_sync.qbo.client import quote

    where = [f"TxnDate = {quote(txn_date.isoformat())}"]
    if customer_id is not None:
        where.insert(0, f"CustomerRef = {quote(customer_id)}")
    statement = f"select * from {entity} where {' and '.join(where)} maxresults 1000"
    return next((row for row in qbo.query(statement) if is_ours(row, kind, platform_id)), None)
