"""What every benchmark needs: a quiet local environment, connected contractors, event shapes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local import samples
from local.environment import PROJECT_ROOT, LocalEnvironment, local_environment

QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
INVOICE_FUNCTION = "InvoiceSentFunction"
PAYMENT_FUNCTION = "PaymentCompletedFunction"
OAUTH_FUNCTION = "OAuthFunction"
ROOT: Path = PROJECT_ROOT


@contextmanager
def environment(stack_name: str) -> Iterator[LocalEnvironment]:
    with local_environment(stack_name=stack_name, overrides=QUIET) as env:
        yield env


def connect(env: LocalEnvironment, contractor_id: str) -> str:
    """A new QBO company, connected to the contractor through the real redirect flow."""
    realm = env.qbo.create_company(f"Company of {contractor_id}")
    env.qbo.consent(realm)
    landed = env.platform.connect_quickbooks(contractor_id)
    if "quickbooks=connected" not in landed:
        raise RuntimeError(f"{contractor_id} did not connect: {landed}")
    return realm


def sqs_event(env: LocalEnvironment, message: dict[str, Any]) -> dict[str, Any]:
    """The SQS FIFO event Lambda's event source mapping would deliver for one message."""
    return samples.invoice_event(env.stack, message)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result
