"""X-Ray tracing for the handlers, where it is on: the same decision for all three."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])


def tracing_on() -> bool:
    """As Powertools' Tracer decides, but before constructing it: Tracer() imports the X-Ray SDK
    (a quarter of a second of cold start) even where it then disables itself."""
    disabled = os.getenv("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true", "yes", "on")
    in_lambda = bool(os.getenv("LAMBDA_TASK_ROOT")) and not os.getenv("AWS_SAM_LOCAL")
    return in_lambda and not disabled


def traced(handler: Handler) -> Handler:
    """The handler inside Tracer's capture_lambda_handler where tracing is on; as it is else."""
    if not tracing_on():
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer().capture_lambda_handler(handler)  # type: ignore[return-value]
