"""Time as the emulator sees it: injectable, so tests can age codes and tokens without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

# QBO stamps MetaData and the response `time` in Pacific time with an explicit offset.
# A fixed -08:00 keeps the format without pulling in tz data; the offset is what clients parse.
PACIFIC = timezone(timedelta(hours=-8))


class Clock:
    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self.source = source
        self.offset = 0.0

    def now(self) -> float:
        return self.source() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def _local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC).astimezone(PACIFIC)


def meta_time(ts: float) -> str:
    return _local(ts).isoformat(timespec="seconds")


def response_time(ts: float) -> str:
    return _local(ts).isoformat(timespec="milliseconds")


def local_date(ts: float) -> str:
    return _local(ts).date().isoformat()
