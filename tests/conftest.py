"""The whole system on 127.0.0.1: moto, the Intuit/QBO emulator, template.yaml's stack."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from local.environment import LocalEnvironment, local_environment
from local.platform import Platform
from local.qbo_emulator import QboEmulator


@pytest.fixture(scope="session")
def env() -> Iterator[LocalEnvironment]:
    with local_environment(stack_name="qbo-sync-test") as environment:
        yield environment


@pytest.fixture(autouse=True)
def _clean_slate(request: pytest.FixtureRequest) -> None:
    if "env" not in request.fixturenames:
        return
    environment: LocalEnvironment = request.getfixturevalue("env")
    environment.reset()


@pytest.fixture
def dynamodb_calls(env: LocalEnvironment) -> Iterator[Counter[str]]:
    """The layer's DynamoDB requests from now on, by operation (GetItem, UpdateItem, ...)."""
    from qbo_sync.core import aws

    seen: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        seen[model.name] += 1

    events = aws.dynamodb().meta.events
    unique_id = "test-dynamodb-calls"
    events.register("before-parameter-build.dynamodb", count, unique_id=unique_id)
    yield seen
    events.unregister("before-parameter-build.dynamodb", unique_id=unique_id)


@pytest.fixture
def qbo(env: LocalEnvironment) -> QboEmulator:
    return env.qbo


@pytest.fixture
def platform(env: LocalEnvironment) -> Platform:
    return env.platform


@pytest.fixture
def realm(qbo: QboEmulator) -> str:
    return qbo.create_company("Alder & Sons Contracting")


@pytest.fixture
def contractor(platform: Platform, realm: str) -> str:
    """A contractor whose QuickBooks company is connected through the real redirect flow."""
    landed = platform.connect_quickbooks("ctr_123")
    assert landed.endswith("quickbooks=connected"), landed
    return "ctr_123"


def by_doc_number(qbo: QboEmulator, realm: str) -> dict[str, dict[str, Any]]:
    return {invoice["DocNumber"]: invoice for invoice in qbo.entities(realm, "Invoice")}


class LogCapture:
    """Every log record the functions emitted during a test, with its structured keys."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog

    def records(self, message: str | None = None) -> list[dict[str, Any]]:
        found = [dict(r.__dict__, message=r.getMessage()) for r in self._caplog.records]
        return [r for r in found if message is None or r["message"] == message]

    def text(self) -> str:
        """All of it as one string, to search for what must never be logged."""
        return "\n".join(repr(record) for record in self.records())


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> LogCapture:
    caplog.set_level(logging.DEBUG)
    return LogCapture(caplog)
