"""Plays the platform: a contractor's browser, the invoicing service, the payment system."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from local.lambda_runtime import LambdaRuntime
from local.platform_history import InvoicingHistory
from local.stack import LocalStack

OAUTH_FUNCTION = "OAuthFunction"


class Browser:
    """Keeps the cookies our API sets, as a browser would for the API's domain."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def receive(self, response: dict[str, Any]) -> dict[str, Any]:
        for cookie in response.get("cookies", []):
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if "max-age=0" in cookie.lower().replace(" ", ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def headers(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}


class Platform:
    def __init__(self, stack: LocalStack, runtime: LambdaRuntime) -> None:
        self._stack = stack
        self._runtime = runtime
        # The invoicing service's memory of what it sent, and its answer to History Requested.
        self.invoicing = InvoicingHistory(stack.resources)
        self.invoicing.subscribe()

    def claims(self, contractor_id: str, payments_enabled: bool = True) -> dict[str, str]:
        # HTTP API's JWT authorizer passes claims as strings.
        env = self._stack.environment
        return {
            env.get("CONTRACTOR_ID_CLAIM", "contractor_id"): contractor_id,
            env.get("PAYMENTS_ENABLED_CLAIM", "payments_enabled"): str(payments_enabled).lower(),
        }

    def api(
        self, method: str, path: str, contractor_id: str | None, **kwargs: Any
    ) -> dict[str, Any]:
        claims = self.claims(contractor_id) if contractor_id else None
        return self._runtime.http(OAUTH_FUNCTION, method, path, claims=claims, **kwargs)

    def connect_quickbooks(self, contractor_id: str) -> str:
        """Clicks connect, follows Intuit's consent redirect, lands on the callback.

        Returns the settings page URL the browser ends on."""
        browser = Browser()
        started = browser.receive(self.api("GET", "/quickbooks/connect", contractor_id))
        query = self.consent(started["headers"]["Location"])
        landed = self.callback(query, browser)
        return str(landed["headers"]["Location"])

    def consent(self, authorize_url: str) -> dict[str, str]:
        """The contractor at Intuit's consent page; returns the query Intuit redirects back with."""
        consent = requests.get(authorize_url, allow_redirects=False, timeout=10)
        callback = urlsplit(consent.headers["Location"])
        return {key: values[0] for key, values in parse_qs(callback.query).items()}

    def callback(self, query: dict[str, str], browser: Browser) -> dict[str, Any]:
        """Intuit redirects `browser` to our callback."""
        response = self.api(
            "GET", "/quickbooks/callback", None, query=query, headers=browser.headers()
        )
        return browser.receive(response)

    def send_invoice(self, message: dict[str, Any]) -> None:
        """The invoicing service publishes invoice-sent (docs/interface.md §3)."""
        import boto3

        self.invoicing.remember(message)
        boto3.client("sqs").send_message(
            QueueUrl=self._stack.resources["InvoiceSentQueue"],
            MessageBody=json.dumps(message),
            MessageGroupId=message["contractor_id"],
            MessageDeduplicationId=message["event_id"],
        )

    def complete_payment(self, detail: dict[str, Any]) -> None:
        """The payment system emits payment-completed on the bus (docs/interface.md §4)."""
        self._put_payment_event("PaymentEventDetailType", detail)

    def refund_payment(self, detail: dict[str, Any]) -> None:
        """The payment system emits payment-refunded on the bus (docs/interface.md §9)."""
        self._put_payment_event("RefundEventDetailType", detail)

    def pay_out(self, detail: dict[str, Any]) -> None:
        """The payment system emits payout-paid on the bus (docs/interface.md §10)."""
        self._put_payment_event("PayoutEventDetailType", detail)

    def _put_payment_event(self, detail_type_parameter: str, detail: dict[str, Any]) -> None:
        import boto3

        parameters = self._stack.parameters
        response = boto3.client("events").put_events(
            Entries=[
                {
                    "EventBusName": self._stack.resources["EventBus"],
                    "Source": parameters["PaymentEventSource"],
                    "DetailType": parameters[detail_type_parameter],
                    "Detail": json.dumps(detail),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"put_events failed: {response['Entries']}")
