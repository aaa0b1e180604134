"""Intuit OAuth 2.0 as the emulator serves it, driven by intuitlib and by hand."""

from __future__ import annotations

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    Api,
    authorize,
    callback_params,
    connect,
    token_request,
)


def _auth_client(emu: QboEmulator) -> AuthClient:
    return AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, emu.discovery_url)


def test_intuitlib_code_flow_refresh_and_revoke(emu: QboEmulator, realm: str) -> None:
    client = _auth_client(emu)
    url = client.get_authorization_url([Scopes.ACCOUNTING], state_token="csrf-123")

    params = callback_params(requests.get(url, allow_redirects=False, timeout=5))
    assert params["state"] == "csrf-123"
    assert params["realmId"] == realm
    client.get_bearer_token(params["code"], realm_id=params["realmId"])

    assert client.expires_in == 3600
    assert client.x_refresh_token_expires_in == 8726400
    companyinfo = Api(emu, realm, client.access_token).get(f"companyinfo/{realm}")
    assert companyinfo.json()["CompanyInfo"]["CompanyName"] == "Alder & Sons Contracting"

    first_refresh = client.refresh_token
    client.refresh()
    assert client.refresh_token != first_refresh
    assert Api(emu, realm, client.access_token).get(f"companyinfo/{realm}").status_code == 200

    client.revoke()
    with pytest.raises(AuthClientError) as refused:
        client.refresh()
    assert refused.value.status_code == 400
    assert Api(emu, realm, client.access_token).get(f"companyinfo/{realm}").status_code == 401


def test_hard_expiry_is_sent_only_when_asked(emu: QboEmulator, realm: str) -> None:
    client = _auth_client(emu)
    client.include_refresh_token_hard_expires_in = True
    params = callback_params(
        requests.get(
            client.get_authorization_url([Scopes.ACCOUNTING]), allow_redirects=False, timeout=5
        )
    )
    client.get_bearer_token(params["code"])

    assert client.x_refresh_token_hard_expires_in == 5 * 365 * 86400
    assert "x_refresh_token_hard_expires_in" not in connect(emu)


def test_authorization_code_is_single_use(emu: QboEmulator, realm: str) -> None:
    code = callback_params(authorize(emu))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}

    assert token_request(emu, **form).status_code == 200
    second = token_request(emu, **form)

    assert second.status_code == 400
    assert second.json() == {"error": "invalid_grant"}


def test_authorization_code_expires_after_ten_minutes(emu: QboEmulator, realm: str) -> None:
    code = callback_params(authorize(emu))["code"]
    emu.advance(600)

    response = token_request(
        emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
    )

    assert response.json() == {"error": "invalid_grant"}


def test_code_exchange_needs_the_same_redirect_uri(emu: QboEmulator, realm: str) -> None:
    code = callback_params(authorize(emu))["code"]

    response = token_request(
        emu, grant_type="authorization_code", code=code, redirect_uri="https://evil.example/cb"
    )

    assert (response.status_code, response.json()) == (400, {"error": "invalid_grant"})


def test_wrong_client_secret_is_invalid_client(emu: QboEmulator, realm: str) -> None:
    code = callback_params(authorize(emu))["code"]

    response = token_request(
        emu,
        secret="wrong",
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
    )

    assert (response.status_code, response.json()) == (401, {"error": "invalid_client"})


def test_refresh_token_rotates_and_the_old_one_is_refused(emu: QboEmulator, realm: str) -> None:
    old = connect(emu)["refresh_token"]

    rotated = token_request(emu, grant_type="refresh_token", refresh_token=old)
    replayed = token_request(emu, grant_type="refresh_token", refresh_token=old)

    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != old
    assert (replayed.status_code, replayed.json()) == (400, {"error": "invalid_grant"})
    newest = rotated.json()["refresh_token"]
    assert token_request(emu, grant_type="refresh_token", refresh_token=newest).status_code == 200


def test_revoke_kills_the_grant_and_unknown_tokens_still_answer_200(
    emu: QboEmulator, realm: str
) -> None:
    tokens = connect(emu)
    revoke = emu.base_url + "/v2/oauth2/tokens/revoke"

    revoked = requests.post(
        revoke, json={"token": tokens["refresh_token"]}, auth=(CLIENT_ID, CLIENT_SECRET), timeout=5
    )
    unknown = requests.post(
        revoke, json={"token": "never-issued"}, auth=(CLIENT_ID, CLIENT_SECRET), timeout=5
    )

    assert (revoked.status_code, unknown.status_code) == (200, 200)
    refresh = token_request(emu, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.json() == {"error": "invalid_grant"}
    assert Api(emu, realm, tokens["access_token"]).get(f"companyinfo/{realm}").status_code == 401


def test_expired_access_token_gets_intuits_401_fault(emu: QboEmulator, realm: str) -> None:
    api = Api(emu, realm, connect(emu)["access_token"])
    emu.advance(3600)

    response = api.get(f"companyinfo/{realm}")

    # Intuit's gateway shape (a public sandbox recording: minimul/qbo_api spec/vcr/error/401.yml)
    body = response.json()
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    assert body["fault"]["type"] == "AUTHENTICATION"
    assert body["fault"]["error"][0]["code"] == "3200"
    assert body["fault"]["error"][0]["message"] == (
        "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    )
    assert isinstance(body["time"], int) and body["time"] > 1_600_000_000_000


def test_expire_access_tokens_knob_then_refresh_recovers(emu: QboEmulator, realm: str) -> None:
    tokens = connect(emu)
    emu.expire_access_tokens(realm)

    assert Api(emu, realm, tokens["access_token"]).get(f"companyinfo/{realm}").status_code == 401
    fresh = token_request(emu, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert Api(emu, realm, fresh.json()["access_token"]).get(f"companyinfo/{realm}").ok


def test_disconnected_company_refuses_refresh(emu: QboEmulator, realm: str) -> None:
    tokens = connect(emu)
    emu.revoke_refresh_tokens(realm)

    refresh = token_request(emu, grant_type="refresh_token", refresh_token=tokens["refresh_token"])

    assert (refresh.status_code, refresh.json()) == (400, {"error": "invalid_grant"})


def test_token_for_one_company_is_refused_by_another(emu: QboEmulator, realm: str) -> None:
    other = emu.create_company("Other Co")
    tokens = connect(emu)

    response = Api(emu, other, tokens["access_token"]).get(f"companyinfo/{other}")

    assert response.status_code == 403
    assert response.json()["fault"]["error"][0]["code"] == "3100"


def test_unregistered_redirect_uri_is_an_error_page_not_a_redirect(
    emu: QboEmulator, realm: str
) -> None:
    response = authorize(emu, redirect_uri="https://evil.example/cb")

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unknown_client_is_an_error_page(emu: QboEmulator, realm: str) -> None:
    assert authorize(emu, client_id="nobody").status_code == 400


def test_refused_consent_redirects_with_access_denied_and_the_state(
    emu: QboEmulator, realm: str
) -> None:
    emu.consent(realm, approve=False)

    params = callback_params(authorize(emu, state="abc/+= x"))

    assert params == {"error": "access_denied", "state": "abc/+= x"}
    assert "code" in callback_params(authorize(emu))  # the refusal applied once


def test_consent_picks_the_company(emu: QboEmulator, realm: str) -> None:
    second = emu.create_company("Second Co")
    emu.consent(second)

    assert callback_params(authorize(emu))["realmId"] == second


def test_missing_accounting_scope_is_invalid_scope(emu: QboEmulator, realm: str) -> None:
    params = callback_params(authorize(emu, scope="openid email"))

    assert params == {"error": "invalid_scope", "state": "st-1"}


def test_discovery_document_points_at_the_emulator(emu: QboEmulator) -> None:
    document = requests.get(emu.discovery_url, timeout=5).json()

    assert document["token_endpoint"] == emu.base_url + "/oauth2/v1/tokens/bearer"
    assert document["authorization_endpoint"] == emu.base_url + "/connect/oauth2"
    assert document["revocation_endpoint"] == emu.base_url + "/v2/oauth2/tokens/revoke"
    assert requests.get(document["jwks_uri"], timeout=5).json() == {"keys": []}
