"""HTTP routes for the settings page: connect, Intuit's callback, the connection itself, the
export status list with its retry, the account settings, and the payouts with their retry."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.typing import LambdaContext
from qbo_sync.api.support import Forbidden
from qbo_sync.api.support import router as support_router
from qbo_sync.connection.flow import (
    PaymentsNotEnabled,
    disconnect,
    intuit_disconnected,
    start_connect,
)
from qbo_sync.connection.oauth_states import STATE_LIFETIME_SECONDS
from qbo_sync.core.settings import configured, get_settings
from qbo_sync.core.tracing import traced
from qbo_sync.payout_status import PayoutNotFound, list_payouts
from qbo_sync.status import (
    ExportNotFound,
    InvalidRequest,
    NotConnected,
    connection_view,
    list_exports,
)
from qbo_sync.workflows.account_settings import (
    InvalidAccount,
    change_settings,
    list_accounts,
    view_settings,
)
from qbo_sync.workflows.payout_retry import retry_payout
from qbo_sync.workflows.reconnect import complete_connect
from qbo_sync.workflows.retry import retry_export

logger = Logger()
app = APIGatewayHttpResolver()
app.include_router(support_router)  # the support view (contracts.md §18)
CALLBACK_PATH = "/quickbooks/callback"
BINDING_COOKIE = "qbo_sync_connect"


class NotAuthenticated(Exception):
    pass


@app.get("/quickbooks/connect")
def connect() -> Response:
    contractor_id, claims = _contractor()
    enabled = str(claims.get(get_settings().payments_enabled_claim, "")).lower() == "true"
    started = start_connect(contractor_id, enabled, _redirect_uri())
    cookies = [_binding_cookie(started.browser_binding, STATE_LIFETIME_SECONDS)]
    if "application/json" in (app.current_event.headers.get("accept") or ""):
        return _json(200, {"authorization_url": started.authorization_url}, cookies)
    return Response(302, headers={"Location": started.authorization_url}, cookies=cookies)


@app.get(CALLBACK_PATH)
def callback() -> Response:
    params = app.current_event.query_string_parameters or {}
    outcome = complete_connect(
        state=params.get("state", ""),
        browser_binding=_cookie(BINDING_COOKIE),
        code=params.get("code", ""),
        realm_id=params.get("realmId", ""),
        error=params.get("error", ""),
        redirect_uri=_redirect_uri(),
    )
    query = {"quickbooks": "connected"}
    if outcome.refusal is not None:
        query = {"quickbooks": "error", "reason": outcome.refusal.value}
    return _to_settings_page(query, cookies=[_binding_cookie("", 0)])


@app.get("/quickbooks/launch")
def launch() -> Response:
    """Intuit's Launch URL: the app opened from QuickBooks' list of apps."""
    return _to_settings_page({})


@app.get("/quickbooks/disconnected")
def disconnected() -> Response:
    """Intuit's Disconnect URL. Public, so it only asks Intuit (connection/flow.py)."""
    params = app.current_event.query_string_parameters or {}
    intuit_disconnected(params.get("realmId", ""))
    return _to_settings_page({"quickbooks": "disconnected"})


@app.get("/quickbooks/connection")
def get_connection() -> Response:
    contractor_id, _ = _contractor()
    return _json(200, connection_view(contractor_id))


@app.delete("/quickbooks/connection")
def delete_connection() -> Response:
    contractor_id, _ = _contractor()
    disconnect(contractor_id)
    return Response(204, body="")


@app.get("/quickbooks/exports")
def get_exports() -> Response:
    contractor_id, _ = _contractor()
    params = app.current_event.query_string_parameters or {}
    page = list_exports(
        contractor_id, params.get("status"), params.get("limit"), params.get("cursor")
    )
    return _json(200, page)


@app.post("/quickbooks/exports/<invoice_id>/retry")
def post_retry(invoice_id: str) -> Response:
    contractor_id, _ = _contractor()
    retry_export(contractor_id, invoice_id)
    return _json(202, {"status": "pending"})


@app.get("/quickbooks/accounts")
def get_accounts() -> Response:
    contractor_id, _ = _contractor()
    params = app.current_event.query_string_parameters or {}
    return _json(200, list_accounts(contractor_id, params.get("type")))


@app.get("/quickbooks/settings")
def get_account_settings() -> Response:
    contractor_id, _ = _contractor()
    return _json(200, view_settings(contractor_id))


@app.put("/quickbooks/settings")
def put_account_settings() -> Response:
    contractor_id, _ = _contractor()
    try:
        body = app.current_event.json_body
    except ValueError:
        body = None
    return _json(200, change_settings(contractor_id, body))


@app.get("/quickbooks/payouts")
def get_payouts() -> Response:
    contractor_id, _ = _contractor()
    params = app.current_event.query_string_parameters or {}
    page = list_payouts(
        contractor_id, params.get("status"), params.get("limit"), params.get("cursor")
    )
    return _json(200, page)


@app.post("/quickbooks/payouts/<payout_id>/retry")
def post_payout_retry(payout_id: str) -> Response:
    contractor_id, _ = _contractor()
    retry_payout(contractor_id, payout_id)
    return _json(202, {"status": "waiting"})


@app.exception_handler(InvalidAccount)
def _invalid_account(error: InvalidAccount) -> Response:
    message = (
        f"{error.field} must be an active {error.kind.value} account of your QuickBooks company."
    )
    return _json(400, {"error": "invalid_account", "message": message, "field": error.field})


@app.exception_handler(PayoutNotFound)
def _payout_not_found(_: PayoutNotFound) -> Response:
    return _error(404, "not_found", "There is no such payout for your QuickBooks company.")


@app.exception_handler(InvalidRequest)
def _invalid_request(error: InvalidRequest) -> Response:
    return _error(400, error.code, error.message)


@app.exception_handler(ExportNotFound)
def _export_not_found(_: ExportNotFound) -> Response:
    return _error(404, "not_found", "This invoice has not been sent for export to QuickBooks.")


@app.exception_handler(NotConnected)
def _not_connected(_: NotConnected) -> Response:
    return _error(
        409,
        "not_connected",
        "Connect QuickBooks (or reconnect it) on this page first, then retry the export.",
    )


@app.exception_handler(NotAuthenticated)
def _not_authenticated(_: NotAuthenticated) -> Response:
    return _error(401, "unauthorized", "Sign in to the platform again to manage QuickBooks.")


@app.exception_handler(Forbidden)
def _forbidden(_: Forbidden) -> Response:
    return _error(403, "forbidden", "This view is for the platform's support staff only.")


@app.exception_handler(PaymentsNotEnabled)
def _payments_not_enabled(_: PaymentsNotEnabled) -> Response:
    return _error(
        403,
        "payments_not_enabled",
        "Turn on invoice payments first: QuickBooks export is for contractors who take payments.",
    )


@app.not_found
def _not_found(_: Exception) -> Response:
    return _error(404, "not_found", "There is no such QuickBooks route.")


def _contractor() -> tuple[str, dict[str, Any]]:
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    contractor_id = claims.get(get_settings().contractor_id_claim)
    if not contractor_id:
        raise NotAuthenticated()
    return str(contractor_id), claims


def _redirect_uri() -> str:
    uri = get_settings().oauth_redirect_uri
    if uri:
        return uri
    # Without a configured URI the callback is this API's own route; see template.yaml.
    return f"https://{app.current_event.request_context.domain_name}{CALLBACK_PATH}"


def _to_settings_page(query: dict[str, str], cookies: list[Cookie] | None = None) -> Response:
    settings_page = get_settings().settings_page_url
    separator = "&" if "?" in settings_page else "?"
    location = f"{settings_page}{separator}{urlencode(query)}" if query else settings_page
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
    for cookie in app.current_event.cookies or []:
        key, _, value = cookie.partition("=")
        if key.strip() == name:
            return value.strip()
    return ""


def _json(status: int, body: dict[str, Any], cookies: list[Cookie] | None = None) -> Response:
    headers = {"Cache-Control": "no-store"}
    return Response(status, content_types.APPLICATION_JSON, body, headers, cookies)


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"error": code, "message": message})


@traced
@configured
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
