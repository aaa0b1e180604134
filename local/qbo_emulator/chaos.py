"""Failures on demand: the outages, throttles, slow answers and lost responses a real
integration meets, injected where tests ask for them."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class _FailRule:
    remaining: int
    status: int
    realm_id: str | None
    kind: str


class Chaos:
    def __init__(self) -> None:
        self._rules: list[_FailRule] = []
        self._probability = 0.0
        self._statuses: tuple[int, ...] = ()
        self._random = random.Random()
        self._timeouts: list[float] = []
        self._crashes = 0

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

    def crash_after_commit_next(self, count: int) -> None:
        self._crashes += count

    def take_failure(self, kind: str, realm_id: str | None) -> int | None:
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
        return self._timeouts.pop(0) if self._timeouts else 0.0

    def take_crash(self) -> bool:
        if self._crashes > 0:
            self._crashes -= 1
            return True
        return False
