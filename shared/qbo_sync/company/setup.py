"""The company's setup, read from QBO once per company and kept beside the mappings.

Item: pk = contractor id, sk = "<realm>#company#setup", attributes `setup` (the JSON of
qbo/sales_tax.py's CompanySetup) and `updated_at`; written only here. The export reads it in
its one BatchGetItem (`key`, `of`). QBO is asked (Preferences, CompanyInfo and, unless the
company is on Automated Sales Tax, its tax codes and rates) only when the item is missing, or
when the kept setup cannot export an invoice: the contractor may have added the tax rate or
turned multicurrency on since, so it is read again once before the export is refused. A QBO
fault about tax codes or currency drops it (`forget`), so the next attempt reads it afresh.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from qbo_sync.connection.store import Connection
from qbo_sync.core import aws
from qbo_sync.core.clock import iso_now
from qbo_sync.core.dynamo import Key, key, to_item
from qbo_sync.core.reasons import ReasonCode, reason_naming
from qbo_sync.core.settings import get_settings
from qbo_sync.qbo.client import QboClient
from qbo_sync.qbo.faults import Refused
from qbo_sync.qbo.sales_tax import (
    CompanySetup,
    CurrencyNotEnabled,
    TaxPlan,
    TaxRateNotFound,
    company_setup,
    needs_tax_codes,
    plan,
)

if TYPE_CHECKING:  # the invoice models: not on the payment function's path (events/)
    from qbo_sync.events.invoices import Invoice

logger = Logger(child=True)
SUFFIX = "company#setup"


class SetupStore:
    def __init__(self, table: str, contractor_id: str, realm_id: str) -> None:
        self._table = table
        self._key = key(contractor_id, f"{realm_id}#{SUFFIX}")

    def key(self) -> Key:
        return self._key

    def of(self, found: dict[str, dict[str, Any]]) -> CompanySetup | None:
        """The kept setup among a batch read's items (by sort key), if any."""
        item = found.get(self._key["sk"]["S"])
        return CompanySetup.from_json(json.loads(item["setup"])) if item else None

    def write(self, setup: CompanySetup) -> None:
        values = {"setup": json.dumps(setup.to_json(), sort_keys=True), "updated_at": iso_now()}
        aws.dynamodb().put_item(TableName=self._table, Item={**self._key, **to_item(values)})

    def get(self) -> CompanySetup | None:
        item = aws.dynamodb().get_item(TableName=self._table, Key=self._key).get("Item")
        return CompanySetup.from_json(json.loads(item["setup"]["S"])) if item else None

    def forget(self) -> None:
        aws.dynamodb().delete_item(TableName=self._table, Key=self._key)


def setup_store(connection: Connection) -> SetupStore:
    return SetupStore(get_settings().mappings_table, connection.contractor_id, connection.realm_id)


def currency_ref(
    connection: Connection, qbo: QboClient, currency: str, known: str | None = None
) -> dict[str, str] | None:
    """The CurrencyRef of a transaction in `currency` (a Payment, RefundReceipt, Deposit): in a
    multicurrency company every transaction names its currency, the home one included (Intuit:
    it "must be defined if multicurrency is enabled"); elsewhere none. `known`: the invoice's
    own CurrencyRef as its ledger kept it ("" for none), which settles it with no request;
    otherwise one DynamoDB read, and QBO is asked only when the kept setup is missing."""
    if known is not None:
        return {"value": known} if known else None
    setup = kept_setup(connection, qbo)
    return {"value": currency.upper()} if setup.multicurrency else None


def kept_setup(connection: Connection, qbo: QboClient) -> CompanySetup:
    """The kept setup (one DynamoDB read); QBO is asked only when none is kept."""
    store = setup_store(connection)
    return store.get() or _fresh(qbo, store)


def read_setup(qbo: QboClient) -> CompanySetup:
    """Two requests, four outside Automated Sales Tax."""
    preferences = qbo.query("select * from Preferences")
    info = qbo.read("CompanyInfo", qbo.realm_id)
    prefs = preferences[0] if preferences else {}
    if not needs_tax_codes(prefs, info):
        return company_setup(prefs, info)
    codes = qbo.query("select * from TaxCode maxresults 1000")
    rates = qbo.query("select * from TaxRate maxresults 1000")
    return company_setup(prefs, info, codes, rates)


def planned(
    qbo: QboClient, store: SetupStore, kept: CompanySetup | None, invoice: Invoice
) -> tuple[CompanySetup, TaxPlan]:
    """The setup and what it decides for the invoice. Raises Refused (tax_rate_not_found,
    currency_not_enabled) before anything is written to QBO."""
    setup = kept or _fresh(qbo, store)
    try:
        return setup, plan(invoice, setup)
    except (TaxRateNotFound, CurrencyNotEnabled) as missing:
        if kept is None:
            raise _refused(missing) from None
    logger.info("The kept company setup cannot export the invoice; reading it again")
    setup = _fresh(qbo, store)
    try:
        return setup, plan(invoice, setup)
    except (TaxRateNotFound, CurrencyNotEnabled) as missing:
        raise _refused(missing) from None


def _fresh(qbo: QboClient, store: SetupStore) -> CompanySetup:
    setup = read_setup(qbo)
    store.write(setup)
    logger.info("Company setup read", tax_model=setup.tax_model, country=setup.country)
    return setup


def _refused(missing: TaxRateNotFound | CurrencyNotEnabled) -> Refused:
    if isinstance(missing, TaxRateNotFound):
        why = reason_naming(ReasonCode.TAX_RATE_NOT_FOUND, rate=missing.label)
    else:
        names = {"currency": missing.currency, "home": missing.home}
        why = reason_naming(ReasonCode.CURRENCY_NOT_ENABLED, **names)
    return Refused(str(missing), why)
