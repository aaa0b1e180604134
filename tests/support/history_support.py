"""What the history tests share (docs/interface.md §15): the request through the HTTP API, the
platform's answer, the emulator's metered reads, and an invoice keyed in by hand."""

from __future__ import annotations

import json
from typing import Any

from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator


def api(env: LocalEnvironment, method: str, contractor: str, body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {} if body is None else {"body": json.dumps(body)}
    response = env.platform.api(method, "/quickbooks/history", contractor, **kwargs)
    text = response.get("body") or "null"
    return int(response["statusCode"]), json.loads(text)


def request_history(env: LocalEnvironment, contractor: str, since: str) -> dict[str, Any]:
    status, body = api(env, "POST", contractor, {"since": since})
    assert status == 202, body
    return dict(body)


def progress(env: LocalEnvironment, contractor: str) -> dict[str, Any]:
    status, body = api(env, "GET", contractor)
    assert status == 200, body
    return dict(body)


def run_history(env: LocalEnvironment) -> int:
    """The outbox emits History Requested, the invoicing service answers, the consumer drains
    the replays; returns how many invoices the service replayed."""
    env.runtime.drain()
    replayed = env.platform.invoicing.answer()
    env.runtime.drain()
    return replayed


def metered_reads(qbo: QboEmulator, realm: str, entity: str | None = None) -> int:
    """The requests Intuit would meter for the company (of that entity), from the emulator's
    own log."""
    return sum(
        1
        for r in qbo.requests
        if r.kind == "api"
        and r.realm_id == realm
        and entity in (None, r.entity)
        and 200 <= r.status < 300
        and (r.method == "GET" or r.path.rsplit("/", 1)[-1] in ("query", "batch", "cdc"))
    )


def hand_key(
    qbo: QboEmulator, realm: str, number: str, customer: str, amount: str
) -> dict[str, Any]:
    """An invoice the contractor keyed into QuickBooks by hand before connecting."""
    return qbo.key_invoice(
        realm, number, customer, amount, TxnDate="2026-10-02", PrivateNote="keyed in by hand"
    )
