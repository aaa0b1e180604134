"""Fixtures for the emulator's own tests: a fresh emulator, one company, a connected client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, Api, connect


@pytest.fixture
def emu() -> Iterator[QboEmulator]:
    with QboEmulator() as emulator:
        emulator.register_app(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
        yield emulator


@pytest.fixture
def realm(emu: QboEmulator) -> str:
    return emu.create_company("Alder & Sons Contracting")


@pytest.fixture
def api(emu: QboEmulator, realm: str) -> Api:
    tokens = connect(emu)
    assert tokens["realmId"] == realm
    return Api(emu, realm, tokens["access_token"])
