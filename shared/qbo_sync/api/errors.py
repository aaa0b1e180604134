"""The errors the HTTP API answers with (docs/interface.md §2: `{"error", "message"}`), in one
place: each exception knows its status, code and the sentence the contractor reads. The routes
and the use cases behind them raise these; functions/oauth/app.py turns them into responses."""

from __future__ import annotations


class ApiError(Exception):
    status = 400
    code = "invalid_request"
    message = "The request is not one this API understands."

    def __init__(self, message: str | None = None, code: str | None = None) -> None:
        super().__init__(message or self.message)
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code


class InvalidRequest(ApiError):
    """The request's parameters are wrong: a 400 with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code)


class NotAuthenticated(ApiError):
    status, code = 401, "unauthorized"
    message = "Sign in to the platform again to manage QuickBooks."


class Forbidden(ApiError):
    """The token is not a support staff member's (no SupportClaim, docs/interface.md §18)."""

    status, code = 403, "forbidden"
    message = "This view is for the platform's support staff only."


class ExportNotFound(ApiError):
    """No export record for that invoice (in the connected company, or skipped)."""

    status, code = 404, "not_found"
    message = "This invoice has not been sent for export to QuickBooks."


class PayoutNotFound(ApiError):
    """No payout with that id in the connected company."""

    status, code = 404, "not_found"
    message = "There is no such payout for your QuickBooks company."


class NotConnected(ApiError):
    """No usable QuickBooks connection to export to."""

    status, code = 409, "not_connected"
    message = "Connect QuickBooks (or reconnect it) on this page first, then retry the export."


class AlreadyExported(ApiError):
    """A dismissal of an invoice that is in QuickBooks already (docs/interface.md §14)."""

    status, code = 409, "already_exported"
    message = (
        "This invoice is already in QuickBooks, so it cannot be dismissed. Void or delete it "
        "in QuickBooks if it should not be there."
    )


class InvoiceVoided(ApiError):
    status, code = 409, "invoice_voided"
    message = "This invoice was voided on the platform; there is nothing left to dismiss."


class InvalidAccount(ApiError):
    """A chosen id that is not an active account of the field's kind in the company (§11)."""

    code = "invalid_account"

    def __init__(self, field: str, kind: str) -> None:
        super().__init__(f"{field} must be an active {kind} account of your QuickBooks company.")
        self.field, self.kind = field, kind


class HistoryInProgress(ApiError):
    """docs/interface.md §15: an earlier history request is not done."""

    status, code = 409, "history_in_progress"
    message = (
        "Your earlier invoices are still being exported. Ask again once this one is done "
        "(or a day after its last invoice arrived)."
    )


class HistoryNotFound(ApiError):
    status, code = 404, "not_found"
    message = "You have not asked for your earlier invoices to be exported yet."


class InvalidCustomer(ApiError):
    """docs/interface.md §16: not an active customer of the company, or in another currency
    than the client's invoices."""

    code = "invalid_customer"
    message = "Choose an active customer of your QuickBooks company."


class CustomerLinked(ApiError):
    """docs/interface.md §16: another client of the contractor is linked to that customer."""

    status, code = 409, "customer_linked"
    message = (
        "Another of your clients is linked to this QuickBooks customer. Unlink it first (in "
        "Clients on this page), or choose another customer."
    )
