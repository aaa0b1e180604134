"""Helpers for the emulator's own tests: the OAuth flow by hand and a minimal QBO client."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from local.qbo_emulator import QboEmulator

CLIENT_ID = "emulator-test-client"
CLIENT_SECRET = "emulator-test-secret"
REDIRECT_URI = "https://app.example/quickbooks/callback"
SCOPE = "com.intuit.quickbooks.accounting"


def authorize(emu: QboEmulator, state: str = "st-1", **overrides: str) -> requests.Response:
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": REDIRECT_URI,
        "state": state,
        **overrides,
    }
    return requests.get(
        emu.base_url + "/connect/oauth2", params=params, allow_redirects=False, timeout=5
    )


def callback_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def token_request(emu: QboEmulator, secret: str = CLIENT_SECRET, **form: str) -> requests.Response:
    return requests.post(
        emu.base_url + "/oauth2/v1/tokens/bearer",
        data=form,
        auth=(CLIENT_ID, secret),
        headers={"Accept": "application/json"},
        timeout=5,
    )


def connect(emu: QboEmulator) -> dict[str, Any]:
    """The code flow by hand; returns the token response plus the realmId."""
    params = callback_params(authorize(emu))
    response = token_request(
        emu, grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT_URI
    )
    assert response.status_code == 200, response.text
    return {**response.json(), "realmId": params["realmId"]}


class Api:
    """A minimal QBO client speaking JSON to one realm."""

    def __init__(self, emu: QboEmulator, realm_id: str, access_token: str) -> None:
        self.base = f"{emu.api_base_url}/v3/company/{realm_id}"
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        )

    def post(self, entity: str, body: dict[str, Any], **params: str) -> requests.Response:
        params.setdefault("minorversion", "75")
        return self.session.post(f"{self.base}/{entity}", json=body, params=params, timeout=5)

    def get(self, path: str, **params: str) -> requests.Response:
        return self.session.get(f"{self.base}/{path}", params=params, timeout=5)

    def query(self, text: str) -> requests.Response:
        return self.get("query", query=text)

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(entity.lower(), body)
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()[entity]
        return created


def fault(response: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["Fault"]["Error"][0]
    return error


def income_account(api: Api) -> str:
    rows = api.query("select * from Account where AccountType = 'Income'").json()
    return str(rows["QueryResponse"]["Account"][0]["Id"])


def customer_item(api: Api, name: str = "Jane O'Neil") -> tuple[str, str]:
    customer = api.create("Customer", {"DisplayName": name})
    item = api.create(
        "Item",
        {
            "Name": f"Work for {name}",
            "Type": "Service",
            "IncomeAccountRef": {"value": income_account(api)},
        },
    )
    return customer["Id"], item["Id"]


def sales_line(
    item_id: str, amount: str, qty: str | None = None, price: str | None = None
) -> dict[str, Any]:
    # Numbers go out as JSON numbers, as a client's json encoder would send them.
    detail: dict[str, Any] = {"ItemRef": {"value": item_id}}
    if qty is not None:
        detail["Qty"] = float(qty)
    if price is not None:
        detail["UnitPrice"] = float(price)
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": float(amount),
        "SalesItemLineDetail": detail,
    }
