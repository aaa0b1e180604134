"""The page's accounts section (docs/interface.md §11): the company's accounts for the pickers, and
the connection's choices."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from qbo_sync.api.requests import contractor, json_response, query

# Each route imports its workflow when it is called: the workflows load the event models
# (pydantic) and the QBO client (requests), which the page's first request, GET
# /quickbooks/connection, does not need; a cold start that serves it pays for neither.

router = APIGatewayHttpRouter()


@router.get("/quickbooks/accounts")
def get_accounts() -> Response[Any]:
    from qbo_sync.workflows.account_settings import list_accounts

    contractor_id, _ = contractor(router)
    return json_response(200, list_accounts(contractor_id, query(router).get("type")))


@router.get("/quickbooks/settings")
def get_account_settings() -> Response[Any]:
    from qbo_sync.workflows.account_settings import view_settings

    contractor_id, _ = contractor(router)
    return json_response(200, view_settings(contractor_id))


@router.put("/quickbooks/settings")
def put_account_settings() -> Response[Any]:
    from qbo_sync.workflows.account_settings import change_settings

    contractor_id, _ = contractor(router)
    try:
        body = router.current_event.json_body
    except ValueError:
        body = None
    return json_response(200, change_settings(contractor_id, body))
