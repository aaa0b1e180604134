"""What the customer-link tests share (docs/interface.md §16): the routes through the HTTP API."""

from __future__ import annotations

import json
from typing import Any

from local.environment import LocalEnvironment


def call(
    env: LocalEnvironment, method: str, path: str, contractor: str, body: Any = None
) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {} if body is None else {"body": json.dumps(body)}
    response = env.platform.api(method, path, contractor, **kwargs)
    text = response.get("body") or "null"
    return int(response["statusCode"]), json.loads(text)


def search(env: LocalEnvironment, contractor: str, text: str) -> tuple[int, Any]:
    from urllib.parse import quote

    return call(env, "GET", f"/quickbooks/customers?search={quote(text)}", contractor)


def link(
    env: LocalEnvironment, contractor: str, client_id: str, qbo_customer_id: Any
) -> tuple[int, Any]:
    body = {"qbo_customer_id": qbo_customer_id}
    return call(env, "PUT", f"/quickbooks/clients/{client_id}/customer", contractor, body)


def unlink(env: LocalEnvironment, contractor: str, client_id: str) -> int:
    status, _ = call(env, "DELETE", f"/quickbooks/clients/{client_id}/customer", contractor)
    return status


def links(env: LocalEnvironment, contractor: str) -> list[dict[str, Any]]:
    status, body = call(env, "GET", "/quickbooks/clients", contractor)
    assert status == 200, body
    return list(body["items"])


def exports(env: LocalEnvironment, contractor: str) -> dict[str, dict[str, Any]]:
    status, body = call(env, "GET", "/quickbooks/exports", contractor)
    assert status == 200, body
    return {item["invoice_id"]: item for item in body["items"]}
