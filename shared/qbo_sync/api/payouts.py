"""The page's payouts section (docs/interface.md §12): the list and Retry."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from qbo_sync.api.requests import contractor, json_response, query
from qbo_sync.views.payouts import list_payouts
from qbo_sync.workflows.payout_retry import retry_payout

router = APIGatewayHttpRouter()


@router.get("/quickbooks/payouts")
def get_payouts() -> Response[Any]:
    contractor_id, _ = contractor(router)
    return json_response(200, list_payouts(contractor_id, query(router)))


@router.post("/quickbooks/payouts/<payout_id>/retry")
def post_payout_retry(payout_id: str) -> Response[Any]:
    contractor_id, _ = contractor(router)
    retry_payout(contractor_id, payout_id)
    return json_response(202, {"status": "waiting"})
