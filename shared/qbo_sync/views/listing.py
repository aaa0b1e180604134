"""The one paging mechanism of the settings page's lists (exports and payouts).

A list reads one or more partitions of sparse indexes (the exports: the connected company's and
the skipped records; the payouts: the contractor's), each ordered by one sort key attribute that
is unique per item. A page is one Query per partition, newest first, each with the page's limit,
merged by that order key; the cursor is the key of the page's last item (core/cursor.py: bound to
the list's filter and checked to name one of this contractor's partitions), and the next page
reads each partition below that order key. So no page is filtered after the Query (no page is
paged past), and a forged cursor cannot reach another contractor's items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qbo_sync.api.errors import InvalidRequest
from qbo_sync.core import aws
from qbo_sync.core.cursor import InvalidCursor, decode_cursor, encode_cursor
from qbo_sync.core.dynamo import batch_get_by_sk, from_item, key, query_count

DEFAULT_LIMIT, MAX_LIMIT = 25, 100


@dataclass(frozen=True)
class Partition:
    index: str
    attribute: str  # the index's partition key attribute
    value: str
    # A KEYS_ONLY index (template.yaml): the page's items are then read in one BatchGetItem, so
    # that the index is written only when its keys change, not on every payment's write.
    keys_only: bool = False

    def query(self, table: str) -> dict[str, Any]:
        return {
            "TableName": table,
            "IndexName": self.index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": self.attribute},
            "ExpressionAttributeValues": {":k": {"S": self.value}},
        }


@dataclass(frozen=True)
class Listing:
    table: str
    partitions: tuple[Partition, ...]
    order: str  # the indexes' sort key attribute, unique per item
    filtered: str  # what the cursor is bound to: the list's filter

    def page(
        self, contractor_id: str, limit: str | None, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page: its items, newest first, and the next page's cursor (None: no more)."""
        size = parse_limit(limit)
        after = self._after(contractor_id, cursor) if cursor else None
        found: list[tuple[dict[str, Any], Partition]] = []
        more = False
        for partition in self.partitions:
            request = partition.query(self.table)
            if after is not None:
                request["KeyConditionExpression"] += " AND #o < :after"
                request["ExpressionAttributeNames"]["#o"] = self.order
                request["ExpressionAttributeValues"][":after"] = {"S": after}
            request.update(ScanIndexForward=False, Limit=size)
            response = aws.dynamodb().query(**request)
            found.extend((from_item(raw), partition) for raw in response.get("Items", []))
            more = more or "LastEvaluatedKey" in response
        found.sort(key=lambda pair: str(pair[0][self.order]), reverse=True)
        more = more or len(found) > size
        page = found[:size]
        items = self._full([item for item, _ in page], [p for _, p in page])
        if not (more and page):
            return items, None
        last, partition = page[-1]
        key = {
            "pk": {"S": str(last["pk"])},
            "sk": {"S": str(last["sk"])},
            partition.attribute: {"S": partition.value},
            self.order: {"S": str(last[self.order])},
        }
        return items, encode_cursor(key, self.filtered)

    def _full(self, items: list[dict[str, Any]], partitions: list[Partition]) -> list[Any]:
        if not any(p.keys_only for p in partitions):
            return items
        keys = [key(str(item["pk"]), str(item["sk"])) for item in items]
        found = batch_get_by_sk(self.table, keys) if keys else {}
        return [found[str(item["sk"])] for item in items if str(item["sk"]) in found]

    def count(self) -> int:
        counts = [query_count(p.query(self.table)) for p in self.partitions]  # type: ignore[arg-type]
        return sum(counts)

    def _after(self, contractor_id: str, cursor: str) -> str:
        for partition in self.partitions:
            attributes = (partition.attribute, self.order, partition.value)
            try:
                key = decode_cursor(cursor, self.filtered, attributes, contractor_id)
            except InvalidCursor:
                continue
            return str(key[self.order]["S"])
        raise InvalidRequest(
            "invalid_cursor", "The cursor is not one this list gave out; start again without it."
        )


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidRequest("invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def reason_of(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict) or "code" not in value:
        return None
    return {str(k): str(v) for k, v in value.items()}
