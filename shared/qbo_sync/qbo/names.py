"""The one find-or-create for QuickBooks entities whose name is unique (customers, items,
accounts; sub-customers next): create first, since a new name then costs one request, and
look the name up only when QuickBooks says it is taken (fault 6240). A fault other than a taken
name propagates to the caller's write (once.py judges it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from qbo_sync.qbo.client import QboClient, quote
from qbo_sync.qbo.faults import DuplicateName


def first_free(
    names: Iterable[str], create: Callable[[str], str], find: Callable[[str], str | None]
) -> str | None:
    """The Id of the first name that could be created, or that `find` says is one we can use
    (ours from an earlier attempt, most likely); None when every name is held by another."""
    for name in names:
        try:
            return create(name)
        except DuplicateName:
            found = find(name)
            if found is not None:
                return found
    return None


def active_by_name(qbo: QboClient, entity: str, field: str) -> Callable[[str], str | None]:
    """A `find` for `first_free`: the active entity of that name (QBO's queries leave out
    inactive ones, and a name held by another kind of entity is not found)."""

    def find(name: str) -> str | None:
        rows = qbo.query(f"select * from {entity} where {field} = {quote(name)}")
        return str(rows[0]["Id"]) if rows else None

    return find
