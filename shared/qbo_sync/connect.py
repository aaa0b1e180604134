"""Connecting a contractor's QuickBooks Online company: start, callback, view, disconnect."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync import services
from qbo_sync.clock import iso_now
from qbo_sync.connections import CONNECTED, NOT_CONNECTED, Connection
from qbo_sync.export_status import failed_exports
from qbo_sync.intuit import IntuitAuthError, TokenGrant
from qbo_sync.qbo_errors import QboError

logger = Logger(child=True)


class PaymentsNotEnabled(Exception):
    """Only contractors with invoice payments enabled may connect QuickBooks."""


@dataclass(frozen=True)
class CallbackOutcome:
    connected: bool
    reason: str | None = None  # denied | invalid_state | exchange_failed


@dataclass(frozen=True)
class ConnectStart:
    authorization_url: str
    browser_binding: str  # goes into a cookie; the callback must bring it back

    def __repr__(self) -> str:
        return "ConnectStart(...)"


def start_connect(contractor_id: str, payments_enabled: bool, redirect_uri: str) -> ConnectStart:
    if not payments_enabled:
        raise PaymentsNotEnabled(contractor_id)
    issued = services.oauth_states().issue(contractor_id)
    logger.info("QuickBooks connection started", contractor_id=contractor_id)
    url = services.oauth(redirect_uri).authorization_url(issued.state)
    return ConnectStart(url, issued.browser_binding)


def complete_connect(
    *, state: str, browser_binding: str, code: str, realm_id: str, error: str, redirect_uri: str
) -> CallbackOutcome:
    issued = services.oauth_states().consume(state, browser_binding) if state else None
    if issued is None:
        logger.warning("QuickBooks callback refused: unknown, used or expired state")
        return CallbackOutcome(False, "invalid_state")
    contractor_id = issued.contractor_id
    if error:
        logger.info("QuickBooks consent refused", contractor_id=contractor_id, error=error[:64])
        return CallbackOutcome(False, "denied")
    if not code or not realm_id:
        logger.warning("QuickBooks callback without code or realmId", contractor_id=contractor_id)
        return CallbackOutcome(False, "exchange_failed")
    try:
        grant = services.oauth(redirect_uri).exchange_code(code, realm_id)
    except IntuitAuthError as failure:
        logger.warning(
            "QuickBooks code exchange failed", contractor_id=contractor_id, error=str(failure)
        )
        return CallbackOutcome(False, "exchange_failed")
    _store_connection(contractor_id, realm_id, grant)
    logger.info("QuickBooks connected", contractor_id=contractor_id, realm_id=realm_id)
    _resume_kept_work(contractor_id)
    return CallbackOutcome(True)


def connection_view(contractor_id: str) -> dict[str, Any]:
    connection = services.connections().get(contractor_id)
    failed = failed_exports(contractor_id)  # one Query on a key, never a scan
    if connection is None:
        return {
            "status": NOT_CONNECTED,
            "realm_id": None,
            "company_name": None,
            "connected_at": None,
            "last_export_at": None,
            "failed_exports": failed,
        }
    return {
        "status": connection.status,
        "realm_id": connection.realm_id,
        "company_name": connection.company_name,
        "connected_at": connection.connected_at,
        "last_export_at": connection.last_export_at,
        "failed_exports": failed,
    }


def disconnect(contractor_id: str) -> None:
    connection = services.connections().get(contractor_id)
    if connection is None:
        return
    try:
        refresh_token = services.cipher().decrypt(
            contractor_id, "refresh_token", connection.refresh_token
        )
        services.oauth(services.get_settings().oauth_redirect_uri).revoke(refresh_token)
    except Exception as failure:  # a failed revoke must not keep the tokens alive here
        logger.warning(
            "QuickBooks token revoke failed; deleting the tokens anyway",
            contractor_id=contractor_id,
            error=type(failure).__name__,
        )
    services.connections().delete(contractor_id)
    logger.info("QuickBooks disconnected", contractor_id=contractor_id)


def _resume_kept_work(contractor_id: str) -> None:
    """Invoices and payments kept while the connection needed reauthorization go on now."""
    from qbo_sync.payments import resume_parked_payments
    from qbo_sync.pending import resume_pending_invoices

    try:
        invoices = resume_pending_invoices(contractor_id)
        payments = resume_parked_payments(contractor_id)
    except Exception as failure:  # the connection is made; kept work stays kept for a retry
        logger.error(
            "Kept work not resumed after reconnect",
            contractor_id=contractor_id,
            error=type(failure).__name__,
        )
        return
    logger.info("Kept work resumed", resent_invoices=invoices, applied_payments=payments)


def _store_connection(contractor_id: str, realm_id: str, grant: TokenGrant) -> None:
    sealed = services.cipher().seal(contractor_id, grant)
    connection = Connection(
        contractor_id=contractor_id,
        realm_id=realm_id,
        status=CONNECTED,
        # Microseconds since the epoch: a reconnect always outranks any refresh of the old grant.
        token_version=time.time_ns() // 1000,
        connected_at=iso_now(),
        **sealed,  # type: ignore[arg-type]
    )
    connection = Connection(
        **{**connection.__dict__, "company_name": _company_name(connection, grant)}
    )
    services.connections().put(connection)


def _company_name(connection: Connection, grant: TokenGrant) -> str | None:
    from qbo_sync.qbo import QboClient  # the HTTP stack: only the callback needs it here

    client = QboClient(
        services.get_settings().qbo_api_base_url,
        connection.realm_id,
        lambda _force: grant.access_token,
        services.http_session(),
    )
    try:
        return client.company_name()
    except QboError as failure:
        # The connection works without a name; the settings page shows the realm id instead.
        logger.warning("Could not read the QuickBooks company name", error=str(failure))
        return None
