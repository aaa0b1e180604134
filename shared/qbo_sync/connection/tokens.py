"""Tokens at rest and in use: KMS per token, refresh under a lease so rotation is never lost.

Intuit rotates refresh tokens, and a refresh with a superseded token answers `invalid_grant`. If two
invocations refreshed at once, one would lose the race and could wrongly conclude the connection was
revoked. So only the holder of a short DynamoDB lease refreshes; the others wait for its write.
"""

from __future__ import annotations

import time

from qbo_sync.connection.intuit import IntuitOAuth, InvalidGrant, TokenGrant
from qbo_sync.connection.store import Connection, ConnectionStore, StaleConnection
from qbo_sync.core import aws
from qbo_sync.core.clock import now

EXPIRY_MARGIN_SECONDS = 120
LEASE_SECONDS = 30
WAIT_FOR_REFRESH_SECONDS = 15.0


class ReauthorizationRequired(Exception):
    """The contractor must reconnect QuickBooks: Intuit refused the refresh token."""


class RefreshInProgress(Exception):
    """Another invocation holds the refresh lease and has not finished in time: retry later."""


class TokenCipher:
    """KMS encryption bound to the contractor: one's ciphertext cannot pose as another's."""

    def __init__(self, key_id: str) -> None:
        self._key_id = key_id

    def encrypt(self, contractor_id: str, purpose: str, token: str) -> bytes:
        response = aws.kms().encrypt(
            KeyId=self._key_id,
            Plaintext=token.encode(),
            EncryptionContext=_context(contractor_id, purpose),
        )
        return bytes(response["CiphertextBlob"])

    def decrypt(self, contractor_id: str, purpose: str, ciphertext: bytes) -> str:
        response = aws.kms().decrypt(
            KeyId=self._key_id,
            CiphertextBlob=ciphertext,
            EncryptionContext=_context(contractor_id, purpose),
        )
        return bytes(response["Plaintext"]).decode()

    def seal(self, contractor_id: str, grant: TokenGrant) -> dict[str, bytes | int]:
        """The grant's tokens encrypted, and its lifetimes as epoch seconds (a lifetime Intuit
        did not send is left out, so the one stored before stays)."""
        issued = int(now())
        sealed: dict[str, bytes | int] = {
            "access_token": self.encrypt(contractor_id, "access_token", grant.access_token),
            "refresh_token": self.encrypt(contractor_id, "refresh_token", grant.refresh_token),
            "access_expires_at": issued + grant.expires_in,
            "refreshed_at": issued,
        }
        if grant.refresh_expires_in is not None:
            sealed["refresh_rolling_expires_at"] = issued + grant.refresh_expires_in
        if grant.refresh_hard_expires_in is not None:
            sealed["refresh_hard_expires_at"] = issued + grant.refresh_hard_expires_in
        return sealed


class AccessTokens:
    """Hands out a valid access token for a connection, refreshing it when needed."""

    def __init__(self, store: ConnectionStore, cipher: TokenCipher, oauth: IntuitOAuth) -> None:
        self._store = store
        self._cipher = cipher
        self._oauth = oauth
        self._plaintext: dict[tuple[str, int], str] = {}

    def current(self, connection: Connection) -> tuple[Connection, str]:
        if connection.access_expires_at - EXPIRY_MARGIN_SECONDS > now():
            return connection, self._open(connection)
        return self.refresh(connection)

    def refresh(self, connection: Connection) -> tuple[Connection, str]:
        if not connection.usable:
            raise ReauthorizationRequired(connection.contractor_id)
        if not self._store.acquire_refresh_lease(connection, LEASE_SECONDS):
            return self._await_refresh_by_other(connection)
        refresh_token = self._cipher.decrypt(
            connection.contractor_id, "refresh_token", connection.refresh_token
        )
        try:
            grant = self._oauth.refresh(refresh_token)
        except InvalidGrant:
            self._flip(connection)
            raise ReauthorizationRequired(connection.contractor_id) from None
        sealed = self._cipher.seal(connection.contractor_id, grant)
        refreshed = connection._replace(**sealed)  # type: ignore[arg-type]
        try:
            self._store.replace_tokens(connection, refreshed)
        except StaleConnection:
            # Only a reconnect writes without the lease; its tokens are the newest.
            return self._newer(connection)
        refreshed = refreshed._replace(token_version=connection.token_version + 1)
        self._plaintext[(refreshed.contractor_id, refreshed.token_version)] = grant.access_token
        return refreshed, grant.access_token

    def not_authorized(self, connection: Connection) -> None:
        """QBO answered 403 3100: the app is no longer authorized for the company, whatever
        the token. Flips the connection (its event from the write that flips it) and raises
        ReauthorizationRequired, so the invoice is kept and the payment parked as for a
        refused refresh token. If the tokens changed since `connection` was read (a reconnect,
        or a refresh elsewhere), the answer may be stale: RefreshInProgress, retried later."""
        if self._flip(connection):
            raise ReauthorizationRequired(connection.contractor_id)
        latest = self._store.get(connection.contractor_id)
        if latest is None or not latest.usable:
            raise ReauthorizationRequired(connection.contractor_id)
        raise RefreshInProgress(connection.contractor_id)

    def _flip(self, connection: Connection) -> bool:
        # Its Needs Reauthorization event comes from this write (the outbox), once.
        return self._store.mark_reauthorization_required(connection)

    def _await_refresh_by_other(self, seen: Connection) -> tuple[Connection, str]:
        deadline = time.monotonic() + WAIT_FOR_REFRESH_SECONDS
        while time.monotonic() < deadline:
            latest = self._store.get(seen.contractor_id)
            if latest is None or not latest.usable:
                raise ReauthorizationRequired(seen.contractor_id)
            if latest.token_version != seen.token_version:
                return latest, self._open(latest)
            time.sleep(0.2)
        raise RefreshInProgress(seen.contractor_id)

    def _newer(self, seen: Connection) -> tuple[Connection, str]:
        latest = self._store.get(seen.contractor_id)
        if latest is None or not latest.usable:
            raise ReauthorizationRequired(seen.contractor_id)
        return latest, self._open(latest)

    def _open(self, connection: Connection) -> str:
        # Decrypted once per token version per container: KMS is billed per call.
        key = (connection.contractor_id, connection.token_version)
        if key not in self._plaintext:
            self._plaintext[key] = self._cipher.decrypt(
                connection.contractor_id, "access_token", connection.access_token
            )
        return self._plaintext[key]


def _context(contractor_id: str, purpose: str) -> dict[str, str]:
    return {"contractor_id": contractor_id, "purpose": purpose}
