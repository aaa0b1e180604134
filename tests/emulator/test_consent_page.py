"""The consent page a real browser sees when the emulator runs with consent_page=True."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    authorize,
    callback_params,
    token_request,
)


@pytest.fixture
def emu() -> Iterator[QboEmulator]:
    with QboEmulator(consent_page=True) as emulator:
        emulator.register_app(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
        yield emulator


def _ticket(page: requests.Response) -> str:
    found = re.search(r'name="consent_ticket" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _decide(emu: QboEmulator, ticket: str, **form: str) -> requests.Response:
    params = {"consent_ticket": ticket, **form}
    return requests.get(
        emu.base_url + "/connect/oauth2", params=params, allow_redirects=False, timeout=5
    )


def test_page_lists_the_companies_and_connect_issues_a_code_for_the_one_picked(
    emu: QboEmulator,
) -> None:
    emu.create_company("Alder & Sons Contracting")
    second = emu.create_company("Birch <Books> Ltd")

    page = authorize(emu, state="st-page")

    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Alder &amp; Sons Contracting" in page.text
    assert "Birch &lt;Books&gt; Ltd" in page.text
    params = callback_params(_decide(emu, _ticket(page), decision="connect", realm_id=second))
    assert params["state"] == "st-page"
    assert params["realmId"] == second
    exchange = token_request(
        emu, grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT_URI
    )
    assert exchange.status_code == 200


def test_cancel_redirects_with_access_denied(emu: QboEmulator) -> None:
    emu.create_company("Alder & Sons Contracting")

    params = callback_params(_decide(emu, _ticket(authorize(emu)), decision="cancel"))

    assert params == {"error": "access_denied", "state": "st-1"}


def test_a_ticket_decides_once(emu: QboEmulator) -> None:
    realm = emu.create_company("Alder & Sons Contracting")
    ticket = _ticket(authorize(emu))
    assert _decide(emu, ticket, decision="connect", realm_id=realm).status_code == 302

    again = _decide(emu, ticket, decision="connect", realm_id=realm)

    assert again.status_code == 400
    assert "expired or was already used" in again.text


def test_a_company_that_is_not_offered_is_refused(emu: QboEmulator) -> None:
    emu.create_company("Alder & Sons Contracting")

    refused = _decide(emu, _ticket(authorize(emu)), decision="connect", realm_id="123")

    assert refused.status_code == 400
    assert "Location" not in refused.headers


def test_requests_are_validated_before_the_page(emu: QboEmulator) -> None:
    emu.create_company("Alder & Sons Contracting")

    unregistered = authorize(emu, redirect_uri="https://evil.example/cb")
    bad_scope = authorize(emu, scope="openid")

    assert unregistered.status_code == 400
    assert "consent_ticket" not in unregistered.text
    assert callback_params(bad_scope)["error"] == "invalid_scope"


def test_without_the_flag_the_decision_is_instant() -> None:
    with QboEmulator() as instant:
        instant.register_app(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
        company = instant.create_company("Alder & Sons Contracting")

        assert callback_params(authorize(instant))["realmId"] == company
