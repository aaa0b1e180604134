"""The compared vocabulary: every status and outcome the layer stores, returns or counts.

StrEnums, so a stored or serialised value is the plain string the contracts name, and mypy
checks each comparison and each metric map (the handlers map outcomes exhaustively)."""

from __future__ import annotations

from enum import StrEnum


class ExportStatus(StrEnum):
    """An invoice's export record, as the settings page lists it (docs/interface.md §5)."""

    EXPORTED = "exported"
    PENDING = "pending"  # queued, retrying, or kept until QuickBooks is reconnected
    FAILED = "failed"
    SKIPPED = "skipped"  # sent while no QuickBooks company was connected
    VOIDED = "voided"  # voided on the platform (docs/interface.md §8): voided in QBO, or never sent
    DISMISSED = "dismissed"  # the contractor chose not to export it (docs/interface.md §14)


class ExportOutcome(StrEnum):
    """What one run of the export did with an invoice-sent message."""

    EXPORTED = "exported"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # A hand-keyed invoice with its number, customer and total (docs/interface.md §15):
    # recorded as exported to it, nothing written in QuickBooks.
    ADOPTED = "adopted"
    SKIPPED = "skipped"
    PENDING = "pending"
    GAVE_UP = "gave_up"  # QuickBooks kept failing for the whole window of attempts
    VOIDED = "voided"  # the invoice was voided on the platform: acknowledged, not exported
    DISMISSED = "dismissed"  # the contractor dismissed it: acknowledged, kept for a Retry


class VoidOutcome(StrEnum):
    """What one run of the void did with an invoice-voided message."""

    VOIDED = "voided"  # voided in QBO by this run
    ALREADY_VOIDED = "already_voided"
    NOT_EXPORTED = "not_exported"  # voided before its export: it never will be
    KEPT = "kept"  # until QuickBooks is reconnected (invoices/kept.py)


class EntryStatus(StrEnum):
    """A payment's entry in its invoice's ledger."""

    PARKED = "parked"  # waiting for the invoice's export or for a reconnect
    RECORDING = "recording"  # an attempt holds it under a lease
    RECORDED = "recorded"
    FAILED = "failed"


class RefundStatus(StrEnum):
    """A refund's entry in its invoice's ledger (docs/interface.md §12: a payment's `refunds`)."""

    WAITING = "waiting"  # for its payment to be recorded (or a temporary failure to pass)
    RECORDING = "recording"  # an attempt holds it under a lease
    RECORDED = "recorded"
    FAILED = "failed"


class ClaimOutcome(StrEnum):
    """What a claim on a payment's ledger entry found."""

    CLAIMED = "claimed"
    RECORDED = "recorded"  # by an earlier attempt
    BUSY = "busy"  # another attempt holds it


class ConnectionStatus(StrEnum):
    """A contractor's QuickBooks connection (docs/interface.md §2)."""

    CONNECTED = "connected"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    NOT_CONNECTED = "not_connected"


class CallbackRefusal(StrEnum):
    """Why the OAuth callback sent the browser back without a connection (docs/interface.md §2)."""

    DENIED = "denied"
    INVALID_STATE = "invalid_state"
    EXCHANGE_FAILED = "exchange_failed"


class PayoutStatus(StrEnum):
    """A payout's record (docs/interface.md §12); DEPOSITING shows as waiting on the list."""

    WAITING = "waiting"  # for a payment or refund to be recorded, or for a bank account
    DEPOSITING = "depositing"  # an attempt holds it under a lease
    DEPOSITED = "deposited"
    FAILED = "failed"


class Outcome(StrEnum):
    """What one run of once.py's write did (a payment, a refund, a payout); each flow's
    metric names are derived from it (functions/payment_completed/app.py)."""

    WRITTEN = "written"  # created (or found, made by an earlier attempt) by this run
    ALREADY = "already"  # the slot was done before this run
    WAITING = "waiting"  # a precondition is not met yet, or QuickBooks needs a reconnect
    FAILED = "failed"  # refused for good, or given up after the window of attempts
    SKIPPED = "skipped"  # no QuickBooks company connected (decided before the claim)
