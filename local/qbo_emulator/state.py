"""Everything the emulator remembers, behind one lock. Handlers take the lock only to read or
change state, never while sleeping, so slow requests overlap as they would at Intuit."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple

from .chaos import Chaos
from .clock import Clock
from .company import Company
from .limits import RateLimiter
from .oauth import OAuthServer


class RequestRecord(NamedTuple):
    method: str
    path: str
    realm_id: str | None
    entity: str | None
    status: int  # 0: the connection was dropped without an answer
    kind: str  # "oauth" or "api"


@dataclass
class Consent:
    realm_id: str | None
    approve: bool


class State:
    def __init__(self, clock: Clock) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.oauth = OAuthServer()
            self.companies: dict[str, Company] = {}
            self.requests: list[RequestRecord] = []
            self.chaos = Chaos()
            self.limiter = RateLimiter()
            self.latency = 0.0
            self.consent: Consent | None = None
            self._realm_serial = 0

    def new_realm_id(self) -> str:
        while True:
            self._realm_serial += 1
            # Realm ids are long numeric strings at Intuit; keep the shape, stay predictable.
            realm_id = f"9341453{self._realm_serial:09d}"
            if realm_id not in self.companies:
                return realm_id

    def create_company(
        self,
        name: str,
        realm_id: str | None,
        default_items: bool = False,
        kind: str = "us_ast",
        multicurrency: bool = False,
    ) -> str:
        with self.lock:
            realm_id = realm_id or self.new_realm_id()
            if realm_id in self.companies:
                raise ValueError(f"company {realm_id} already exists")
            if not realm_id.isdigit():
                raise ValueError("realm ids are numeric strings")
            self.companies[realm_id] = Company(
                realm_id, name, self.clock.now(), default_items, kind, multicurrency
            )
            return realm_id

    def company(self, realm_id: str) -> Company:
        try:
            return self.companies[realm_id]
        except KeyError:
            raise KeyError(f"no company with realm id {realm_id}") from None

    def decide_consent(self) -> str | None:
        """What the user does on Intuit's consent page; one decision per authorize request."""
        pending, self.consent = self.consent, None
        if pending is not None and not pending.approve:
            return None
        if pending is not None and pending.realm_id is not None:
            return pending.realm_id
        if not self.companies:
            # The user signs up for QBO on the way, as Intuit's flow lets them.
            return self.create_company("Demo Contracting LLC", None)
        return next(iter(self.companies))

    def record(self, record: RequestRecord) -> None:
        with self.lock:
            self.requests.append(record)
