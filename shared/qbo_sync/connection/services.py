"""The connection's objects, built once per container from the settings, and the QBO client
whose access token follows the refreshes made during an invocation."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from qbo_sync.connection.intuit import IntuitOAuth
from qbo_sync.connection.store import Connection, ConnectionStore
from qbo_sync.connection.tokens import AccessTokens, TokenCipher
from qbo_sync.core.settings import get_settings

if TYPE_CHECKING:  # the HTTP stack loads with the first QBO call, not on routes that make none
    import urllib3

    from qbo_sync.connection.oauth_states import OAuthStateStore
    from qbo_sync.qbo.client import QboClient
    from qbo_sync.qbo.faults import NotAuthorized


@cache
def connections() -> ConnectionStore:
    return ConnectionStore(get_settings().connections_table)


@cache
def oauth_states() -> OAuthStateStore:
    # Only the connect flow's routes use it: not loaded by the queue consumers.
    from qbo_sync.connection.oauth_states import OAuthStateStore

    return OAuthStateStore(get_settings().oauth_states_table)


@cache
def cipher() -> TokenCipher:
    return TokenCipher(get_settings().token_key_id)


@cache
def oauth(redirect_uri: str) -> IntuitOAuth:
    return IntuitOAuth(get_settings(), redirect_uri)


@cache
def access_tokens() -> AccessTokens:
    return AccessTokens(connections(), cipher(), oauth(get_settings().oauth_redirect_uri))


@cache
def http_pool() -> urllib3.PoolManager:
    from qbo_sync.qbo.client import new_pool

    return new_pool()


def qbo_client(connection: Connection) -> QboClient:
    """A client whose token follows refreshes made during this invocation."""
    from qbo_sync.qbo.client import QboClient

    current = {"connection": connection}

    def access_token(force_refresh: bool) -> str:
        tokens = access_tokens()
        if force_refresh:
            current["connection"], token = tokens.refresh(current["connection"])
        else:
            current["connection"], token = tokens.current(current["connection"])
        return token

    def not_authorized(_fault: NotAuthorized) -> None:
        access_tokens().not_authorized(current["connection"])

    base_url = get_settings().qbo_api_base_url
    return QboClient(base_url, connection.realm_id, access_token, http_pool(), not_authorized)


def usable_client(connection: Connection) -> QboClient:
    """The connection's client, for a write: none while the contractor must reconnect."""
    from qbo_sync.connection.tokens import ReauthorizationRequired

    if not connection.usable:
        raise ReauthorizationRequired()
    return qbo_client(connection)


def grant_client(realm_id: str, access_token: str) -> QboClient:
    """A client on a token just granted, before the connection is stored (the callback)."""
    from qbo_sync.qbo.client import QboClient

    base_url = get_settings().qbo_api_base_url
    return QboClient(base_url, realm_id, lambda _force: access_token, http_pool())
