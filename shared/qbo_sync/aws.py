"""boto3 clients, created on first use and reused for the container's life."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

# botocore sessions are not thread-safe, and the layer's threads (and tests') may ask at once.
_creating = threading.Lock()


def client(service: str) -> Any:
    with _creating:
        return _client(service)


@cache
def _client(service: str) -> Any:
    # One session for every client: each new session parses botocore's endpoint and service
    # indexes again, tens of milliseconds per client of a cold start.
    return _session().client(service)


@cache
def _session() -> Any:
    import boto3  # heavy: imported only when a client is first needed

    return boto3.session.Session()
