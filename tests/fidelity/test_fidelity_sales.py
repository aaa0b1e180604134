"""Invoices and payments through python-quickbooks: create, query, update, pay, void."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment
from quickbooks.objects.paymentmethod import PaymentMethod

from local.qbo_emulator import QboEmulator
from tests.fidelity.helpers import customer, invoice, money, payment, sales_line, service_item


def test_an_invoice_with_the_clients_default_line_is_created_and_read_back(
    qb: QuickBooks, emu: QboEmulator, realm: str
) -> None:
    # SalesItemLineDetail() sends Qty 0, UnitPrice 0, ServiceDate "" and TxnDate "" on the
    # invoice: the client's own sandbox test (tests/integration/test_invoice.py) does this.
    buyer, item = customer(qb), service_item(qb)

    made = invoice(qb, buyer, sales_line(item, 100), doc="INV-1001")

    read = Invoice.get(made.Id, qb=qb)
    assert read.CustomerRef.name == "Jane O'Neil"
    assert read.Line[0].Description == "description"
    assert (money(read.Line[0].Amount), money(read.TotalAmt), money(read.Balance)) == (
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("100.00"),
    )
    [stored] = emu.entities(realm, "Invoice")
    assert "ShipDate" not in stored and "TrackingNum" not in stored


def test_an_invoice_is_found_by_doc_number(qb: QuickBooks) -> None:
    buyer, item = customer(qb), service_item(qb)
    made = invoice(qb, buyer, sales_line(item, 40, qty=2, price=20), doc="INV-7")
    invoice(qb, buyer, sales_line(item, 5), doc="INV-8")

    found = Invoice.filter(DocNumber="INV-7", qb=qb)

    assert [i.Id for i in found] == [made.Id]
    assert found[0].Line[0].SalesItemLineDetail.Qty == 2


def test_a_read_invoice_round_trips_as_a_full_update(qb: QuickBooks) -> None:
    buyer, item = customer(qb), service_item(qb)
    read = Invoice.get(invoice(qb, buyer, sales_line(item, 100)).Id, qb=qb)
    read.PrivateNote = "checked"

    read.save(qb=qb)

    again = Invoice.get(read.Id, qb=qb)
    assert again.PrivateNote == "checked"
    assert money(again.TotalAmt) == Decimal("100.00")
    assert again.SyncToken == "1"


def test_a_payment_applied_to_an_invoice_lowers_its_balance(qb: QuickBooks) -> None:
    buyer, item = customer(qb), service_item(qb)
    made = invoice(qb, buyer, sales_line(item, 100))

    paid = payment(qb, buyer, 60, (made, 60))

    read = Invoice.get(made.Id, qb=qb)
    assert money(read.Balance) == Decimal("40.00")
    assert [(link.TxnId, link.TxnType) for link in read.LinkedTxn] == [(paid.Id, "Payment")]
    assert read.SyncToken == "1"  # QBO touched the invoice when the payment applied


def test_a_voided_payment_has_zero_amounts_and_the_invoice_is_open_again(
    qb: QuickBooks,
) -> None:
    buyer, item = customer(qb), service_item(qb)
    made = invoice(qb, buyer, sales_line(item, 100))
    paid = payment(qb, buyer, 100, (made, 100))

    paid.void(qb=qb)

    read = Payment.get(paid.Id, qb=qb)
    assert money(read.TotalAmt) == Decimal("0.00")
    assert "Voided" in read.PrivateNote
    assert read.SyncToken == "1"
    assert money(Invoice.get(made.Id, qb=qb).Balance) == Decimal("100.00")


def test_an_invoice_with_a_payment_applied_is_voided_only_once_the_payment_is_unlinked(
    qb: QuickBooks, emu: QboEmulator, realm: str
) -> None:
    # QBO will not void an invoice a Payment settles (LanternOps/breeze issue #5180).
    buyer, item = customer(qb), service_item(qb)
    made = invoice(qb, buyer, sales_line(item, 100))
    paid = payment(qb, buyer, 30, (made, 30))
    with pytest.raises(QuickbooksException) as refused:
        Invoice.get(made.Id, qb=qb).void(qb=qb)
    assert refused.value.error_code == 6000
    unlinked = Payment.get(paid.Id, qb=qb)
    unlinked.Line = []
    unlinked.save(qb=qb)
    current = Invoice.get(made.Id, qb=qb)

    current.void(qb=qb)

    read = Invoice.get(made.Id, qb=qb)
    assert (money(read.TotalAmt), money(read.Balance)) == (Decimal("0.00"), Decimal("0.00"))
    assert "Voided" in read.PrivateNote
    assert int(read.SyncToken) == int(current.SyncToken) + 1
    assert money(Payment.get(paid.Id, qb=qb).UnappliedAmt) == Decimal("30.00")
    [stored] = emu.entities(realm, "Customer")
    assert stored["Balance"] == Decimal("-30.00")


def test_a_line_whose_amount_is_not_qty_times_price_is_still_refused(qb: QuickBooks) -> None:
    buyer, item = customer(qb), service_item(qb)

    with pytest.raises(QuickbooksException) as refused:  # 6000-6999: the client's generic one
        invoice(qb, buyer, sales_line(item, 50, qty=2, price=20))

    assert refused.value.error_code == 6070


def test_a_property_qbo_does_not_know_is_still_refused(qb: QuickBooks) -> None:
    made = Customer()
    made.DisplayName = "Jane O'Neil"
    made.Nickname = "Janey"  # not a Customer property in Intuit's reference

    with pytest.raises(ValidationException) as refused:
        made.save(qb=qb)

    assert (refused.value.error_code, "Nickname" in refused.value.detail) == (2010, True)


def test_the_clients_own_payment_void_test_passes(qb: QuickBooks) -> None:
    # tests/integration/test_payment.py::test_void, verbatim but for the client fixture.
    made = Payment()
    made.TotalAmt = 100.0
    made.CustomerRef = customer(qb).to_ref()
    made.PaymentMethodRef = PaymentMethod.all(max_results=1, qb=qb)[0].to_ref()
    made.save(qb=qb)
    assert Payment.get(made.Id, qb=qb).TotalAmt == 100.0

    made.void(qb=qb)

    read = Payment.get(made.Id, qb=qb)
    assert read.TotalAmt == 0.0
    assert "Voided" in read.PrivateNote


def test_auto_doc_number_numbers_an_invoice_where_custom_numbers_are_on(
    qb: QuickBooks, emu: QboEmulator, realm: str
) -> None:
    emu.company_settings(realm, custom_txn_numbers=True)
    buyer, item = customer(qb), service_item(qb)
    plain, auto = Invoice(), Invoice()
    for made in (plain, auto):
        made.CustomerRef = buyer.to_ref()
        made.Line.append(sales_line(item, 10))
    auto.AutoDocNumber = True

    plain, auto = plain.save(qb=qb), auto.save(qb=qb)

    assert plain.DocNumber is None
    assert auto.DocNumber and auto.DocNumber.isdigit()
