"""Lambda's DynamoDB event source mapping, for the local runtime: a function's `DynamoDB` events
read the table's stream (moto's) in order, in batches of up to BatchSize records.

As Lambda does: records go to the function in Lambda's event shape (binary attributes as base64,
the creation time in epoch seconds, `eventSourceARN`); with ReportBatchItemFailures, a batch
is checkpointed up to the first failed record, and the rest is delivered again from there; a
batch that raised is delivered again whole (halved first with BisectBatchOnFunctionError); after
MaximumRetryAttempts the batch's description goes to the on-failure queue and reading goes on.
Unlike Lambda, a failing batch is tried once per `poll` (each poll is "a while later"), so a test
decides when a retry happens; and the batching window is not waited for.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3

from local.poll_result import PollResult
from local.stack import LocalFunction, StreamSource
from local.stream_retention import forget_iterators, is_released, release


@dataclass
class _Position:
    after: str | None = None  # the last sequence number checkpointed; None: not read yet
    retries: int = 0  # deliveries of the current batch that failed
    batch_size: int | None = None  # halved after a batch that raised (bisect)


Invoke = Callable[[str, Any], Any]


class StreamPoller:
    def __init__(
        self, session: boto3.session.Session, invoke: Invoke, consumers: list[LocalFunction]
    ) -> None:
        self._streams: Any = session.client("dynamodbstreams")
        self._sqs: Any = session.client("sqs")
        self._invoke = invoke
        self._positions: dict[tuple[str, str, str], _Position] = {}
        # Every function that reads a stream: a record is released once all are past it.
        self._consumers = consumers

    def skip_to_latest(self) -> None:
        """Everything in the streams so far counts as read (after the tables were emptied)."""
        for function in self._consumers:
            for source in function.stream_sources:
                for shard in self._shards(source):
                    key = (function.logical_id, source.event_name, shard)
                    self._positions[key] = self._latest(source, shard, self._positions.get(key))
                    self._release_read(source, shard)

    def poll(self, function: LocalFunction, result: PollResult) -> bool:
        """One pass over the function's streams; True if any batch was delivered."""
        progressed = False
        for source in function.stream_sources:
            for shard in self._shards(source):
                position = self._positions.setdefault(
                    (function.logical_id, source.event_name, shard), _Position()
                )
                while self._deliver(function, source, shard, position, result):
                    progressed = True
                self._release_read(source, shard)
        return progressed

    def _release_read(self, source: StreamSource, shard: str) -> None:
        """Releases what every consumer of the stream has checkpointed past (stream_retention)."""
        positions = [
            self._positions.get((function.logical_id, other.event_name, shard))
            for function in self._consumers
            for other in function.stream_sources
            if other.stream_arn == source.stream_arn
        ]
        read = [int(p.after) for p in positions if p is not None and p.after is not None]
        if read and len(read) == len(positions):
            release(source.stream_arn, str(min(read)))

    def _deliver(
        self,
        function: LocalFunction,
        source: StreamSource,
        shard: str,
        position: _Position,
        result: PollResult,
    ) -> bool:
        """Delivers the next batch; True when the stream moved on (more may follow)."""
        records = self._read(source, shard, position)
        if not records:
            return False
        result.invocations += 1
        try:
            response = self._invoke(function.logical_id, {"Records": records})
        except Exception as error:
            result.errors.append(f"{function.logical_id}: {error!r}")
            return self._failed(source, position, records, 0, result, raised=True)
        first_failed = _first_failure(source, response, records)
        if first_failed is None:
            result.succeeded += len(records)
            self._checkpoint(position, records[-1])
            return True
        result.succeeded += first_failed
        if first_failed:
            self._checkpoint(position, records[first_failed - 1])
        return self._failed(source, position, records, first_failed, result, raised=False)

    def _failed(
        self,
        source: StreamSource,
        position: _Position,
        records: list[dict[str, Any]],
        first_failed: int,
        result: PollResult,
        *,
        raised: bool,
    ) -> bool:
        rest = records[first_failed:]
        result.failed += len(rest)
        if first_failed:
            return False  # progress was made; the rest is a new batch next time
        if raised and source.bisect_on_error and len(records) > 1:
            position.batch_size = max(1, len(records) // 2)
        position.retries += 1
        limit = source.maximum_retry_attempts
        if limit < 0 or position.retries <= limit:
            return False
        self._send_to_on_failure(source, rest)
        result.dead_lettered += len(rest)
        self._checkpoint(position, rest[-1])
        return True

    def _checkpoint(self, position: _Position, record: dict[str, Any]) -> None:
        position.after = record["dynamodb"]["SequenceNumber"]
        position.retries = 0
        position.batch_size = None

    def _read(self, source: StreamSource, shard: str, position: _Position) -> list[dict[str, Any]]:
        """The next batch after `position`, released records skipped (stream_retention)."""
        after = position.after
        while True:
            start: dict[str, Any] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                if after is not None
                else {"ShardIteratorType": source.starting_position}
            )
            iterator = self._streams.get_shard_iterator(
                StreamArn=source.stream_arn, ShardId=shard, **start
            )["ShardIterator"]
            limit = position.batch_size or source.batch_size
            response = self._streams.get_records(ShardIterator=iterator, Limit=limit)
            forget_iterators(source.stream_arn, iterator, response.get("NextShardIterator"))
            raw = response.get("Records", [])
            records = [_lambda_record(source, r) for r in raw if not is_released(r)]
            if records or not raw:
                return records
            after = raw[-1]["dynamodb"]["SequenceNumber"]

    def _latest(self, source: StreamSource, shard: str, known: _Position | None) -> _Position:
        """The end of the stream, read on from where `known` is (not from its start again)."""
        position = _Position(after=known.after if known else None)
        while records := self._read(source, shard, position):
            position.after = records[-1]["dynamodb"]["SequenceNumber"]
        return position

    def _shards(self, source: StreamSource) -> list[str]:
        description = self._streams.describe_stream(StreamArn=source.stream_arn)
        return [shard["ShardId"] for shard in description["StreamDescription"]["Shards"]]

    def _send_to_on_failure(self, source: StreamSource, records: list[dict[str, Any]]) -> None:
        if source.on_failure_queue_url is None:
            return
        numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
        # Lambda's shape: where the batch is in the stream, not the records themselves.
        body = {
            "DDBStreamBatchInfo": {
                "streamArn": source.stream_arn,
                "startSequenceNumber": numbers[0],
                "endSequenceNumber": numbers[-1],
                "batchSize": len(records),
            },
            "condition": "RetryAttemptsExhausted",
        }
        self._sqs.send_message(QueueUrl=source.on_failure_queue_url, MessageBody=json.dumps(body))


def _first_failure(
    source: StreamSource, response: Any, records: list[dict[str, Any]]
) -> int | None:
    """The index of the first record Lambda would deliver again, or None if all succeeded."""
    if not source.reports_batch_item_failures or not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures") or []
    if not failures:
        return None
    numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in numbers:
            return 0  # Lambda treats a malformed response as a failed batch
        indexes.append(numbers.index(identifier))
    return min(indexes)


def _lambda_record(source: StreamSource, record: dict[str, Any]) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    for name in ("Keys", "NewImage", "OldImage"):
        if name in change:
            change[name] = _base64_binaries(change[name])
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", "us-east-1"),
        "dynamodb": change,
        "eventSourceARN": source.stream_arn,
    }


def _base64_binaries(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _base64_binaries(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_base64_binaries(item) for item in value]
    return value
