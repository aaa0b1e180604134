"""Intuit's OAuth 2.0 endpoints, through the intuit-oauth package (module `intuitlib`).

`AuthClient` GETs the OpenID discovery document in its constructor, so one client is built per
container and redirect URI and reused; a lock keeps concurrent callers off its shared attributes.
"""

from __future__ import annotations

import contextlib
import json
import threading
from functools import cache
from typing import Any, NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.settings import Settings
from qbo_sync.core.tracing import remote_call

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
CREDENTIALS_MAX_AGE_SECONDS = 300


class IntuitAuthError(Exception):
    """Intuit refused a token request. The message carries Intuit's error code, never a token."""

    def __init__(self, status_code: int, error: str) -> None:
        super().__init__(f"Intuit token endpoint answered HTTP {status_code}: {error}")
        self.status_code = status_code
        self.error = error


class InvalidGrant(IntuitAuthError):
    """The code or refresh token is used, expired or revoked: only the contractor can fix it."""


class TokenGrant(NamedTuple):
    access_token: str
    refresh_token: str
    expires_in: int
    # Seconds the refresh token stays usable if unused (Intuit's rolling ~100 days), and until
    # the grant's hard end (Intuit's 5-year maximum; None when Intuit did not say).
    refresh_expires_in: int | None = None
    refresh_hard_expires_in: int | None = None

    def __repr__(self) -> str:  # keeps tokens out of tracebacks and debug logs
        return (
            f"TokenGrant(expires_in={self.expires_in}, "
            f"refresh_expires_in={self.refresh_expires_in}, "
            f"refresh_hard_expires_in={self.refresh_hard_expires_in})"
        )


class IntuitOAuth:
    def __init__(self, settings: Settings, redirect_uri: str) -> None:
        self._settings = settings
        self._redirect_uri = redirect_uri

    def authorization_url(self, state: str) -> str:
        from intuitlib.enums import Scopes

        with _lock:
            client = self._client()
            return str(client.get_authorization_url([Scopes.ACCOUNTING], state_token=state))

    def exchange_code(self, code: str, realm_id: str) -> TokenGrant:
        return self._token_call(lambda client: client.get_bearer_token(code, realm_id=realm_id))

    def refresh(self, refresh_token: str) -> TokenGrant:
        return self._token_call(lambda client: client.refresh(refresh_token=refresh_token))

    def revoke(self, token: str) -> None:
        from intuitlib.exceptions import AuthClientError

        with _lock:
            client = self._client()
            try:
                client.revoke(token=token)
            except AuthClientError as error:
                raise _auth_error(error) from None

    def _token_call(self, call: Any) -> TokenGrant:
        from intuitlib.exceptions import AuthClientError

        with _lock:
            client = self._client()
            endpoint = str(getattr(client, "token_endpoint", "") or "")
            with remote_call("Intuit OAuth", "POST", endpoint) as answered:
                try:
                    call(client)
                except AuthClientError as error:
                    answered(int(getattr(error, "status_code", 0) or 0))
                    # `from None`: AuthClientError's own text quotes the raw response.
                    raise _auth_error(error) from None
                answered(200)
            grant = TokenGrant(
                access_token=str(client.access_token),
                refresh_token=str(client.refresh_token),
                expires_in=int(client.expires_in or 3600),
                refresh_expires_in=_seconds(client.x_refresh_token_expires_in),
                refresh_hard_expires_in=_seconds(client.x_refresh_token_hard_expires_in),
            )
            client.access_token = client.refresh_token = None
            # The client keeps the last response's values: cleared so the next call's absent
            # field is not read as this one's.
            client.x_refresh_token_expires_in = client.x_refresh_token_hard_expires_in = None
            return grant

    def _client(self) -> Any:
        """The container's AuthClient (its discovery document fetched once), with the current
        credentials: keys put into the secret after this container started, or rotated, apply
        within CREDENTIALS_MAX_AGE_SECONDS."""
        client = _auth_client(self._settings, self._redirect_uri)
        credentials = client_credentials(self._settings)
        client.client_id = credentials["client_id"]
        client.client_secret = credentials["client_secret"]
        return client


_lock = threading.Lock()


def client_credentials(settings: Settings) -> dict[str, str]:
    value = _secrets().get(
        settings.credentials_secret, transform="json", max_age=CREDENTIALS_MAX_AGE_SECONDS
    )
    return {"client_id": str(value["client_id"]), "client_secret": str(value["client_secret"])}


@cache
def _secrets() -> Any:
    """Powertools' provider (and its cache), on the layer's botocore session (core/aws.py).

    Not its own session: that would import boto3 on the cold path.
    """
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=aws.secretsmanager())


@cache
def _auth_client(settings: Settings, redirect_uri: str) -> Any:
    from intuitlib.client import AuthClient

    credentials = client_credentials(settings)
    client = AuthClient(
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        redirect_uri=redirect_uri,
        environment=settings.intuit_environment,
    )
    # intuit-oauth 1.2.7: sends `x-include-refresh-token-hard-expires-in: true` on every token
    # request, so Intuit's answer carries x_refresh_token_hard_expires_in (the 5-year limit).
    client.include_refresh_token_hard_expires_in = True
    return client


def _seconds(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _auth_error(error: Any) -> IntuitAuthError:
    code = "unknown_error"
    with contextlib.suppress(ValueError, AttributeError):
        code = str(json.loads(error.content or b"{}").get("error") or code)
    kind = InvalidGrant if code == "invalid_grant" else IntuitAuthError
    return kind(int(error.status_code), code)
