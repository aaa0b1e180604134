"""Entities, validation and balances, seen through the Accounting API."""

from __future__ import annotations

from decimal import Decimal

import requests

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import Api, customer_item, fault, income_account, sales_line


def test_new_company_has_the_accounts_an_export_needs(api: Api) -> None:
    accounts = api.query("select * from Account").json()["QueryResponse"]["Account"]
    by_name = {account["Name"]: account for account in accounts}

    assert by_name["Services"]["AccountType"] == "Income"
    assert by_name["Undeposited Funds"]["AccountType"] == "Other Current Asset"
    assert by_name["Checking"]["AccountType"] == "Bank"
    assert "Sales of Product Income" in by_name


def test_created_entity_has_id_synctoken_metadata_and_domain(api: Api) -> None:
    customer = api.create("Customer", {"DisplayName": "Ann", "BillAddr": {"Country": "US"}})

    assert customer["SyncToken"] == "0"
    assert customer["domain"] == "QBO"
    assert set(customer["MetaData"]) == {"CreateTime", "LastUpdatedTime"}
    assert customer["Active"] is True
    assert customer["BillAddr"]["Country"] == "USA"
    assert api.get(f"customer/{customer['Id']}").json()["Customer"] == customer


def test_display_name_taken_by_a_vendor_is_a_duplicate(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    vendor_id = emu.add_vendor(realm, "Jane O'Neil")

    response = api.post("customer", {"DisplayName": "jane o'neil"})

    assert response.status_code == 400
    assert response.json()["Fault"]["type"] == "ValidationFault"
    error = fault(response)
    assert (error["code"], error["Message"]) == ("6240", "Duplicate Name Exists Error")
    assert error["Detail"] == f"The name supplied already exists. : Id={vendor_id}"


def test_display_name_rules(api: Api) -> None:
    assert fault(api.post("customer", {"DisplayName": "A:B"}))["element"] == "DisplayName"
    assert fault(api.post("customer", {"DisplayName": "x" * 501}))["code"] == "2050"
    derived = api.create("Customer", {"GivenName": "Bob", "FamilyName": "Builder"})
    assert derived["DisplayName"] == "Bob Builder"


def test_unknown_property_is_refused(api: Api) -> None:
    response = api.post("customer", {"DisplayName": "Ann", "Emial": "ann@example.com"})

    assert (response.status_code, fault(response)["code"]) == (400, "2010")


def test_sparse_update_bumps_synctoken_and_stale_token_is_5010(api: Api) -> None:
    customer = api.create("Customer", {"DisplayName": "Ann", "CompanyName": "Ann Co"})
    update = {
        "Id": customer["Id"],
        "SyncToken": "0",
        "sparse": True,
        "PrimaryEmailAddr": {"Address": "ann@example.com"},
    }

    updated = api.post("customer", update).json()["Customer"]
    stale = api.post("customer", update)

    assert updated["SyncToken"] == "1"
    assert updated["CompanyName"] == "Ann Co"  # sparse keeps what was not sent
    assert (stale.status_code, fault(stale)["code"]) == (400, "5010")


def test_unknown_id_is_object_not_found(api: Api) -> None:
    assert fault(api.get("invoice/999"))["code"] == "610"
    assert (
        fault(api.post("customer", {"Id": "999", "SyncToken": "0", "DisplayName": "X"}))["code"]
        == "610"
    )


def test_item_needs_an_income_account_and_a_unique_name(api: Api) -> None:
    missing = api.post("item", {"Name": "Labor", "Type": "Service"})
    bad_ref = api.post(
        "item", {"Name": "Labor", "Type": "Service", "IncomeAccountRef": {"value": "999"}}
    )
    body = {"Name": "Labor", "Type": "Service", "IncomeAccountRef": {"value": income_account(api)}}
    api.create("Item", body)
    duplicate = api.post("item", {**body, "Name": "LABOR"})

    assert fault(missing)["code"] == "2020"
    assert fault(bad_ref)["code"] == "2500"
    assert fault(duplicate)["code"] == "6240"


def test_invoice_totals_lines_and_adds_a_subtotal_line(api: Api) -> None:
    customer_id, item_id = customer_item(api)

    invoice = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": customer_id},
            "DocNumber": "1042",
            "Line": [
                sales_line(item_id, "1000.00", "1", "1000.00"),
                sales_line(item_id, "234.56", "4", "58.64"),
            ],
        },
    )

    assert Decimal(str(invoice["TotalAmt"])) == Decimal("1234.56")
    assert Decimal(str(invoice["Balance"])) == Decimal("1234.56")
    assert invoice["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    assert invoice["CustomerRef"]["name"] == "Jane O'Neil"
    stored = api.get(f"invoice/{invoice['Id']}")
    assert '"TotalAmt":1234.56' in stored.text  # a JSON number, never a float artefact


def test_amount_must_equal_qty_times_unit_price(api: Api) -> None:
    customer_id, item_id = customer_item(api)

    response = api.post(
        "invoice",
        {
            "CustomerRef": {"value": customer_id},
            "Line": [sales_line(item_id, "31.00", "3", "10.00")],
        },
    )

    assert (response.status_code, fault(response)["code"]) == (400, "6070")
    # The product is rounded half-up to the cent before comparing: 1.5 x 33.33 = 49.995.
    rounded = {
        "CustomerRef": {"value": customer_id},
        "Line": [sales_line(item_id, "50.00", "1.5", "33.33")],
    }
    assert api.post("invoice", rounded).status_code == 200


def test_invoice_references_and_doc_number_length(api: Api) -> None:
    customer_id, item_id = customer_item(api)
    line = sales_line(item_id, "10.00")

    no_customer = api.post("invoice", {"CustomerRef": {"value": "999"}, "Line": [line]})
    no_item = api.post(
        "invoice", {"CustomerRef": {"value": customer_id}, "Line": [sales_line("999", "10.00")]}
    )
    long_doc = api.post(
        "invoice", {"CustomerRef": {"value": customer_id}, "Line": [line], "DocNumber": "x" * 22}
    )

    assert fault(no_customer)["code"] == "2500"
    assert fault(no_item)["code"] == "2500"
    assert (fault(long_doc)["code"], fault(long_doc)["element"]) == ("2050", "DocNumber")


def test_duplicate_doc_number_only_refused_when_the_company_warns(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    customer_id, item_id = customer_item(api)
    body = {
        "CustomerRef": {"value": customer_id},
        "DocNumber": "7",
        "Line": [sales_line(item_id, "10.00")],
    }
    api.create("Invoice", body)
    assert api.post("invoice", body).status_code == 200

    emu.company_settings(realm, warn_duplicate_doc_number=True)

    assert fault(api.post("invoice", body))["code"] == "6140"


def test_payments_reduce_the_invoice_balance_to_zero(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    customer_id, item_id = customer_item(api)
    invoice = api.create(
        "Invoice", {"CustomerRef": {"value": customer_id}, "Line": [sales_line(item_id, "300.00")]}
    )

    def pay(amount: float) -> requests.Response:
        return api.post(
            "payment",
            {
                "CustomerRef": {"value": customer_id},
                "TotalAmt": amount,
                "Line": [
                    {
                        "Amount": amount,
                        "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                    }
                ],
            },
        )

    assert pay(100.0).status_code == 200
    after_first = api.get(f"invoice/{invoice['Id']}").json()["Invoice"]
    over = pay(250.0)
    assert pay(200.0).status_code == 200

    assert Decimal(str(after_first["Balance"])) == Decimal("200.00")
    assert after_first["SyncToken"] == "1"  # QBO changed the invoice when the payment applied
    assert (over.status_code, fault(over)["code"]) == (400, "6000")
    paid = emu.entities(realm, "Invoice")[0]
    assert paid["Balance"] == Decimal("0.00")
    assert [link["TxnType"] for link in paid["LinkedTxn"]] == ["Payment", "Payment"]
    payment = emu.entities(realm, "Payment")[0]
    [undeposited] = [a for a in emu.entities(realm, "Account") if a["Name"] == "Undeposited Funds"]
    assert payment["DepositToAccountRef"] == {"value": undeposited["Id"]}  # by Id only, as QBO
    assert emu.entities(realm, "Customer")[0]["Balance"] == Decimal("0.00")


def test_payment_above_the_applied_amount_keeps_the_rest_unapplied(api: Api) -> None:
    customer_id, item_id = customer_item(api)
    invoice = api.create(
        "Invoice", {"CustomerRef": {"value": customer_id}, "Line": [sales_line(item_id, "80.00")]}
    )

    payment = api.create(
        "Payment",
        {
            "CustomerRef": {"value": customer_id},
            "TotalAmt": 100,
            "PaymentRefNum": "ch_1",
            "Line": [{"Amount": 80, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    too_long_ref = api.post(
        "payment", {"CustomerRef": {"value": customer_id}, "TotalAmt": 1, "PaymentRefNum": "r" * 22}
    )

    assert Decimal(str(payment["UnappliedAmt"])) == Decimal("20.00")
    assert fault(too_long_ref)["element"] == "PaymentRefNum"


def test_payment_cannot_pay_another_customers_invoice(api: Api) -> None:
    customer_id, item_id = customer_item(api)
    other = api.create("Customer", {"DisplayName": "Someone Else"})
    invoice = api.create(
        "Invoice", {"CustomerRef": {"value": customer_id}, "Line": [sales_line(item_id, "80.00")]}
    )

    response = api.post(
        "payment",
        {
            "CustomerRef": {"value": other["Id"]},
            "TotalAmt": 80,
            "Line": [{"Amount": 80, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )

    assert response.status_code == 400


def test_requestid_replays_the_first_answer_without_acting_again(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    first = api.post("customer", {"DisplayName": "Once"}, requestid="req-1")
    again = api.post("customer", {"DisplayName": "Once"}, requestid="req-1")
    fresh = api.post("customer", {"DisplayName": "Once"}, requestid="req-2")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert fault(fresh)["code"] == "6240"
    assert len(emu.entities(realm, "Customer")) == 1


def test_answers_xml_when_the_client_does_not_ask_for_json(api: Api, realm: str) -> None:
    response = api.session.get(
        f"{api.base}/companyinfo/{realm}", headers={"Accept": "*/*"}, timeout=5
    )

    assert response.headers["Content-Type"].startswith("application/xml")
    assert response.text.startswith("<?xml")


def test_delete_payment_reopens_the_invoice(emu: QboEmulator, realm: str, api: Api) -> None:
    customer_id, item_id = customer_item(api)
    invoice = api.create(
        "Invoice", {"CustomerRef": {"value": customer_id}, "Line": [sales_line(item_id, "80.00")]}
    )
    payment = api.create(
        "Payment",
        {
            "CustomerRef": {"value": customer_id},
            "TotalAmt": 80,
            "Line": [{"Amount": 80, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )

    deleted = api.post(
        "payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, operation="delete"
    )

    assert deleted.json()["Payment"]["status"] == "Deleted"
    assert emu.entities(realm, "Invoice")[0]["Balance"] == Decimal("80.00")
