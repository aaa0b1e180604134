"""The one mechanism that writes an entity to QuickBooks exactly once (docs/exactly-once.md).

Every QuickBooks create (an invoice, a payment, a refund, a payout's deposit) runs `write_once`
with a small per-flow adapter (`Adapter`) that knows where its slot lives, what its
preconditions are, how QuickBooks shows "ours" and what its side records are. The sequence is
here, once:

1. claim the slot: one conditional write that starts an attempt under a lease and answers what
   the slot knew (`Held`), unless the settle before, in the same batch, claimed it
   (`carried_claim`, core/carry.py);
2. plan: the flow's preconditions, from what the claim answered (`Wait` when one is not met);
3. when an earlier attempt may have reached QuickBooks (stored on the slot by the attempt that
   did not know, or an attempt that died holding its lease: never inferred from how often a
   message came), look for ours by the flow's marker before creating;
4. create, with a requestid made of stable parts and the contractor's retry nonce;
5. settle the slot, conditional on this attempt still holding it;
6. the flow's side records, each safe to repeat (a done slot heals them at its next claim).

A fault at any step is judged once (`verdict`): waiting for a reconnect (never counted),
temporary (counted, deferred through the message's visibility, given up after the window of
core/delivery.py) or refused for good (with the contractor's reason).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from aws_lambda_powertools import Logger

from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired, RefreshInProgress
from qbo_sync.core.clock import now
from qbo_sync.core.delivery import Deferred
from qbo_sync.core.reasons import Reason, ReasonCode, reason
from qbo_sync.core.statuses import Outcome
from qbo_sync.qbo.client import request_id
from qbo_sync.qbo.faults import (
    AuthenticationFailed,
    NotAuthorized,
    QboError,
    Refused,
    StaleObject,
    reason_for,
)

logger = Logger(child=True)

LEASE_SECONDS = 90  # longer than any function's Timeout (60 s in template.yaml)
WAIT_FOR_OTHER_SECONDS = 10.0
_POLL_SECONDS = 0.2

P = TypeVar("P")


class Verdict(StrEnum):
    RECONNECT = "reconnect"  # the contractor must reconnect: wait, never counted
    TEMPORARY = "temporary"  # counted, tried again later, given up after the window
    REFUSED = "refused"  # retrying cannot help: failed with its reason


class ClaimStatus(StrEnum):
    CLAIMED = "claimed"
    DONE = "done"  # an earlier attempt settled it
    BUSY = "busy"  # another attempt holds a lease that has not run out


class Held(NamedTuple):
    """What the claim answered about the slot, before this attempt."""

    status: ClaimStatus
    maybe_in_qbo: bool = False  # stored, or an attempt died holding the slot
    attempts: int = 0  # temporary faults counted so far
    retry: str | None = None  # the contractor's latest retry: its own requestids
    qbo_id: str | None = None  # when done


class Wait(NamedTuple):
    """A precondition not met: the slot waits with `reason`. `recheck` is asked once after the
    slot is settled as waiting: True when what it waits for happened meanwhile (then the write
    runs again), so that a wait and the event it waits for cannot miss each other."""

    reason: Reason
    recheck: Callable[[], bool] | None = None


class Written(NamedTuple):
    entity: dict[str, Any]
    found: bool  # found in QuickBooks (an earlier attempt made it), not created now


class Unsettled(NamedTuple):
    """How an attempt ends without the entity: waiting (to be tried again) or failed."""

    failed: bool
    reason: Reason
    maybe_in_qbo: bool
    attempts: int  # the temporary faults counted, this one included when it was one
    verdict: Verdict | None = None  # None: a precondition's wait


class Result(NamedTuple):
    outcome: Outcome
    qbo_id: str | None = None
    reason: Reason | None = None
    verdict: Verdict | None = None
    error: Exception | None = None  # the fault that ended it, when one did


class Adapter(Protocol[P]):
    """One flow's essential differences; `write_once` does the rest."""

    what: str  # the thing, as the contractor's reasons name it: "invoice", "payment", ...

    def claim(self, attempt: str, lease_until: int, at: float) -> Held: ...

    def carried_claim(self) -> tuple[str, Held] | None:
        """The claim another message's settle made for this slot (core/carry.py): its attempt
        and what the slot held; None: claim as usual."""
        ...

    def plan(self, held: Held) -> P | Wait:
        """The preconditions, from what the claim answered. May raise a fault."""
        ...

    def request_parts(self, plan: P) -> tuple[str, ...]:
        """The stable parts of the create's requestid (the retry nonce is added here)."""
        ...

    def find(self, plan: P) -> dict[str, Any] | None:
        """Ours in QuickBooks, by the flow's marker (a metered read: only when maybe)."""
        ...

    def create(self, plan: P, requestid: str) -> dict[str, Any]: ...

    def settle(self, attempt: str, end: Written | Unsettled, plan: P | None) -> bool:
        """Ends the attempt, conditional on `attempt` still holding the slot."""
        ...

    def side_records(self, plan: P | None, qbo_id: str, written: Written | None) -> None:
        """Idempotent records beside the slot; `written` None: healing a done slot."""
        ...

    def gives_up(self, attempts: int) -> bool: ...


def verdict(error: Exception, what: str) -> tuple[Verdict, Reason] | None:
    """The one fault verdict; None for what is not a QuickBooks or connection fault."""
    if isinstance(error, ReauthorizationRequired | NotAuthorized):
        return Verdict.RECONNECT, reason(ReasonCode.REAUTHORIZATION)
    if isinstance(error, RefreshInProgress):
        return Verdict.TEMPORARY, reason(ReasonCode.TEMPORARY)
    if isinstance(error, Refused):
        return Verdict.REFUSED, error.reason
    if isinstance(error, QboError):
        if error.transient or isinstance(error, AuthenticationFailed | StaleObject):
            return Verdict.TEMPORARY, reason(ReasonCode.TEMPORARY)
        return Verdict.REFUSED, reason_for(error, what=what)
    return None


@dataclass
class _Run(Generic[P]):
    adapter: Adapter[P]
    request_id: Callable[..., str]
    wait_seconds: float
    attempt: str = field(default_factory=lambda: uuid.uuid4().hex)

    def run(self, again: bool = True) -> Result:
        carried = self.adapter.carried_claim()
        if carried is not None:
            self.attempt, held = carried
        else:
            held = self._claim()
        if held.status == ClaimStatus.DONE:
            assert held.qbo_id is not None
            self.adapter.side_records(None, held.qbo_id, None)
            return Result(Outcome.ALREADY, held.qbo_id)
        reached = False  # the create was sent: QuickBooks may have made it
        plan: P | None = None
        try:
            step = self.adapter.plan(held)
            if isinstance(step, Wait):
                return self._wait(held, step, again)
            plan = step
            entity = self.adapter.find(plan) if held.maybe_in_qbo else None
            written = Written(entity, found=True) if entity is not None else None
            if written is None:
                reached = True
                parts = self.adapter.request_parts(plan)
                if held.retry:
                    parts = (*parts, "retry", held.retry)
                written = Written(self.adapter.create(plan, self.request_id(*parts)), False)
        except Exception as error:
            judged = verdict(error, self.adapter.what)
            if judged is None:
                raise
            return self._fault(held, plan, judged, held.maybe_in_qbo or reached, error)
        qbo_id = str(written.entity["Id"])
        if not self.adapter.settle(self.attempt, written, plan):
            # This attempt outlived its lease; the one that took over finds the same entity.
            logger.warning(f"{self.adapter.what.capitalize()} settled by another attempt")
            return Result(Outcome.ALREADY, qbo_id)
        self.adapter.side_records(plan, qbo_id, written)
        return Result(Outcome.WRITTEN, qbo_id)

    def _claim(self) -> Held:
        """Waits a little for an attempt in progress elsewhere (a duplicate delivery)."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            at = now()
            held = self.adapter.claim(self.attempt, int(at + LEASE_SECONDS), at)
            if held.status != ClaimStatus.BUSY:
                return held
            if time.monotonic() >= deadline:
                raise Deferred(f"the {self.adapter.what} is held by another invocation", 1)
            time.sleep(_POLL_SECONDS)

    def _wait(self, held: Held, wait: Wait, again: bool) -> Result:
        end = Unsettled(False, wait.reason, held.maybe_in_qbo, held.attempts)
        self.adapter.settle(self.attempt, end, None)
        if again and wait.recheck is not None and wait.recheck():
            return _Run(self.adapter, self.request_id, self.wait_seconds).run(again=False)
        return Result(Outcome.WAITING, reason=wait.reason)

    def _fault(
        self,
        held: Held,
        plan: P | None,
        judged: tuple[Verdict, Reason],
        maybe_in_qbo: bool,
        error: Exception,
    ) -> Result:
        kind, why = judged
        attempts = held.attempts  # a reconnect's wait is never counted
        if kind == Verdict.TEMPORARY:
            attempts += 1
            if not self.adapter.gives_up(attempts):
                end = Unsettled(False, why, maybe_in_qbo, attempts, kind)
                self.adapter.settle(self.attempt, end, plan)
                raise Deferred(f"{self.adapter.what} not written: {error}", attempts) from error
            logger.warning(
                f"QuickBooks kept failing; the {self.adapter.what} gives up", attempts=attempts
            )
            why = reason(ReasonCode.GAVE_UP)
        if kind == Verdict.REFUSED and isinstance(error, QboError):
            logger.error(
                f"QuickBooks refused the {self.adapter.what}",
                qbo_code=error.code,
                qbo_detail=error.detail,
                qbo_element=error.element,
            )
        if kind == Verdict.RECONNECT:
            end = Unsettled(False, why, maybe_in_qbo, attempts, kind)
            self.adapter.settle(self.attempt, end, plan)
            return Result(Outcome.WAITING, reason=why, verdict=kind, error=error)
        # Failed for good: a later try (the contractor's Retry) starts a new count.
        self.adapter.settle(self.attempt, Unsettled(True, why, maybe_in_qbo, 0, kind), plan)
        return Result(Outcome.FAILED, reason=why, verdict=kind, error=error)


def write_once(
    adapter: Adapter[P],
    request_id: Callable[..., str],
    *,
    wait_seconds: float = WAIT_FOR_OTHER_SECONDS,
) -> Result:
    """Runs one attempt of the adapter's write. Raises Deferred for a temporary fault (or a
    slot held elsewhere); `request_id` turns the parts into QuickBooks' requestid."""
    return _Run(adapter, request_id, wait_seconds).run()


def request_ids(connection: Connection) -> Callable[..., str]:
    """QuickBooks requestids within one contractor's connection to one company."""
    return partial(request_id, connection.contractor_id, connection.realm_id)
