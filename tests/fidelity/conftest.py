"""The emulator driven by python-quickbooks, the client Python developers point at Intuit's
sandbox: the way its own integration tests (tests/integration/test_base.py) connect, with the
API base moved from sandbox-quickbooks.api.intuit.com to the emulator."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, connect


@pytest.fixture
def emu() -> Iterator[QboEmulator]:
    with QboEmulator() as emulator:
        emulator.register_app(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
        yield emulator


@pytest.fixture
def realm(emu: QboEmulator) -> str:
    return emu.create_company("Alder & Sons Contracting")


@pytest.fixture
def qb(emu: QboEmulator, realm: str, monkeypatch: pytest.MonkeyPatch) -> QuickBooks:
    # requests-oauthlib refuses plain http; the emulator listens on http://127.0.0.1 only.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    tokens = connect(emu)
    auth_client = AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, emu.discovery_url)
    auth_client.access_token = tokens["access_token"]
    auth_client.refresh_token = tokens["refresh_token"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = QuickBooks(
            auth_client=auth_client,
            refresh_token=tokens["refresh_token"],
            company_id=realm,
            minorversion=75,
        )
    # The one change from a sandbox setup: the API host. The environment is a discovery URL,
    # so the client takes the production base, which is overridden here per instance.
    client.api_url_v3 = emu.api_base_url + "/v3"
    return client
