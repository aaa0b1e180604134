"""The settings page's QuickBooks routes, driven through the HTTP API handler."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import boto3
import requests

from local.environment import LocalEnvironment
from local.platform import Platform
from local.qbo_emulator import QboEmulator


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_connect_redirects_to_intuit_consent_with_accounting_scope(platform: Platform) -> None:
    response = platform.api("GET", "/quickbooks/connect", "ctr_123")

    assert response["statusCode"] == 302
    location = response["headers"]["Location"]
    params = _query(location)
    assert params["scope"] == "com.intuit.quickbooks.accounting"
    assert params["response_type"] == "code"
    assert len(params["state"]) >= 22  # at least 128 bits, url-safe


def test_connect_answers_json_when_the_page_asks_for_it(platform: Platform) -> None:
    response = platform.api(
        "GET", "/quickbooks/connect", "ctr_123", headers={"accept": "application/json"}
    )

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["authorization_url"].startswith("http")


def test_connect_is_refused_when_payments_are_not_enabled(env: LocalEnvironment) -> None:
    claims = env.platform.claims("ctr_123", payments_enabled=False)
    response = env.runtime.http("OAuthFunction", "GET", "/quickbooks/connect", claims=claims)

    assert response["statusCode"] == 403
    body = json.loads(response["body"])
    assert body["error"] == "payments_not_enabled"
    assert "payments" in body["message"]


def test_request_without_contractor_claim_gets_401(env: LocalEnvironment) -> None:
    response = env.runtime.http("OAuthFunction", "GET", "/quickbooks/connection", claims={})

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "unauthorized"


def test_callback_stores_encrypted_tokens_and_reports_the_company(
    env: LocalEnvironment, platform: Platform, realm: str
) -> None:
    landed = platform.connect_quickbooks("ctr_123")

    assert landed == "https://platform.local/settings/accounting?quickbooks=connected"
    view = json.loads(platform.api("GET", "/quickbooks/connection", "ctr_123")["body"])
    assert view["status"] == "connected"
    assert view["realm_id"] == realm
    assert view["company_name"] == "Alder & Sons Contracting"
    assert view["connected_at"]
    assert "access_token" not in view and "refresh_token" not in view
    stored = boto3.client("dynamodb").scan(TableName=env.stack.resources["ConnectionsTable"])
    raw = json.dumps(stored["Items"], default=str)
    for token in env.qbo.issued_tokens(realm):
        assert token not in raw


def test_refused_consent_redirects_with_denied_and_stores_nothing(
    env: LocalEnvironment, platform: Platform, qbo: QboEmulator, realm: str
) -> None:
    qbo.consent(realm, approve=False)

    landed = platform.connect_quickbooks("ctr_123")

    assert _query(landed) == {"quickbooks": "error", "reason": "denied"}
    view = json.loads(platform.api("GET", "/quickbooks/connection", "ctr_123")["body"])
    assert view["status"] == "not_connected"


def test_callback_with_forged_state_is_refused(platform: Platform, realm: str) -> None:
    landed = platform.api(
        "GET",
        "/quickbooks/callback",
        None,
        query={"code": "anything", "state": "forged-state-value", "realmId": realm},
    )

    assert _query(landed["headers"]["Location"])["reason"] == "invalid_state"


def test_callback_state_is_single_use(platform: Platform, realm: str) -> None:
    started = platform.api("GET", "/quickbooks/connect", "ctr_123")
    consent = requests.get(started["headers"]["Location"], allow_redirects=False, timeout=10)
    query = _query(consent.headers["Location"])

    first = platform.api("GET", "/quickbooks/callback", None, query=query)
    second = platform.api("GET", "/quickbooks/callback", None, query=query)

    assert _query(first["headers"]["Location"])["quickbooks"] == "connected"
    assert _query(second["headers"]["Location"])["reason"] == "invalid_state"


def test_callback_with_a_code_intuit_refuses_reports_exchange_failed(
    platform: Platform, realm: str
) -> None:
    started = platform.api("GET", "/quickbooks/connect", "ctr_123")
    state = _query(started["headers"]["Location"])["state"]

    landed = platform.api(
        "GET",
        "/quickbooks/callback",
        None,
        query={"code": "not-a-code-intuit-issued", "state": state, "realmId": realm},
    )

    assert _query(landed["headers"]["Location"])["reason"] == "exchange_failed"
    view = json.loads(platform.api("GET", "/quickbooks/connection", "ctr_123")["body"])
    assert view["status"] == "not_connected"


def test_disconnect_revokes_at_intuit_and_forgets_the_tokens(
    platform: Platform, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    response = platform.api("DELETE", "/quickbooks/connection", contractor)

    assert response["statusCode"] == 204
    view = json.loads(platform.api("GET", "/quickbooks/connection", contractor)["body"])
    assert view["status"] == "not_connected"
    assert qbo.count_requests(kind="oauth", path_suffix="/revoke") == 1
