"""The company's customers as the contractor picks one (docs/interface.md §16).

QBO's query language has no OR, so "display name or company name contains the text" is two
queries: display names first, and company names only when the first left room. `LIKE` takes `%`
as its only wildcard, and compares names without regard to case (local/qbo_emulator/FACTS.md).
Each query is one metered read, so a search costs one or two.
"""

from __future__ import annotations

from typing import Any

from qbo_sync.qbo.client import QboClient, quote
from qbo_sync.qbo.faults import ObjectNotFound

SEARCH_FIELDS = ("DisplayName", "CompanyName")


def search(qbo: QboClient, text: str, limit: int) -> list[dict[str, Any]]:
    """At most `limit` active customers whose display name, or else company name, contains
    `text`, each once, display-name matches first."""
    found: dict[str, dict[str, Any]] = {}
    for field in SEARCH_FIELDS:
        # A second query's first `limit` rows hold at most len(found) already found, so they
        # fill the rest whenever the company has enough.
        rows = qbo.query(
            f"select * from Customer where {field} like {quote(f'%{text}%')} "
            f"and Active = true orderby DisplayName maxresults {limit}"
        )
        for row in rows:
            found.setdefault(str(row["Id"]), row)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def active_customer(qbo: QboClient, qbo_customer_id: str) -> dict[str, Any] | None:
    """The customer of that id when it is active (one metered read), else None."""
    try:
        customer = qbo.read("Customer", qbo_customer_id)
    except ObjectNotFound:
        return None
    return customer if customer.get("Active", True) is not False else None
