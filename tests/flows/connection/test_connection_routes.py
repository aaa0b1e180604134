"""The settings page's QuickBooks routes, driven through the HTTP API handler."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from local.environment import CLIENT_SECRET, LocalEnvironment
from local.platform import Browser, Platform
from local.qbo_emulator import QboEmulator


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _status(platform: Platform, contractor_id: str) -> dict[str, object]:
    return dict(json.loads(platform.api("GET", "/quickbooks/connection", contractor_id)["body"]))


def _start(platform: Platform, contractor_id: str) -> tuple[Browser, dict[str, str]]:
    """A contractor clicks Connect and approves at Intuit: their browser, and Intuit's answer."""
    browser = Browser()
    started = browser.receive(platform.api("GET", "/quickbooks/connect", contractor_id))
    return browser, platform.consent(started["headers"]["Location"])


def test_connect_redirects_to_intuit_consent_with_accounting_scope(platform: Platform) -> None:
    response = platform.api("GET", "/quickbooks/connect", "ctr_123")

    assert response["statusCode"] == 302
    params = _query(response["headers"]["Location"])
    assert params["scope"] == "com.intuit.quickbooks.accounting"
    assert params["response_type"] == "code"
    assert len(params["state"]) >= 22  # at least 128 bits, url-safe
    (cookie,) = response["cookies"]
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/quickbooks/callback"):
        assert attribute.lower() in cookie.lower()


def test_connect_answers_json_when_the_page_asks_for_it(platform: Platform) -> None:
    response = platform.api(
        "GET", "/quickbooks/connect", "ctr_123", headers={"accept": "application/json"}
    )

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["authorization_url"].startswith("http")
    assert response["cookies"]


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
    view = _status(platform, "ctr_123")
    assert view["status"] == "connected"
    assert view["realm_id"] == realm
    assert view["company_name"] == "Alder & Sons Contracting"
    assert view["connected_at"]
    assert "access_token" not in view and "refresh_token" not in view
    stored = boto3.client("dynamodb").scan(TableName=env.stack.resources["ConnectionsTable"])
    raw = json.dumps(stored["Items"], default=str)
    tokens = env.qbo.issued_tokens(realm)
    assert tokens
    for token in tokens:
        assert token not in raw


def test_refused_consent_redirects_with_denied_and_stores_nothing(
    platform: Platform, qbo: QboEmulator, realm: str
) -> None:
    qbo.consent(realm, approve=False)

    landed = platform.connect_quickbooks("ctr_123")

    assert _query(landed) == {"quickbooks": "error", "reason": "denied"}
    assert _status(platform, "ctr_123")["status"] == "not_connected"


def test_callback_with_forged_state_is_refused(platform: Platform, realm: str) -> None:
    browser, answer = _start(platform, "ctr_123")

    landed = platform.callback({**answer, "state": "forged-state-value"}, browser)

    assert _query(landed["headers"]["Location"])["reason"] == "invalid_state"
    assert _status(platform, "ctr_123")["status"] == "not_connected"


def test_callback_state_is_single_use(platform: Platform, realm: str) -> None:
    browser, answer = _start(platform, "ctr_123")
    cookie_jar = dict(browser.cookies)

    first = platform.callback(answer, browser)
    browser.cookies = cookie_jar  # a replay brings the old cookie back too
    second = platform.callback(answer, browser)

    assert _query(first["headers"]["Location"])["quickbooks"] == "connected"
    assert _query(second["headers"]["Location"])["reason"] == "invalid_state"


def test_state_is_spent_even_when_its_first_callback_failed(platform: Platform, realm: str) -> None:
    browser, answer = _start(platform, "ctr_123")
    cookie_jar = dict(browser.cookies)

    failed = platform.callback({**answer, "code": "not-a-code-intuit-issued"}, browser)
    browser.cookies = cookie_jar
    retried = platform.callback(answer, browser)  # now with the real code

    assert _query(failed["headers"]["Location"])["reason"] == "exchange_failed"
    assert _query(retried["headers"]["Location"])["reason"] == "invalid_state"
    assert _status(platform, "ctr_123")["status"] == "not_connected"


def test_state_older_than_ten_minutes_is_refused(
    platform: Platform, realm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qbo_sync.connection.oauth_states as oauth_states

    browser, answer = _start(platform, "ctr_123")
    issued_at = oauth_states.now()
    monkeypatch.setattr(oauth_states, "now", lambda: issued_at + 601)

    landed = platform.callback(answer, browser)

    assert _query(landed["headers"]["Location"])["reason"] == "invalid_state"
    assert _status(platform, "ctr_123")["status"] == "not_connected"


def test_victims_company_cannot_be_linked_to_an_attackers_account(
    platform: Platform, qbo: QboEmulator, realm: str
) -> None:
    # The attacker starts a flow and lures the victim into approving its authorization URL.
    attacker_browser = Browser()
    started = attacker_browser.receive(platform.api("GET", "/quickbooks/connect", "ctr_attacker"))
    answer = platform.consent(started["headers"]["Location"])  # the victim approves their company
    victim_browser = Browser()

    landed = platform.callback(answer, victim_browser)

    assert _query(landed["headers"]["Location"])["reason"] == "invalid_state"
    assert _status(platform, "ctr_attacker")["status"] == "not_connected"


def test_attackers_company_cannot_be_linked_to_a_victims_account(
    platform: Platform, qbo: QboEmulator, realm: str
) -> None:
    attacker_company = qbo.create_company("Attacker Books")
    qbo.consent(attacker_company)
    _, attacker_answer = _start(platform, "ctr_attacker")  # the attacker approves, stops before
    victim_browser, _ = _start(platform, "ctr_victim")  # the victim is mid-flow of their own

    landed = platform.callback(attacker_answer, victim_browser)  # lured onto the attacker's link

    assert _query(landed["headers"]["Location"])["reason"] == "invalid_state"
    assert _status(platform, "ctr_victim")["status"] == "not_connected"
    assert _status(platform, "ctr_attacker")["status"] == "not_connected"


def test_callback_with_a_code_intuit_refuses_reports_exchange_failed(
    platform: Platform, realm: str
) -> None:
    browser, answer = _start(platform, "ctr_123")

    landed = platform.callback({**answer, "code": "not-a-code-intuit-issued"}, browser)

    assert _query(landed["headers"]["Location"])["reason"] == "exchange_failed"
    assert _status(platform, "ctr_123")["status"] == "not_connected"


def test_connecting_another_company_replaces_the_connection(
    platform: Platform, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    second = qbo.create_company("Second Books")
    qbo.consent(second)

    landed = platform.connect_quickbooks(contractor)

    assert landed.endswith("quickbooks=connected")
    view = _status(platform, contractor)
    assert (view["realm_id"], view["company_name"]) == (second, "Second Books")


def test_disconnect_revokes_at_intuit_and_forgets_the_tokens(
    platform: Platform, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    response = platform.api("DELETE", "/quickbooks/connection", contractor)

    assert response["statusCode"] == 204
    assert _status(platform, contractor)["status"] == "not_connected"
    assert qbo.count_requests(kind="oauth", path_suffix="/revoke") == 1


def test_disconnect_forgets_the_tokens_even_when_intuit_revoke_fails(
    platform: Platform, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.fail_next(1, status=503, kind="oauth")

    response = platform.api("DELETE", "/quickbooks/connection", contractor)

    assert response["statusCode"] == 204
    assert _status(platform, contractor)["status"] == "not_connected"


def test_logs_never_contain_tokens_codes_or_the_client_secret(
    env: LocalEnvironment, platform: Platform, qbo: QboEmulator, realm: str, logs: object
) -> None:
    from local import samples

    browser, answer = _start(platform, "ctr_123")
    platform.callback(answer, browser)
    qbo.expire_access_tokens(realm)  # forces a refresh: more tokens pass through
    env.platform.send_invoice(samples.invoice_sent("ctr_123", "1", "Ann", [("A", "1", "1.00")]))
    env.runtime.poll_sqs("InvoiceSentFunction")
    platform.api("DELETE", "/quickbooks/connection", "ctr_123")

    captured = logs.text()  # type: ignore[attr-defined]
    secrets = [*qbo.issued_tokens(realm), answer["code"], CLIENT_SECRET]
    assert len(secrets) >= 5
    assert captured
    for secret in secrets:
        assert secret not in captured
