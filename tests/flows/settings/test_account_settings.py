"""The settings page's accounts and choices (docs/interface.md §11), through the HTTP routes behind
the JWT authorizer: the company's accounts of a kind, the connection's choices, and a change
refused with the field named when the id is not an active account of the right kind."""

from __future__ import annotations

import json
from decimal import Decimal

from payouts_support import accounts, api, paid, pay_out, payment

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

EMPTY = {
    "payout_account_id": None,
    "fee_account_id": None,
    "refund_clearing_account_id": None,
    "income_account_id": None,
    "fee_income_account_id": None,  # docs/interface.md §17
    "retainage_account_id": None,
    "job_tracking": "off",
}


def put(env: LocalEnvironment, contractor: str, body: object) -> tuple[int, object]:
    return api(env, "PUT", "/quickbooks/settings", contractor, body=json.dumps(body))


def test_accounts_of_a_kind_are_the_companys_active_ones(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    savings = qbo.add_account(realm, "Savings", "Bank")
    qbo.add_account(realm, "Old bank", "Bank", Active=False)

    status, body = api(env, "GET", "/quickbooks/accounts", contractor, query={"type": "bank"})

    assert status == 200
    checking = accounts(qbo, realm)["Checking"]["Id"]
    assert sorted(body["items"], key=lambda a: a["name"]) == [
        {"id": checking, "name": "Checking", "type": "bank", "currency": "USD"},
        {"id": savings, "name": "Savings", "type": "bank", "currency": "USD"},
    ]
    status, body = api(env, "GET", "/quickbooks/accounts", contractor, query={"type": "income"})
    # The seeded company's income accounts (QBO's own "Discounts given" is one, a contra-income).
    income = {a["name"] for a in body["items"]}
    assert income == {"Services", "Sales of Product Income", "Discounts given"}


def test_accounts_need_a_known_type_a_connection_and_a_signed_in_contractor(
    env: LocalEnvironment, contractor: str
) -> None:
    status, body = api(env, "GET", "/quickbooks/accounts", contractor, query={"type": "loan"})
    assert (status, body["error"]) == (400, "invalid_type")
    status, body = api(env, "GET", "/quickbooks/accounts", "ctr_nobody", query={"type": "bank"})
    assert (status, body["error"]) == (409, "not_connected")
    response = env.platform.api("GET", "/quickbooks/settings", None)
    assert response["statusCode"] == 401


def test_settings_start_empty_and_a_change_is_kept_per_connection(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    assert api(env, "GET", "/quickbooks/settings", contractor) == (200, EMPTY)
    checking = accounts(qbo, realm)["Checking"]["Id"]
    fees = qbo.add_account(realm, "Stripe fees", "Expense")

    status, body = put(env, contractor, {"payout_account_id": checking, "fee_account_id": fees})

    expected = {**EMPTY, "payout_account_id": checking, "fee_account_id": fees}
    assert (status, body) == (200, expected)
    assert api(env, "GET", "/quickbooks/settings", contractor) == (200, expected)
    status, body = put(env, contractor, {"fee_account_id": None})
    assert body == {**expected, "fee_account_id": None}
    # Another company connected: its own accounts, none chosen yet.
    qbo.consent(qbo.create_company("Second Company LLC"))
    assert env.platform.connect_quickbooks(contractor).endswith("quickbooks=connected")
    assert api(env, "GET", "/quickbooks/settings", contractor) == (200, EMPTY)


def test_an_id_that_is_not_an_active_account_of_the_right_kind_is_refused_naming_the_field(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    by_name = accounts(qbo, realm)
    checking, services = by_name["Checking"]["Id"], by_name["Services"]["Id"]
    closed = qbo.add_account(realm, "Closed bank", "Bank", Active=False)

    for field, value in (
        ("payout_account_id", services),  # an income account as the bank
        ("payout_account_id", closed),  # inactive
        ("payout_account_id", "99999"),  # not in this company
        ("payout_account_id", "x'; drop"),  # not an id at all
        ("income_account_id", checking),
        ("fee_account_id", checking),
        ("refund_clearing_account_id", services),
    ):
        status, body = put(env, contractor, {"income_account_id": services, field: value})
        assert (status, body["error"], body["field"]) == (400, "invalid_account", field), value

    assert api(env, "GET", "/quickbooks/settings", contractor) == (200, EMPTY)  # nothing written
    status, body = put(env, contractor, {"bank": checking})
    assert (status, body["error"]) == (400, "invalid_settings")


def test_a_chosen_fees_account_is_used_and_none_is_created(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    fees = qbo.add_account(realm, "Card processing", "Expense")
    checking = accounts(qbo, realm)["Checking"]["Id"]
    put(env, contractor, {"payout_account_id": checking, "fee_account_id": fees})
    paid(env, contractor, "30", "30.00", "pay_30")

    pay_out(env, samples.payout_paid(contractor, "po_30", [payment("pay_30", "30.00", "1.17")]))

    [deposit] = qbo.entities(realm, "Deposit")
    [fee] = [line for line in deposit["Line"] if "DepositLineDetail" in line]
    assert (fee["Amount"], fee["DepositLineDetail"]["AccountRef"]["value"]) == (
        Decimal("-1.17"),
        fees,
    )
    assert "Payment processing fees" not in accounts(qbo, realm)
