"""The answers' shapes beside Intuit's: gateway faults, headers, XML, minor versions. Raw
requests where the shape is the point; python-quickbooks where its handling shows it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
import requests
from quickbooks import QuickBooks
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from quickbooks.objects.customer import Customer

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import Api, connect, customer_item, sales_line
from tests.fidelity.helpers import customer

NS = {"q": "http://schema.intuit.com/finance/v3"}


@pytest.fixture
def api(emu: QboEmulator, realm: str) -> Api:
    return Api(emu, realm, connect(emu)["access_token"])


def test_an_expired_token_is_the_clients_authorization_exception(
    qb: QuickBooks, emu: QboEmulator, realm: str
) -> None:
    emu.expire_access_tokens(realm)

    with pytest.raises(AuthorizationException) as refused:
        Customer.all(qb=qb)

    assert refused.value.error_code == 401


def test_a_denied_company_answers_403_3100_in_the_gateways_shape(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    emu.deny_next(1, realm_id=realm)

    response = api.get(f"companyinfo/{realm}")

    body = response.json()
    assert response.status_code == 403
    assert body["fault"]["type"] == "SERVICE"
    assert body["fault"]["error"][0]["code"] == "3100"
    assert "errorCode=003100" in body["fault"]["error"][0]["message"]
    assert isinstance(body["time"], int)
    assert api.get(f"companyinfo/{realm}").status_code == 200


def test_the_client_reports_a_403_as_a_plain_failure(
    qb: QuickBooks, emu: QboEmulator, realm: str
) -> None:
    # python-quickbooks looks for "Fault" only; Intuit's 403 says "fault", so the client
    # falls back to "Error returned with status code '403'" (client.py, make_request).
    emu.deny_next(1, realm_id=realm)

    with pytest.raises(QuickbooksException) as refused:
        Customer.all(qb=qb)

    assert "403" in refused.value.message


def test_every_answer_carries_an_intuit_tid(emu: QboEmulator, realm: str, api: Api) -> None:
    answers = [
        api.get(f"companyinfo/{realm}"),
        api.get("customer/999"),
        api.query("select * from Nothing"),
        requests.get(f"{emu.api_base_url}/v3/company/{realm}/customer/1", timeout=5),
        requests.get(emu.discovery_url, timeout=5),
    ]

    assert [r.status_code for r in answers] == [200, 400, 400, 401, 200]
    assert all(r.headers.get("intuit_tid") for r in answers)


def test_an_xml_fault_puts_code_element_and_type_in_attributes(api: Api) -> None:
    api.session.headers["Accept"] = "application/xml"

    response = api.post("customer", {"DisplayName": "Jane: O'Neil"})

    fault = ET.fromstring(response.content).find("q:Fault", NS)
    assert fault is not None and fault.get("type") == "ValidationFault"
    error = fault.find("q:Error", NS)
    assert error is not None and (error.get("code"), error.get("element")) == (
        "6000",
        "DisplayName",
    )
    assert error.findtext("q:Detail", namespaces=NS)


def test_a_duplicate_name_fault_has_no_element_as_in_the_sandbox(qb: QuickBooks, api: Api) -> None:
    # minimul/qbo_api spec/vcr/error/validation.yml (sandbox, 2020)
    customer(qb, "Weiskopf Consulting")

    response = api.post("customer", {"DisplayName": "Weiskopf Consulting"})

    [error] = response.json()["Fault"]["Error"]
    assert (response.status_code, error["code"], error["Message"]) == (
        400,
        "6240",
        "Duplicate Name Exists Error",
    )
    assert error["Detail"].startswith("The name supplied already exists. : ")
    assert "element" not in error


def test_an_unknown_property_is_refused_in_the_parsers_words(api: Api) -> None:
    # minimul/qbo_api spec/vcr/error/400_json.yml (sandbox, 2020): POST invoice {"BadJson": true}
    response = api.post("invoice", {"BadJson": True})

    [error] = response.json()["Fault"]["Error"]
    assert (error["code"], error["Message"]) == (
        "2010",
        "Request has invalid or unsupported property",
    )
    assert error["Detail"].startswith(
        'Property Name:Unrecognized field "BadJson" (class com.intuit.schema.finance.v3.Invoice),'
        " not marked as ignorable ("
    )
    assert "element" not in error


def test_an_xml_entity_has_domain_as_an_attribute_and_refs_as_text(
    qb: QuickBooks, api: Api
) -> None:
    made = customer(qb)
    api.session.headers["Accept"] = "application/xml"

    root = ET.fromstring(api.get(f"customer/{made.Id}").content)

    entity = root.find("q:Customer", NS)
    assert entity is not None and (entity.get("domain"), entity.get("sparse")) == ("QBO", "false")
    currency = entity.find("q:CurrencyRef", NS)
    assert currency is not None and (currency.text, currency.get("name")) == (
        "USD",
        "United States Dollar",
    )


@pytest.mark.parametrize("minor", ["1", "40", "74"])
def test_a_minor_version_below_75_is_served_as_75(qb: QuickBooks, api: Api, minor: str) -> None:
    made = customer(qb)

    old = api.get(f"customer/{made.Id}", minorversion=minor)
    current = api.get(f"customer/{made.Id}", minorversion="75")

    assert old.status_code == 200
    assert old.json()["Customer"] == current.json()["Customer"]


# A production invoice answer (pastebin.com/A4JGEijL, 2020), less what depends on the company's
# settings (EInvoiceStatus, ECloudStatusTimeStamp) or on the request (BillEmail).
REAL_INVOICE_KEYS = {
    *("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment"),
    *("AllowOnlineACHPayment", "domain", "sparse", "Id", "SyncToken", "MetaData"),
    *("CustomField", "DocNumber", "TxnDate", "CurrencyRef", "LinkedTxn", "Line"),
    *("CustomerRef", "FreeFormAddress", "SalesTermRef", "DueDate", "TotalAmt"),
    *("ApplyTaxAfterDiscount", "PrintStatus", "EmailStatus", "Balance"),
}
REAL_DETAIL_KEYS = {"ItemRef", "UnitPrice", "Qty", "ItemAccountRef", "TaxCodeRef"}


def test_an_invoice_answers_what_a_real_one_answers(api: Api) -> None:
    customer_id, item_id = customer_item(api)
    body = {"CustomerRef": {"value": customer_id}, "TxnDate": "2020-04-03"}
    body["Line"] = [sales_line(item_id, "1.00", qty="1", price="1")]

    answered = api.create("Invoice", body)

    assert set(answered) >= REAL_INVOICE_KEYS
    assert set(answered["Line"][0]["SalesItemLineDetail"]) >= REAL_DETAIL_KEYS
    assert answered["Line"][1] == {
        "Amount": 1,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    assert (answered["DueDate"], answered["SalesTermRef"]) == ("2020-05-03", {"value": "3"})
    income = answered["Line"][0]["SalesItemLineDetail"]["ItemAccountRef"]
    assert income["name"] == "Services"


def test_an_invoice_of_line_and_customer_only_answers_like_the_sandbox(api: Api) -> None:
    # minimul/qbo_api spec/vcr/qbo_api/create/invoice.yml (sandbox, 2015): the body is Line and
    # CustomerRef; the answer numbers it, dates it, is due in 30 days, and copies the
    # customer's addresses.
    address = {"Line1": "4581 Finch St.", "City": "Bayshore", "PostalCode": "94326"}
    customer = api.create("Customer", {"DisplayName": "Amy's Bird Sanctuary", "BillAddr": address})
    item = api.create("Item", {"Name": "Services", "IncomeAccountRef": {"value": "1"}})
    line = {"Amount": 100.0, "DetailType": "SalesItemLineDetail"}
    line["SalesItemLineDetail"] = {"ItemRef": {"value": item["Id"], "name": "Services"}}

    answered = api.create("Invoice", {"Line": [line], "CustomerRef": {"value": customer["Id"]}})

    assert answered["DocNumber"].isdigit()
    due = date.fromisoformat(answered["TxnDate"]) + timedelta(days=30)
    assert answered["DueDate"] == due.isoformat()
    assert answered["BillAddr"] == customer["BillAddr"]
    assert answered["TxnTaxDetail"] == {"TotalTax": 0}
    assert answered["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "NON"}


def test_a_voided_invoice_answers_like_the_sandbox(api: Api) -> None:
    # minimul/qbo_api spec/vcr/void/invoice.yml (sandbox, 2022): {"Id", "SyncToken"} with
    # operation=void answers PrivateNote "Voided", every Amount 0, SyncToken + 1.
    customer_id, item_id = customer_item(api)
    made = api.create(
        "Invoice",
        {"CustomerRef": {"value": customer_id}, "Line": [sales_line(item_id, "100.00")]},
    )

    response = api.post("invoice", {"Id": made["Id"], "SyncToken": "0"}, operation="void")

    voided = response.json()["Invoice"]
    assert (voided["PrivateNote"], voided["SyncToken"], voided["LinkedTxn"]) == ("Voided", "1", [])
    assert [line["Amount"] for line in voided["Line"]] == [0, 0]
    assert (voided["TotalAmt"], voided["Balance"]) == (0, 0)


def test_a_customer_of_display_name_only_answers_like_the_sandbox(api: Api) -> None:
    # minimul/qbo_api spec/vcr/qbo_api/create/customer.yml (sandbox, 2018): exactly these.
    answered = api.create("Customer", {"DisplayName": "Doe, Jane"})

    assert set(answered) == {
        *("Taxable", "Job", "BillWithParent", "Balance", "BalanceWithJobs", "CurrencyRef"),
        *("PreferredDeliveryMethod", "domain", "sparse", "Id", "SyncToken", "MetaData"),
        *("FullyQualifiedName", "DisplayName", "PrintOnCheckName", "Active"),
        "DefaultTaxCodeRef",
    }
    assert (answered["Taxable"], answered["PreferredDeliveryMethod"]) == (True, "Print")
    assert answered["PrintOnCheckName"] == answered["FullyQualifiedName"] == "Doe, Jane"
    assert answered["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"}


def test_a_full_customer_update_answers_like_the_sandbox(api: Api) -> None:
    # minimul/qbo_api spec/vcr/qbo_api/update/customer.yml (sandbox, 2015 and 2018): a full
    # update of DisplayName and PrimaryPhone keeps the defaults and adds the phone.
    made = api.create("Customer", {"DisplayName": "Jack Doe"})
    body = {"DisplayName": "Jack Doe", "PrimaryPhone": {"FreeFormNumber": "(415) 444-1234"}}

    response = api.post("customer", {**body, "Id": made["Id"], "SyncToken": made["SyncToken"]})

    updated = response.json()["Customer"]
    assert set(updated) == set(made) | {"PrimaryPhone"}
    assert (updated["SyncToken"], updated["Taxable"]) == ("1", True)
    assert updated["DefaultTaxCodeRef"] == made["DefaultTaxCodeRef"]
    assert updated["PrimaryPhone"] == {"FreeFormNumber": "(415) 444-1234"}
