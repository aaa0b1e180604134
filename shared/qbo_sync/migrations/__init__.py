"""Migrations of the stored items: every change of a stored shape ships with the step that
brings the items stored before it to the new shape (docs/operations.md, "Upgrades").

A migration is numbered, runs once per stack, in order, and is:
- idempotent: each page of its work may be done twice (a crash after the write, before the
  progress was recorded) with the same result;
- resumable: it works a page at a time and records after each page where it got to, so a run
  that ran out of time (or died) goes on from there at the next run.
runner.py keeps the record of which ran (OperationsTable) and who runs one now (a lease).
MigrateFunction runs them on every deploy that brings a new one (the Migrations custom
resource carries LATEST), hourly until one is finished, and the local stack when it starts.

To add one: a module here with `run_page(start) -> (next start or None, items changed)`, a line
in MIGRATIONS, and template.yaml's `LatestMigration` set to its number (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from qbo_sync.migrations import m0001_recorded_payment_index

# A page's work: from a start (None: the beginning), returns where the next page starts
# (None: done) and how many items it wrote.
Page = Callable[[dict[str, Any] | None], tuple[dict[str, Any] | None, int]]


class Migration(NamedTuple):
    number: int
    name: str
    run_page: Page


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "recorded-payment and refund index items for payments recorded before the index, and "
        "the export list's scoped index keys for records stored before them",
        m0001_recorded_payment_index.run_page,
    ),
)
LATEST = MIGRATIONS[-1].number
