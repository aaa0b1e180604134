"""Wall-clock helpers in one place, so every stored time has the same format."""

from __future__ import annotations

import time
from datetime import UTC, datetime

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now() -> float:
    return time.time()


def iso_now() -> str:
    return datetime.fromtimestamp(now(), UTC).strftime(ISO_FORMAT)


def seconds_since(iso_time: str) -> float:
    return now() - datetime.strptime(iso_time, ISO_FORMAT).replace(tzinfo=UTC).timestamp()


def iso_at(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime(ISO_FORMAT)
