"""What every route reads from its request and how it answers: the contractor from the JWT's
claims (docs/interface.md §2; no claim: 401), and JSON bodies that no cache keeps."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.shared.cookies import Cookie

from qbo_sync.api.errors import NotAuthenticated
from qbo_sync.core.settings import get_settings


def contractor(router: APIGatewayHttpRouter) -> tuple[str, dict[str, Any]]:
    authorizer = router.current_event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    contractor_id = claims.get(get_settings().contractor_id_claim)
    if not contractor_id:
        raise NotAuthenticated()
    return str(contractor_id), claims


def query(router: APIGatewayHttpRouter) -> dict[str, str]:
    return dict(router.current_event.query_string_parameters or {})


def json_response(
    status: int, body: dict[str, Any], cookies: list[Cookie] | None = None
) -> Response[Any]:
    headers = {"Cache-Control": "no-store"}
    return Response(status, content_types.APPLICATION_JSON, body, headers, cookies)


def error_response(status: int, code: str, message: str, **extra: Any) -> Response[Any]:
    return json_response(status, {"error": code, "message": message, **extra})
