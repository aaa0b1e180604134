"""Customer, Item and Account through python-quickbooks, as its sandbox tests use them."""

from __future__ import annotations

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.account import Account
from quickbooks.objects.base import Address, EmailAddress, PhoneNumber
from quickbooks.objects.customer import Customer
from quickbooks.objects.item import Item

from local.qbo_emulator import QboEmulator
from tests.fidelity.helpers import customer, service_item


def test_a_customer_saved_with_every_default_the_client_sends_is_created(
    qb: QuickBooks, emu: QboEmulator, realm: str
) -> None:
    # Customer() carries IsProject, Level, Balance and a dozen empty strings; QBO takes them.
    created = Customer()
    created.Title, created.GivenName, created.FamilyName = "Mr", "James", "King"
    created.DisplayName = "James King"
    created.BillAddr = Address()
    created.BillAddr.Line1, created.BillAddr.City = "123 Main", "City"
    created.BillAddr.CountrySubDivisionCode, created.BillAddr.PostalCode = "CA", "94030"
    created.PrimaryPhone = PhoneNumber()
    created.PrimaryPhone.FreeFormNumber = "555-555-5555"
    created.PrimaryEmailAddr = EmailAddress()
    created.PrimaryEmailAddr.Address = "test@email.com"

    created.save(qb=qb)

    read = Customer.get(created.Id, qb=qb)
    assert (read.DisplayName, read.GivenName, read.Title) == ("James King", "James", "Mr")
    assert read.BillAddr.City == "City"
    assert read.PrimaryEmailAddr.Address == "test@email.com"
    [stored] = emu.entities(realm, "Customer")
    assert "MiddleName" not in stored and "Notes" not in stored  # empty strings are not values


def test_display_names_with_apostrophes_are_found_by_query(qb: QuickBooks) -> None:
    customer(qb, "Jane O'Neil")
    customer(qb, "Jane ONeil")

    found = Customer.filter(DisplayName="Jane O'Neil", qb=qb)
    where = Customer.where("DisplayName = 'Jane O\\'Neil'", qb=qb)

    assert [c.DisplayName for c in found] == ["Jane O'Neil"]
    assert [c.Id for c in where] == [found[0].Id]


def test_a_read_customer_round_trips_as_a_full_update(qb: QuickBooks) -> None:
    read = Customer.get(customer(qb).Id, qb=qb)
    read.GivenName = "Jane"

    read.save(qb=qb)

    again = Customer.get(read.Id, qb=qb)
    assert again.GivenName == "Jane"
    assert again.SyncToken == "1"


def test_a_sparse_update_needs_the_current_sync_token(qb: QuickBooks) -> None:
    first = customer(qb)
    sparse = Customer()
    sparse.Id, sparse.SyncToken, sparse.sparse = first.Id, first.SyncToken, True
    sparse.DisplayName, sparse.CompanyName = "Jane O'Neil", "O'Neil Decks"
    sparse.Active = True
    sparse.save(qb=qb)

    # The client maps codes 5000-5999 to its generic QuickbooksException (client.py,
    # handle_exceptions); QBO's code is what matters, and it is 5010.
    with pytest.raises(QuickbooksException) as stale:
        sparse.save(qb=qb)  # the same, now stale, SyncToken

    assert stale.value.error_code == 5010
    assert Customer.get(first.Id, qb=qb).CompanyName == "O'Neil Decks"


def test_a_duplicate_display_name_is_refused_with_6240(qb: QuickBooks) -> None:
    customer(qb, "Jane O'Neil")

    with pytest.raises(Exception) as refused:
        customer(qb, "jane o'neil")

    assert getattr(refused.value, "error_code", None) == 6240


def test_item_all_sends_select_star_sku_and_gets_the_items(qb: QuickBooks) -> None:
    made = service_item(qb, "Deck repair")

    items = Item.all(max_results=1, qb=qb)

    assert [(i.Id, i.Name, i.Type) for i in items] == [(made.Id, "Deck repair", "Service")]
    assert items[0].IncomeAccountRef.value == made.IncomeAccountRef.value


def test_a_bank_account_is_created_and_found_by_type(qb: QuickBooks) -> None:
    account = Account()
    account.Name, account.AcctNum = "Payouts", "1010"
    account.AccountType, account.AccountSubType = "Bank", "Checking"

    created = account.save(qb=qb)

    banks = Account.filter(AccountType="Bank", qb=qb)
    assert created.Id in [a.Id for a in banks]
    read = Account.get(created.Id, qb=qb)
    assert (read.Name, read.AcctNum, read.AccountType, read.Classification) == (
        "Payouts",
        "1010",
        "Bank",
        "Asset",
    )


def test_an_account_name_is_unique(qb: QuickBooks) -> None:
    first = Account()
    first.Name, first.AccountType = "Refunds clearing", "Other Current Asset"
    first.save(qb=qb)
    second = Account()
    second.Name, second.AccountType = "Refunds Clearing", "Other Current Asset"

    with pytest.raises(Exception) as refused:
        second.save(qb=qb)

    assert getattr(refused.value, "error_code", None) == 6240
