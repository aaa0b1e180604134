"""The routes Intuit calls (docs/interface.md §13): the Launch URL sends the contractor to the
settings page; the Disconnect URL changes a connection only once Intuit confirms the grant is
gone, so a forged request changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from connection_support import (
    NEEDS_REAUTHORIZATION,
    capture_events,
    connection_view,
    stored_connection,
)
from export_support import CONSUMER

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number
from tests.flows.outbox.test_emitted_events import Emitted


@pytest.fixture
def emitted(env: LocalEnvironment) -> Iterator[Emitted]:
    with capture_events("intuit-urls-emitted") as captured:
        yield captured


def intuit_calls(env: LocalEnvironment, path: str, **query: str) -> dict[str, Any]:
    """Intuit's browser redirect: no platform token, so no claims."""
    return env.platform.api("GET", path, None, query=query)


def settings_page(env: LocalEnvironment) -> str:
    return env.stack.environment["SETTINGS_PAGE_URL"]


def test_launch_url_sends_the_contractor_to_the_settings_page(env: LocalEnvironment) -> None:
    response = intuit_calls(env, "/quickbooks/launch")
    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == settings_page(env)


def test_forged_disconnect_changes_nothing(
    env: LocalEnvironment, qbo: QboEmulator, emitted: Emitted, contractor: str, realm: str
) -> None:
    before = stored_connection(env, contractor)

    response = intuit_calls(env, "/quickbooks/disconnected", realmId=realm)

    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == settings_page(env) + "?quickbooks=disconnected"
    assert connection_view(env, contractor)["status"] == "connected"
    assert stored_connection(env, contractor)["status"] == before["status"] == "connected"
    assert emitted.details(NEEDS_REAUTHORIZATION) == []
    env.platform.send_invoice(samples.invoice_sent(contractor, "401", "Still", [("A", "1", "9")]))
    env.runtime.poll_sqs(CONSUMER)
    assert list(by_doc_number(qbo, realm)) == ["401"]  # the connection still works


def test_disconnect_confirmed_by_intuit_asks_for_reauthorization_once(
    env: LocalEnvironment, qbo: QboEmulator, emitted: Emitted, contractor: str, realm: str
) -> None:
    qbo.revoke_refresh_tokens(realm)  # the contractor disconnected the app inside QuickBooks

    intuit_calls(env, "/quickbooks/disconnected", realmId=realm)
    intuit_calls(env, "/quickbooks/disconnected", realmId=realm)  # Intuit calls again

    assert connection_view(env, contractor)["status"] == "reauthorization_required"
    [event] = emitted.details(NEEDS_REAUTHORIZATION)
    assert (event["contractor_id"], event["realm_id"]) == (contractor, realm)


def test_disconnect_of_another_company_changes_nobody(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.revoke_refresh_tokens(realm)
    other = qbo.create_company("Someone Else")

    for forged in (other, "", "../../etc", "9" * 64):
        response = intuit_calls(env, "/quickbooks/disconnected", realmId=forged)
        assert response["statusCode"] == 302

    assert connection_view(env, contractor)["status"] == "connected"
