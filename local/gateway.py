"""A local HTTP gateway for a real browser: what API Gateway's HTTP API does for our routes.

- `/quickbooks/...`: the route is matched against template.yaml's HttpApi events
  (`LambdaRuntime.http_function`); behind the JWT authorizer, `Authorization: Bearer` must
  carry a token `local.identity` accepts, else 401 `{"message": "Unauthorized"}` without
  invoking, as API Gateway answers. The request becomes a payload 2.0 event
  (`LambdaRuntime.http`: cookies array, query parameters, the authorizer's claims) and the
  handler's response goes back: status, headers, each of `cookies` as its own Set-Cookie,
  the body (base64-decoded when `isBase64Encoded`).
- `/demo/token?contractor=&payments_enabled=&expired=`: the platform's sign-in, reduced to
  handing a contractor (default the demo contractor) a token; `expired=true` hands one that has
  already expired, as a page kept open past its token's life holds.
- `unavailable = True` plays the API down: every `/quickbooks/` request answers 503 as API
  Gateway does when the function cannot run.
- anything else: a file of `web/` (`/` is `index.html`), the page the platform would serve.

Page and API share one origin, as a platform's page and an API on its own site do: the connect
cookie is then first-party. One lock runs one invocation at a time (a Lambda container takes
one request at a time, and the handlers share this process's environment); with
`poll_events` a thread plays the event source mappings, so exports happen as in AWS.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.environment import LocalEnvironment
from local.identity import TOKEN_LIFETIME, DemoIdentity

logger = logging.getLogger(__name__)

API_PREFIX = "/quickbooks/"
TOKEN_PATH = "/demo/token"
DEMO_CONTRACTOR = "ctr_demo"
_HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}
_STATIC_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class Gateway:
    """Bound at construction, so the URL is known before the stack is deployed with it."""

    def __init__(self, web_root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.web_root = web_root.resolve()
        self._server = _Server((host, port), _Handler)
        self._server.gateway = self
        self.lock = threading.Lock()
        self.env: LocalEnvironment | None = None
        self.identity: DemoIdentity | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.unavailable = False

    @property
    def url(self) -> str:
        # localhost: browsers treat it as a secure context, so the Secure connect cookie is
        # kept over plain http as over https in AWS; and with the emulator on 127.0.0.1,
        # Intuit's redirect back is cross-site as in production, so SameSite=Lax is exercised.
        return f"http://localhost:{self._server.server_address[1]}"

    @property
    def settings_page_url(self) -> str:
        return self.url + "/"

    @property
    def callback_url(self) -> str:
        return self.url + "/quickbooks/callback"

    def serve(self, env: LocalEnvironment, poll_events: bool = True) -> None:
        self.env = env
        params = env.stack.parameters
        self.identity = DemoIdentity(params["JwtIssuer"], params["JwtAudience"])
        self._start(self._server.serve_forever, "gateway")
        if poll_events:
            self._start(self._poll, "event-sources")

    def _start(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def drain(self) -> None:
        """Let the functions consume every queued message and event (what Lambda's pollers do)."""
        assert self.env is not None
        with self.lock:
            self.env.runtime.drain()
            # The invoicing service answers History Requested, then its replays drain.
            if self.env.platform.invoicing.answer():
                self.env.runtime.drain()

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.drain()
            except Exception:  # the next round tries again, as Lambda's pollers do
                logger.exception("event source polling failed")

    def token(
        self, payments_enabled: bool, contractor_id: str = DEMO_CONTRACTOR, expired: bool = False
    ) -> dict[str, Any]:
        assert self.env is not None and self.identity is not None
        claims = self.env.platform.claims(contractor_id, payments_enabled)
        issued = time.time() - (TOKEN_LIFETIME + 60 if expired else 0)
        return {"token": self.identity.issue(claims, now=issued), "contractor_id": contractor_id}

    def invoke(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> dict[str, Any]:
        """One request to our API, answered as API Gateway would (payload 2.0 response)."""
        assert self.env is not None and self.identity is not None
        if self.unavailable:
            return _gateway_error(503, "Service Unavailable")
        runtime = self.env.runtime
        function_id = runtime.http_function(method, target)
        if function_id is None:
            return _gateway_error(404, "Not Found")
        claims = self.identity.claims(headers.get("authorization"))
        forwarded = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
        with self.lock:
            return runtime.http(
                function_id,
                method,
                target,
                headers=forwarded,
                claims=claims,
                body=body.decode("utf-8") if body else None,
            )

    def static_file(self, path: str) -> Path | None:
        relative = "index.html" if path in ("", "/") else path.lstrip("/")
        candidate = (self.web_root / relative).resolve()
        if not candidate.is_relative_to(self.web_root) or not candidate.is_file():
            return None
        return candidate


def _gateway_error(status: int, message: str) -> dict[str, Any]:
    body = json.dumps({"message": message})
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": body}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: Gateway


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    @property
    def gateway(self) -> Gateway:
        return self.server.gateway

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if split.path.startswith(API_PREFIX):
            headers = {name.lower(): value for name, value in self.headers.items()}
            self._lambda_response(self.gateway.invoke(self.command, self.path, headers, body))
        elif split.path == TOKEN_PATH and self.command == "GET":
            query = parse_qs(split.query)
            enabled = query.get("payments_enabled", ["true"])[0] != "false"
            contractor_id = query.get("contractor", [DEMO_CONTRACTOR])[0] or DEMO_CONTRACTOR
            expired = query.get("expired", ["false"])[0] == "true"
            payload = json.dumps(self.gateway.token(enabled, contractor_id, expired)).encode()
            self._send(200, {"Content-Type": "application/json", **_STATIC_HEADERS}, payload)
        else:
            self._static(split.path)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def _static(self, path: str) -> None:
        found = self.gateway.static_file(path) if self.command == "GET" else None
        if found is None:
            self._send(404, {"Content-Type": "text/plain"}, b"Not found")
            return
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        if found.suffix == ".js":
            kind = "text/javascript"  # ES modules need a JavaScript MIME type
        headers = {"Content-Type": f"{kind}; charset=utf-8", **_STATIC_HEADERS}
        self._send(200, headers, found.read_bytes())

    def _lambda_response(self, response: dict[str, Any]) -> None:
        body = response.get("body") or ""
        payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        cookies = list(response.get("cookies") or [])
        self._send(int(response.get("statusCode", 200)), headers, payload, cookies)

    def _send(
        self, status: int, headers: dict[str, str], body: bytes, cookies: list[str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)
