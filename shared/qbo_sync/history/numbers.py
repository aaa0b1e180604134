"""The company's invoices a history request checks numbers against (docs/interface.md §15).

Read once, when the request is handled: every invoice dated from 30 days before `since`, paged
by 1,000 (QBO's largest page), so that a thousand history invoices cost one or two metered
reads rather than one each. Ours (made by this system, qbo/marker.py) are left out: adopting
is for what the contractor keyed in by hand. Kept with the request (store.py), one item per
number, which the export reads in its one BatchGetItem.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qbo_sync.qbo.client import QboClient, quote
from qbo_sync.qbo.marker import made_by_us

PAGE = 1000  # QBO's MAXRESULTS limit
LOOK_BACK = timedelta(days=30)  # a hand-keyed invoice may be dated before the platform's


def hand_keyed(qbo: QboClient, since: date) -> list[dict[str, Any]]:
    """One row per number: the invoices with it that are not ours."""
    start = (since - LOOK_BACK).isoformat()
    by_number: dict[str, list[dict[str, Any]]] = {}
    position = 1
    while True:
        rows = qbo.query(
            f"select * from Invoice where TxnDate >= {quote(start)} "
            f"STARTPOSITION {position} MAXRESULTS {PAGE}"
        )
        for row in rows:
            if row.get("DocNumber") and not made_by_us(row, "invoice"):
                by_number.setdefault(str(row["DocNumber"]), []).append(_kept(row))
        if len(rows) < PAGE:
            break
        position += PAGE
    return [{"doc_number": number, "invoices": rows} for number, rows in by_number.items()]


def _kept(row: dict[str, Any]) -> dict[str, Any]:
    customer = row.get("CustomerRef") or {}
    return {
        "qbo_invoice_id": str(row["Id"]),
        "customer_id": str(customer.get("value", "")),
        "customer_name": str(customer.get("name", "")),
        "total": str(Decimal(str(row.get("TotalAmt", "0")))),
        "balance": str(Decimal(str(row.get("Balance", "0")))),
        "sync_token": str(row.get("SyncToken", "0")),
        "currency_ref": str((row.get("CurrencyRef") or {}).get("value", "")),
    }
