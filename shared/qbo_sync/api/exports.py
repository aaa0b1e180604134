"""The page's invoices section (docs/interface.md §5, §12, §14): the export list, Retry, Dismiss."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from qbo_sync.api.requests import contractor, json_response, query
from qbo_sync.views.exports import list_exports
from qbo_sync.workflows.retry import dismiss_export, retry_export

router = APIGatewayHttpRouter()


@router.get("/quickbooks/exports")
def get_exports() -> Response[Any]:
    contractor_id, _ = contractor(router)
    return json_response(200, list_exports(contractor_id, query(router)))


@router.post("/quickbooks/exports/<invoice_id>/retry")
def post_retry(invoice_id: str) -> Response[Any]:
    contractor_id, _ = contractor(router)
    retry_export(contractor_id, invoice_id)
    return json_response(202, {"status": "pending"})


@router.post("/quickbooks/exports/<invoice_id>/dismiss")
def post_dismiss(invoice_id: str) -> Response[Any]:
    contractor_id, _ = contractor(router)
    dismiss_export(contractor_id, invoice_id)
    return json_response(200, {"status": "dismissed"})
