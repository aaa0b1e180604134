"""One typed settings object, parsed and checked once per container (docs/interface.md §1).

Each handler is `@configured`: the settings are read and checked before its first event is
touched, so a deployment that lacks a setting fails at once with the names of what is missing,
never in the middle of an invoice after QBO was written. (Before the handler rather than at
import, as the cookbook's environment parser does, so the handler modules import anywhere.)"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

API_BASE_URLS = {
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
    "production": "https://quickbooks.api.intuit.com",
}
# QuickBooks' web app, where a contractor opens what was exported (docs/interface.md §12). Anything
# but production is sandbox: the local emulator's companies stand in for sandbox companies.
QBO_APP_URLS = {
    "sandbox": "https://app.sandbox.qbo.intuit.com",
    "production": "https://app.qbo.intuit.com",
}
# What template.yaml's Globals give every function; the others have defaults.
_REQUIRED = (
    "credentials_secret",
    "settings_page_url",
    "connections_table",
    "oauth_states_table",
    "mappings_table",
    "token_key_id",
    "event_bus_name",
    "idempotency_table",
    "invoice_sent_queue_url",
    "invoice_sent_dead_letter_queue_url",
    "payment_events_queue_url",
    "operations_table",
)


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed: the deployment is wrong, not the event."""


class Settings(NamedTuple):
    intuit_environment: str
    qbo_api_base_url: str
    credentials_secret: str
    oauth_redirect_uri: str
    settings_page_url: str
    contractor_id_claim: str
    payments_enabled_claim: str
    connections_table: str
    oauth_states_table: str
    mappings_table: str
    token_key_id: str
    event_bus_name: str
    deposit_account_id: str
    idempotency_table: str
    invoice_sent_queue_url: str
    invoice_sent_dead_letter_queue_url: str
    payment_events_queue_url: str
    # The payment system's payout-paid detail-type (template.yaml's PayoutEventDetailType).
    payout_event_detail_type: str
    # The detail-types PaymentEventsQueue's events carry (template.yaml's parameters).
    payment_event_detail_type: str
    refund_event_detail_type: str
    # The queues' RedrivePolicy maxReceiveCount (template.yaml passes the same parameter to
    # both): on that delivery a temporary failure shows as failed, not as retrying for ever.
    invoice_sent_max_receive_count: int
    # Metered-read counters and the migrations' record (template.yaml's OperationsTable).
    operations_table: str = ""
    # The JWT claim that opens the support view (template.yaml's SupportClaim).
    support_claim: str = "qbo_support"
    # docs/interface.md §15: the platform's replays, and the skipped invoices a request resends.
    history_queue_url: str = ""

    def queue_url_of(self, queue_arn: str) -> str:
        """The URL of the invoice-sent or history queue a record came from (by its ARN's name)."""
        name = queue_arn.rsplit(":", 1)[-1]
        if self.history_queue_url and self.history_queue_url.rsplit("/", 1)[-1] == name:
            return self.history_queue_url
        return self.invoice_sent_queue_url

    @classmethod
    def from_environment(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        intuit_environment = env.get("INTUIT_ENVIRONMENT") or "sandbox"
        settings = cls(
            intuit_environment=intuit_environment,
            qbo_api_base_url=_api_base_url(intuit_environment, env.get("QBO_API_BASE_URL", "")),
            credentials_secret=env.get("INTUIT_CREDENTIALS_SECRET", ""),
            oauth_redirect_uri=env.get("OAUTH_REDIRECT_URI", ""),
            settings_page_url=env.get("SETTINGS_PAGE_URL", ""),
            contractor_id_claim=env.get("CONTRACTOR_ID_CLAIM") or "contractor_id",
            payments_enabled_claim=env.get("PAYMENTS_ENABLED_CLAIM") or "payments_enabled",
            connections_table=env.get("CONNECTIONS_TABLE", ""),
            oauth_states_table=env.get("OAUTH_STATES_TABLE", ""),
            mappings_table=env.get("MAPPINGS_TABLE", ""),
            token_key_id=env.get("TOKEN_KEY_ID", ""),
            event_bus_name=env.get("EVENT_BUS_NAME", ""),
            deposit_account_id=env.get("DEPOSIT_ACCOUNT_ID", ""),
            idempotency_table=env.get("IDEMPOTENCY_TABLE", ""),
            invoice_sent_queue_url=env.get("INVOICE_SENT_QUEUE_URL", ""),
            invoice_sent_dead_letter_queue_url=env.get("INVOICE_SENT_DEAD_LETTER_QUEUE_URL", ""),
            payment_events_queue_url=env.get("PAYMENT_EVENTS_QUEUE_URL", ""),
            payout_event_detail_type=env.get("PAYOUT_EVENT_DETAIL_TYPE") or "Payout Paid",
            payment_event_detail_type=env.get("PAYMENT_EVENT_DETAIL_TYPE") or "Payment Completed",
            refund_event_detail_type=env.get("REFUND_EVENT_DETAIL_TYPE") or "Payment Refunded",
            invoice_sent_max_receive_count=_count(env, "INVOICE_SENT_MAX_RECEIVE_COUNT"),
            operations_table=env.get("OPERATIONS_TABLE", ""),
            support_claim=env.get("SUPPORT_CLAIM") or "qbo_support",
            history_queue_url=env.get("HISTORY_QUEUE_URL", ""),
        )
        settings.check()
        return settings

    @property
    def qbo_app_url(self) -> str:
        return QBO_APP_URLS.get(self.intuit_environment, QBO_APP_URLS["sandbox"])

    def check(self) -> None:
        missing = [name.upper() for name in _REQUIRED if not getattr(self, name)]
        if missing:
            raise ConfigurationError("missing configuration: " + ", ".join(missing))


def _api_base_url(intuit_environment: str, explicit: str) -> str:
    if explicit:
        return explicit.rstrip("/")
    if intuit_environment in API_BASE_URLS:
        return API_BASE_URLS[intuit_environment]
    # A discovery-document URL names no Accounting API host, so it cannot be guessed.
    raise ConfigurationError("QBO_API_BASE_URL is required when INTUIT_ENVIRONMENT is a URL")


def _count(env: dict[str, str], name: str) -> int:
    value = env.get(name, "")
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()


def configured(handler: Handler) -> Handler:
    """Checks the settings before the handler runs (once: they are cached for the container),
    and after it flushes the metered reads it counted (core/metering.py)."""

    @functools.wraps(handler)
    def checked(*args: Any, **kwargs: Any) -> Any:
        get_settings()
        try:
            return handler(*args, **kwargs)
        finally:
            # The invocation's metered QuickBooks reads, stored and published once (not per
            # request); imported here so that settings stay free of the layer's other modules.
            from qbo_sync.core import metering

            metering.flush()

    return checked  # type: ignore[return-value]
