"""Constants and helpers shared by the tests of local/ (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "template.yaml"
STACK_NAME = "qbo-sync-localtest"
PARAMETERS = {
    "SettingsPageUrl": "https://platform.test/settings/accounting",
    "JwtIssuer": "https://id.platform.test/",
    "JwtAudience": "web,mobile",
    # A small receive limit, so the runtime's dead-lettering is seen in a few deliveries.
    "InvoiceSentMaxReceiveCount": "5",
}
EXTRA_ENVIRONMENT = {
    "INTUIT_ENVIRONMENT": "http://127.0.0.1:9/.well-known/openid-configuration",
    "QBO_API_BASE_URL": "http://127.0.0.1:9",
}


@contextmanager
def aws_pointed_at(endpoint: str) -> Iterator[None]:
    wanted = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    saved = {name: os.environ.get(name) for name in (*wanted, "AWS_SESSION_TOKEN")}
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Recorder:
    """A stand-in handler: records each event, answers with `respond(event)` (None by default)."""

    def __init__(self, respond: Callable[[Any], Any] | None = None) -> None:
        self.events: list[Any] = []
        self.contexts: list[Any] = []
        self._respond = respond

    def __call__(self, event: Any, context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        return self._respond(event) if self._respond else None


def queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)


def json_bodies(messages: list[Mapping[str, Any]]) -> list[Any]:
    return [json.loads(message["Body"]) for message in messages]
