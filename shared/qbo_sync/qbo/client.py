"""A small QuickBooks Online Accounting API client: speaks QBO entities, queries and faults.

Every POST carries a `requestid`, so QBO answers a repeated request with its first response. That
is what makes retrying a create safe, here (urllib3's Retry) and across Lambda invocations.

Requests go out through urllib3's PoolManager, not requests' Session: the consumers' QBO calls
need nothing requests adds (cookies, proxies, hooks), which costs about 0.4 ms of CPU a request
and 20 ms of every consumer's cold start to import (bench figures 1 and 8). requests stays in
the layer for intuit-oauth, which the token calls load when they need it.

Every request goes through `_send`, the one place that counts Intuit's metered reads (each 2xx
answer to a GET, query, batch or CDC call) and, through `_Retry`, each 429 Intuit answers; the
counts are stored and published once per invocation (core/metering.py), never per request.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import takewhile
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode

import urllib3
from aws_lambda_powertools import Logger
from urllib3.exceptions import HTTPError
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

from qbo_sync.core import metering
from qbo_sync.core.tracing import remote_call
from qbo_sync.qbo.faults import NotAuthorized, QboError, QboUnavailable, exception_for

logger = Logger(child=True)

MINOR_VERSION = "75"
# Four attempts at most, so a request gives up well inside the consumer's 60 s.
TIMEOUT = urllib3.Timeout(connect=3.05, read=10)
REQUEST_ID_NAMESPACE = uuid.UUID("6f1d7a52-3c1b-4d7e-9a40-0b2a1f4e8c11")
MAX_RETRY_AFTER_SECONDS = 10


class _Retry(Retry):
    """Honours Retry-After, but never waits longer than MAX_RETRY_AFTER_SECONDS in one go: a
    longer wait is better spent by SQS redelivering the message than by a running Lambda."""

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER_SECONDS)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        # Called once per retried failure, with Intuit's response when there was one.
        if response is not None and response.status == 429:
            metering.count_throttled()
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        # urllib3 retries the first failure at once, without jitter: every Lambda that met the
        # same 503 or throttle would hit QBO again in the same instant. Here the first retry
        # waits backoff_factor (+ jitter) too, and each next one twice as long.
        errors = len(list(takewhile(lambda r: r.redirect_location is None, reversed(self.history))))
        if errors == 0:
            return 0.0
        backoff = self.backoff_factor * 2 ** (errors - 1) + random.random() * self.backoff_jitter
        return float(min(self.backoff_max, backoff))


# The one retry policy: throttling (429), server errors, timeouts and dropped connections are
# retried with exponential backoff and jitter (0.5, 1, 2, 4 s, each + up to 0.25 s), honouring
# Retry-After; POSTs included because every POST carries a requestid. After that the caller sees
# QboUnavailable, and the message goes back to SQS.
RETRY = _Retry(
    total=4,
    connect=3,
    read=3,
    status=4,
    backoff_factor=0.5,
    backoff_jitter=0.25,
    backoff_max=8,
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=frozenset({"GET", "POST"}),
    respect_retry_after_header=True,
    raise_on_status=False,
)


def request_id(*parts: str) -> str:
    """A deterministic requestid: the same logical write always sends the same one."""
    return str(uuid.uuid5(REQUEST_ID_NAMESPACE, "\x1f".join(parts)))


def content_digest(fields: dict[str, Any]) -> str:
    """Part of a create's requestid: the same write with other content is another request."""
    canonical = json.dumps(_json_ready(fields), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def quote(value: str) -> str:
    """A QBO query string literal: single quotes, with backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class QboClient:
    base_url: str
    realm_id: str
    access_token: Callable[[bool], str]  # called with True to force a refresh after a 401
    http: urllib3.PoolManager
    # Called with a 403 3100 (the app lost the company) before it is raised: the connection
    # decides what it means (connection/services.py flips it and raises its own exception).
    not_authorized: Callable[[NotAuthorized], None] | None = None

    def query(self, statement: str) -> list[dict[str, Any]]:
        entity = statement.split(" from ", 1)[1].split()[0]
        body = self._send("GET", "query", params={"query": statement})
        rows = body.get("QueryResponse", {}).get(entity, [])
        return list(rows)

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        body = self._send("GET", f"{entity.lower()}/{entity_id}")
        return dict(body[entity])

    def create(self, entity: str, fields: dict[str, Any], requestid: str) -> dict[str, Any]:
        body = self._send("POST", entity.lower(), json_body=fields, requestid=requestid)
        return dict(body[entity])

    def update(self, entity: str, fields: dict[str, Any], requestid: str) -> dict[str, Any]:
        sparse = {"sparse": True, **fields}
        body = self._send("POST", entity.lower(), json_body=sparse, requestid=requestid)
        return dict(body[entity])

    def void(self, entity: str, fields: dict[str, Any], requestid: str) -> dict[str, Any]:
        """`operation=void` (Invoice: Id and the current SyncToken)."""
        body = self._send(
            "POST",
            entity.lower(),
            params={"operation": "void"},
            json_body=fields,
            requestid=requestid,
        )
        return dict(body[entity])

    def company_name(self) -> str | None:
        body = self._send("GET", f"companyinfo/{self.realm_id}")
        info = body.get("CompanyInfo", {})
        name = info.get("CompanyName") or info.get("LegalName")
        return str(name) if name else None

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        requestid: str | None = None,
    ) -> dict[str, Any]:
        query = {**(params or {}), "minorversion": MINOR_VERSION}
        if requestid:
            query["requestid"] = requestid
        url = f"{self.base_url}/v3/company/{self.realm_id}/{path}"
        payload = _json_ready(json_body) if json_body is not None else None
        response = self._attempt(method, url, query, payload, force_refresh=False)
        if response.status == 401:
            response = self._attempt(method, url, query, payload, force_refresh=True)
        if response.status >= 400:
            fault = _fault(response)
            _log_failure(method, path, fault)
            if isinstance(fault, NotAuthorized) and self.not_authorized is not None:
                self.not_authorized(fault)
            raise fault
        if metering.is_metered(method, path):
            metering.count_read(self.realm_id)
        return dict(json.loads(response.data))

    def _attempt(
        self,
        method: str,
        url: str,
        query: dict[str, str],
        payload: Any,
        force_refresh: bool,
    ) -> BaseHTTPResponse:
        headers = {
            "Authorization": f"Bearer {self.access_token(force_refresh)}",
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload, allow_nan=False).encode()
        with remote_call("QuickBooks Online", method, url) as answered:
            try:
                # RETRY looked up per request: a test may swap it for one without backoff.
                response = self.http.request(
                    method,
                    f"{url}?{urlencode(query)}",
                    body=body,
                    headers=headers,
                    timeout=TIMEOUT,
                    retries=RETRY,
                )
            except HTTPError as error:  # connection, timeout or protocol errors, retries spent
                raise QboUnavailable(0, "network", type(error).__name__) from None
            answered(response.status)
            return response


def new_pool() -> urllib3.PoolManager:
    """The container's connections to QuickBooks, kept alive between invocations. Verified
    against certifi's CA bundle, as requests did (certifi comes with requests, in the layer)."""
    import certifi

    return urllib3.PoolManager(num_pools=4, maxsize=10, ca_certs=certifi.where())


def _fault(response: BaseHTTPResponse) -> QboError:
    status = response.status
    first = _first_error(response)
    code = str(first.get("code", status))
    message = str(first.get("message", response.reason or ""))
    kind = exception_for(status, code)
    return kind(
        status,
        code,
        message,
        str(first.get("detail", "")),
        str(first.get("element", "")),
        response.headers.get("intuit_tid", ""),
    )


def _first_error(response: BaseHTTPResponse) -> dict[str, Any]:
    """The fault's first error, its keys lower-cased: validation faults come as
    `{"Fault": {"Error": [{"Message", "Detail", ...}]}}`, authorization faults (401, 403) as
    `{"fault": {"error": [{"message", "detail", ...}]}}`."""
    try:
        body = json.loads(response.data)
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return {}
    if not isinstance(body, dict):
        return {}
    fault = _lower_keys(body).get("fault")
    errors = _lower_keys(fault).get("error") if isinstance(fault, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    return _lower_keys(first) if isinstance(first, dict) else {}


def _lower_keys(value: dict[str, Any]) -> dict[str, Any]:
    return {str(key).lower(): item for key, item in value.items()}


def _log_failure(method: str, path: str, fault: QboError) -> None:
    # The path names entities and ids, never a token; the query string (a customer's name in
    # a query) is left out.
    logger.warning(
        "QuickBooks request failed",
        method=method,
        path=path.split("?")[0],
        status=fault.status,
        qbo_code=fault.code,
        intuit_tid=fault.intuit_tid,
    )


def _json_ready(value: Any) -> Any:
    # QBO wants JSON numbers for money; Decimal keeps cents exact until the wire.
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral() else int(value)
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    return value
