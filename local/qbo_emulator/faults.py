"""Intuit's Fault bodies. Messages and codes follow what QBO returns so client code that
maps faults to decisions is exercised against the real shapes."""

from __future__ import annotations

from typing import Any

from .jsonio import Json

MESSAGES = {
    "610": "Object Not Found",
    "2010": "Request has invalid or unsupported property",
    "2020": "Required param missing, need to supply the required value for the API",
    "2050": "String length is either shorter or longer than supported by specification",
    "2500": "Invalid Reference Id",
    "4000": "Error parsing query",
    "4001": "Invalid query",
    "5010": "Stale Object Error",
    "6000": "A business validation error has occurred while processing your request",
    "6070": "Amount is not equal to UnitPrice * Qty",
    "6140": "Duplicate Document Number Error",
    "6240": "Duplicate Name Exists Error",
}

INACTIVE_DETAIL = (
    "Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)


class ApiError(Exception):
    """A fault answer: raised anywhere in request handling, rendered once by the API layer."""

    def __init__(
        self,
        status: int,
        fault_type: str,
        errors: list[Json],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(errors[0].get("Message", fault_type) if errors else fault_type)
        self.status = status
        self.fault_type = fault_type
        self.errors = errors
        self.headers = headers or {}

    def body(self, time_text: str) -> Json:
        return {"Fault": {"Error": self.errors, "type": self.fault_type}, "time": time_text}


def validation(code: str, detail: str, element: str = "", message: str | None = None) -> ApiError:
    error: dict[str, Any] = {
        "Message": message or MESSAGES.get(code, "Validation error"),
        "Detail": detail,
        "code": code,
        "element": element,
    }
    return ApiError(400, "ValidationFault", [error])


def period_closed() -> ApiError:
    # Intuit's wording (its error list, code 6210), repeated "through" included.
    detail = (
        "The account period has closed and the account books cannot be updated through through "
        "the QBO Services API. Please use the QBO website to make these changes."
    )
    return validation("6210", detail, "", message="Account Period Closed")


def company_status() -> ApiError:
    detail = (
        "Subscription period has ended or been canceled, or there was a billing problem: You "
        "can't add data to QuickBooks Online Plus because your trial or subscription period "
        "ended, you canceled your subscription, or there was a billing problem."
    )
    return validation("6190", detail, "", message="Invalid Company Status")


def required(element: str) -> ApiError:
    return validation("2020", f"Required parameter {element} is missing in the request", element)


def too_long(element: str, value: str, limit: int) -> ApiError:
    detail = (
        "String length specified does not match the supported length. "
        f"Min:0 Max:{limit} supplied length:{len(value)}"
    )
    return validation("2050", detail, element)


def business(detail: str, element: str = "") -> ApiError:
    return validation("6000", f"Business Validation Error: {detail}", element)


def invalid_reference(element: str, value: object) -> ApiError:
    return validation("2500", f"Invalid Reference Id : {element} {value} does not exist", element)


def not_found(entity: str, entity_id: object) -> ApiError:
    detail = f"Object Not Found : {INACTIVE_DETAIL}"
    return validation("610", detail, "", message=f"Object Not Found ({entity} Id={entity_id})")


def inactive(element: str) -> ApiError:
    return validation("610", f"Object Not Found : {INACTIVE_DETAIL}", element)


def unsupported_property(name: str, entity: str, known: list[str]) -> ApiError:
    # Jackson's wording, as a sandbox answered it (minimul/qbo_api spec/vcr/error/400_json.yml,
    # 2020): the class, the known properties (cut short), and no element.
    listed = ", ".join(f'"{k}"' for k in known[:40])
    more = " [truncated]]" if len(known) > 40 else "]"
    detail = (
        f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{entity})'
        f", not marked as ignorable ({len(known)} known properties: {listed}{more})\n"
        " specified is unsupported or invalid"
    )
    return _without_element(validation("2010", detail))


def _without_element(error: ApiError) -> ApiError:
    for entry in error.errors:
        entry.pop("element", None)
    return error


def duplicate_name(holder_id: str) -> ApiError:
    """6240 as a sandbox answers it (minimul/qbo_api spec/vcr/error/validation.yml, 2020):
    no element. That answer's Detail ends ": null"; the emulator names the holder
    (": Id=58"), as QBO's answers quoted in its developer forums do."""
    return _without_element(
        validation("6240", f"The name supplied already exists. : Id={holder_id}")
    )


def bad_value(element: str, value: object) -> ApiError:
    detail = f"Property Name:{element} value {value!r} specified is unsupported or invalid"
    return validation("2010", detail, element)


def stale(entity: str, entity_id: str) -> ApiError:
    detail = (
        "Stale Object Error : You and root were working on this at the same time. "
        "root finished before you did, so your work was not saved."
    )
    return validation("5010", detail, "", message="Stale Object Error")


class GatewayFault(ApiError):
    """401 and 403 come from Intuit's gateway, not the API: lower-case keys, `time` in epoch
    milliseconds, every envelope property present even when null, and JSON whatever the Accept
    header (public sandbox recording: minimul/qbo_api spec/vcr/error/401.yml, 2020; the 403
    3100 shape from intuit/oauth-jsclient issue #2 and mcohen01/node-quickbooks issue #154)."""

    def __init__(self, status: int, fault_type: str, error: Json, now: float) -> None:
        super().__init__(status, fault_type, [error])
        self.epoch_ms = int(now * 1000)
        if status == 401:
            self.headers["WWW-Authenticate"] = 'Bearer realm="Intuit", error="invalid_token"'

    def body(self, time_text: str) -> Json:
        return {
            "warnings": None,
            "intuitObject": None,
            "fault": {"error": self.errors, "type": self.fault_type},
            "report": None,
            "queryResponse": None,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": None,
            "requestId": None,
            "time": self.epoch_ms,
            "status": None,
            "cdcresponse": [],
        }


def authentication(now: float) -> ApiError:
    # Intuit's detail names the token ("Token expired: AB0160..."); the emulator never echoes
    # a token into a response, so the detail stops before it.
    error = {
        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        "detail": "Token expired or invalid",
        "code": "3200",
        "element": None,
    }
    return GatewayFault(401, "AUTHENTICATION", error, now)


def authorization(now: float) -> ApiError:
    """403 3100: a valid token, but not for this company (another realm, or a sandbox company
    on the production host)."""
    error = {
        "message": "message=AuthorizationFailed; errorCode=003100; statusCode=403",
        "detail": "Authorization Failure",
        "code": "3100",
        "element": None,
    }
    return GatewayFault(403, "SERVICE", error, now)


def throttled(retry_after: int) -> ApiError:
    error = {
        "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "code": "003001",
    }
    return ApiError(429, "ThrottlingFault", [error], {"Retry-After": str(retry_after)})


def system_error() -> ApiError:
    error = {
        "Message": "An application error has occurred while processing your request",
        "Detail": "System Failure Error: An unexpected error occurred while accessing or saving "
        "your data. Please wait a few minutes and try again.",
        "code": "10000",
    }
    return ApiError(500, "SystemFault", [error])


def query_parse(detail: str) -> ApiError:
    return validation("4000", f"QueryParserError: {detail}")


def query_invalid(detail: str) -> ApiError:
    return validation("4001", f"QueryValidationError: {detail}")
