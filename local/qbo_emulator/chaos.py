"""Failures on demand: the outages, throttles, slow answers and lost responses a real
integration meets, injected where tests ask for them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any


@dataclass
class _FailRule:
    remaining: int
    status: int
    realm_id: str | None
    kind: str


@dataclass
class _RejectRule:
    remaining: int
    error: dict[str, Any]  # one entry of the Fault's Error list
    entity: str | None
    realm_id: str | None


class Chaos:
    def __init__(self) -> None:
        self._rules: list[_FailRule] = []
        self._probability = 0.0
        self._statuses: tuple[int, ...] = ()
        self._random = random.Random()
        self._timeouts: list[float] = []
        self._timeout_probability = 0.0
        self._timeout_seconds = 0.0
        self._timeout_random = random.Random()
        self._rejections: list[_RejectRule] = []
        self._crashes = 0
        self._outages: dict[str, tuple[float, tuple[int, ...]]] = {}
        self._outage_count = 0

    def fail_next(self, count: int, status: int, realm_id: str | None, kind: str) -> None:
        if kind not in ("api", "oauth"):
            raise ValueError("kind must be 'api' or 'oauth'")
        self._rules.append(_FailRule(count, status, realm_id, kind))

    def fault_rate(self, probability: float, statuses: tuple[int, ...], seed: int | None) -> None:
        self._probability = probability
        self._statuses = statuses
        self._random = random.Random(seed)

    def timeout_next(self, count: int, seconds: float) -> None:
        self._timeouts.extend([seconds] * count)

    def timeout_rate(self, probability: float, seconds: float, seed: int | None) -> None:
        self._timeout_probability = probability
        self._timeout_seconds = seconds
        self._timeout_random = random.Random(seed)

    def reject_next(
        self, count: int, error: dict[str, Any], entity: str | None, realm_id: str | None
    ) -> None:
        self._rejections.append(_RejectRule(count, error, entity, realm_id))

    def outage(self, realm_id: str, until: float, statuses: tuple[int, ...]) -> None:
        """Every Accounting API request of the realm fails, cycling through `statuses`, until
        the emulator's clock reaches `until`."""
        self._outages[realm_id] = (until, statuses)

    def crash_after_commit_next(self, count: int) -> None:
        self._crashes += count

    def take_failure(self, kind: str, realm_id: str | None, now: float = 0.0) -> int | None:
        outage = self._outages.get(realm_id or "") if kind == "api" else None
        if outage is not None and now < outage[0]:
            self._outage_count += 1
            return outage[1][self._outage_count % len(outage[1])]
        for rule in self._rules:
            if rule.kind == kind and rule.realm_id in (None, realm_id) and rule.remaining > 0:
                rule.remaining -= 1
                return rule.status
        self._rules = [rule for rule in self._rules if rule.remaining > 0]
        if (
            kind == "api"
            and self._probability > 0
            and self._statuses
            and self._random.random() < self._probability
        ):
            return self._random.choice(self._statuses)
        return None

    def take_timeout(self) -> float:
        if self._timeouts:
            return self._timeouts.pop(0)
        if self._timeout_probability > 0 and (
            self._timeout_random.random() < self._timeout_probability
        ):
            return self._timeout_seconds
        return 0.0

    def take_rejection(self, entity: str | None, realm_id: str) -> dict[str, Any] | None:
        for rule in self._rejections:
            matches = rule.entity in (None, entity) and rule.realm_id in (None, realm_id)
            if rule.remaining > 0 and matches:
                rule.remaining -= 1
                return dict(rule.error)
        return None

    def take_crash(self) -> bool:
        if self._crashes > 0:
            self._crashes -= 1
            return True
        return False
