"""Connecting a contractor's QuickBooks Online company: start, callback, disconnect.

What a successful callback sets going (kept invoices and parked payments) is not decided here:
workflows/reconnect.py runs the callback, then resumes them."""

from __future__ import annotations

import time
from typing import NamedTuple

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.intuit import IntuitAuthError, TokenGrant
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired, RefreshInProgress
from qbo_sync.core.clock import iso_now
from qbo_sync.core.settings import get_settings
from qbo_sync.core.statuses import CallbackRefusal, ConnectionStatus
from qbo_sync.qbo.faults import QboError

logger = Logger(child=True)


class PaymentsNotEnabled(Exception):
    """Only contractors with invoice payments enabled may connect QuickBooks."""


class CallbackOutcome(NamedTuple):
    contractor_id: str | None
    refusal: CallbackRefusal | None = None  # None: connected

    @property
    def connected(self) -> bool:
        return self.refusal is None


class ConnectStart(NamedTuple):
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
        return CallbackOutcome(None, CallbackRefusal.INVALID_STATE)
    contractor_id = issued.contractor_id
    if error:
        logger.info("QuickBooks consent refused", contractor_id=contractor_id, error=error[:64])
        return CallbackOutcome(contractor_id, CallbackRefusal.DENIED)
    if not code or not realm_id:
        logger.warning("QuickBooks callback without code or realmId", contractor_id=contractor_id)
        return CallbackOutcome(contractor_id, CallbackRefusal.EXCHANGE_FAILED)
    try:
        grant = services.oauth(redirect_uri).exchange_code(code, realm_id)
    except IntuitAuthError as failure:
        logger.warning(
            "QuickBooks code exchange failed", contractor_id=contractor_id, error=str(failure)
        )
        return CallbackOutcome(contractor_id, CallbackRefusal.EXCHANGE_FAILED)
    _store_connection(contractor_id, realm_id, grant)
    logger.info("QuickBooks connected", contractor_id=contractor_id, realm_id=realm_id)
    return CallbackOutcome(contractor_id)


def disconnect(contractor_id: str) -> None:
    connection = services.connections().get(contractor_id)
    if connection is None:
        return
    try:
        refresh_token = services.cipher().decrypt(
            contractor_id, "refresh_token", connection.refresh_token
        )
        services.oauth(get_settings().oauth_redirect_uri).revoke(refresh_token)
    except Exception as failure:  # a failed revoke must not keep the tokens alive here
        logger.warning(
            "QuickBooks token revoke failed; deleting the tokens anyway",
            contractor_id=contractor_id,
            error=type(failure).__name__,
        )
    services.connections().delete(contractor_id)
    logger.info("QuickBooks disconnected", contractor_id=contractor_id)


def intuit_disconnected(realm_id: str) -> int:
    """Intuit's Disconnect URL: the contractor disconnected the app inside QuickBooks, or so an
    unauthenticated request says. Each connection to that company is checked with Intuit itself:
    a refresh with its stored refresh token answers invalid_grant once the grant is gone, and
    only then (inside AccessTokens.refresh) is it marked reauthorization_required, with its
    event. A forged request changes nothing but a rotation of still-valid tokens. Returns how
    many connections Intuit confirmed gone."""
    if not realm_id.isalnum() or len(realm_id) > 32:
        return 0
    confirmed = 0
    for connection in services.connections().of_realm(realm_id):
        if connection.usable and _grant_gone(connection):
            confirmed += 1
    logger.info("Intuit disconnect checked", realm_id=realm_id, confirmed=confirmed)
    return confirmed


def _grant_gone(connection: Connection) -> bool:
    try:
        services.access_tokens().refresh(connection)
    except ReauthorizationRequired:
        return True
    except RefreshInProgress:
        return False  # another refresh is asking Intuit the same question right now
    except Exception as failure:  # Intuit unreachable: nothing is confirmed, nothing changes
        logger.warning(
            "Intuit disconnect not checked",
            contractor_id=connection.contractor_id,
            error=type(failure).__name__,
        )
        return False
    return False


def _store_connection(contractor_id: str, realm_id: str, grant: TokenGrant) -> None:
    sealed = services.cipher().seal(contractor_id, grant)
    connection = Connection(
        contractor_id=contractor_id,
        realm_id=realm_id,
        status=ConnectionStatus.CONNECTED,
        # Microseconds since the epoch: a reconnect always outranks any refresh of the old grant.
        token_version=time.time_ns() // 1000,
        connected_at=iso_now(),
        **sealed,  # type: ignore[arg-type]
    )
    connection = connection._replace(company_name=_company_name(realm_id, grant))
    services.connections().put(connection)


def _company_name(realm_id: str, grant: TokenGrant) -> str | None:
    try:
        return services.grant_client(realm_id, grant.access_token).company_name()
    except QboError as failure:
        # The connection works without a name; the settings page shows the realm id instead.
        logger.warning("Could not read the QuickBooks company name", error=str(failure))
        return None
