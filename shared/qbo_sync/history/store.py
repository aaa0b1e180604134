"""A contractor's history requests (docs/interface.md §15): the one owner of their items.

All in the mappings table, under the contractor's partition and the connection's realm, so a
request belongs to the company it was made for:
- "<realm>#history": the latest request (request_id, since, requested_at, count once the
  platform's closing message came, last_message_at);
- "<realm>#history#<request>#invoice#<invoice id>": what became of one replayed invoice
  (outcome, reason code), written after each of its messages; a final outcome (exported,
  adopted) is never replaced by a later, lesser one (a redelivery of an old message);
- "<realm>#history#<request>#number#<DocNumber>": the company's invoices that were not ours
  when the request was made (numbers.py), which adoption matches against.

Progress is counted from the invoice items with one Query when the page asks; nothing is
incremented, so a redelivered message cannot count twice.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now, seconds_since
from qbo_sync.core.dynamo import Key, Update, from_item, key, query_items, to_item
from qbo_sync.core.settings import get_settings

REQUEST_MARK = "#history"


def is_request_sk(sk: str) -> bool:
    """The sort key of a request item ("<realm>#history"), not of its invoices or numbers."""
    return sk.endswith(REQUEST_MARK)


# docs/interface.md §15: a request whose closing message never came is done this long after its
# last message (or after it was made, when none came).
CLOSE_AFTER_SECONDS = 24 * 3600
_BATCH_WRITE = 25


class HistoryOutcome(StrEnum):
    EXPORTED = "exported"
    ADOPTED = "adopted"
    FAILED = "failed"
    PENDING = "pending"


FINAL = (HistoryOutcome.EXPORTED, HistoryOutcome.ADOPTED)


@dataclass(frozen=True)
class HistoryRequest:
    request_id: str
    since: date
    realm_id: str
    requested_at: str
    count: int | None = None  # from the platform's closing message
    last_message_at: str | None = None

    @classmethod
    def of_item(cls, values: dict[str, Any]) -> HistoryRequest:
        count = values.get("count")
        return cls(
            request_id=str(values["request_id"]),
            since=date.fromisoformat(str(values["since"])),
            realm_id=str(values["realm_id"]),
            requested_at=str(values["requested_at"]),
            count=None if count is None else int(count),
            last_message_at=values.get("last_message_at"),
        )


class Progress(NamedTuple):
    request: HistoryRequest
    exported: int
    adopted: int
    failed: int
    pending: int
    done: bool

    @property
    def status(self) -> str:
        if self.done:
            return "done"
        return "running" if self.request.last_message_at else "requested"

    def answer(self) -> dict[str, Any]:
        request = self.request
        return {
            "request_id": request.request_id,
            "since": request.since.isoformat(),
            "status": self.status,
            "requested_at": request.requested_at,
            "expected": request.count,
            "exported": self.exported,
            "adopted": self.adopted,
            "failed": self.failed,
            "pending": self.pending,
        }


class HistoryStore:
    def __init__(self, contractor_id: str, realm_id: str) -> None:
        self.table = get_settings().mappings_table
        self.contractor_id, self.realm_id = contractor_id, realm_id

    def _sk(self, *parts: str) -> str:
        return "#".join((self.realm_id, "history", *parts))

    def request_key(self) -> Key:
        return key(self.contractor_id, self._sk())

    def number_key(self, request_id: str, number: str) -> Key:
        return key(self.contractor_id, self._sk(request_id, "number", number))

    def number_sk(self, request_id: str, number: str) -> str:
        return self._sk(request_id, "number", number)

    # -- the request ----------------------------------------------------------------------------

    def latest(self) -> HistoryRequest | None:
        response = aws.dynamodb().get_item(
            TableName=self.table, Key=self.request_key(), ConsistentRead=True
        )
        values = from_item(dict(response.get("Item", {})))
        return HistoryRequest.of_item(values) if values.get("request_id") else None

    def start(
        self, since: date, replacing: str | None, numbers: list[dict[str, Any]]
    ) -> HistoryRequest | None:
        """A new request in place of `replacing` (None: there was none), with the company's
        hand-keyed numbers kept first (the request's write is what asks for the replay); None
        when another request was started meanwhile (the condition names the one this caller
        judged done)."""
        request = HistoryRequest(uuid.uuid4().hex, since, self.realm_id, iso_now())
        self.keep_numbers(request.request_id, numbers)
        item = {
            **{"pk": self.contractor_id, "sk": self._sk()},
            "request_id": request.request_id,
            "since": since.isoformat(),
            "realm_id": self.realm_id,
            "requested_at": request.requested_at,
        }
        # Conditional on the request this caller judged done (or on none): two requests made
        # at once start one.
        condition, values = "attribute_not_exists(request_id)", {}
        if replacing is not None:
            condition, values = "request_id = :replacing", {":replacing": {"S": replacing}}
        return request if self._put(item, condition, values) else None

    def heard(self, request_id: str, count: int | None = None) -> None:
        """A message of the request was handled (the closing one brings `count`). Ignored when
        the request is no longer the latest: a late message of an earlier request."""
        update = Update()
        update.set("last_message_at", iso_now())
        if count is not None:
            update.set("count", count)
        condition = f"request_id = {update.value(request_id)}"
        dynamodb = aws.dynamodb()
        with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.update_item(**update.request(self.table, self.request_key(), condition))

    def _put(self, item: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
        """One conditional PutItem; False when its condition did not hold."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "Item": to_item(item),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        dynamodb = aws.dynamodb()
        try:
            dynamodb.put_item(**request)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # -- its invoices ---------------------------------------------------------------------------

    def note(
        self, request_id: str, invoice_id: str, outcome: HistoryOutcome, reason_code: str = ""
    ) -> None:
        item = {
            "pk": self.contractor_id,
            "sk": self._sk(request_id, "invoice", invoice_id),
            "outcome": outcome.value,
            "reason_code": reason_code or None,
            "at": iso_now(),
        }
        # A redelivered older message must not undo an invoice's final outcome.
        self._put(
            item,
            "attribute_not_exists(outcome) OR NOT outcome IN (:e, :a)",
            {":e": {"S": HistoryOutcome.EXPORTED.value}, ":a": {"S": HistoryOutcome.ADOPTED.value}},
        )

    def progress(self, request: HistoryRequest) -> Progress:
        counts = dict.fromkeys(HistoryOutcome, 0)
        for item in query_items(
            {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": self.contractor_id},
                    ":prefix": {"S": self._sk(request.request_id, "invoice", "")},
                },
                "ProjectionExpression": "outcome",
                "ConsistentRead": True,
            }
        ):
            counts[HistoryOutcome(str(item["outcome"]))] += 1
        return _progress(request, counts)

    # -- the company's numbers ------------------------------------------------------------------

    def keep_numbers(self, request_id: str, rows: list[dict[str, Any]]) -> None:
        items = [
            {"PutRequest": {"Item": to_item({**row, "pk": self.contractor_id, "sk": sk})}}
            for sk, row in ((self.number_sk(request_id, str(r["doc_number"])), r) for r in rows)
        ]
        dynamodb = aws.dynamodb()
        for start in range(0, len(items), _BATCH_WRITE):
            pending: dict[str, Any] = {self.table: items[start : start + _BATCH_WRITE]}
            while pending:
                response = dynamodb.batch_write_item(RequestItems=pending)
                pending = dict(response.get("UnprocessedItems") or {})


def _progress(request: HistoryRequest, counts: dict[HistoryOutcome, int]) -> Progress:
    seen = sum(counts.values())
    final = counts[HistoryOutcome.EXPORTED] + counts[HistoryOutcome.ADOPTED]
    failed, pending = counts[HistoryOutcome.FAILED], counts[HistoryOutcome.PENDING]
    unseen = max(0, (request.count or 0) - seen)
    last = request.last_message_at or request.requested_at
    if seconds_since(last) > CLOSE_AFTER_SECONDS:
        # Closed: the rest failed (history_incomplete), so a lost closing message does not
        # block the next request.
        return Progress(
            request,
            counts[HistoryOutcome.EXPORTED],
            counts[HistoryOutcome.ADOPTED],
            failed + pending + unseen,
            0,
            True,
        )
    done = request.count is not None and final + failed >= request.count and pending == 0
    return Progress(
        request,
        counts[HistoryOutcome.EXPORTED],
        counts[HistoryOutcome.ADOPTED],
        failed,
        pending + unseen,
        done,
    )


def history_store(contractor_id: str, realm_id: str) -> HistoryStore:
    return HistoryStore(contractor_id, realm_id)
