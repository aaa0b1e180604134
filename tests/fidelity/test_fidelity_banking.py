"""RefundReceipt and Deposit through python-quickbooks, with QBO's deposit rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.account import Account
from quickbooks.objects.base import CustomerMemo
from quickbooks.objects.deposit import Deposit, DepositLine, DepositLineDetail
from quickbooks.objects.detailline import DetailLine, SalesItemLineDetail
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment
from quickbooks.objects.refundreceipt import RefundReceipt, RefundReceiptCheckPayment

from local.qbo_emulator import QboEmulator
from tests.fidelity.helpers import customer, invoice, money, payment, sales_line, service_item


def _account(qb: QuickBooks, name: str, kind: str) -> Account:
    account = Account()
    account.Name, account.AccountType = name, kind
    saved: Account = account.save(qb=qb)
    return saved


def _refund(qb: QuickBooks, item: Item) -> RefundReceipt:
    # The client's sandbox test (tests/integration/test_refundreceipt.py), line for line.
    refund = RefundReceipt()
    refund.DocNumber, refund.TotalAmt, refund.Balance = "DocNum123", 100, 100
    refund.PrivateNote, refund.PaymentType = "Private Note", "Check"
    refund.CustomerMemo = CustomerMemo()
    refund.CustomerMemo.value = "Customer Memo"
    refund.CheckPayment = RefundReceiptCheckPayment()
    refund.CheckPayment.CheckNum, refund.CheckPayment.BankName = "1001", "Bank"
    line = DetailLine()
    line.DetailType, line.Amount = "SalesItemLineDetail", 200
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    refund.Line.append(line)
    account = Account.where("Name = 'checking'", max_results=1, qb=qb)[0]
    refund.DepositToAccountRef = account.to_ref()
    return refund


def test_a_refund_receipt_is_created_with_the_total_of_its_lines(qb: QuickBooks) -> None:
    refund = _refund(qb, service_item(qb))

    saved = refund.save(qb=qb)

    read = RefundReceipt.get(saved.Id, qb=qb)
    assert read.DocNumber == "DocNum123"
    assert (money(read.Line[0].Amount), money(read.TotalAmt)) == (Decimal("200.00"),) * 2
    assert read.DepositToAccountRef.value == refund.DepositToAccountRef.value


def test_a_repeated_refund_with_one_requestid_creates_one(
    qb: QuickBooks, emu: QboEmulator, realm: str
) -> None:
    item = service_item(qb)
    first = _refund(qb, item).save(qb=qb, request_id="refund-1")
    second = _refund(qb, item).save(qb=qb, request_id="refund-1")

    assert first.Id == second.Id
    assert len(emu.entities(realm, "RefundReceipt")) == 1


def test_the_clients_own_deposit_between_two_bank_accounts(qb: QuickBooks) -> None:
    _account(qb, "Payouts", "Bank")
    banks = Account.filter(AccountType="Bank", max_results=2, qb=qb)
    detail = DepositLineDetail()
    detail.AccountRef = banks[0].to_ref()
    line = DepositLine()
    line.Amount, line.DepositLineDetail = 20.00, detail
    deposit = Deposit()
    deposit.DepositToAccountRef = banks[1].to_ref()
    deposit.Line.append(line)

    deposit.save(qb=qb)

    assert money(Deposit.get(deposit.Id, qb=qb).TotalAmt) == Decimal("20.00")


def _payout(qb: QuickBooks, bank: Account, paid: Payment, amount: float, fee: float) -> Deposit:
    linked = DepositLine()
    linked.Amount = amount
    linked.LinkedTxn.append(paid.to_linked_txn())
    deposit = Deposit()
    deposit.DepositToAccountRef = bank.to_ref()
    deposit.Line.append(linked)
    if fee:
        fees = DepositLine()
        fees.Amount, fees.DepositLineDetail = -fee, DepositLineDetail()
        fees.DepositLineDetail.AccountRef = _account(qb, "Fees", "Expense").to_ref()
        deposit.Line.append(fees)
    saved: Deposit = deposit.save(qb=qb)
    return saved


def _paid_invoice(qb: QuickBooks) -> Payment:
    buyer = customer(qb)
    return payment(qb, buyer, 100, (invoice(qb, buyer, sales_line(service_item(qb), 100)), 100))


def test_a_payout_deposits_a_payment_net_of_fees(qb: QuickBooks) -> None:
    bank, paid = _account(qb, "Payouts", "Bank"), _paid_invoice(qb)

    deposit = _payout(qb, bank, paid, 100, 2.9)

    read = Deposit.get(deposit.Id, qb=qb)
    assert money(read.TotalAmt) == Decimal("97.10")
    assert read.Line[0].LinkedTxn[0].TxnId == paid.Id


def test_a_payment_is_deposited_once_and_whole(qb: QuickBooks) -> None:
    bank, paid = _account(qb, "Payouts", "Bank"), _paid_invoice(qb)
    with pytest.raises(QuickbooksException) as partial:
        _payout(qb, bank, paid, 50, 0)
    _payout(qb, bank, paid, 100, 0)

    with pytest.raises(QuickbooksException) as twice:
        _payout(qb, bank, paid, 100, 0)

    assert "whole payment" in partial.value.detail
    assert "already in deposit" in twice.value.detail


def test_a_deposit_goes_into_a_bank_account(qb: QuickBooks) -> None:
    clearing = _account(qb, "Refunds clearing", "Other Current Asset")

    with pytest.raises(QuickbooksException) as refused:
        _payout(qb, clearing, _paid_invoice(qb), 100, 0)

    assert refused.value.error_code == 6000
    assert "Bank account" in refused.value.detail


def test_a_payment_received_into_the_bank_is_not_in_undeposited_funds(qb: QuickBooks) -> None:
    bank, buyer = _account(qb, "Payouts", "Bank"), customer(qb)
    paid = Payment()
    paid.CustomerRef, paid.TotalAmt, paid.DepositToAccountRef = buyer.to_ref(), 10, bank.to_ref()
    paid = paid.save(qb=qb)

    with pytest.raises(QuickbooksException) as refused:
        _payout(qb, bank, paid, 10, 0)

    assert "Undeposited Funds" in refused.value.detail


def test_a_deposited_payment_is_voided_only_after_its_deposit_is_deleted(qb: QuickBooks) -> None:
    bank, paid = _account(qb, "Payouts", "Bank"), _paid_invoice(qb)
    deposit = _payout(qb, bank, paid, 100, 0)
    with pytest.raises(QuickbooksException):
        paid.void(qb=qb)

    deposit.delete(qb=qb)
    paid.void(qb=qb)

    assert money(Payment.get(paid.Id, qb=qb).TotalAmt) == Decimal("0.00")
