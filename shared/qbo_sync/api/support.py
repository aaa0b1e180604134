"""The support view across contractors (docs/interface.md §18), for the platform's support
staff: the contractors by what needs attention, and one contractor's exports as they see them.
A token without the SupportClaim is answered 403 `forbidden`; no route here shows a token."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from qbo_sync.api.errors import Forbidden
from qbo_sync.api.requests import contractor, json_response, query
from qbo_sync.core.settings import get_settings
from qbo_sync.support_view import list_contractors
from qbo_sync.views.exports import list_exports

router = APIGatewayHttpRouter()


@router.get("/quickbooks/support/contractors")
def get_contractors() -> Response[Any]:
    _support_staff()
    params = query(router)
    page = list_contractors(params.get("status"), params.get("limit"), params.get("cursor"))
    return json_response(200, page)


@router.get("/quickbooks/support/contractors/<contractor_id>/exports")
def get_contractor_exports(contractor_id: str) -> Response[Any]:
    _support_staff()
    return json_response(200, list_exports(contractor_id, query(router)))


def _support_staff() -> None:
    """A contractor claim as on every route (else 401), and the support claim (else 403)."""
    _, claims = contractor(router)
    if str(claims.get(get_settings().support_claim, "")).lower() != "true":
        raise Forbidden()
