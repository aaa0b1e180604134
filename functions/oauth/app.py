"""The settings page's HTTP API (docs/interface.md §2, §5, §11-§16): one resolver, the routes of
each section of the page included from qbo_sync/api/, and the errors turned into JSON answers."""

from __future__ import annotations

from qbo_sync.core import startup  # first: the rest is imported without garbage collection

# isort: split

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from qbo_sync.api import accounts, connection, customers, exports, history, payouts, support
from qbo_sync.api.errors import ApiError, InvalidAccount
from qbo_sync.api.requests import error_response
from qbo_sync.connection import services
from qbo_sync.connection.flow import PaymentsNotEnabled
from qbo_sync.core import aws, snapstart
from qbo_sync.core.settings import configured
from qbo_sync.core.tracing import traced

logger = Logger()
app = APIGatewayHttpResolver()
app.include_router(connection.router)
app.include_router(exports.router)
app.include_router(accounts.router)
app.include_router(payouts.router)
app.include_router(support.router)
app.include_router(history.router)
app.include_router(customers.router)


@app.exception_handler(InvalidAccount)
def _invalid_account(error: InvalidAccount) -> Response[Any]:
    return error_response(error.status, error.code, error.message, field=error.field)


@app.exception_handler(ApiError)
def _api_error(error: ApiError) -> Response[Any]:
    return error_response(error.status, error.code, error.message)


@app.exception_handler(PaymentsNotEnabled)
def _payments_not_enabled(_: PaymentsNotEnabled) -> Response[Any]:
    return error_response(
        403,
        "payments_not_enabled",
        "Turn on invoice payments first: QuickBooks export is for contractors who take payments.",
    )


@app.not_found
def _not_found(_: Exception) -> Response[Any]:
    return error_response(404, "not_found", "There is no such QuickBooks route.")


@traced
@configured
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


def _before_snapshot() -> None:
    """With SnapStart (ApiSnapStart=true) the init runs once per published version, so it may
    load everything the routes use: the clients (no connection is opened) and the workflows
    the routes otherwise import when first called."""
    import qbo_sync.workflows.account_settings
    import qbo_sync.workflows.history_request  # noqa: F401

    aws.dynamodb()
    aws.kms()
    services.http_pool()


def _after_restore() -> None:
    """Each restored environment opens its own connections and draws its own random numbers."""
    import random

    aws.close_connections()
    services.http_pool().clear()  # urllib3 opens new pools on the next request
    random.seed()


snapstart.install(before_snapshot=_before_snapshot, after_restore=_after_restore)

startup.started()
