"""QBO's answer when the app is no longer authorized for a company: HTTP 403, code 3100.

Unlike validation faults, Intuit's authorization faults come with lower-case keys and the time in
epoch milliseconds (public recordings: minimul/qbo_api spec/vcr/error/401.yml; intuit/oauth-jsclient
issue #2), so a client that reads only `Fault`/`Error` misses them."""

from __future__ import annotations

from .faults import ApiError
from .jsonio import Json

NOT_AUTHORIZED = {
    "message": "message=AuthorizationFailed; errorCode=003100; statusCode=403",
    "code": "3100",
}


class LowerCaseFault(ApiError):
    def __init__(self, status: int, fault_type: str, errors: list[Json], now: float) -> None:
        super().__init__(status, fault_type, errors)
        self.epoch_ms = int(now * 1000)

    def body(self, time_text: str) -> Json:
        return {"fault": {"error": self.errors, "type": self.fault_type}, "time": self.epoch_ms}


def app_not_authorized(now: float) -> LowerCaseFault:
    return LowerCaseFault(403, "SERVICE", [dict(NOT_AUTHORIZED)], now)
