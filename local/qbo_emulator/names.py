"""Name-list entities: Customer (and the Vendor/Employee names it competes with) and Item."""

from __future__ import annotations

from decimal import Decimal

from . import currency as currencies
from . import faults
from .company import Company
from .fields import email, nested_text, number, reference, required_text, text
from .jsonio import Json

CUSTOMER_FIELDS = frozenset(
    {
        "DisplayName",
        "Title",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "Suffix",
        "CompanyName",
        "FullyQualifiedName",
        "PrintOnCheckName",
        "PrimaryEmailAddr",
        "PrimaryPhone",
        "Mobile",
        "AlternatePhone",
        "Fax",
        "WebAddr",
        "BillAddr",
        "ShipAddr",
        "Notes",
        "Active",
        "Balance",
        "BalanceWithJobs",
        "OpenBalanceDate",
        "Job",
        "ParentRef",
        "BillWithParent",
        "Level",
        "Taxable",
        "CurrencyRef",
        "PreferredDeliveryMethod",
        "ResaleNum",
        "SalesTermRef",
        "PaymentMethodRef",
        "DefaultTaxCodeRef",
        "PrimaryTaxIdentifier",
        "TaxExemptionReasonId",
        "GSTIN",
        "BusinessNumber",
        "CustomerTypeRef",
        "ARAccountRef",
        "Source",
        "IsProject",
        "SecondaryTaxIdentifier",
        "GSTRegistrationType",
        "TaxRegistrationNumber",
    }
)
# IsProject: projects are made in the QBO UI; the API reports the flag (Customer reference,
# minorversion 54+). python-quickbooks' Customer() always sends IsProject: false.
CUSTOMER_READ_ONLY = frozenset(
    {"Balance", "BalanceWithJobs", "FullyQualifiedName", "Level", "IsProject"}
)

ITEM_FIELDS = frozenset(
    {
        "Name",
        "Description",
        "Active",
        "FullyQualifiedName",
        "Taxable",
        "UnitPrice",
        "Type",
        "IncomeAccountRef",
        "ExpenseAccountRef",
        "AssetAccountRef",
        "PurchaseDesc",
        "PurchaseCost",
        "TrackQtyOnHand",
        "QtyOnHand",
        "InvStartDate",
        "Sku",
        "SalesTaxIncluded",
        "PurchaseTaxIncluded",
        "SubItem",
        "ParentRef",
        "Level",
        "ClassRef",
        "SalesTaxCodeRef",
        "PurchaseTaxCodeRef",
        "PrefVendorRef",
        "ItemCategoryType",
        "ReorderPoint",
        "Source",
        "AbatementRate",
        "ReverseChargeRate",
        "ServiceType",
        "UQCId",
        "UQCDisplayText",
        "TaxClassificationRef",
    }
)
ITEM_READ_ONLY = frozenset({"FullyQualifiedName", "Level"})

ADDRESS_LIMITS = {
    "Line1": 500,
    "Line2": 500,
    "Line3": 500,
    "Line4": 500,
    "Line5": 500,
    "City": 255,
    "CountrySubDivisionCode": 255,
    "PostalCode": 30,
    "Country": 255,
}
NAME_LIMITS = {
    "Title": 16,
    "GivenName": 100,
    "MiddleName": 100,
    "FamilyName": 100,
    "Suffix": 16,
    "CompanyName": 100,
    "PrintOnCheckName": 110,
    "Notes": 2000,
}
# Since Oct 2025 QBO answers country fields with ISO 3166 alpha-3 codes.
ALPHA3 = {
    "US": "USA",
    "CA": "CAN",
    "GB": "GBR",
    "AU": "AUS",
    "MX": "MEX",
    "IN": "IND",
    "UNITED STATES": "USA",
    "CANADA": "CAN",
}


def _bad_name_chars(name: str, element: str) -> None:
    # QBO uses ':' to join parent and sub-customer names, and tabs/newlines break its lists.
    if any(ch in name for ch in ":\t\n\r"):
        raise faults.business("Names cannot contain a colon (:), tab or newline.", element)


def _display_name(fields: Json) -> str:
    given = [fields.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
    derived = " ".join(str(part) for part in given if part)
    return derived or str(fields.get("CompanyName") or "")


def _address(value: object, element: str) -> Json | None:
    address = nested_text(value, element, ADDRESS_LIMITS)
    if address is None:
        return None
    country = address.get("Country")
    if isinstance(country, str):
        address["Country"] = ALPHA3.get(country.strip().upper(), country)
    return {"Id": "1", **address} if "Id" not in address else address


def check_display_name(company: Company, name: str, exclude: str | None) -> None:
    if len(name) > 500:
        raise faults.too_long("DisplayName", name, 500)
    _bad_name_chars(name, "DisplayName")
    holder = company.name_holder(name, exclude)
    if holder is not None:
        raise faults.duplicate_name(holder["Id"])


def _default_tax_code(company: Company) -> Json:
    """A customer created with only a DisplayName answers Taxable true and the company's tax
    group as DefaultTaxCodeRef (sandbox recording minimul/qbo_api
    spec/vcr/qbo_api/create/customer.yml, 2018: `"DefaultTaxCodeRef": {"value": "2"}`)."""
    group = next((c for c in company.rows("TaxCode") if c.get("TaxGroup")), None)
    return {"DefaultTaxCodeRef": {"value": group["Id"]}} if group else {}


def build_customer(company: Company, fields: Json, existing: Json | None, now: float) -> Json:
    for key, limit in NAME_LIMITS.items():
        text(fields.get(key), key, limit)
    display = fields.get("DisplayName")
    if display is None or display == "":
        display = _display_name(fields)
    name = required_text(display, "DisplayName", 500)
    check_display_name(company, name, existing["Id"] if existing else None)
    active = fields.get("Active", True)
    if not isinstance(active, bool):
        raise faults.bad_value("Active", active)
    parent = _parent(company, fields)
    customer: Json = {
        **fields,
        "DisplayName": name,
        # A sub-customer's full name is its parent's and its own, joined by a colon (Intuit's
        # Customer reference: FullyQualifiedName "Parent:Child"; Level 1 under a top customer).
        "FullyQualifiedName": f"{parent['FullyQualifiedName']}:{name}" if parent else name,
        "PrintOnCheckName": fields.get("PrintOnCheckName") or fields.get("CompanyName") or name,
        "Active": active,
        "Job": fields.get("Job", False),
        "BillWithParent": fields.get("BillWithParent", False),
        "Taxable": fields.get("Taxable", True),
        "CurrencyRef": currencies.of_customer(company, fields, existing),
        "PreferredDeliveryMethod": fields.get("PreferredDeliveryMethod", "Print"),
        "Balance": existing.get("Balance", Decimal("0")) if existing else Decimal("0"),
        "BalanceWithJobs": existing.get("Balance", Decimal("0")) if existing else Decimal("0"),
    }
    if parent is not None:
        customer["ParentRef"] = {"value": parent["Id"]}
        customer["Level"] = int(parent.get("Level", 0)) + 1
        if customer["CurrencyRef"]["value"] != parent["CurrencyRef"]["value"]:
            raise faults.business(
                "A sub-customer's currency must be its parent's currency", "CurrencyRef"
            )
    elif customer["Job"] is True:
        raise faults.business("A sub-customer (Job) needs a ParentRef", "ParentRef")
    if customer["Taxable"] is True and "DefaultTaxCodeRef" not in fields:
        customer.update(_default_tax_code(company))
    for key in ("PrimaryEmailAddr",):
        if fields.get(key) is not None:
            customer[key] = email(fields[key], key)
    for key in ("PrimaryPhone", "Mobile", "AlternatePhone", "Fax"):
        if fields.get(key) is not None:
            customer[key] = nested_text(fields[key], key, {"FreeFormNumber": 30})
    for key in ("BillAddr", "ShipAddr"):
        if fields.get(key) is not None:
            customer[key] = _address(fields[key], key)
    return customer


def _parent(company: Company, fields: Json) -> Json | None:
    if fields.get("ParentRef") is None:
        return None
    ref = reference(company, "Customer", fields["ParentRef"], "ParentRef")
    return company.get("Customer", ref["value"])


def build_item(company: Company, fields: Json, existing: Json | None, now: float) -> Json:
    name = required_text(fields.get("Name"), "Name", 100)
    _bad_name_chars(name, "Name")
    holder = company.item_holder(name, existing["Id"] if existing else None)
    if holder is not None:
        raise faults.duplicate_name(holder["Id"])
    text(fields.get("Description"), "Description", 4000)
    text(fields.get("Sku"), "Sku", 100)
    kind = fields.get("Type", "Service")
    if kind == "Inventory":
        raise faults.business("Inventory items are not supported by the emulator", "Type")
    if kind not in ("Service", "NonInventory"):
        raise faults.bad_value("Type", kind)
    if fields.get("IncomeAccountRef") is None:
        raise faults.required("IncomeAccountRef")
    item: Json = {
        **fields,
        "Name": name,
        "FullyQualifiedName": name,
        "Type": kind,
        "Active": fields.get("Active", True),
        "Taxable": fields.get("Taxable", False),
        "TrackQtyOnHand": False,
        "UnitPrice": number(fields.get("UnitPrice", 0), "UnitPrice"),
        "IncomeAccountRef": reference(
            company, "Account", fields["IncomeAccountRef"], "IncomeAccountRef"
        ),
    }
    if fields.get("ExpenseAccountRef") is not None:
        item["ExpenseAccountRef"] = reference(
            company, "Account", fields["ExpenseAccountRef"], "ExpenseAccountRef"
        )
    return item


def add_person(company: Company, entity: str, display_name: str, now: float) -> str:
    """Vendors and employees exist here only to occupy names (tests use them for 6240)."""
    name = required_text(display_name, "DisplayName", 500)
    check_display_name(company, name, None)
    person: Json = {"DisplayName": name, "PrintOnCheckName": name, "Active": True}
    if entity == "Vendor":
        person["Balance"] = Decimal("0")  # an employee has no balance
    return str(company.insert(entity, person, now)["Id"])
