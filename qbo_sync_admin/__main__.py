"""`python -m qbo_sync_admin COMMAND`: what docs/operations.md tells an operator to run.

Each command names the queue or table it reads (the stack's outputs give them), and uses the
ordinary AWS credentials of the shell. None of them prints a token; a dead letter's body is
printed only when asked (`--bodies`), since it names the contractor's client.

  dead-letters --queue URL [--bodies]   what waits in a dead-letter queue, and why
  redrive --from URL --to URL [--max N] moves dead letters back to their queue (FIFO or not),
                                        where SQS's StartMessageMoveTask cannot
  metered-reads --table NAME [--month YYYY-MM]
                                        the month's metered reads, per company and in total
  migrations --table NAME               which migrations ran
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import boto3

# What each kind of dead letter carries to say why it is there (docs/operations.md).
WHY = ("reason", "error_code", "ERROR_CODE", "ERROR_MESSAGE", "RULE_ARN", "TARGET_ARN")


def dead_letters(queue_url: str, bodies: bool, out: Any = sys.stdout) -> list[dict[str, Any]]:
    """Reads every message once (hidden 30 s, then visible again: nothing is removed)."""
    sqs = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    while True:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        messages = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        if not messages:
            break
        for message in messages:
            seen.add(message["MessageId"])
            attributes = message.get("MessageAttributes", {})
            row = {
                "message_id": message["MessageId"],
                "group": message.get("Attributes", {}).get("MessageGroupId"),
                "receives": message.get("Attributes", {}).get("ApproximateReceiveCount"),
                "kind": _kind(attributes),
                **{name: attributes[name].get("StringValue") for name in WHY if name in attributes},
            }
            if bodies:
                row["body"] = message["Body"]
            found.append(row)
            print(json.dumps(row, sort_keys=True), file=out)
    return found


def _kind(attributes: dict[str, Any]) -> str:
    if "reason" in attributes:
        return "parked by the function (read `reason`; sent back unchanged it is parked again)"
    if "ERROR_CODE" in attributes or "RULE_ARN" in attributes:
        return "the bus rule could not deliver it (ERROR_CODE, ERROR_MESSAGE)"
    return "SQS moved it after too many receives (see the function's log for its failures)"


def redrive(source_url: str, destination_url: str, limit: int | None = None) -> int:
    """Moves messages from a dead-letter queue back, keeping body, group and attributes; a
    FIFO message gets a new deduplication id (the original one may still be remembered)."""
    sqs = boto3.client("sqs")
    fifo = destination_url.endswith(".fifo")
    moved = 0
    while limit is None or moved < limit:
        response = sqs.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=min(10, (limit - moved) if limit else 10),
            VisibilityTimeout=60,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            break
        for message in messages:
            request: dict[str, Any] = {"QueueUrl": destination_url, "MessageBody": message["Body"]}
            if fifo:
                request["MessageGroupId"] = message["Attributes"]["MessageGroupId"]
                request["MessageDeduplicationId"] = f"redrive-{message['MessageId']}"
            sqs.send_message(**request)
            sqs.delete_message(QueueUrl=source_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def metered_reads(table: str, month: str | None = None) -> dict[str, int]:
    month = month or time.strftime("%Y-%m", time.gmtime())
    response = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"meter#{month}"}},
    )
    return {
        item["sk"]["S"].removeprefix("realm#"): int(item["metered_reads"]["N"])
        for item in response.get("Items", [])
    }


def migrations(table: str) -> list[dict[str, Any]]:
    response = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "migration"}},
    )
    return [
        {
            "migration": int(item["sk"]["S"]),
            "status": item["status"]["S"],
            "items": int(item.get("items", {}).get("N", "0")),
            "finished_at": item.get("finished_at", {}).get("S"),
        }
        for item in response.get("Items", [])
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qbo_sync_admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    letters = commands.add_parser("dead-letters")
    letters.add_argument("--queue", required=True)
    letters.add_argument("--bodies", action="store_true")
    move = commands.add_parser("redrive")
    move.add_argument("--from", dest="source", required=True)
    move.add_argument("--to", dest="destination", required=True)
    move.add_argument("--max", type=int, default=None)
    reads = commands.add_parser("metered-reads")
    reads.add_argument("--table", required=True)
    reads.add_argument("--month", default=None)
    ran = commands.add_parser("migrations")
    ran.add_argument("--table", required=True)
    args = parser.parse_args(argv)
    if args.command == "dead-letters":
        dead_letters(args.queue, args.bodies)
    elif args.command == "redrive":
        print(json.dumps({"moved": redrive(args.source, args.destination, args.max)}))
    elif args.command == "metered-reads":
        print(json.dumps(metered_reads(args.table, args.month), indent=1, sort_keys=True))
    else:
        print(json.dumps(migrations(args.table), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
