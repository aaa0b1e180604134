"""Every entity the product writes survives python-quickbooks' read-then-save: the client
sends back each property the emulator answered, so an answered property the emulator does not
accept (2010) would fail here as the IsProject one did."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from quickbooks import QuickBooks
from quickbooks.objects.account import Account
from quickbooks.objects.deposit import Deposit, DepositLine
from quickbooks.objects.detailline import DetailLine, SalesItemLineDetail
from quickbooks.objects.refundreceipt import RefundReceipt

from tests.fidelity.helpers import customer, invoice, payment, sales_line, service_item


def _bank(qb: QuickBooks) -> Account:
    account = Account()
    account.Name, account.AccountType = "Payouts", "Bank"
    saved: Account = account.save(qb=qb)
    return saved


def _refund(qb: QuickBooks) -> RefundReceipt:
    line = DetailLine()
    line.DetailType, line.Amount = "SalesItemLineDetail", 25
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = service_item(qb).to_ref()
    refund = RefundReceipt()
    refund.CustomerRef, refund.DepositToAccountRef = customer(qb).to_ref(), _bank(qb).to_ref()
    refund.Line.append(line)
    saved: RefundReceipt = refund.save(qb=qb)
    return saved


def _deposit(qb: QuickBooks) -> Deposit:
    buyer = customer(qb)
    paid = payment(qb, buyer, 10, (invoice(qb, buyer, sales_line(service_item(qb), 10)), 10))
    line = DepositLine()
    line.Amount = 10
    line.LinkedTxn.append(paid.to_linked_txn())
    deposit = Deposit()
    deposit.DepositToAccountRef = _bank(qb).to_ref()
    deposit.Line.append(line)
    saved: Deposit = deposit.save(qb=qb)
    return saved


def _invoice(qb: QuickBooks) -> Any:
    buyer = customer(qb)
    made = invoice(qb, buyer, sales_line(service_item(qb), 50, qty=2, price=25))
    payment(qb, buyer, 20, (made, 20))  # a LinkedTxn and a moved SyncToken to send back
    return made


def _payment(qb: QuickBooks) -> Any:
    buyer = customer(qb)
    return payment(qb, buyer, 20, (invoice(qb, buyer, sales_line(service_item(qb), 50)), 20))


MAKERS: dict[str, Callable[[QuickBooks], Any]] = {
    "Customer": customer,
    "Item": service_item,
    "Account": _bank,
    "Invoice": _invoice,
    "Payment": _payment,
    "RefundReceipt": _refund,
    "Deposit": _deposit,
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_a_read_entity_saves_back_unchanged(qb: QuickBooks, name: str) -> None:
    made = MAKERS[name](qb)
    cls = type(made)
    read = cls.get(made.Id, qb=qb)

    saved = read.save(qb=qb)

    assert int(saved.SyncToken) == int(read.SyncToken) + 1
    again = cls.get(made.Id, qb=qb).to_dict()
    before = read.to_dict()
    for volatile in ("SyncToken", "MetaData"):
        again.pop(volatile), before.pop(volatile)
    assert again == before
