"""The page's connection section (docs/interface.md §2, §13): Connect, Intuit's callback, Launch and
Disconnect URLs, the connection, and Disconnect."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from qbo_sync.api.requests import contractor, json_response, query
from qbo_sync.connection.flow import disconnect, intuit_disconnected, start_connect
from qbo_sync.connection.oauth_states import STATE_LIFETIME_SECONDS
from qbo_sync.core.settings import get_settings
from qbo_sync.views.connection import connection_view
from qbo_sync.workflows.reconnect import complete_connect

router = APIGatewayHttpRouter()
CALLBACK_PATH = "/quickbooks/callback"
BINDING_COOKIE = "qbo_sync_connect"


@router.get("/quickbooks/connect")
def connect() -> Response[Any]:
    contractor_id, claims = contractor(router)
    enabled = str(claims.get(get_settings().payments_enabled_claim, "")).lower() == "true"
    started = start_connect(contractor_id, enabled, _redirect_uri())
    cookies = [_binding_cookie(started.browser_binding, STATE_LIFETIME_SECONDS)]
    if "application/json" in (router.current_event.headers.get("accept") or ""):
        return json_response(200, {"authorization_url": started.authorization_url}, cookies)
    return Response(302, headers={"Location": started.authorization_url}, cookies=cookies)


@router.get(CALLBACK_PATH)
def callback() -> Response[Any]:
    params = query(router)
    outcome = complete_connect(
        state=params.get("state", ""),
        browser_binding=_cookie(BINDING_COOKIE),
        code=params.get("code", ""),
        realm_id=params.get("realmId", ""),
        error=params.get("error", ""),
        redirect_uri=_redirect_uri(),
    )
    result = {"quickbooks": "connected"}
    if outcome.refusal is not None:
        result = {"quickbooks": "error", "reason": outcome.refusal.value}
    return _to_settings_page(result, cookies=[_binding_cookie("", 0)])


@router.get("/quickbooks/launch")
def launch() -> Response[Any]:
    """Intuit's Launch URL: the app opened from QuickBooks' list of apps."""
    return _to_settings_page({})


@router.get("/quickbooks/disconnected")
def disconnected() -> Response[Any]:
    """Intuit's Disconnect URL. Public, so it only asks Intuit (connection/flow.py)."""
    intuit_disconnected(query(router).get("realmId", ""))
    return _to_settings_page({"quickbooks": "disconnected"})


@router.get("/quickbooks/connection")
def get_connection() -> Response[Any]:
    contractor_id, _ = contractor(router)
    return json_response(200, connection_view(contractor_id))


@router.delete("/quickbooks/connection")
def delete_connection() -> Response[Any]:
    contractor_id, _ = contractor(router)
    disconnect(contractor_id)
    return Response(204, body="")


def _redirect_uri() -> str:
    uri = get_settings().oauth_redirect_uri
    if uri:
        return uri
    # Without a configured URI the callback is this API's own route; see template.yaml.
    return f"https://{router.current_event.request_context.domain_name}{CALLBACK_PATH}"


def _to_settings_page(result: dict[str, str], cookies: list[Cookie] | None = None) -> Response[Any]:
    settings_page = get_settings().settings_page_url
    separator = "&" if "?" in settings_page else "?"
    location = f"{settings_page}{separator}{urlencode(result)}" if result else settings_page
    headers = {"Location": location, "Cache-Control": "no-store"}
    return Response(302, headers=headers, cookies=cookies or [])


def _binding_cookie(value: str, max_age: int) -> Cookie:
    # SameSite=Lax: sent on Intuit's top-level redirect to the callback, never on cross-site posts.
    return Cookie(
        name=BINDING_COOKIE,
        value=value,
        path=CALLBACK_PATH,
        secure=True,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.LAX_MODE,
    )


def _cookie(name: str) -> str:
    for cookie in router.current_event.cookies or []:
        key, _, value = cookie.partition("=")
        if key.strip() == name:
            return value.strip()
    return ""
