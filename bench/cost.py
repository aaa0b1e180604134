"""Figure 9: what 1,000 invoices and 1,000 payments cost at AWS list prices, from the requests
figure 2 counted and the durations it measured.

A model, with every price and assumption written beside the figure:
- Lambda: each message its own invocation (the quiet case; a backlog batches 10 a time), billed
  for its duration at the configured memory on arm64: the handler's time measured here (moto
  answering instead of DynamoDB, the emulator instead of QBO) plus an assumed latency for each
  QBO request (QBO's own time is not ours to measure); the outbox's delivery likewise, per change.
- DynamoDB on demand: a read is one read unit, a write two write units (a ledger item carries the
  invoice-sent message, 1-2 KB), a transaction's write twice that; stream reads by Lambda are free.
- SQS: the event source's receive and delete for each message (one message a batch), and for a
  payment the rule's send to PaymentEventsQueue; the platform's own sends are not counted.
- KMS and EventBridge PutEvents entries as counted; Secrets Manager once per container.
"""

from __future__ import annotations

from typing import Any

# us-east-1 list prices (USD), as published by AWS on each service's pricing page.
PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "sqs_fifo_request": 0.50 / 1e6,
    "sqs_standard_request": 0.40 / 1e6,
    "kms_request": 0.03 / 1e4,
    "eventbridge_event": 1.00 / 1e6,
    "secretsmanager_call": 0.05 / 1e4,
}
ASSUMED_QBO_REQUEST_MS = 300.0
ASSUMED_MESSAGES_PER_CONTAINER = 100  # a container's one GetSecretValue, spread over these
WRITE_UNITS, READ_UNITS = 2, 1


def measure(counts: dict[str, Any], memory_mb: dict[str, int]) -> dict[str, Any]:
    invoice = _per_message(
        counts["invoice_known_customer"],
        counts["whole_invocation_ms"]["invoice"],
        memory_mb["InvoiceSentFunction"],
        memory_mb["OutboxFunction"],
        sqs_price=PRICES["sqs_fifo_request"],
        sqs_requests=2,
    )
    payment = _per_message(
        counts["payment"],
        counts["whole_invocation_ms"]["payment"],
        memory_mb["PaymentCompletedFunction"],
        memory_mb["OutboxFunction"],
        sqs_price=PRICES["sqs_standard_request"],
        sqs_requests=3,
    )
    return {
        "per_1000_invoices_usd": {k: v * 1000 for k, v in invoice.items()},
        "per_1000_payments_usd": {k: v * 1000 for k, v in payment.items()},
        "prices_usd": PRICES,
        "assumptions": {
            "qbo_request_ms": ASSUMED_QBO_REQUEST_MS,
            "messages_per_container": ASSUMED_MESSAGES_PER_CONTAINER,
            "dynamodb_units": {"write": WRITE_UNITS, "read": READ_UNITS},
            "memory_mb": memory_mb,
        },
    }


def _per_message(
    summary: dict[str, Any],
    handler_ms: float,
    memory_mb: int,
    outbox_memory_mb: int,
    *,
    sqs_price: float,
    sqs_requests: int,
) -> dict[str, float]:
    seconds = (handler_ms + summary["qbo_median"] * ASSUMED_QBO_REQUEST_MS) / 1000
    outbox_s = summary["outbox_ms_median"] / 1000
    lambda_cost = (
        seconds * memory_mb / 1024 * PRICES["lambda_gb_second_arm64"]
        + outbox_s * outbox_memory_mb / 1024 * PRICES["lambda_gb_second_arm64"]
        + 2 * PRICES["lambda_request"]  # the consumer's invocation and the outbox's
    )
    costs = {
        "lambda": lambda_cost,
        "dynamodb": summary["dynamodb_writes_median"] * WRITE_UNITS * PRICES["dynamodb_write_unit"]
        + summary["dynamodb_reads_median"] * READ_UNITS * PRICES["dynamodb_read_unit"],
        "sqs": sqs_requests * sqs_price,
        "kms": summary["kms_median"] * PRICES["kms_request"],
        "eventbridge": summary["events_median"] * PRICES["eventbridge_event"],
        "secretsmanager": PRICES["secretsmanager_call"] / ASSUMED_MESSAGES_PER_CONTAINER,
    }
    costs["total"] = sum(costs.values())
    return costs
