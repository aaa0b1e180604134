"""Carried claims: in a batch, a message's settle also claims the next message's slot, in the
same transaction, so that message makes no claim of its own (docs/exactly-once.md, "A claim
carried by the settle before").

The batch (workflows/invoice_batch.py) says which slot comes right after which (`plan`), only
for a next slot it read ahead and found absent; the carried claim is conditional on the slot
still not existing, so what it answers is what the next message's own claim would have: a
fresh slot. A settle asks `next_after` which slot to carry and, once its transaction went
through, notes the claim (`carried`); the next message's attempt `take`s it instead of
claiming. A carried claim no message took (the batch stopped first) is `unused` at the batch's
end, for the batch to release, so that its slot does not look like an attempt that died.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

Slot = tuple[str, ...]  # a slot's identity, as the flow names it

_local = threading.local()


@contextmanager
def scope(after: dict[Slot, Slot]) -> Iterator[None]:
    """The batch: `after` maps a slot to the slot of the message right after it."""
    _local.after, _local.carried = dict(after), {}
    try:
        yield
    finally:
        _local.after = _local.carried = None


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


def carried(slot: Slot, attempt: str) -> None:
    """A settle's transaction claimed `slot` for `attempt`."""
    kept: dict[Slot, str] | None = getattr(_local, "carried", None)
    if kept is not None:
        kept[slot] = attempt


def take(slot: Slot) -> str | None:
    """The attempt a settle claimed `slot` for, once; None: claim as usual."""
    kept: dict[Slot, str] | None = getattr(_local, "carried", None)
    return kept.pop(slot, None) if kept is not None else None


def unused() -> dict[Slot, str]:
    """The carried claims no message took; forgotten here."""
    kept: dict[Slot, str] | None = getattr(_local, "carried", None)
    if not kept:
        return {}
    left = dict(kept)
    kept.clear()
    return left
