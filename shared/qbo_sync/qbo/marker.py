"""The one marker that says an entity in QuickBooks is ours: its PrivateNote starts with
"qbo-sync: platform <kind> <platform id>", then ends, or goes on with ", " or " (" and
details a bookkeeper reads (the invoice's revision, the payment's method, the refund's reason).
Every create writes it (qbo/fields.py, refund_fields.py, payouts/lines.py) and every lookup
after an attempt that may have reached QuickBooks reads it (once.py's adapters), so a lookup
recognises exactly what a create wrote, whatever the platform id holds."""

from __future__ import annotations

import re
from typing import Any

_REVISION = re.compile(r", revision (?P<revision>\d+)")


def marker(kind: str, platform_id: str) -> str:
    return f"qbo-sync: platform {kind} {platform_id}"


def is_ours(row: dict[str, Any], kind: str, platform_id: str) -> bool:
    note, mark = str(row.get("PrivateNote") or ""), marker(kind, platform_id)
    return note == mark or note.startswith((f"{mark},", f"{mark} ("))


def noted_revision(row: dict[str, Any], invoice_id: str) -> int | None:
    """The revision an invoice of ours was written at; None when it is not ours."""
    if not is_ours(row, "invoice", invoice_id):
        return None
    note = str(row["PrivateNote"])[len(marker("invoice", invoice_id)) :]
    found = _REVISION.fullmatch(note)
    return int(found["revision"]) if found else None
