"""The request and response shapes handlers exchange with the HTTP server."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering


def transaction_id() -> str:
    return "1-" + secrets.token_hex(4) + "-" + secrets.token_hex(12)
