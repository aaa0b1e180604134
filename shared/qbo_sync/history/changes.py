"""What one write changed on a history request item (the table's stream images): a new
request is the event QuickBooks History Requested (docs/interface.md §15), which the outbox
emits. A message heard or the closing count changes the item, not the request: no event."""

from __future__ import annotations

from typing import Any, NamedTuple

from qbo_sync.history.store import is_request_sk


class HistoryRequested(NamedTuple):
    contractor_id: str
    request_id: str
    since: str
    realm_id: str


def history_changes(old: dict[str, Any], new: dict[str, Any]) -> list[HistoryRequested]:
    if not new or not is_request_sk(str(new.get("sk", ""))):
        return []
    request_id = new.get("request_id")
    if not request_id or old.get("request_id") == request_id:
        return []
    return [
        HistoryRequested(str(new["pk"]), str(request_id), str(new["since"]), str(new["realm_id"]))
    ]
