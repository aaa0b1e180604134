"""The Accounting API pipeline for one request: injected faults, throttles, latency,
authentication, requestid replay, the entity operation, and the optional lost response."""

from __future__ import annotations

import time
from typing import Any

from . import accounting, faults
from .authorization import app_not_authorized
from .clock import response_time
from .company import Company, Replay
from .jsonio import BadJson, Json, dumps, loads, to_xml
from .state import RequestRecord, State
from .wire import Request, Response, transaction_id

PREFIX = "/v3/company/"


def _split(path: str) -> tuple[str, list[str]]:
    realm_id, _, rest = path[len(PREFIX) :].partition("/")
    return realm_id, [part for part in rest.split("/") if part]


def _render(
    req: Request, status: int, payload: Json, headers: dict[str, str] | None = None
) -> Response:
    wants_json = "application/json" in req.headers.get("accept", "")
    if wants_json:
        body = dumps(payload).encode()
        content_type = "application/json;charset=UTF-8"
    else:
        # Without Accept: application/json QBO answers XML, and so does the emulator.
        inner = "".join(to_xml(k, v) for k, v in payload.items() if k != "time")
        body = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse '
            f'xmlns="http://schema.intuit.com/finance/v3" time="{payload.get("time", "")}">'
            f"{inner}</IntuitResponse>"
        ).encode()
        content_type = "application/xml;charset=UTF-8"
    return Response(status, body, {"Content-Type": content_type, **(headers or {})})


def _render_error(req: Request, error: faults.ApiError, now: float) -> Response:
    payload = error.body(response_time(now))
    if isinstance(error, faults.GatewayFault):
        body = dumps(payload).encode()
        return Response(error.status, body, {"Content-Type": "application/json", **error.headers})
    return _render(req, error.status, payload, error.headers)


def _injected(req: Request, status: int, now: float) -> Response:
    if status == 401:
        return _render_error(req, faults.authentication(now), now)
    if status == 403:
        return _render_error(req, faults.authorization(now), now)
    if status == 429:
        error = faults.throttled(1)
        return _render(req, 429, error.body(response_time(now)), error.headers)
    if status == 500:
        return _render(req, 500, faults.system_error().body(response_time(now)))
    if status >= 500:
        # Gateways in front of QBO answer 502/503/504 with no Fault at all.
        return Response(status, b"", {"Content-Type": "text/html"})
    error = faults.ApiError(
        status, "SystemFault", [{"Message": "Injected failure", "code": str(status)}]
    )
    return _render(req, status, error.body(response_time(now)))


class AccountingApi:
    def __init__(self, state: State) -> None:
        self.state = state

    def handle(self, req: Request) -> Response:
        realm_id, segments = _split(req.path)
        entity = self._entity_of(req, segments)
        response = self._throttled_pipeline(req, realm_id, segments)
        response.headers.setdefault("intuit_tid", transaction_id())
        status = 0 if response.drop else response.status
        self.state.record(RequestRecord(req.method, req.path, realm_id, entity, status, "api"))
        return response

    def _throttled_pipeline(self, req: Request, realm_id: str, segments: list[str]) -> Response:
        state = self.state
        with state.lock:
            now = state.clock.now()
            injected = state.chaos.take_failure("api", realm_id, now)
            if injected is not None:
                return _injected(req, injected, now)
            retry_after = state.limiter.admit(realm_id)
            if retry_after is not None:
                error = faults.throttled(retry_after)
                return _render(req, 429, error.body(response_time(now)), error.headers)
            delay = state.latency + state.chaos.take_timeout()
        try:
            if delay > 0:
                time.sleep(delay)  # outside the lock: concurrent requests overlap
            with state.lock:
                return self._process(req, realm_id, segments)
        finally:
            with state.lock:
                state.limiter.release(realm_id)

    def _entity_of(self, req: Request, segments: list[str]) -> str | None:
        if segments[:1] == ["query"]:
            text = req.params.get("query") or req.body.decode("utf-8", "replace")
            word = text.lower().split(" from ", 1)
            return (
                accounting.entity_name(word[1].split()[0])
                if len(word) == 2 and word[1].split()
                else None
            )
        return accounting.entity_name(segments[0]) if segments else None

    def _process(self, req: Request, realm_id: str, segments: list[str]) -> Response:
        now = self.state.clock.now()
        stamp = response_time(now)
        try:
            company = self._authenticate(req, realm_id, now)
            request_id = req.params.get("requestid") if req.method == "POST" else None
            if request_id is not None and request_id in company.replays:
                replay = company.replays[request_id]
                return Response(replay.status, replay.body, {"Content-Type": replay.content_type})
            try:
                self._injected_rejection(req, realm_id, segments)
                payload, created = self._dispatch(req, company, segments, now)
                status = 200
            except faults.ApiError as error:
                status, payload, created = error.status, error.body(stamp), False
            payload.setdefault("time", stamp)
            response = _render(req, status, payload)
            if request_id is not None:
                company.replays[request_id] = Replay(
                    response.status, response.body, response.headers["Content-Type"]
                )
            if created and self.state.chaos.take_crash():
                response.drop = True
            return response
        except faults.ApiError as error:
            return _render_error(req, error, now)

    def _injected_rejection(self, req: Request, realm_id: str, segments: list[str]) -> None:
        """A write QBO's validation refuses (emulator.reject_next): after authentication and
        the requestid check, as QBO validates, so its answer is remembered like any other."""
        if req.method != "POST" or len(segments) != 1:
            return
        error = self.state.chaos.take_rejection(accounting.entity_name(segments[0]), realm_id)
        if error is not None:
            raise faults.ApiError(400, "ValidationFault", [error])

    def _authenticate(self, req: Request, realm_id: str, now: float) -> Company:
        access = self.state.oauth.bearer(req.headers, now)
        if access is None:
            raise faults.authentication(now)
        if access.grant.realm_id != realm_id or realm_id not in self.state.companies:
            raise faults.authorization(now)
        if not access.grant.app_authorized:
            raise app_not_authorized(now)
        return self.state.companies[realm_id]

    def _dispatch(
        self, req: Request, company: Company, segments: list[str], now: float
    ) -> tuple[Json, bool]:
        """Returns the payload and whether the request created an entity."""
        if not segments:
            raise accounting.unsupported(req.path)
        head = segments[0].lower()
        if head == "query" and len(segments) == 1 and req.method in ("GET", "POST"):
            text = req.params.get("query") if req.method == "GET" else req.body.decode("utf-8")
            if not text:
                raise faults.query_parse("Encountered end of statement")
            name, result = accounting.run_query(company, text)
            return {"QueryResponse": result}, False
        if req.method == "GET" and segments == ["preferences"]:
            # Preferences is one document per company, read without an Id.
            name, row = accounting.read(company, head, "", req.path)
            return {name: row}, False
        if req.method == "GET" and len(segments) == 2:
            name, row = accounting.read(company, head, segments[1], req.path)
            return {name: row}, False
        if req.method == "POST" and len(segments) == 1:
            body = self._json_body(req)
            operation = req.params.get("operation")
            include = req.params.get("include")
            name, row, created = accounting.write(
                company, head, body, operation, req.path, now, include
            )
            return {name: row}, created
        raise accounting.unsupported(req.path)

    @staticmethod
    def _json_body(req: Request) -> Any:
        try:
            return loads(req.body)
        except BadJson as exc:
            raise faults.validation(
                "2010", f"Request has invalid or unsupported property: {exc}", ""
            ) from exc
