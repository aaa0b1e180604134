"""The invoicing service's side of a history request (docs/interface.md §15), played locally.

It remembers every invoice the platform sent (the latest revision, or the void that ended it)
and answers QuickBooks History Requested, which it hears through its own rule on the bus (as
the real service would), by replaying the invoices issued since `since` on the history queue,
each tagged with the request, then the closing message with their count.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

INBOX_QUEUE = "platform-history-requests"
DETAIL_TYPE = "QuickBooks History Requested"


class InvoicingHistory:
    def __init__(self, resources: dict[str, str]) -> None:
        self._resources = resources
        self._sent: dict[tuple[str, str], dict[str, Any]] = {}
        self._voided: dict[tuple[str, str], dict[str, Any]] = {}
        self._inbox = ""

    def subscribe(self) -> None:
        """The service's rule: History Requested events on the bus, delivered to its queue."""
        import boto3

        sqs, events = boto3.client("sqs"), boto3.client("events")
        self._inbox = sqs.create_queue(QueueName=INBOX_QUEUE)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self._inbox, AttributeNames=["QueueArn"])
        bus = self._resources["EventBus"]
        events.put_rule(
            Name=INBOX_QUEUE,
            EventBusName=bus,
            EventPattern=json.dumps({"detail-type": [DETAIL_TYPE]}),
        )
        events.put_targets(
            Rule=INBOX_QUEUE,
            EventBusName=bus,
            Targets=[{"Id": "inbox", "Arn": arn["Attributes"]["QueueArn"]}],
        )

    def reset(self) -> None:
        """Forgets what was sent (between tests, as reset_data empties the stack)."""
        import boto3

        self._sent.clear()
        self._voided.clear()
        # Received and deleted rather than purged: PurgeQueue is allowed once a minute.
        sqs = boto3.client("sqs")
        while self._inbox:
            messages = sqs.receive_message(QueueUrl=self._inbox, MaxNumberOfMessages=10)
            if not messages.get("Messages"):
                return
            for message in messages["Messages"]:
                sqs.delete_message(QueueUrl=self._inbox, ReceiptHandle=message["ReceiptHandle"])

    def remember(self, message: dict[str, Any]) -> None:
        """An invoice-sent or invoice-voided message the platform sent (or had sent before this
        system was deployed, which only the platform knows). A message the tests broke on
        purpose (no contractor or invoice id, say) names no invoice a replay could send."""
        invoice = message.get("invoice")
        if not isinstance(invoice, dict) or "id" not in invoice or "contractor_id" not in message:
            return
        if "revision" not in invoice and message.get("message_type") != "invoice_voided":
            return
        key = (str(message["contractor_id"]), str(invoice["id"]))
        if message.get("message_type") == "invoice_voided":
            self._voided[key] = message
            return
        known = self._sent.get(key)
        if known is None or known["invoice"]["revision"] <= message["invoice"]["revision"]:
            self._sent[key] = message

    def answer(self) -> int:
        """Answers every History Requested event waiting in the service's queue; returns how
        many invoices it replayed."""
        import boto3

        if not self._inbox:
            return 0
        sqs = boto3.client("sqs")
        replayed = 0
        while True:
            messages = sqs.receive_message(QueueUrl=self._inbox, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return replayed
            for message in messages:
                replayed += self._replay(json.loads(message["Body"])["detail"])
                sqs.delete_message(QueueUrl=self._inbox, ReceiptHandle=message["ReceiptHandle"])

    def _replay(self, detail: dict[str, Any]) -> int:
        contractor, since = str(detail["contractor_id"]), date.fromisoformat(detail["since"])
        tag = {"request_id": detail["request_id"]}
        bodies = []
        for (owner, invoice_id), sent in sorted(self._sent.items()):
            if owner != contractor or date.fromisoformat(sent["invoice"]["issue_date"]) < since:
                continue
            latest = self._voided.get((owner, invoice_id), sent)
            bodies.append({**latest, "history": tag})
        closing = {
            "schema_version": 1,
            "message_type": "history_complete",
            "contractor_id": contractor,
            "history": {**tag, "count": len(bodies)},
        }
        self._send(contractor, [*bodies, closing])
        return len(bodies)

    def _send(self, contractor: str, bodies: list[dict[str, Any]]) -> None:
        import boto3

        sqs = boto3.client("sqs")
        for body in bodies:
            sqs.send_message(
                QueueUrl=self._resources["HistoryQueue"],
                MessageBody=json.dumps(body),
                MessageGroupId=contractor,
                MessageDeduplicationId=uuid.uuid4().hex,
            )
