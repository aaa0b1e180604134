"""Simulated wall time for the local run: moto's SQS (visibility timeouts, delays, timestamps)
and the QBO emulator read it, so hours of retries and outages pass in seconds.

moto runs in this process (ThreadedMotoServer), so its SQS models' time functions are swapped
for ones that add this clock's offset; `advance` moves both moto and the emulator forward. The
layer keeps the real clock: it never needs to know how much simulated time went by.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import moto.sqs.models as sqs_models
from moto.core.utils import unix_time as real_unix_time


class LocalClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[float], None]] = []
        self._patched: dict[str, Any] = {}

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        return real_unix_time() + self._offset

    @property
    def time_module(self) -> Any:
        """A stand-in for the `time` module whose time() is this clock's."""
        clock = self

        class _Time:
            def __getattr__(self, name: str) -> Any:
                return getattr(time, name)

            def time(self) -> float:
                return clock.now()

        return _Time()

    def advance(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._offset += seconds
        for listener in self._listeners:
            listener(seconds)

    def rewind(self) -> None:
        """Back to real time, between tests: once the tables and queues are emptied nothing
        remembers the simulated time, and a test must not inherit the years an earlier one
        moved on (the emulator's reset rewinds its own clock)."""
        with self._lock:
            self._offset = 0.0

    def follow(self, listener: Callable[[float], None]) -> None:
        """`listener(seconds)` is called on every advance (the emulator's clock, say)."""
        self._listeners.append(listener)

    def install(self) -> None:
        """moto's SQS reads this clock from now on."""
        self._patched = {
            "unix_time": sqs_models.unix_time,
            "unix_time_millis": sqs_models.unix_time_millis,
        }
        offset = self

        def unix_time(dt: Any = None) -> float:
            return real_unix_time(dt) + offset._offset

        def unix_time_millis(dt: Any = None) -> float:
            return unix_time(dt) * 1000.0

        sqs_models.unix_time = unix_time
        sqs_models.unix_time_millis = unix_time_millis

    def uninstall(self) -> None:
        for name, function in self._patched.items():
            setattr(sqs_models, name, function)
        self._patched = {}


def next_visible_in(queue_url: str, clock: LocalClock) -> float | None:
    """Seconds until the first message of the queue that is in flight or delayed can be
    received again (None: none is); read from moto's in-process model."""
    now_ms = clock.now() * 1000.0
    soonest: float | None = None
    for queue in _queues(queue_url):
        for message in list(queue._messages):  # moto keeps no public view of in-flight ones
            at = max(float(message.visible_at or 0), float(message.delayed_until or 0))
            if at <= now_ms and message in queue.pending_messages:
                at = now_ms  # came back while this looked (real time goes on): receive again
            if at >= now_ms and (soonest is None or at < soonest):
                soonest = at
    return None if soonest is None else (soonest - now_ms) / 1000.0


def settle_in_flight(queue_url: str) -> None:
    """Forgets, as in flight, the messages whose visibility timeout is over. moto does it only
    as its receive loop reaches each one, so when several messages of a FIFO group come back at
    once it delivers the last one first (the earlier ones still see the group in flight); SQS
    delivers the group in order."""
    for queue in _queues(queue_url):
        with queue._messages_lock:
            for message in [m for m in queue.pending_messages if m.visible]:
                queue.pending_messages.discard(message)


def _queues(queue_url: str) -> list[Any]:
    """moto's in-process model of the queue at that URL (one per account and region found)."""
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    found: list[Any] = []
    for account in sqs_models.sqs_backends.values():
        for backend in account.values():
            if name in backend.queues:
                found.append(backend.queues[name])
    return found
