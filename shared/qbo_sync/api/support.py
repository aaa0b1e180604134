"""The support view's routes (contracts.md §18), for the platform's support staff: behind the
same JWT authorizer as every route, and open only to a token whose SupportClaim is true
(anything else: 403 `forbidden`, which functions/oauth/app.py answers for `Forbidden`).
Reads only, through support_view.py and the export list; never a token.
"""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from qbo_sync.core.settings import get_settings
from qbo_sync.status import list_exports
from qbo_sync.support_view import InvalidSupportRequest, list_contractors

router = Router()


class Forbidden(Exception):
    """The token is not a support staff member's (no SupportClaim)."""


@router.get("/quickbooks/support/contractors")
def get_contractors() -> Response:
    unauthenticated = _support_staff()
    if unauthenticated is not None:
        return unauthenticated
    params = router.current_event.query_string_parameters or {}
    page = list_contractors(params.get("status"), params.get("limit"), params.get("cursor"))
    return _json(200, page)


@router.get("/quickbooks/support/contractors/<contractor_id>/exports")
def get_contractor_exports(contractor_id: str) -> Response:
    unauthenticated = _support_staff()
    if unauthenticated is not None:
        return unauthenticated
    params = router.current_event.query_string_parameters or {}
    page = list_exports(
        contractor_id, params.get("status"), params.get("limit"), params.get("cursor")
    )
    return _json(200, page)


@router.exception_handler(InvalidSupportRequest)
def _invalid_request(error: InvalidSupportRequest) -> Response:
    return _json(400, {"error": error.code, "message": error.message})


def _support_staff() -> Response | None:
    """None for a support staff member's token; a 401 without a contractor claim (as on every
    route); raises Forbidden when the support claim is not true."""
    event = cast(APIGatewayProxyEventV2, router.current_event)  # an HTTP API (payload 2.0)
    authorizer = event.request_context.authorizer
    claims: dict[str, Any] = (authorizer.jwt_claim if authorizer else None) or {}
    settings = get_settings()
    if not claims.get(settings.contractor_id_claim):
        message = "Sign in to the platform again to manage QuickBooks."
        return _json(401, {"error": "unauthorized", "message": message})
    if str(claims.get(settings.support_claim, "")).lower() != "true":
        raise Forbidden()
    return None


def _json(status: int, body: dict[str, Any]) -> Response:
    headers = {"Cache-Control": "no-store"}
    return Response(status, content_types.APPLICATION_JSON, body, headers)
