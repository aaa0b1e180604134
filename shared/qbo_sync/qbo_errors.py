"""What a QBO request can end in, apart from its answer: importable without requests, so code
that only handles these (the settings page's routes, reasons.py) does not load the HTTP stack."""

from __future__ import annotations


class QboError(Exception):
    """QBO refused or failed a request. Carries Intuit's fault code and detail, never a token."""

    def __init__(self, status: int, code: str, message: str, detail: str = "", element: str = ""):
        text = f"QBO HTTP {status} code {code}: {message}"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.status, self.code, self.message = status, code, message
        self.detail, self.element = detail, element

    @property
    def transient(self) -> bool:
        return self.status == 429 or self.status >= 500


class AuthenticationFailed(QboError):
    """401: the access token is expired or revoked."""


class DuplicateName(QboError):
    """6240: the name is taken (a customer's: by any customer, vendor or employee)."""


class StaleObject(QboError):
    """5010: the SyncToken sent is not the entity's current one."""


class QboUnavailable(QboError):
    """No usable answer after the retries: a timeout, a connection failure, 429 or 5xx."""

    @property
    def transient(self) -> bool:
        return True  # status 0 included: the request timed out or the connection failed
