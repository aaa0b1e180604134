"""What a QBO request can end in, apart from its answer, and what each fault means.

`FAULTS` is the one table: Intuit's fault code -> the exception the client raises -> the reason
the contractor reads. Importable without requests, so code that only handles faults (the settings
page's routes) does not load the HTTP stack.
"""

from __future__ import annotations

from typing import NamedTuple

from qbo_sync.core.reasons import Reason, ReasonCode, reason, refused, refused_field


class QboError(Exception):
    """QBO refused or failed a request. Carries Intuit's fault code and detail, never a token."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: str = "",
        element: str = "",
        intuit_tid: str = "",
    ):
        text = f"QBO HTTP {status} code {code}: {message}"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.status, self.code, self.message = status, code, message
        self.detail, self.element = detail, element
        # Intuit's transaction id of the failing response: what Intuit support asks for.
        self.intuit_tid = intuit_tid

    @property
    def transient(self) -> bool:
        return self.status == 429 or self.status >= 500


class AuthenticationFailed(QboError):
    """401: the access token is expired or revoked."""


class NotAuthorized(QboError):
    """403 with code 3100: the app is no longer authorized for the company. A fresh token does
    not help; only the contractor reconnecting does."""


class QboUnavailable(QboError):
    """No usable answer after the retries: a timeout, a connection failure, 429 or 5xx."""

    @property
    def transient(self) -> bool:
        return True  # status 0 included: the request timed out or the connection failed


class ObjectNotFound(QboError):
    """610: the entity was deleted (or made inactive) in QuickBooks."""


class BusinessValidation(QboError):
    """6000: a business rule refused it (a payment line above the invoice's open balance)."""


class DuplicateDocNumber(QboError):
    """6140: the company refuses duplicate invoice numbers, and this one exists."""


class DuplicateName(QboError):
    """6240: the name is taken (a customer's: by any customer, vendor or employee)."""


class StaleObject(QboError):
    """5010: the SyncToken sent is not the entity's current one."""


class Fault(NamedTuple):
    exception: type[QboError]
    # None: the fault has no sentence of its own; the element it names (a refused field), or
    # the generic refusal with its code, is shown.
    reason: ReasonCode | None = None


FAULTS: dict[str, Fault] = {
    "3100": Fault(NotAuthorized, ReasonCode.REAUTHORIZATION),
    "610": Fault(ObjectNotFound, ReasonCode.INVOICE_DELETED),
    "5010": Fault(StaleObject),  # never shown: the export reads the entity again and retries
    "6000": Fault(BusinessValidation),
    "6140": Fault(DuplicateDocNumber),
    "6190": Fault(QboError, ReasonCode.SUBSCRIPTION_ENDED),
    "6210": Fault(QboError, ReasonCode.ACCOUNTING_PERIOD_CLOSED),
    "6240": Fault(DuplicateName),
}
# The code a name shows when no free variant of it was found (the exporter's own refusal).
DUPLICATE_NAME = next(code for code, fault in FAULTS.items() if fault.exception is DuplicateName)
NOT_AUTHORIZED = next(code for code, fault in FAULTS.items() if fault.exception is NotAuthorized)
# 2500 (Invalid Reference Id) on a payment's LinkedTxn: the invoice it pays is gone from QBO.
_DELETED_LINK = ("2500", "LinkedTxn")


class Refused(Exception):
    """Retrying cannot fix it: the message goes to the dead-letter queue with this reason, and
    the export record shows it. `code`, `detail` and `element` are Intuit's, when QBO gave them."""

    def __init__(
        self, message: str, reason: Reason, code: str = "", detail: str = "", element: str = ""
    ) -> None:
        super().__init__(message)
        self.message, self.reason = message, reason
        self.code, self.detail, self.element = code, detail, element


def exception_for(status: int, code: str) -> type[QboError]:
    if status == 401:
        return AuthenticationFailed
    if status == 429 or status >= 500:
        return QboUnavailable
    if status == 403 and code != NOT_AUTHORIZED:
        return QboError  # another refusal: only 3100 says the app lost the company
    fault = FAULTS.get(code)
    return fault.exception if fault else QboError


def reason_for(error: QboError, *, what: str = "invoice") -> Reason:
    """The contractor's reason for a fault (`what`: the thing QBO refused), with Intuit's
    transaction id when QBO gave one (docs/interface.md §12)."""
    why = _reason_for(error, what)
    return {**why, "intuit_tid": error.intuit_tid} if error.intuit_tid else why


def _reason_for(error: QboError, what: str) -> Reason:
    if error.transient:
        return reason(ReasonCode.TEMPORARY)
    fault = FAULTS.get(error.code)
    if fault is not None and fault.reason is not None:
        return reason(fault.reason)
    if error.code == _DELETED_LINK[0] and _DELETED_LINK[1] in error.element:
        return reason(ReasonCode.INVOICE_DELETED)
    if error.element:
        return refused_field(error.element, what)
    return refused(_safe_code(error.code), what)


def refusal(error: QboError, *, what: str = "invoice") -> Refused | None:
    """The refusal a fault is, or None where another delivery may succeed: a transient fault,
    an access token to refresh, or a SyncToken that changed meanwhile."""
    if error.transient or isinstance(error, AuthenticationFailed | StaleObject | NotAuthorized):
        return None
    return Refused(
        f"QuickBooks refused the {what}: {error}",
        reason_for(error, what=what),
        error.code,
        error.detail,
        error.element,
    )


def _safe_code(code: str) -> str:
    return code if code.isalnum() and len(code) <= 12 else "unknown"
