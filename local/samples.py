"""Platform events as the invoicing and payment systems publish them (docs/interface.md §3, §4, §8,
§9)."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.stack import LocalStack


def invoice_sent(
    contractor_id: str,
    number: str,
    client_name: str,
    lines: list[tuple[str, str, str]] | None = None,
    *,
    total: str | None = None,
    invoice_id: str | None = None,
    client_id: str | None = None,
    revision: int = 1,
    email: str | None = "client@example.com",
) -> dict[str, Any]:
    """An invoice-sent body. `lines` are (description, quantity, unit price)."""
    body_lines = [
        {
            "description": description,
            "quantity": quantity,
            "unit_price": price,
            "amount": str((Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))),
        }
        for description, quantity, price in (lines or [])
    ]
    computed = sum((Decimal(line["amount"]) for line in body_lines), Decimal("0"))
    return {
        "schema_version": 1,
        "event_id": f"evt_{uuid.uuid4().hex[:12]}",
        "contractor_id": contractor_id,
        "sent_at": "2026-11-24T15:04:05Z",
        "invoice": {
            "id": invoice_id or f"inv_{number}",
            "number": number,
            "revision": revision,
            "issue_date": "2026-11-24",
            "due_date": "2026-12-24",
            "currency": "USD",
            "total": total or str(computed),
            "memo": f"Invoice {number}",
            "lines": body_lines,
        },
        "client": {
            "id": client_id or f"cli_{uuid.uuid5(uuid.NAMESPACE_URL, client_name).hex[:8]}",
            "display_name": client_name,
            "company_name": None,
            "email": email,
            "phone": "+1 555 0100",
            "billing_address": {
                "line1": "1 Main St",
                "line2": None,
                "city": "Austin",
                "region": "TX",
                "postal_code": "78701",
                "country": "US",
            },
        },
    }


def invoice_voided(
    contractor_id: str, invoice_id: str, number: str, *, revision: int = 1
) -> dict[str, Any]:
    """An invoice-voided body (the invoice-sent queue, docs/interface.md §8)."""
    return {
        "schema_version": 1,
        "message_type": "invoice_voided",
        "event_id": f"evt_{uuid.uuid4().hex[:12]}",
        "contractor_id": contractor_id,
        "voided_at": "2026-12-02T10:00:00Z",
        "invoice": {"id": invoice_id, "number": number, "revision": revision},
        "reason": "Job cancelled by the client",
    }


def payment_completed(
    contractor_id: str,
    invoice_id: str,
    invoice_number: str,
    amount: str,
    *,
    payment_id: str | None = None,
    method: str = "card",
) -> dict[str, Any]:
    """A payment-completed `detail`."""
    return {
        "schema_version": 1,
        "payment_id": payment_id or f"pay_{uuid.uuid4().hex[:12]}",
        "contractor_id": contractor_id,
        "invoice_id": invoice_id,
        "invoice_number": invoice_number,
        "amount": amount,
        "currency": "USD",
        "paid_at": "2026-11-25T09:00:00Z",
        "method": method,
    }


def payout_paid(
    contractor_id: str,
    payout_id: str,
    items: list[dict[str, Any]],
    *,
    arrival_date: str = "2026-12-04",
    amount: str | None = None,
) -> dict[str, Any]:
    """A payout-paid `detail` (docs/interface.md §10); `amount` defaults to what the items add
    up to."""
    net = Decimal("0")
    for item in items:
        sign = -1 if item["type"] == "refund" else 1
        net += sign * Decimal(item["amount"]) - Decimal(item.get("fee", "0"))
    return {
        "schema_version": 1,
        "payout_id": payout_id,
        "contractor_id": contractor_id,
        "amount": amount if amount is not None else str(net),
        "currency": "USD",
        "arrival_date": arrival_date,
        "items": items,
    }


def payment_refunded(
    contractor_id: str,
    invoice_id: str,
    invoice_number: str,
    payment_id: str,
    amount: str,
    *,
    refund_id: str | None = None,
    reason: str = "requested_by_customer",
) -> dict[str, Any]:
    """A payment-refunded `detail` (docs/interface.md §9)."""
    return {
        "schema_version": 1,
        "refund_id": refund_id or f"rfd_{uuid.uuid4().hex[:12]}",
        "payment_id": payment_id,
        "contractor_id": contractor_id,
        "invoice_id": invoice_id,
        "invoice_number": invoice_number,
        "amount": amount,
        "currency": "USD",
        "refunded_at": "2026-12-03T16:20:00Z",
        "reason": reason,
    }


def payment_bus_event(
    stack: LocalStack, detail: dict[str, Any], detail_type: str = "PaymentEventDetailType"
) -> dict[str, Any]:
    """A payment-completed event (or, with detail_type "RefundEventDetailType", a
    payment-refunded one) as the stack's bus rule delivers it to PaymentEventsQueue."""
    parameters = stack.parameters
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": parameters[detail_type],
        "source": parameters["PaymentEventSource"],
        "account": stack.account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": stack.region,
        "resources": [],
        "detail": detail,
    }


def invoice_event(stack: LocalStack, message: dict[str, Any]) -> dict[str, Any]:
    """An invoice-sent message as Lambda receives it from InvoiceSentQueue (one FIFO record,
    its group the contractor), for invoking the handler directly."""
    fifo = {
        "SequenceNumber": str(time.time_ns()),
        "MessageGroupId": message["contractor_id"],
        "MessageDeduplicationId": message["event_id"],
    }
    queue_arn = stack.attributes["InvoiceSentQueue"]["Arn"]
    return {"Records": [sqs_record(json.dumps(message), queue_arn, stack.region, fifo)]}


def payment_event(
    stack: LocalStack, detail: dict[str, Any], detail_type: str = "PaymentEventDetailType"
) -> dict[str, Any]:
    """A payment-completed event as Lambda receives it from PaymentEventsQueue (one record),
    for invoking the handler directly (detail_type: as payment_bus_event's)."""
    body = json.dumps(payment_bus_event(stack, detail, detail_type))
    record = sqs_record(body, stack.attributes["PaymentEventsQueue"]["Arn"], stack.region)
    record["attributes"]["SenderId"] = "AIDAEVENTBRIDGE"
    return {"Records": [record]}


def sqs_record(
    body: str, queue_arn: str, region: str, attributes: dict[str, str] | None = None
) -> dict[str, Any]:
    """One record of the event Lambda's SQS event source delivers, for a direct invocation."""
    now = str(int(time.time() * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "direct-invocation",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now,
            "SenderId": "direct-invocation",
            "ApproximateFirstReceiveTimestamp": now,
            **(attributes or {}),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
