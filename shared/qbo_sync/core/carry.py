"""Carried claims: in a batch, a message's settle also claims the next message's slot, in the
same transaction, so that message makes no claim of its own (docs/exactly-once.md, "A claim
carried by the settle before").

The batch (workflows/invoice_batch.py, workflows/payment_batch.py) says which slot comes right
after which (`scope`), only for a next slot it read ahead; the carried claim is conditional on
the slot being as read (an invoice's ledger item absent; a payment's entry absent and its
invoice's ledger as read), so what it answers is what the next message's own claim would have
answered: the slot as read. A settle asks `next_after` which slot to carry and, once its
transaction went through, notes the claim (`carried`); the next message's attempt `take`s it
instead of claiming. A carried claim no message took (the batch stopped first) is `unused` at
the batch's end, for the batch to release, so that its slot does not look like an attempt that
died.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

Slot = tuple[str, ...]  # a slot's identity, as the flow names it

_local = threading.local()


class Carried(NamedTuple):
    attempt: str
    answer: dict[str, Any]  # what the slot's claim would have answered: the item before


@contextmanager
def scope(after: dict[Slot, Slot], messages: dict[Slot, Any] | None = None) -> Iterator[None]:
    """The batch: `after` maps a slot to the slot of the message right after it; `messages`,
    the message of each such next slot, when its claim writes what the message says."""
    _local.after, _local.carried, _local.messages = dict(after), {}, dict(messages or {})
    try:
        yield
    finally:
        _local.after = _local.carried = _local.messages = None


def message_of(slot: Slot) -> Any:
    """The message of a slot `next_after` named (see `scope`); None when not given."""
    messages: dict[Slot, Any] | None = getattr(_local, "messages", None)
    return messages.get(slot) if messages is not None else None


def next_after(slot: Slot) -> Slot | None:
    """The slot to claim with `slot`'s settle, if any (once: a refused carry is not tried again)."""
    after: dict[Slot, Slot] | None = getattr(_local, "after", None)
    return after.pop(slot, None) if after is not None else None


def refused() -> None:
    """A carried claim was refused: the item was written meanwhile, most often by payments
    parking ahead of their invoices, which then reach the batch's next invoices too. The batch
    carries no more (each refusal costs its settle a second transaction)."""
    after: dict[Slot, Slot] | None = getattr(_local, "after", None)
    if after is not None:
        after.clear()


def carried(slot: Slot, attempt: str, answer: dict[str, Any] | None = None) -> None:
    """A settle's transaction claimed `slot` for `attempt`; `answer`: the slot's item before
    (None: it did not exist)."""
    kept: dict[Slot, Carried] | None = getattr(_local, "carried", None)
    if kept is not None:
        kept[slot] = Carried(attempt, dict(answer or {}))


def take(slot: Slot) -> Carried | None:
    """The claim a settle made for `slot`, once; None: claim as usual."""
    kept: dict[Slot, Carried] | None = getattr(_local, "carried", None)
    return kept.pop(slot, None) if kept is not None else None


def unused() -> dict[Slot, str]:
    """The attempts of the carried claims no message took; forgotten here."""
    kept: dict[Slot, Carried] | None = getattr(_local, "carried", None)
    if not kept:
        return {}
    left = {slot: claim.attempt for slot, claim in kept.items()}
    kept.clear()
    return left
