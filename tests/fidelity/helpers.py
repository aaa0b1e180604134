"""Building blocks the fidelity tests share, written the way python-quickbooks users write them."""

from __future__ import annotations

from decimal import Decimal

from quickbooks import QuickBooks
from quickbooks.objects.account import Account
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine


def customer(qb: QuickBooks, name: str = "Jane O'Neil") -> Customer:
    created = Customer()
    created.DisplayName = name
    saved: Customer = created.save(qb=qb)
    return saved


def service_item(qb: QuickBooks, name: str = "Deck repair") -> Item:
    income = Account.filter(AccountType="Income", max_results=1, qb=qb)[0]
    item = Item()
    item.Name = name
    item.Type = "Service"
    item.IncomeAccountRef = income.to_ref()
    saved: Item = item.save(qb=qb)
    return saved


def sales_line(item: Item, amount: float | int, qty: float = 0, price: float = 0) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = amount
    line.Description = "description"
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = qty
    line.SalesItemLineDetail.UnitPrice = price
    return line


def invoice(qb: QuickBooks, buyer: Customer, *lines: SalesItemLine, doc: str = "INV-1") -> Invoice:
    created = Invoice()
    created.CustomerRef = buyer.to_ref()
    created.DocNumber = doc
    created.Line.extend(lines)
    saved: Invoice = created.save(qb=qb)
    return saved


def payment(
    qb: QuickBooks, buyer: Customer, total: float, *applied: tuple[Invoice, float]
) -> Payment:
    created = Payment()
    created.CustomerRef = buyer.to_ref()
    created.TotalAmt = total
    for target, amount in applied:
        line = PaymentLine()
        line.Amount = amount
        line.LinkedTxn.append(target.to_linked_txn())
        created.Line.append(line)
    saved: Payment = created.save(qb=qb)
    return saved


def money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
