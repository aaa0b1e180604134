"""X-Ray tracing for the handlers, where it is on: the same decision for all three."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

# X-Ray's patches for what the layer calls: AWS, through botocore. Powertools' default patches
# every library X-Ray knows that is installed, which imports requests and sqlite3 on every cold
# start (about 20 ms). QuickBooks and Intuit are called through urllib3 (intuit-oauth through
# requests, on urllib3), which X-Ray's http.client patch does not see since urllib3 2: their
# subsegments are `remote_call`'s.
PATCHED = ("botocore",)


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

    return Tracer(patch_modules=PATCHED).capture_lambda_handler(handler)  # type: ignore[return-value]


@contextmanager
def remote_call(name: str, method: str, url: str) -> Iterator[Callable[[int], None]]:
    """A call to a service outside AWS as an X-Ray subsegment where tracing is on (its error
    recorded if it raises); yields a function that records the answer's HTTP status. `url`
    without its query string: a query can hold a client's name."""
    if not tracing_on():
        yield _unrecorded
        return
    from aws_xray_sdk.core import xray_recorder

    with xray_recorder.in_subsegment(name, namespace="remote") as subsegment:
        if subsegment is None:  # no trace to add it to (X-Ray's context missing: logged)
            yield _unrecorded
            return
        subsegment.put_http_meta("method", method)
        subsegment.put_http_meta("url", url)
        yield lambda status: subsegment.put_http_meta("status", status)


def _unrecorded(status: int) -> None:
    """The answer of a call no subsegment records."""
