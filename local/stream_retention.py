"""Where moto's DynamoDB Streams keep more than DynamoDB would, for the local stack's poller.

- moto keeps every shard iterator it hands out, for the life of the process
  (`DynamoDBStreamsBackend.shard_iterators`), and each one holds its shard, hence its table
  with every item and stream record. A transaction that fails restores its table from a deep
  copy, so the iterators pinned one dead copy of the table after another: the leak `make test`
  was split for (a test session, or a 1,000-invoice benchmark, grew by gigabytes). The poller
  forgets each iterator once it has read with it (`forget_iterators`).
- DynamoDB Streams keep a record for 24 hours; moto keeps every record (`StreamShard.items`).
  Once every consumer of a stream has checkpointed past a record, it is released (`release`):
  replaced by a small stub that keeps only its sequence number, rather than removed, because
  moto numbers a new record by the list's length and a write may happen on another thread
  meanwhile. The poller skips released records, as DynamoDB's TRIM_HORIZON starts after the
  trimmed ones.
"""

from __future__ import annotations

from typing import Any

RELEASED = "RELEASED"  # the eventName of a released record's stub


class _Released:
    __slots__ = ("sequence_number",)

    def __init__(self, sequence_number: int) -> None:
        self.sequence_number = sequence_number

    def to_json(self) -> dict[str, Any]:
        return {"eventName": RELEASED, "dynamodb": {"SequenceNumber": str(self.sequence_number)}}


def is_released(record: dict[str, Any]) -> bool:
    return record.get("eventName") == RELEASED


def release(stream_arn: str, upto_sequence: str) -> None:
    """Releases the stream's records up to and including `upto_sequence`."""
    shard = _shard(stream_arn)
    if shard is None:
        return
    items, first = shard.items, int(shard.starting_sequence_number)
    end = min(int(upto_sequence) - first + 1, len(items))
    # Kept on the shard itself, so that a table restored from a deep copy carries it along.
    start = getattr(shard, "qbo_sync_released", 0)
    for index in range(start, end):
        items[index] = _Released(first + index)
    shard.qbo_sync_released = max(start, end)


def forget_iterators(stream_arn: str, *iterators: str | None) -> None:
    """Drops shard iterators from moto's memory once they are used."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    region, account = _region_account(stream_arn)
    try:
        kept = dynamodbstreams_backends[account][region].shard_iterators
    except KeyError:
        return
    for iterator in iterators:
        if iterator:
            kept.pop(iterator, None)


def _shard(stream_arn: str) -> Any:
    """moto's shard of the table whose stream this is (the moto server runs in this process)."""
    from moto.dynamodb.models import dynamodb_backends

    region, account = _region_account(stream_arn)
    name = stream_arn.split(":", 5)[5].split("/")[1]
    try:
        table = dynamodb_backends[account][region].tables.get(name)
    except KeyError:
        return None
    if table is None or f"{table.table_arn}/stream/{table.latest_stream_label}" != stream_arn:
        return None
    return table.stream_shard


def _region_account(stream_arn: str) -> tuple[str, str]:
    # arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
    parts = stream_arn.split(":", 5)
    return parts[3], parts[4]
