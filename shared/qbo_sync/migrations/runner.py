"""Runs the pending migrations in order and keeps the record of which ran.

The record is one item per migration in OperationsTable (pk "migration", sk its number, zero
padded): `status` running | done, `progress` (where its next page starts, JSON), `items`
written so far, `lease_until` and `owner` while a run holds it, `started_at`, `finished_at`.
A run claims a migration with one conditional write (not done, and no other run's lease
alive), extends the lease with every page it records, and stops, leaving the rest for the
next run, when its time is nearly up. Two runs at once (a deploy and the hourly schedule):
one works, the other finds the lease held and returns.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now, now
from qbo_sync.core.settings import get_settings
from qbo_sync.migrations import MIGRATIONS, Migration

logger = Logger(child=True)

LEASE_SECONDS = 120  # longer than one page takes; renewed with each page
DONE, RUNNING = "done", "running"


@dataclass
class Report:
    done: list[int] = field(default_factory=list)  # finished by this run
    pending: list[int] = field(default_factory=list)  # still to do (out of time, or held)
    items: int = 0

    @property
    def complete(self) -> bool:
        return not self.pending


def run_pending(
    seconds_left: Callable[[], float], migrations: tuple[Migration, ...] = MIGRATIONS
) -> Report:
    """Runs what is not done yet, in order, while `seconds_left()` is above a page's margin."""
    report = Report()
    owner = str(uuid.uuid4())
    for index, migration in enumerate(migrations):
        if _status(migration.number) == DONE:
            continue
        progress = _claim(migration.number, migration.name, owner)
        if progress is False:
            logger.info("Migration held by another run", migration=migration.number)
            report.pending = [m.number for m in migrations[index:]]
            return report
        start = progress if isinstance(progress, dict) else None
        while True:
            if seconds_left() < LEASE_SECONDS / 2:
                _release(migration.number, owner)  # the next run need not wait for the lease
                report.pending = [m.number for m in migrations[index:]]
                logger.warning("Migration stopped for lack of time", migration=migration.number)
                return report
            start, written = migration.run_page(start)
            report.items += written
            _record(migration.number, owner, start, written)
            if start is None:
                break
        report.done.append(migration.number)
        logger.info("Migration done", migration=migration.number, migration_name=migration.name)
    return report


def ran() -> dict[int, dict[str, Any]]:
    """The record: each migration that started, by number, with its status and counts."""
    response = aws.dynamodb().query(
        TableName=get_settings().operations_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "migration"}},
        ConsistentRead=True,
    )
    found = {}
    for item in response.get("Items", []):
        found[int(item["sk"]["S"])] = {
            "status": item["status"]["S"],
            "items": int(item.get("items", {}).get("N", "0")),
            "finished_at": item.get("finished_at", {}).get("S"),
        }
    return found


def _key(number: int) -> dict[str, Any]:
    return {"pk": {"S": "migration"}, "sk": {"S": f"{number:06d}"}}


def _status(number: int) -> str | None:
    item = (
        aws.dynamodb()
        .get_item(TableName=get_settings().operations_table, Key=_key(number), ConsistentRead=True)
        .get("Item")
    )
    return item["status"]["S"] if item else None


def _claim(number: int, name: str, owner: str) -> dict[str, Any] | bool:
    """Takes the lease; returns the recorded progress (True: from the beginning), False when
    another run holds it or it is done."""
    dynamodb = aws.dynamodb()
    try:
        response = dynamodb.update_item(
            TableName=get_settings().operations_table,
            Key=_key(number),
            UpdateExpression=(
                "SET #s = :running, #n = :name, lease_until = :until, #o = :owner, "
                "started_at = if_not_exists(started_at, :now)"
            ),
            ConditionExpression=("attribute_not_exists(pk) OR (#s <> :done AND lease_until < :t)"),
            ExpressionAttributeNames={"#s": "status", "#n": "name", "#o": "owner"},
            ExpressionAttributeValues={
                ":running": {"S": RUNNING},
                ":done": {"S": DONE},
                ":name": {"S": name},
                ":until": {"N": str(int(now()) + LEASE_SECONDS)},
                ":t": {"N": str(int(now()))},
                ":owner": {"S": owner},
                ":now": {"S": iso_now()},
            },
            ReturnValues="ALL_NEW",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    progress = response["Attributes"].get("progress", {}).get("S")
    return json.loads(progress) if progress else True


def _release(number: int, owner: str) -> None:
    aws.dynamodb().update_item(
        TableName=get_settings().operations_table,
        Key=_key(number),
        UpdateExpression="SET lease_until = :zero REMOVE #o",
        ConditionExpression="#o = :owner",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":zero": {"N": "0"}, ":owner": {"S": owner}},
    )


def _record(number: int, owner: str, start: dict[str, Any] | None, written: int) -> None:
    """After a page: where the next one starts (or done), under this run's lease."""
    names = {"#o": "owner", "#i": "items"}
    values: dict[str, Any] = {":owner": {"S": owner}, ":n": {"N": str(written)}}
    if start is None:
        expression = "SET #s = :done, finished_at = :now REMOVE progress, lease_until, #o ADD #i :n"
        names["#s"] = "status"
        values.update({":done": {"S": DONE}, ":now": {"S": iso_now()}})
    else:
        expression = "SET progress = :progress, lease_until = :until ADD #i :n"
        values[":progress"] = {"S": json.dumps(start, sort_keys=True)}
        values[":until"] = {"N": str(int(now()) + LEASE_SECONDS)}
    aws.dynamodb().update_item(
        TableName=get_settings().operations_table,
        Key=_key(number),
        UpdateExpression=expression,
        ConditionExpression="#o = :owner",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
