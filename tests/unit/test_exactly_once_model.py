"""A stateful model of once.py's write_once against an in-memory slot and a fake
QuickBooks (docs/exactly-once.md): deliveries that crash after each step, a racing invocation
that resumes after its lease passed, lost answers, outages, refusals, a reconnect, the
contractor's retry, a requestid memory QuickBooks forgets, and a clock; and a claim carried by
the settle before it in a batch (core/carry.py), made only on a slot never written, which the
next message takes, or which the batch releases when no message took it. Whatever happens, at
most one entity carries our marker, and once the faults heal, delivery ends with exactly one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from qbo_sync import once
from qbo_sync.connection.tokens import ReauthorizationRequired
from qbo_sync.core.delivery import Deferred
from qbo_sync.once import (
    ClaimStatus,
    Held,
    Outcome,
    Unsettled,
    Verdict,
    Wait,
    Written,
    write_once,
)
from qbo_sync.qbo.client import request_id
from qbo_sync.qbo.faults import QboError, QboUnavailable

MARKER = "platform thing th_1"
TIMEOUT_SECONDS = 60  # the functions' Timeout: an invocation never outlives a lease
STEPS = ("claimed", "committed", "answer_read", "settled", "side_records")


class Crash(Exception):
    """The function dies here (timeout, out of memory): nothing after it runs."""


@dataclass
class Clock:
    at: float = 1_000_000.0


@dataclass
class Slot:
    done: bool = False
    qbo_id: str | None = None
    attempt: str | None = None
    lease_until: int = 0
    maybe_in_qbo: bool = False
    attempts: int = 0
    retry: str | None = None
    failed: bool = False
    side_records: set[str] = field(default_factory=set)


@dataclass
class FakeQbo:
    entities: dict[str, str] = field(default_factory=dict)  # id -> marker
    memory: dict[str, str | None] = field(default_factory=dict)  # requestid -> id (None: refused)
    down: bool = False
    lose_next_answer: bool = False
    refuse_next: bool = False
    reauthorization: bool = False
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    reads: int = 0
    temporary_faults: int = 0  # outages and lost answers it answered with

    def unavailable(self, message: str) -> QboUnavailable:
        self.temporary_faults += 1
        return QboUnavailable(503, "", message)

    def find(self, marker: str) -> dict[str, Any] | None:
        if self.down:
            raise self.unavailable("Service Unavailable")
        self.reads += 1
        for qbo_id, mark in self.entities.items():
            if mark == marker:
                return {"Id": qbo_id}
        return None

    def create(self, marker: str, requestid: str, crash_after_commit: bool) -> dict[str, Any]:
        if self.reauthorization:
            raise ReauthorizationRequired()
        if self.down:
            raise self.unavailable("Service Unavailable")
        if requestid in self.memory:  # QBO answers a requestid it has seen with its first answer
            remembered = self.memory[requestid]
            if remembered is None:
                raise QboError(400, "6000", "A business validation error has occurred")
            return {"Id": remembered}
        if self.refuse_next:
            self.refuse_next = False
            self.memory[requestid] = None
            raise QboError(400, "6000", "A business validation error has occurred")
        qbo_id = str(next(self.ids))
        self.entities[qbo_id] = marker
        self.memory[requestid] = qbo_id
        if crash_after_commit:
            raise Crash("committed")
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise self.unavailable("answer lost")
        return {"Id": qbo_id}


class FakeAdapter:
    what = "thing"

    def __init__(
        self, slot: Slot, qbo: FakeQbo, crash_at: str | None, carried: str | None = None
    ) -> None:
        self.slot, self.qbo, self.crash_at = slot, qbo, crash_at
        self.zombie: tuple[str, Written] | None = None
        self.carried = carried

    def carried_claim(self) -> tuple[str, Held] | None:
        carried, self.carried = self.carried, None
        return None if carried is None else (carried, Held(ClaimStatus.CLAIMED))

    def _crash(self, step: str) -> None:
        if self.crash_at == step:
            raise Crash(step)

    def claim(self, attempt: str, lease_until: int, at: float) -> Held:
        slot = self.slot
        if slot.done:
            return Held(ClaimStatus.DONE, qbo_id=slot.qbo_id)
        if slot.attempt is not None and slot.lease_until >= at:
            return Held(ClaimStatus.BUSY)
        died_holding = slot.attempt is not None
        slot.attempt, slot.lease_until = attempt, lease_until
        return Held(
            ClaimStatus.CLAIMED,
            maybe_in_qbo=slot.maybe_in_qbo or died_holding,
            attempts=slot.attempts,
            retry=slot.retry,
        )

    def plan(self, held: Held) -> str | Wait:
        self._crash("claimed")
        return MARKER

    def request_parts(self, plan: str) -> tuple[str, ...]:
        return ("thing", plan)

    def find(self, plan: str) -> dict[str, Any] | None:
        return self.qbo.find(plan)

    def create(self, plan: str, requestid: str) -> dict[str, Any]:
        return self.qbo.create(plan, requestid, self.crash_at == "committed")

    def settle(self, attempt: str, end: Written | Unsettled, plan: str | None) -> bool:
        if isinstance(end, Written) and self.crash_at == "answer_read":
            self.zombie = (attempt, end)  # paused, not dead: it may resume after its lease
            raise Crash("answer_read")
        settled = settle(self.slot, attempt, end)
        self._crash("settled")
        return settled

    def side_records(self, plan: str | None, qbo_id: str, written: Written | None) -> None:
        self._crash("side_records")
        self.slot.side_records.add(qbo_id)

    def gives_up(self, attempts: int) -> bool:
        return attempts >= 6


def settle(slot: Slot, attempt: str, end: Written | Unsettled) -> bool:
    if slot.attempt != attempt:
        return False
    slot.attempt, slot.lease_until = None, 0
    if isinstance(end, Written):
        slot.done, slot.qbo_id, slot.maybe_in_qbo, slot.attempts = True, end.entity["Id"], False, 0
        return True
    slot.failed, slot.maybe_in_qbo, slot.attempts = end.failed, end.maybe_in_qbo, end.attempts
    return True


def rid(*parts: str) -> str:
    return request_id("ctr_1", "realm_1", *parts)


class ExactlyOnce(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.slot, self.qbo, self.clock = Slot(), FakeQbo(), Clock()
        self.zombie: tuple[str, Written] | None = None
        self.counted_from = 0  # the fake's temporary faults when the count last started again
        self.retries = itertools.count(1)
        # A claim a settle carried for this slot: its attempt, and until when the invocation
        # that made it can still run the next message (a function's timeout is below the lease).
        self.carried: tuple[str, float] | None = None
        self.carries = itertools.count(1)

    # -- the world -----------------------------------------------------------------------------

    def deliver(self, crash_at: str | None, carried: str | None = None) -> None:
        adapter = FakeAdapter(self.slot, self.qbo, crash_at, carried)
        before = self.slot.attempts
        once.now = lambda: self.clock.at  # type: ignore[attr-defined]
        try:
            result = write_once(adapter, rid, wait_seconds=0)
        except Deferred as deferred:
            if isinstance(deferred.__cause__, QboError):
                assert self.slot.attempts == before + 1
            return
        except Crash:
            if adapter.zombie is not None:
                self.zombie = adapter.zombie
            return
        finally:
            once.now = _real_now  # type: ignore[attr-defined]
        if result.verdict == Verdict.RECONNECT:
            assert self.slot.attempts == before, "a reconnect's wait is never counted"
        if result.outcome == Outcome.FAILED:
            self.counted_from = self.qbo.temporary_faults

    @rule(crash_at=st.sampled_from((None, None, *STEPS)))
    def a_delivery(self, crash_at: str | None) -> None:
        self.deliver(crash_at)

    @precondition(lambda self: self.carried is None and self.slot == Slot())
    @rule()
    def a_settle_before_carries_the_claim(self) -> None:
        # Conditional on the slot never having been written: the claim it answers is fresh.
        attempt = f"carried-{next(self.carries)}"
        self.slot.attempt, self.slot.lease_until = attempt, int(self.clock.at) + once.LEASE_SECONDS
        self.carried = (attempt, self.clock.at + TIMEOUT_SECONDS)

    @precondition(lambda self: self.carried is not None and self.clock.at < self.carried[1])
    @rule(crash_at=st.sampled_from((None, None, *STEPS)))
    def the_next_message_takes_the_carried_claim(self, crash_at: str | None) -> None:
        assert self.carried is not None
        attempt, self.carried = self.carried[0], None
        self.deliver(crash_at, carried=attempt)

    @precondition(lambda self: self.carried is not None)
    @rule()
    def the_batch_releases_a_carried_claim_no_message_took(self) -> None:
        assert self.carried is not None
        attempt, self.carried = self.carried[0], None
        if self.slot.attempt == attempt:  # conditional on the carried attempt
            self.slot.attempt, self.slot.lease_until = None, 0

    @rule()
    def an_answer_is_lost(self) -> None:
        self.qbo.lose_next_answer = True

    @rule(down=st.booleans())
    def quickbooks_goes_down_or_up(self, down: bool) -> None:
        self.qbo.down = down

    @rule()
    def quickbooks_refuses_the_next_create(self) -> None:
        self.qbo.refuse_next = True

    @rule()
    def the_connection_needs_reauthorization(self) -> None:
        self.qbo.reauthorization = True

    @rule()
    def the_contractor_reconnects(self) -> None:
        self.qbo.reauthorization = False

    @rule()
    def quickbooks_forgets_its_requestids(self) -> None:
        self.qbo.memory.clear()

    @precondition(lambda self: not self.slot.done)
    @rule()
    def the_contractor_presses_retry(self) -> None:
        self.slot.retry = f"retry-{next(self.retries)}"
        self.slot.attempts, self.slot.failed = 0, False
        self.counted_from = self.qbo.temporary_faults

    @rule(seconds=st.integers(min_value=1, max_value=200))
    def time_passes(self, seconds: int) -> None:
        self.clock.at += seconds

    @precondition(lambda self: self.zombie is not None)
    @rule()
    def the_paused_invocation_resumes(self) -> None:
        assert self.zombie is not None
        attempt, written = self.zombie
        self.zombie = None
        settle(self.slot, attempt, written)

    # -- what must always hold -----------------------------------------------------------------

    @invariant()
    def at_most_one_entity_carries_our_marker(self) -> None:
        assert len(self.qbo.entities) <= 1, self.qbo.entities

    @invariant()
    def done_means_exactly_one_entity_and_the_slot_names_it(self) -> None:
        if self.slot.done:
            assert list(self.qbo.entities) == [self.slot.qbo_id]

    @invariant()
    def an_entity_of_an_unsettled_slot_is_remembered_as_maybe(self) -> None:
        if self.qbo.entities and not self.slot.done:
            assert self.slot.maybe_in_qbo or self.slot.attempt is not None

    @invariant()
    def attempts_count_only_temporary_faults(self) -> None:
        assert self.slot.attempts <= self.qbo.temporary_faults - self.counted_from

    def teardown(self) -> None:
        self.qbo.down = self.qbo.reauthorization = False
        self.qbo.lose_next_answer = self.qbo.refuse_next = False
        self.zombie = self.carried = None  # the invocation holding a carried claim is gone
        if not self.slot.done:
            self.the_contractor_presses_retry()
        for _ in range(3):
            self.clock.at += once.LEASE_SECONDS + 1
            self.deliver(None)
        assert self.slot.done
        assert list(self.qbo.entities) == [self.slot.qbo_id]
        assert self.slot.side_records == {self.slot.qbo_id}


_real_now = once.now

ExactlyOnce.TestCase.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)
test_exactly_once = ExactlyOnce.TestCase


@pytest.mark.parametrize("crash_at", STEPS)
def test_a_crash_at_each_step_still_ends_with_one_entity(crash_at: str) -> None:
    machine = ExactlyOnce()
    machine.quickbooks_forgets_its_requestids()
    machine.deliver(crash_at)
    machine.quickbooks_forgets_its_requestids()
    machine.teardown()


@pytest.mark.parametrize("crash_at", STEPS)
def test_a_carried_claim_and_a_crash_at_each_step_still_end_with_one_entity(
    crash_at: str,
) -> None:
    machine = ExactlyOnce()
    machine.a_settle_before_carries_the_claim()
    machine.quickbooks_forgets_its_requestids()
    machine.the_next_message_takes_the_carried_claim(crash_at)
    machine.quickbooks_forgets_its_requestids()
    machine.teardown()
