"""The page's customer links (docs/interface.md §16): find a QuickBooks customer, link a client
to it or unlink it, and the Clients view's list of links (an addition to §16)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from qbo_sync.api.requests import contractor, json_response, query

# The routes import the customers workflow when they are called: it loads the event models
# (pydantic) and the QuickBooks client, which the page's first request does not need.

router = APIGatewayHttpRouter()


@router.get("/quickbooks/customers")
def get_customers() -> Response[Any]:
    from qbo_sync.workflows.customers import search_customers

    contractor_id, _ = contractor(router)
    return json_response(200, search_customers(contractor_id, query(router).get("search")))


@router.get("/quickbooks/clients")
def get_clients() -> Response[Any]:
    from qbo_sync.workflows.customers import client_links

    contractor_id, _ = contractor(router)
    return json_response(200, client_links(contractor_id))


@router.put("/quickbooks/clients/<client_id>/customer")
def put_client_customer(client_id: str) -> Response[Any]:
    from qbo_sync.workflows.customers import link_client

    contractor_id, _ = contractor(router)
    try:
        body = router.current_event.json_body
    except ValueError:
        body = None
    return json_response(200, link_client(contractor_id, client_id, body))


@router.delete("/quickbooks/clients/<client_id>/customer")
def delete_client_customer(client_id: str) -> Response[Any]:
    from qbo_sync.workflows.customers import unlink_client

    contractor_id, _ = contractor(router)
    unlink_client(contractor_id, client_id)
    return Response(204, body="")
