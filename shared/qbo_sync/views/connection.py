"""GET /quickbooks/connection (docs/interface.md §2, §5, §12): the connection and the failed
count of the connected company (one Query on a key, never a scan)."""

from __future__ import annotations

from typing import Any

from qbo_sync.connection import services
from qbo_sync.core.clock import iso_at
from qbo_sync.core.metering import reads_this_month
from qbo_sync.core.statuses import ConnectionStatus, ExportStatus
from qbo_sync.views.exports import export_listing


def connection_view(contractor_id: str) -> dict[str, Any]:
    connection = services.connections().get(contractor_id)
    realm_id = connection.realm_id if connection is not None else None
    failed = failed_exports(contractor_id, realm_id)
    if connection is None:
        return {
            "status": ConnectionStatus.NOT_CONNECTED,
            "realm_id": None,
            "company_name": None,
            "connected_at": None,
            "last_export_at": None,
            "refresh_expires_at": None,
            "failed_exports": failed,
            "metered_reads_this_month": None,
        }
    expires = connection.refresh_expires_at
    return {
        "status": connection.status,
        "realm_id": connection.realm_id,
        "company_name": connection.company_name,
        "connected_at": connection.connected_at,
        "last_export_at": connection.last_export_at,
        "refresh_expires_at": iso_at(expires) if expires else None,
        "failed_exports": failed,
        "metered_reads_this_month": reads_this_month(connection.realm_id),  # §18
    }


def failed_exports(contractor_id: str, realm_id: str | None) -> int:
    """The failed exports the list shows: the company's (skipped records are never failed)."""
    if realm_id is None:
        return 0
    return export_listing(contractor_id, realm_id, ExportStatus.FAILED, scopes=1).count()
