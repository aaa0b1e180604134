"""What the connection tests share: the settings page's view of the connection, the stored item,
the daily keeper run with its scheduled event, and a clock that moves the product and Intuit's
emulator forward together."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local.environment import LocalEnvironment
from local.schedules import scheduled_event
from tests.flows.outbox.test_emitted_events import PUT_EVENTS, Emitted

KEEPER = "ConnectionKeeperFunction"
DAY = 86400
NEEDS_REAUTHORIZATION = "QuickBooks Connection Needs Reauthorization"
EXPIRING = "QuickBooks Connection Expiring"


@contextmanager
def capture_events(name: str) -> Iterator[Emitted]:
    """Every PutEvents the functions make, as tests/flows/outbox/test_emitted_events.py captures
    them."""
    from qbo_sync.core import aws

    captured = Emitted()
    events = aws.events().meta.events
    events.register(PUT_EVENTS, captured.capture, unique_id=name)
    try:
        yield captured
    finally:
        events.unregister(PUT_EVENTS, unique_id=name)


def connection_view(env: LocalEnvironment, contractor: str) -> dict[str, Any]:
    response = env.platform.api("GET", "/quickbooks/connection", contractor)
    assert response["statusCode"] == 200, response
    return dict(json.loads(response["body"]))


def stored_connection(env: LocalEnvironment, contractor: str) -> dict[str, Any]:
    import boto3
    from boto3.dynamodb.types import TypeDeserializer

    item = boto3.client("dynamodb").get_item(
        TableName=env.stack.tables["ConnectionsTable"],
        Key={"contractor_id": {"S": contractor}},
        ConsistentRead=True,
    )["Item"]
    return {key: TypeDeserializer().deserialize(value) for key, value in item.items()}


def run_keeper(env: LocalEnvironment) -> dict[str, Any]:
    """The daily schedule fires: the rule's event, through the local Lambda runtime."""
    return dict(env.runtime.invoke(KEEPER, scheduled_event(env.stack, KEEPER)))


class Calendar:
    """Days pass for the product and for Intuit: the local simulated clock, which moto's SQS,
    the emulator and the functions' own clock all read (local/clock.py)."""

    def __init__(self, env: LocalEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
        self._env = env

    def now(self) -> float:
        return self._env.clock.now()

    def advance(self, days: float) -> None:
        self._env.clock.advance(days * DAY)
