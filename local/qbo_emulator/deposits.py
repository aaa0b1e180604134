"""Deposit: one bank transfer, moving payments out of Undeposited Funds into a bank account.

Rules (Intuit's Deposit reference and the QBO bank-deposit workflow it describes): the deposit
goes into DepositToAccountRef, a Bank account; each line either links one Payment
(`LinkedTxn: [{TxnId, TxnType: "Payment", TxnLineId: "0"}]`) or carries a DepositLineDetail
with an AccountRef (other funds; negative amounts for fees). A linked payment must be sitting
in Undeposited Funds, can be deposited once, and for its whole amount. TotalAmt is the sum of
the lines (read-only) and cannot be negative. The Fault codes for these refusals are not
documented; the emulator answers 6000 (business validation) with its own Detail."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import currency as currencies
from . import faults
from .clock import local_date
from .company import USD, Company
from .fields import iso_date, money, reference, required_money, text
from .jsonio import Json
from .voids import deposit_holding

DEPOSIT_FIELDS = frozenset(
    {
        "DepositToAccountRef",
        "Line",
        "TxnDate",
        "DocNumber",
        "PrivateNote",
        "CashBack",
        "CurrencyRef",
        "ExchangeRate",
        "DepartmentRef",
        "GlobalTaxCalculation",
        "TxnTaxDetail",
        "TransactionLocationType",
        "TxnSource",
        "TxnStatus",
        "CustomField",
        "RecurDataRef",
        "TotalAmt",
        "HomeTotalAmt",
    }
)
DEPOSIT_READ_ONLY = frozenset({"TotalAmt", "HomeTotalAmt"})


def _bank(company: Company, value: object) -> Json:
    if value is None:
        raise faults.required("DepositToAccountRef")
    account = reference(company, "Account", value, "DepositToAccountRef")
    row = company.get("Account", account["value"])
    if row is None or row.get("AccountType") != "Bank":
        raise faults.business("A deposit goes into a Bank account", "DepositToAccountRef")
    return account


def _linked_line(company: Company, line: Json, amount: Decimal, deposit_id: str | None) -> Json:
    links = line["LinkedTxn"]
    if not isinstance(links, list) or len(links) != 1 or not isinstance(links[0], dict):
        raise faults.business("Each deposit line links one payment", "Line.LinkedTxn")
    txn_id, txn_type = links[0].get("TxnId"), links[0].get("TxnType")
    if txn_type != "Payment":
        raise faults.business(f"Depositing a {txn_type} is not supported", "Line.LinkedTxn")
    payment = company.get("Payment", txn_id)
    if payment is None:
        raise faults.invalid_reference("Line.LinkedTxn.TxnId", txn_id)
    undeposited = company.undeposited_funds()["value"]
    if payment["DepositToAccountRef"]["value"] != undeposited:
        raise faults.business(
            f"Payment {txn_id} is not in Undeposited Funds: it was deposited when received",
            "Line.LinkedTxn",
        )
    holder = deposit_holding(company, str(txn_id))
    if holder is not None and holder["Id"] != deposit_id:
        raise faults.business(
            f"Payment {txn_id} is already in deposit {holder['Id']}", "Line.LinkedTxn"
        )
    if amount != payment["TotalAmt"]:
        raise faults.business(
            f"A deposit line takes the whole payment {txn_id}: {payment['TotalAmt']}, not {amount}",
            "Line.Amount",
        )
    return {
        "Amount": amount,
        "LinkedTxn": [{"TxnId": str(txn_id), "TxnType": "Payment", "TxnLineId": "0"}],
    }


def _other_line(company: Company, line: Json, amount: Decimal) -> Json:
    detail = line.get("DepositLineDetail")
    if not isinstance(detail, dict):
        raise faults.required("Line.DepositLineDetail")
    account = reference(
        company, "Account", detail.get("AccountRef"), "Line.DepositLineDetail.AccountRef"
    )
    built: Json = {
        "Amount": amount,
        "DetailType": "DepositLineDetail",
        "DepositLineDetail": {**detail, "AccountRef": account},
    }
    if line.get("Description") is not None:
        built["Description"] = text(line["Description"], "Line.Description", 4000)
    return built


def _lines(company: Company, raw: Any, deposit_id: str | None) -> list[Json]:
    if not isinstance(raw, list) or not raw:
        raise faults.required("Line")
    lines = []
    for number, line in enumerate(raw, start=1):
        if not isinstance(line, dict):
            raise faults.bad_value("Line", line)
        amount = required_money(line.get("Amount"), "Line.Amount")
        built = (
            _linked_line(company, line, amount, deposit_id)
            if line.get("LinkedTxn")
            else _other_line(company, line, amount)
        )
        lines.append({"Id": str(number), "LineNum": number, **built})
    return lines


def build_deposit(company: Company, fields: Json, existing: Json | None, now: float) -> Json:
    currencies.named(company, fields, existing)
    account = _bank(company, fields.get("DepositToAccountRef"))
    lines = _lines(company, fields.get("Line"), existing["Id"] if existing else None)
    total = sum((line["Amount"] for line in lines), Decimal("0.00"))
    if total < 0:
        raise faults.business("A deposit total can not be negative", "Line.Amount")
    text(fields.get("PrivateNote"), "PrivateNote", 4000)
    if fields.get("CashBack") is not None:
        money(fields["CashBack"].get("Amount", 0), "CashBack.Amount")
    return {
        **fields,
        "DepositToAccountRef": account,
        "Line": lines,
        "TxnDate": iso_date(fields.get("TxnDate"), "TxnDate") or local_date(now),
        "TotalAmt": total,
        "CurrencyRef": fields.get("CurrencyRef", dict(USD)),
    }
