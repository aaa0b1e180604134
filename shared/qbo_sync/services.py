"""The objects every invocation needs, built once per container from the settings."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from qbo_sync.connections import Connection, ConnectionStore
from qbo_sync.intuit import IntuitOAuth
from qbo_sync.mappings import MappingStore
from qbo_sync.oauth_states import OAuthStateStore
from qbo_sync.settings import get_settings
from qbo_sync.tokens import AccessTokens, TokenCipher

if TYPE_CHECKING:  # the HTTP stack loads with the first QBO call, not on routes that make none
    import requests

    from qbo_sync.qbo import QboClient


@cache
def connections() -> ConnectionStore:
    settings = get_settings()
    settings.require("connections_table")
    return ConnectionStore(settings.connections_table)


@cache
def oauth_states() -> OAuthStateStore:
    settings = get_settings()
    settings.require("oauth_states_table")
    return OAuthStateStore(settings.oauth_states_table)


@cache
def cipher() -> TokenCipher:
    settings = get_settings()
    settings.require("token_key_id")
    return TokenCipher(settings.token_key_id)


@cache
def oauth(redirect_uri: str) -> IntuitOAuth:
    return IntuitOAuth(get_settings(), redirect_uri)


@cache
def access_tokens() -> AccessTokens:
    return AccessTokens(connections(), cipher(), oauth(get_settings().oauth_redirect_uri))


@cache
def http_session() -> requests.Session:
    from qbo_sync.qbo import new_session

    return new_session()


def mappings(connection: Connection) -> MappingStore:
    settings = get_settings()
    settings.require("mappings_table")
    return MappingStore(settings.mappings_table, connection.contractor_id, connection.realm_id)


def qbo_client(connection: Connection) -> QboClient:
    """A client whose token follows refreshes made during this invocation."""
    from qbo_sync.qbo import QboClient

    current = {"connection": connection}

    def access_token(force_refresh: bool) -> str:
        tokens = access_tokens()
        if force_refresh:
            current["connection"], token = tokens.refresh(current["connection"])
        else:
            current["connection"], token = tokens.current(current["connection"])
        return token

    base_url = get_settings().qbo_api_base_url
    return QboClient(base_url, connection.realm_id, access_token, http_session())
