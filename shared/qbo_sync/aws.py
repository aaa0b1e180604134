"""boto3 clients, created on first use and reused for the container's life."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3  # heavy: imported only when a client is first needed

    return boto3.session.Session().client(service)  # type: ignore[call-overload]
