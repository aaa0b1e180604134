"""Intuit's per-realm throttles: 500 requests a minute, 10 a second, 10 in flight.

In-flight requests are always counted (tests read the peak to check that a client keeps
one realm's calls sequential); the limits answer 429 only when enforcement is on."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

PER_MINUTE = 500
PER_SECOND = 10
CONCURRENT = 10


@dataclass
class _Realm:
    admitted: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    peak: int = 0


class RateLimiter:
    def __init__(self) -> None:
        self.enabled = False
        self.time_scale = 1.0
        self.limits = (PER_MINUTE, PER_SECOND, CONCURRENT)
        self._realms: dict[str, _Realm] = {}

    def configure(
        self, enabled: bool, time_scale: float, limits: tuple[int, int, int] | None = None
    ) -> None:
        self.enabled = enabled
        self.time_scale = time_scale
        self.limits = limits or (PER_MINUTE, PER_SECOND, CONCURRENT)
        for realm in self._realms.values():
            realm.admitted.clear()

    def admit(self, realm_id: str) -> int | None:
        """Counts the request in; returns None when admitted, else Retry-After seconds."""
        realm = self._realms.setdefault(realm_id, _Realm())
        now = time.monotonic()
        if self.enabled:
            wait = self._wait(realm, now)
            if wait is not None:
                return wait
        realm.admitted.append(now)
        realm.in_flight += 1
        realm.peak = max(realm.peak, realm.in_flight)
        return None

    def _wait(self, realm: _Realm, now: float) -> int | None:
        minute, second = 60.0 * self.time_scale, 1.0 * self.time_scale
        per_minute, per_second, concurrent = self.limits
        while realm.admitted and realm.admitted[0] <= now - minute:
            realm.admitted.popleft()
        if realm.in_flight >= concurrent:
            return 1
        recent = [t for t in realm.admitted if t > now - second]
        if len(recent) >= per_second:
            return max(1, math.ceil(recent[0] + second - now))
        if len(realm.admitted) >= per_minute:
            return max(1, math.ceil(realm.admitted[0] + minute - now))
        return None

    def release(self, realm_id: str) -> None:
        self._realms[realm_id].in_flight -= 1

    def peak(self, realm_id: str) -> int:
        realm = self._realms.get(realm_id)
        return realm.peak if realm else 0
