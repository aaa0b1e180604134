"""The QBO client reads Intuit's fault bodies in both casings it sends: `Fault`/`Error`/
`Message`/`Detail` (validation) and `fault`/`error`/`message`/`detail` (401 and 403). The
bodies are Intuit's recorded shapes, answered by a connection pool in place of the network."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3
from qbo_sync.qbo.client import QboClient
from qbo_sync.qbo.faults import AuthenticationFailed, NotAuthorized, QboError, reason_for

UPPER_6210 = {
    "Fault": {
        "Error": [
            {
                "Message": "Account Period Closed",
                "Detail": "Account Period Closed, Cannot update through this channel.",
                "code": "6210",
                "element": "",
            }
        ],
        "type": "ValidationFault",
    },
    "time": "2026-12-01T10:00:00.000-08:00",
}
LOWER_403 = {
    "fault": {
        "error": [
            {
                "message": "message=AuthorizationFailed; errorCode=003100; statusCode=403",
                "detail": "",
                "code": "3100",
            }
        ],
        "type": "SERVICE",
    },
    "time": 1764612000000,
}
LOWER_401 = {
    "fault": {
        "error": [
            {
                "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                "detail": "Token expired: 0 at 1764612000000",
                "code": "3200",
            }
        ],
        "type": "AUTHENTICATION",
    },
    "time": 1764612000000,
}


class Canned(urllib3.PoolManager):
    """Answers every request with the recorded fault, as QuickBooks' server would."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__()
        self.status, self.body, self.headers, self.calls = status, body, headers, 0

    def urlopen(self, method: str, url: str, redirect: bool = True, **_: Any) -> Any:
        self.calls += 1
        return urllib3.HTTPResponse(
            body=json.dumps(self.body).encode(),
            status=self.status,
            headers={"Content-Type": "application/json", **self.headers},
            preload_content=True,
        )


def answering(status: int, body: dict[str, Any], **headers: str) -> tuple[QboClient, Canned]:
    pool = Canned(status, body, {"intuit_tid": "1-abc-def", **headers})
    client = QboClient("https://qbo.test", "123", lambda _force: "token", pool)
    return client, pool


def test_upper_case_validation_fault() -> None:
    client, _ = answering(400, UPPER_6210)
    with pytest.raises(QboError) as raised:
        client.read("Invoice", "1")
    error = raised.value
    assert (error.code, error.message, error.intuit_tid) == (
        "6210",
        "Account Period Closed",
        "1-abc-def",
    )
    assert error.detail.startswith("Account Period Closed, Cannot update")
    assert reason_for(error)["code"] == "accounting_period_closed"
    assert reason_for(error)["intuit_tid"] == "1-abc-def"


def test_lower_case_403_is_not_authorized() -> None:
    client, _ = answering(403, LOWER_403)
    with pytest.raises(NotAuthorized) as raised:
        client.read("Invoice", "1")
    assert raised.value.code == "3100"
    assert raised.value.message.startswith("message=AuthorizationFailed")


def test_lower_case_401_is_retried_once_with_a_fresh_token() -> None:
    client, adapter = answering(
        401, LOWER_401, **{"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'}
    )
    with pytest.raises(AuthenticationFailed) as raised:
        client.read("Invoice", "1")
    assert (raised.value.code, adapter.calls) == ("3200", 2)
    assert raised.value.detail == "Token expired: 0 at 1764612000000"


def test_another_403_is_not_read_as_a_lost_company() -> None:
    body = {"fault": {"error": [{"message": "Forbidden", "code": "403"}], "type": "SERVICE"}}
    client, _ = answering(403, body)
    with pytest.raises(QboError) as raised:
        client.read("Invoice", "1")
    assert not isinstance(raised.value, NotAuthorized)
