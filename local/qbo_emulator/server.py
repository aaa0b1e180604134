"""HTTP plumbing and routing: Intuit's OAuth endpoints and the Accounting API on one port."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import consent
from .api import PREFIX, AccountingApi
from .oauth import OAuthResponse
from .state import RequestRecord, State
from .wire import Request, Response, transaction_id

AUTHORIZE = "/connect/oauth2"
TOKEN = "/oauth2/v1/tokens/bearer"
REVOKE = "/v2/oauth2/tokens/revoke"
USERINFO = "/v1/openid_connect/userinfo"
JWKS = "/op/v1/jwks"
DISCOVERY = ("/.well-known/openid_configuration", "/.well-known/openid_sandbox_configuration")


def _json(status: int, payload: object) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def discovery_document(base_url: str) -> dict[str, object]:
    return {
        "issuer": base_url + "/op/v1",
        "authorization_endpoint": base_url + AUTHORIZE,
        "token_endpoint": base_url + TOKEN,
        "userinfo_endpoint": base_url + USERINFO,
        "revocation_endpoint": base_url + REVOKE,
        "jwks_uri": base_url + JWKS,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }


class Router:
    def __init__(
        self, state: State, base_url: Callable[[], str], consent_page: bool = False
    ) -> None:
        self.state = state
        self.base_url = base_url
        self.api = AccountingApi(state)
        self.consent_page = consent_page

    def route(self, req: Request) -> Response:
        response = self._route(req)
        # Intuit stamps every answer with intuit_tid, the id its support asks for.
        response.headers.setdefault("intuit_tid", transaction_id())
        return response

    def _route(self, req: Request) -> Response:
        if req.path.startswith(PREFIX):
            return self.api.handle(req)
        path = req.path.rstrip("/") or "/"
        if req.method == "GET" and path in DISCOVERY:
            return _json(200, discovery_document(self.base_url()))
        if req.method == "GET" and path == JWKS:
            return _json(200, {"keys": []})
        endpoint = {
            ("GET", AUTHORIZE): self._authorize,
            ("POST", TOKEN): self._token,
            ("POST", REVOKE): self._revoke,
            ("GET", USERINFO): self._userinfo,
        }.get((req.method, path))
        if endpoint is None:
            return _json(404, {"error": "not_found"})
        response = endpoint(req)
        self.state.record(
            RequestRecord(req.method, path, response.realm_id, None, response.status, "oauth")
        )
        return Response(response.status, response.body, response.headers)

    def _authorize(self, req: Request) -> OAuthResponse:
        with self.state.lock:
            if self.consent_page:
                return consent.authorize(self.state, req.params, self.state.clock.now())
            return self.state.oauth.authorize(
                req.params, self.state.decide_consent, self.state.clock.now()
            )

    def _injected(self) -> OAuthResponse | None:
        # Only the token and revoke endpoints: they are the Intuit calls a backend makes.
        status = self.state.chaos.take_failure("oauth", None)
        if status is None:
            return None
        headers = {"Retry-After": "1"} if status == 429 else {}
        return OAuthResponse(status, b"", headers)

    def _token(self, req: Request) -> OAuthResponse:
        form = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
        with self.state.lock:
            return self._injected() or self.state.oauth.token(
                req.headers, form, self.state.clock.now()
            )

    def _revoke(self, req: Request) -> OAuthResponse:
        with self.state.lock:
            return self._injected() or self.state.oauth.revoke(req.headers, req.body)

    def _userinfo(self, req: Request) -> OAuthResponse:
        with self.state.lock:
            access = self.state.oauth.bearer(req.headers, self.state.clock.now())
        if access is None:
            return OAuthResponse(401, b"", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if "openid" not in access.grant.scope.split():
            return OAuthResponse(
                403, b'{"error":"insufficient_scope"}', {"Content-Type": "application/json"}
            )
        payload = {"sub": f"user-{access.grant.realm_id}", "realmid": access.grant.realm_id}
        return OAuthResponse(
            200,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json"},
            access.grant.realm_id,
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops SYNs under a burst; the client then retries a second
    # later, which would hide the very concurrency the rate limits are about.
    request_queue_size = 128
    router: Router

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that timed out or hung up is part of the scenarios, not an emulator bug.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, delayed ACKs add ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        req = Request(
            method=self.command,
            path=url.path,
            params=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        response = self.server.router.route(req)
        if response.drop:
            # The "committed but never answered" window: close without a status line.
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request log is emu.requests; stderr noise helps nobody in test output


def make_server(host: str, port: int, router: Router) -> _Server:
    server = _Server((host, port), _Handler)
    server.router = router
    return server
