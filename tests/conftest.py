"""The whole system on 127.0.0.1: moto, the Intuit/QBO emulator, template.yaml's stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.environment import LocalEnvironment, local_environment
from local.platform import Platform
from local.qbo_emulator import QboEmulator
from local.stack import reset_data


@pytest.fixture(scope="session")
def env() -> Iterator[LocalEnvironment]:
    with local_environment(stack_name="qbo-sync-test") as environment:
        yield environment


@pytest.fixture(autouse=True)
def _clean_slate(request: pytest.FixtureRequest) -> None:
    if "env" not in request.fixturenames:
        return
    environment: LocalEnvironment = request.getfixturevalue("env")
    reset_data(environment.stack)
    environment.qbo.reset()
    environment.register_intuit_app()


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
