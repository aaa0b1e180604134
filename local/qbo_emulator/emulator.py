"""QboEmulator: the public face used by tests and the local demo."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from types import TracebackType
from typing import Any

from . import books, faults, sales_tax
from .accounting import entity_name, write
from .accounts import build_account
from .clock import Clock
from .faults import ApiError
from .names import add_person, build_customer, build_item
from .server import Router, _Server, make_server
from .state import Consent, RequestRecord, State


class QboEmulator:
    """Intuit OAuth 2.0 and the QBO Accounting API on 127.0.0.1, for tests and the demo."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, consent_page: bool = False
    ) -> None:
        """consent_page=True shows a browser Intuit's consent page (consent.py) instead of
        deciding at once; the default instant path is what tests driving `requests` expect."""
        self.host = host
        self.port = port
        self.consent_page = consent_page
        self._state = State(Clock())
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> QboEmulator:
        if self._server is not None:
            return self
        self._server = make_server(
            self.host, self.port, Router(self._state, lambda: self.base_url, self.consent_page)
        )
        self.port = self._server.server_address[1]
        # A short poll interval keeps stop() (and so every test fixture) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="qbo-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> QboEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def discovery_url(self) -> str:
        return self.base_url + "/.well-known/openid_configuration"

    @property
    def api_base_url(self) -> str:
        return self.base_url

    # --- setup ---------------------------------------------------------------------------

    def register_app(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        with self._state.lock:
            self._state.oauth.register_app(client_id, client_secret, redirect_uris)

    def create_company(
        self,
        name: str = "Demo Contracting LLC",
        realm_id: str | None = None,
        *,
        default_items: bool = False,
        kind: str = "us_ast",
        multicurrency: bool = False,
    ) -> str:
        """default_items=True also seeds the "Services" and "Hours" items. `kind` is one of
        kinds.KINDS: "us_ast" (the default), "us_manual" or "canada"; `multicurrency` turns
        Preferences.CurrencyPrefs.MultiCurrencyEnabled on."""
        return self._state.create_company(name, realm_id, default_items, kind, multicurrency)

    def consent(self, realm_id: str | None = None, approve: bool = True) -> None:
        with self._state.lock:
            if realm_id is not None:
                self._state.company(realm_id)
            self._state.consent = Consent(realm_id, approve)

    def company_settings(
        self,
        realm_id: str,
        *,
        warn_duplicate_doc_number: bool | None = None,
        custom_txn_numbers: bool | None = None,
        multicurrency: bool | None = None,
    ) -> None:
        """multicurrency=True turns Multicurrency on; once on it cannot be turned off (Intuit,
        "Manage multiple currencies")."""
        with self._state.lock:
            settings = self._state.company(realm_id).settings
            if multicurrency is not None:
                if settings.multicurrency and not multicurrency:
                    raise ValueError("multicurrency cannot be turned off once on")
                settings.multicurrency = multicurrency
            if warn_duplicate_doc_number is not None:
                settings.warn_duplicate_doc_number = warn_duplicate_doc_number
            if custom_txn_numbers is not None:
                settings.custom_txn_numbers = custom_txn_numbers

    def add_tax_rate(self, realm_id: str, name: str, rate: str) -> str:
        """The contractor adds a sales tax rate in QuickBooks: a TaxRate and the TaxCode that
        applies it alone; returns the TaxCode's Id."""
        with self._state.lock:
            company = self._state.company(realm_id)
            return sales_tax.add_rate(company, name, Decimal(rate), self._state.clock.now())

    def close_books(self, realm_id: str, closing_date: str | None) -> None:
        """QBO's "Close the books" (Account and Settings > Advanced): writes of transactions
        dated on or before `closing_date` (YYYY-MM-DD) fail with 6210; None reopens them."""
        with self._state.lock:
            self._state.company(realm_id).settings.closing_date = closing_date

    def delete_in_quickbooks(self, realm_id: str, entity: str, entity_id: str) -> None:
        """Someone deletes the entity in QuickBooks (as the API's operation=delete would)."""
        with self._state.lock:
            company = self._state.company(realm_id)
            row = company.get(entity_name(entity) or entity, entity_id)
            if row is None:
                raise KeyError(f"no {entity} {entity_id} in {realm_id}")
            body = {"Id": entity_id, "SyncToken": row["SyncToken"]}
            path = f"/v3/company/{realm_id}/{entity.lower()}"
            write(company, entity.lower(), body, "delete", path, self._state.clock.now())

    def end_subscription(self, realm_id: str, ended: bool = True) -> None:
        """The company's trial or subscription ended: every write fails with 6190."""
        with self._state.lock:
            self._state.company(realm_id).settings.subscription_ended = ended

    def add_invoice(self, realm_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """An invoice the contractor keyed into QuickBooks by hand (its own form, under the
        same rules as the API's create, duplicate numbers included); returns it."""
        with self._state.lock:
            company = self._state.company(realm_id)
            path = f"/v3/company/{realm_id}/invoice"
            _, invoice, _ = write(company, "invoice", body, None, path, self._state.clock.now())
            return dict(invoice)

    def key_invoice(
        self, realm_id: str, number: str, customer_id: str, amount: str, **fields: Any
    ) -> dict[str, Any]:
        """The usual hand-keyed invoice: one line of `amount` on the company's Services item
        (found, or added as the contractor would), with `fields` on top; returns it."""
        items = {i["Name"]: i["Id"] for i in self.entities(realm_id, "Item")}
        item = items.get("Services") or self.add_item(realm_id, "Services")
        line: dict[str, Any] = {"Amount": amount, "DetailType": "SalesItemLineDetail"}
        line["SalesItemLineDetail"] = {"ItemRef": {"value": item}}
        body = {"DocNumber": number, "CustomerRef": {"value": customer_id}, "Line": [line]}
        return self.add_invoice(realm_id, {**body, **fields})

    def add_payment(self, realm_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A payment the contractor keyed into QuickBooks by hand (Receive Payment), under the
        same rules as the API's create; returns it."""
        with self._state.lock:
            company = self._state.company(realm_id)
            path = f"/v3/company/{realm_id}/payment"
            _, payment, _ = write(company, "payment", body, None, path, self._state.clock.now())
            return dict(payment)

    def add_vendor(self, realm_id: str, display_name: str) -> str:
        return self._add_person(realm_id, "Vendor", display_name)

    def add_employee(self, realm_id: str, display_name: str) -> str:
        return self._add_person(realm_id, "Employee", display_name)

    def add_customer(self, realm_id: str, display_name: str, **fields: Any) -> str:
        """A customer that was in QBO before the integration connected; returns its Id."""
        with self._state.lock:
            company = self._state.company(realm_id)
            now = self._state.clock.now()
            try:
                built = build_customer(company, {"DisplayName": display_name, **fields}, None, now)
            except ApiError as exc:
                raise ValueError(f"cannot add Customer {display_name!r}: {exc.errors}") from exc
            return str(company.insert("Customer", built, now)["Id"])

    def add_item(self, realm_id: str, name: str, **fields: Any) -> str:
        """A Service item that was in QBO before the integration connected (on the company's
        first Income account unless `fields` name one); returns its Id."""
        with self._state.lock:
            company = self._state.company(realm_id)
            now = self._state.clock.now()
            income = next(a for a in company.rows("Account") if a["AccountType"] == "Income")
            body = {"Name": name, "IncomeAccountRef": {"value": income["Id"]}, **fields}
            try:
                built = build_item(company, body, None, now)
            except ApiError as exc:
                raise ValueError(f"cannot add Item {name!r}: {exc.errors}") from exc
            return str(company.insert("Item", built, now)["Id"])

    def add_account(self, realm_id: str, name: str, account_type: str, **fields: Any) -> str:
        """An account the bookkeeper made before the integration connected; returns its Id."""
        with self._state.lock:
            company = self._state.company(realm_id)
            now = self._state.clock.now()
            body = {"Name": name, "AccountType": account_type, **fields}
            try:
                built = build_account(company, body, None, now)
            except ApiError as exc:
                raise ValueError(f"cannot add Account {name!r}: {exc.errors}") from exc
            return str(company.insert("Account", built, now)["Id"])

    def _add_person(self, realm_id: str, entity: str, display_name: str) -> str:
        with self._state.lock:
            company = self._state.company(realm_id)
            try:
                return add_person(company, entity, display_name, self._state.clock.now())
            except ApiError as exc:  # a test set up a company QBO would not allow
                raise ValueError(f"cannot add {entity} {display_name!r}: {exc.errors}") from exc

    # --- inspection ----------------------------------------------------------------------

    def entities(self, realm_id: str, entity: str) -> list[dict[str, Any]]:
        """Current stored state; money fields are Decimal."""
        name = entity_name(entity)
        if name is None:
            raise KeyError(f"unknown entity {entity!r}")
        with self._state.lock:
            return self._state.company(realm_id).snapshot(name)

    def account_balances(self, realm_id: str) -> dict[str, Decimal]:
        """Each account's balance by name, as QBO posts the company's transactions (books.py)."""
        with self._state.lock:
            return books.balances(self._state.company(realm_id))

    @property
    def requests(self) -> list[RequestRecord]:
        with self._state.lock:
            return list(self._state.requests)

    def count_requests(
        self,
        realm_id: str | None = None,
        kind: str = "api",
        method: str | None = None,
        path_suffix: str | None = None,
    ) -> int:
        return sum(
            1
            for r in self.requests
            if r.kind == kind
            and (realm_id is None or r.realm_id == realm_id)
            and (method is None or r.method == method.upper())
            and (path_suffix is None or r.path.endswith(path_suffix))
        )

    def issued_tokens(self, realm_id: str | None = None) -> list[str]:
        """Every access and refresh token ever issued (for the realm), to check none leaks."""
        with self._state.lock:
            issued = self._state.oauth.issued
            return [token for realm, token in issued if realm_id is None or realm == realm_id]

    def peak_concurrency(self, realm_id: str) -> int:
        """Most API requests that were in flight at once for the realm."""
        with self._state.lock:
            return self._state.limiter.peak(realm_id)

    def reset(self) -> None:
        self._state.reset()
        self._state.clock.offset = 0.0

    # --- time ----------------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        return self._state.clock.now

    @clock.setter
    def clock(self, source: Callable[[], float]) -> None:
        self._state.clock.source = source
        self._state.clock.offset = 0.0

    def advance(self, seconds: float) -> None:
        with self._state.lock:
            self._state.clock.advance(seconds)

    # --- knobs ---------------------------------------------------------------------------

    @property
    def latency(self) -> float:
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._state.latency = seconds

    def outage(
        self, realm_id: str, seconds: float, statuses: tuple[int, ...] = (429, 500, 503)
    ) -> None:
        """The realm's QuickBooks fails every Accounting API request for `seconds` of the
        emulator's clock from now (throttles and server errors in turn); OAuth still works."""
        with self._state.lock:
            until = self._state.clock.now() + seconds
            self._state.chaos.outage(realm_id, until, statuses)

    def fail_next(
        self, count: int, status: int = 503, realm_id: str | None = None, kind: str = "api"
    ) -> None:
        with self._state.lock:
            self._state.chaos.fail_next(count, status, realm_id, kind)

    def deny_next(self, count: int = 1, realm_id: str | None = None) -> None:
        """The next `count` API requests answer Intuit's 403 3100 AuthorizationFailed, as when
        the app lost its access to the company while its token still looks valid. (fail_next
        with status 401 or 403 also answers Intuit's gateway documents.)"""
        self.fail_next(count, status=403, realm_id=realm_id)

    def fault_rate(
        self,
        probability: float,
        statuses: tuple[int, ...] = (429, 500, 503),
        seed: int | None = None,
    ) -> None:
        with self._state.lock:
            self._state.chaos.fault_rate(probability, statuses, seed)

    def timeout_next(self, count: int, seconds: float) -> None:
        with self._state.lock:
            self._state.chaos.timeout_next(count, seconds)

    def enforce_rate_limits(
        self,
        enabled: bool = True,
        time_scale: float = 1.0,
        *,
        per_minute: int = 500,
        per_second: int = 10,
        concurrent: int = 10,
    ) -> None:
        """Intuit's per-realm limits. time_scale shrinks both windows; the counts can be
        changed so a test can isolate one limit (the defaults are Intuit's)."""
        with self._state.lock:
            self._state.limiter.configure(enabled, time_scale, (per_minute, per_second, concurrent))

    def expire_access_tokens(self, realm_id: str | None = None) -> None:
        with self._state.lock:
            self._state.oauth.expire_access_tokens(realm_id, self._state.clock.now())

    def deauthorize_app(self, realm_id: str) -> None:
        """The app is no longer authorized for the company, though its tokens still refresh:
        every Accounting API request with a token of the current grants answers HTTP 403, code
        3100 (lower-case `fault` body), until the contractor consents again."""
        with self._state.lock:
            self._state.oauth.deauthorize_app(realm_id)

    def revoke_refresh_tokens(self, realm_id: str | None = None) -> None:
        with self._state.lock:
            self._state.oauth.revoke_grants(realm_id)

    def timeout_rate(self, probability: float, seconds: float, seed: int | None = None) -> None:
        """Each API request not failed by fault_rate/fail_next answers `seconds` late with this
        probability: a client with a shorter read timeout gives up while QBO goes on and
        commits, as happens at Intuit."""
        with self._state.lock:
            self._state.chaos.timeout_rate(probability, seconds, seed)

    def reject_next(
        self,
        code: str,
        detail: str,
        *,
        entity: str | None = None,
        element: str = "",
        count: int = 1,
        realm_id: str | None = None,
    ) -> None:
        """The next `count` writes (POSTs) of `entity` (any entity: None) fail QBO's validation:
        HTTP 400, Fault type ValidationFault, one Error with Intuit's Message for `code`, the
        given Detail and element. For refusals no emulated rule produces."""
        error = faults.validation(code, detail, element).errors[0]
        name = entity_name(entity) if entity else None
        if entity and name is None:
            raise KeyError(f"unknown entity {entity!r}")
        with self._state.lock:
            self._state.chaos.reject_next(count, error, name, realm_id)

    def crash_after_commit_next(self, count: int = 1) -> None:
        with self._state.lock:
            self._state.chaos.crash_after_commit_next(count)

    def forget_request_ids(self, realm_id: str) -> None:
        """Intuit does not say how long it remembers a requestid; this is the day it forgot."""
        with self._state.lock:
            self._state.company(realm_id).replays.clear()
