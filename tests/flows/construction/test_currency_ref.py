"""In a multicurrency company every transaction names its currency, the home one included: the
emulator, like a QuickBooks that does not fill it in from the customer, refuses a create
without CurrencyRef there (local/qbo_emulator/FACTS.md, "CurrencyRef in a multicurrency
company"). A Payment answers no HomeTotalAmt (Intuit's Payment schema has none)."""

from __future__ import annotations

import pytest
from payments_support import pay
from payouts_support import choose_bank, pay_out, payment
from tax_support import company, money, qbo_invoice, send, taxed

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.flows.refunds.test_refunds import refund


@pytest.mark.parametrize("currency", ["EUR", "USD"])
def test_every_transaction_names_its_currency_in_a_multicurrency_company(
    env: LocalEnvironment, qbo: QboEmulator, currency: str
) -> None:
    realm = company(env, "ctr_mc", "us_ast", multicurrency=True)
    send(env, taxed("ctr_mc", "31", [("Work", "250.00", False)], currency=currency))
    invoice = qbo_invoice(qbo, realm, "31")
    assert invoice["CurrencyRef"]["value"] == currency

    detail = samples.payment_completed("ctr_mc", "inv_31", "31", "250.00", payment_id="p_31")
    detail["currency"] = currency
    assert pay(env, detail).failed == 0
    [paid] = qbo.entities(realm, "Payment")
    assert paid["CurrencyRef"]["value"] == currency
    assert "HomeTotalAmt" not in paid
    assert money(qbo_invoice(qbo, realm, "31")["Balance"]) == 0

    back = samples.payment_refunded("ctr_mc", "inv_31", "31", "p_31", "50.00", refund_id="r_31")
    back["currency"] = currency
    refund(env, back)
    [receipt] = qbo.entities(realm, "RefundReceipt")
    assert receipt["CurrencyRef"]["value"] == currency

    if currency == "USD":  # the bank account is in the home currency
        choose_bank(env, qbo, realm, "ctr_mc")
        pay_out(env, samples.payout_paid("ctr_mc", "po_31", [payment("p_31", "250.00")]))
        [deposit] = qbo.entities(realm, "Deposit")
        assert deposit["CurrencyRef"]["value"] == "USD"


def test_the_emulator_refuses_an_invoice_without_currency_in_a_multicurrency_company(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_raw", "us_ast", multicurrency=True)
    customer = qbo.add_customer(realm, "Bare Customer")
    with pytest.raises(Exception, match="Required param"):
        qbo.add_invoice(
            realm,
            {
                "CustomerRef": {"value": customer},
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": 10,
                        "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                    }
                ],
            },
        )


def test_a_euro_construction_invoice_goes_to_a_euro_sub_customer_and_is_paid_in_euros(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    from construction_support import construction, customers, put_settings

    realm = company(env, "ctr_eur_job", "us_ast", multicurrency=True)
    put_settings(env, "ctr_eur_job", {"job_tracking": "sub_customers"})
    message = construction(
        "ctr_eur_job",
        "41",
        [("Phase 1", "1000.00", False)],
        fees=["10.00"],
        retainage="100.00",
        job=("job_e", "Lisbon loft"),
        currency="EUR",
    )
    send(env, message)

    people = customers(qbo, realm)
    job = people["Lisbon loft (EUR)"]
    assert job["CurrencyRef"]["value"] == "EUR"
    assert job["ParentRef"]["value"] == people["Jane O'Neil (EUR)"]["Id"]
    invoice = qbo_invoice(qbo, realm, "41")
    assert invoice["CurrencyRef"]["value"] == "EUR" and money(invoice["TotalAmt"]) == money("910")
    detail = samples.payment_completed("ctr_eur_job", "inv_41", "41", "910.00", payment_id="pe")
    detail["currency"] = "EUR"
    assert pay(env, detail).failed == 0
    [paid] = qbo.entities(realm, "Payment")
    assert paid["CustomerRef"]["value"] == job["Id"] and paid["CurrencyRef"]["value"] == "EUR"
