"""What one write changed on a connection, read from the item before and after it (the
table's stream images): the facts the outbox turns into events (docs/interface.md §6, §12).

Only this package knows the connection item's attributes. The images hold the tokens as KMS
ciphertext; nothing here reads them, and no change carries them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from qbo_sync.connection.store import connection_of
from qbo_sync.core.clock import iso_at
from qbo_sync.core.statuses import ConnectionStatus

REAUTHORIZATION = ConnectionStatus.REAUTHORIZATION_REQUIRED


class NeedsReauthorization(NamedTuple):
    contractor_id: str
    realm_id: str
    company_name: str | None


class Expiring(NamedTuple):
    contractor_id: str
    realm_id: str
    refresh_expires_at: str


ConnectionChange = NeedsReauthorization | Expiring


def connection_changes(old: dict[str, Any], new: dict[str, Any]) -> list[ConnectionChange]:
    """`old`, `new`: the item's images, deserialised (empty when absent)."""
    if not new:
        return []
    after = connection_of(new)
    before = connection_of(old) if old else None
    changes: list[ConnectionChange] = []
    if after.status == REAUTHORIZATION and (before is None or before.status != REAUTHORIZATION):
        changes.append(
            NeedsReauthorization(after.contractor_id, after.realm_id, after.company_name)
        )
    # A reconnect writes a new grant without the mark, so "marked now" is once per grant.
    expires = after.refresh_expires_at
    marked_now = after.expiring_notified_at and not (before and before.expiring_notified_at)
    if marked_now and expires:
        changes.append(Expiring(after.contractor_id, after.realm_id, iso_at(expires)))
    return changes
