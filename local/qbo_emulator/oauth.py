"""Intuit's OAuth 2.0 authorization server: codes, grants, rotating refresh tokens.

Strict on purpose: every rule here is one a real integration has broken in production
(reused codes, redirect mismatches, losing a rotated refresh token)."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
CODE_LIFETIME = 600.0
ACCESS_LIFETIME = 3600
REFRESH_ROLLING = 8726400  # what Intuit sends as x_refresh_token_expires_in (~101 days)
REFRESH_HARD = 5 * 365 * 86400  # Intuit's 2025 policy: a grant lives at most 5 years
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uris: list[str]


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    realm_id: str
    scope: str
    issued_at: float
    used: bool = False


@dataclass
class Grant:
    client_id: str
    realm_id: str
    scope: str
    hard_expires_at: float
    refresh_token: str
    refresh_expires_at: float
    revoked: bool = False
    # False once the app lost the company (QBO answers 403 3100) while the tokens still work;
    # a new consent is a new grant, authorized again.
    app_authorized: bool = True


@dataclass
class AccessToken:
    grant: Grant
    expires_at: float


@dataclass
class OAuthResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    realm_id: str | None = None


def _json(status: int, payload: Mapping[str, object], realm_id: str | None = None) -> OAuthResponse:
    headers = {
        "Content-Type": "application/json;charset=UTF-8",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }
    return OAuthResponse(status, json.dumps(payload).encode(), headers, realm_id)


def _error(status: int, error: str, realm_id: str | None = None) -> OAuthResponse:
    return _json(status, {"error": error}, realm_id)


def _error_page(reason: str) -> OAuthResponse:
    # Intuit shows an error page instead of redirecting: redirecting to an unverified URI
    # would make the authorization server an open redirector.
    html = f"<html><body><h1>Something went wrong</h1><p>{reason}</p></body></html>"
    return OAuthResponse(400, html.encode(), {"Content-Type": "text/html;charset=UTF-8"})


def _redirect(uri: str, params: dict[str, str], realm_id: str | None = None) -> OAuthResponse:
    separator = "&" if "?" in uri else "?"
    return OAuthResponse(302, b"", {"Location": uri + separator + urlencode(params)}, realm_id)


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    value = headers.get("authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


class OAuthServer:
    def __init__(self) -> None:
        self.apps: dict[str, App] = {}
        self.codes: dict[str, AuthCode] = {}
        self.grants_by_refresh: dict[str, Grant] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.issued: list[tuple[str, str]] = []  # (realm id, token): every token ever handed out
        # consent.py's one-time tickets: ticket -> (the validated authorize params, issued at)
        self.consent_tickets: dict[str, tuple[dict[str, str], float]] = {}

    def register_app(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self.apps[client_id] = App(client_id, client_secret, list(redirect_uris))

    # --- authorize -------------------------------------------------------------------

    def authorize(
        self, params: Mapping[str, str], decide: Callable[[], str | None], now: float
    ) -> OAuthResponse:
        """`decide` plays the signed-in user: it returns the company picked, or None to refuse."""
        app = self.apps.get(params.get("client_id", ""))
        if app is None:
            return _error_page("invalid_client: the client_id is not registered")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in app.redirect_uris:
            return _error_page("invalid_request: redirect_uri is not registered for this app")
        state = params.get("state")
        base = {"state": state} if state is not None else {}
        if params.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", **base})
        scope = params.get("scope", "")
        if ACCOUNTING_SCOPE not in scope.split():
            return _redirect(redirect_uri, {"error": "invalid_scope", **base})
        if state is None or state == "":
            # Intuit documents state as required (CSRF protection); a client that omits it
            # should find out here, not in production.
            return _redirect(redirect_uri, {"error": "invalid_request"})
        realm_id = decide()
        if realm_id is None:
            return _redirect(redirect_uri, {"error": "access_denied", "state": state})
        code = "AB" + secrets.token_urlsafe(36)
        self.codes[code] = AuthCode(app.client_id, redirect_uri, realm_id, scope, now)
        params = {"code": code, "state": state, "realmId": realm_id}
        return _redirect(redirect_uri, params, realm_id)

    # --- token endpoint --------------------------------------------------------------

    def _client(self, headers: Mapping[str, str], form: Mapping[str, str]) -> App | None:
        credentials = _basic_credentials(headers)
        if credentials is None and "client_id" in form:
            credentials = (form["client_id"], form.get("client_secret", ""))
        if credentials is None:
            return None
        app = self.apps.get(credentials[0])
        if app is None or not secrets.compare_digest(app.client_secret, credentials[1]):
            return None
        return app

    def token(
        self, headers: Mapping[str, str], form: Mapping[str, str], now: float
    ) -> OAuthResponse:
        app = self._client(headers, form)
        if app is None:
            return _error(401, "invalid_client")
        grant_type = form.get("grant_type")
        want_hard = headers.get(HARD_EXPIRY_HEADER, "").strip().lower() == "true"
        if grant_type == "authorization_code":
            return self._exchange_code(app, form, now, want_hard)
        if grant_type == "refresh_token":
            return self._refresh(app, form, now, want_hard)
        if not grant_type:
            return _error(400, "invalid_request")
        return _error(400, "unsupported_grant_type")

    def _exchange_code(
        self, app: App, form: Mapping[str, str], now: float, want_hard: bool
    ) -> OAuthResponse:
        code = self.codes.get(form.get("code", ""))
        if (
            code is None
            or code.used
            or code.client_id != app.client_id
            or now - code.issued_at >= CODE_LIFETIME
            or form.get("redirect_uri") != code.redirect_uri
        ):
            return _error(400, "invalid_grant")
        code.used = True
        grant = Grant(
            client_id=app.client_id,
            realm_id=code.realm_id,
            scope=code.scope,
            hard_expires_at=now + REFRESH_HARD,
            refresh_token="",
            refresh_expires_at=0.0,
        )
        return self._issue(grant, now, want_hard)

    def _refresh(
        self, app: App, form: Mapping[str, str], now: float, want_hard: bool
    ) -> OAuthResponse:
        grant = self.grants_by_refresh.get(form.get("refresh_token", ""))
        if (
            grant is None
            or grant.revoked
            or grant.client_id != app.client_id
            or now >= grant.refresh_expires_at
        ):
            return _error(400, "invalid_grant", grant.realm_id if grant else None)
        # Rotation: the presented token dies now. A client that loses the new one (crash
        # between refresh and save, two processes refreshing at once) is locked out, as
        # with Intuit once the old token has aged out.
        del self.grants_by_refresh[grant.refresh_token]
        return self._issue(grant, now, want_hard)

    def _issue(self, grant: Grant, now: float, want_hard: bool) -> OAuthResponse:
        grant.refresh_token = "RT1-" + secrets.token_urlsafe(40)
        grant.refresh_expires_at = min(now + REFRESH_ROLLING, grant.hard_expires_at)
        self.grants_by_refresh[grant.refresh_token] = grant
        access = "eyJ" + secrets.token_urlsafe(96)
        self.access_tokens[access] = AccessToken(grant, now + ACCESS_LIFETIME)
        self.issued += [(grant.realm_id, grant.refresh_token), (grant.realm_id, access)]
        payload: dict[str, object] = {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": ACCESS_LIFETIME,
            "refresh_token": grant.refresh_token,
            "x_refresh_token_expires_in": int(grant.refresh_expires_at - now),
        }
        if want_hard:
            payload["x_refresh_token_hard_expires_in"] = int(grant.hard_expires_at - now)
        return _json(200, payload, grant.realm_id)

    # --- revoke ------------------------------------------------------------------------

    def revoke(self, headers: Mapping[str, str], body: bytes) -> OAuthResponse:
        app = self._client(headers, {})
        if app is None:
            return _error(401, "invalid_client")
        try:
            token = json.loads(body.decode("utf-8")).get("token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            return _error(400, "invalid_request")
        grant = self._grant_for(token)
        if grant is None:
            # RFC 7009 2.2: an unknown or already invalid token is not an error; the client
            # wanted it dead and it is. Intuit's revoke behaves the same as far as we know.
            return OAuthResponse(200)
        if grant.client_id != app.client_id:
            return _error(400, "invalid_request", grant.realm_id)
        grant.revoked = True
        return OAuthResponse(200, realm_id=grant.realm_id)

    def _grant_for(self, token: str) -> Grant | None:
        grant = self.grants_by_refresh.get(token)
        if grant is None and token in self.access_tokens:
            grant = self.access_tokens[token].grant
        return grant

    # --- use by the Accounting API and test knobs --------------------------------------

    def bearer(self, headers: Mapping[str, str], now: float) -> AccessToken | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        access = self.access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if access is None or access.grant.revoked or now >= access.expires_at:
            return None
        return access

    def expire_access_tokens(self, realm_id: str | None, now: float) -> None:
        for access in self.access_tokens.values():
            if realm_id is None or access.grant.realm_id == realm_id:
                access.expires_at = min(access.expires_at, now)

    def deauthorize_app(self, realm_id: str) -> None:
        for grant in self.grants_by_refresh.values():
            if grant.realm_id == realm_id:
                grant.app_authorized = False

    def revoke_grants(self, realm_id: str | None) -> None:
        for grant in self.grants_by_refresh.values():
            if realm_id is None or grant.realm_id == realm_id:
                grant.revoked = True
