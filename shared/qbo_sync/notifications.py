"""The events this system emits on the bus (contracts.md §6), so the platform can update its UI
and tell the contractor.

Callers emit an event only after the write that changed the state succeeded, and only when it
did change something: a redelivered message that changes nothing emits nothing. Emitting is
best effort: the state is already recorded (and shown by the status route), and raising here
would only make the message retry into a state that no longer changes, so a failed PutEvents is
logged, not raised. Details carry ids and reasons, never tokens or QuickBooks' raw answers.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.core import aws
from qbo_sync.core.reasons import Reason
from qbo_sync.core.settings import get_settings

logger = Logger(child=True)

SOURCE = "qbo-sync"
SCHEMA_VERSION = 1
INVOICE_EXPORTED = "QuickBooks Invoice Exported"
INVOICE_EXPORT_FAILED = "QuickBooks Invoice Export Failed"
PAYMENT_RECORDED = "QuickBooks Payment Recorded"
NEEDS_REAUTHORIZATION = "QuickBooks Connection Needs Reauthorization"
CONNECTION_EXPIRING = "QuickBooks Connection Expiring"
INVOICE_VOIDED = "QuickBooks Invoice Voided"
REFUND_RECORDED = "QuickBooks Refund Recorded"


def invoice_exported(
    contractor_id: str,
    *,
    invoice_id: str,
    invoice_number: str,
    revision: int,
    qbo_invoice_id: str,
    realm_id: str,
) -> None:
    _emit(
        INVOICE_EXPORTED,
        contractor_id,
        invoice_id=invoice_id,
        invoice_number=invoice_number,
        revision=revision,
        qbo_invoice_id=qbo_invoice_id,
        realm_id=realm_id,
    )


def invoice_export_failed(
    contractor_id: str, *, invoice_id: str, invoice_number: str, revision: int, reason: Reason
) -> None:
    _emit(
        INVOICE_EXPORT_FAILED,
        contractor_id,
        invoice_id=invoice_id,
        invoice_number=invoice_number,
        revision=revision,
        reason=reason,
    )


def payment_recorded(
    contractor_id: str,
    *,
    payment_id: str,
    invoice_id: str,
    qbo_payment_id: str,
    invoice_paid: bool,
) -> None:
    _emit(
        PAYMENT_RECORDED,
        contractor_id,
        payment_id=payment_id,
        invoice_id=invoice_id,
        qbo_payment_id=qbo_payment_id,
        invoice_paid=invoice_paid,
    )


def connection_needs_reauthorization(
    contractor_id: str, *, realm_id: str, company_name: str | None
) -> None:
    _emit(NEEDS_REAUTHORIZATION, contractor_id, realm_id=realm_id, company_name=company_name)


def connection_expiring(contractor_id: str, *, realm_id: str, refresh_expires_at: str) -> None:
    """contracts.md §12: fewer than 30 days left before the contractor must reconnect."""
    _emit(
        CONNECTION_EXPIRING, contractor_id, realm_id=realm_id, refresh_expires_at=refresh_expires_at
    )


def invoice_voided(contractor_id: str, *, invoice_id: str, qbo_invoice_id: str) -> None:
    """contracts.md §12: the exported invoice is voided in QuickBooks."""
    _emit(INVOICE_VOIDED, contractor_id, invoice_id=invoice_id, qbo_invoice_id=qbo_invoice_id)


def refund_recorded(
    contractor_id: str, *, refund_id: str, payment_id: str, qbo_refund_id: str
) -> None:
    """contracts.md §12: one RefundReceipt in QuickBooks for the platform's refund."""
    _emit(
        REFUND_RECORDED,
        contractor_id,
        refund_id=refund_id,
        payment_id=payment_id,
        qbo_refund_id=qbo_refund_id,
    )


def _emit(detail_type: str, contractor_id: str, **ids: Any) -> None:
    detail = {"schema_version": SCHEMA_VERSION, "contractor_id": contractor_id, **ids}
    bus = get_settings().event_bus_name
    try:
        response = aws.events().put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                }
            ]
        )
        failed = response.get("FailedEntryCount", 0)
    except Exception as error:  # see the module's docstring: logged, not raised
        logger.error("Event not emitted", detail_type=detail_type, error=type(error).__name__)
        return
    if failed:
        codes = [entry.get("ErrorCode") for entry in response.get("Entries", [])]
        logger.error("Event not emitted", detail_type=detail_type, error_codes=codes)
