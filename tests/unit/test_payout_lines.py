"""The payout's money, to the cent (docs/interface.md §10): a payout is accepted exactly when its
items add up to its amount, and then its deposit's lines add up to the bank transfer. Pure
functions, so hypothesis can try many payouts quickly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from qbo_sync.events.payouts import PayoutPaid
from qbo_sync.payouts.lines import DepositAccounts, deposit_fields, lines_total

CENTS = st.integers(min_value=1, max_value=5_000_000).map(lambda c: Decimal(c) / 100)
FEES = st.integers(min_value=0, max_value=50_000).map(lambda c: Decimal(c) / 100)
ADJUSTMENTS = (
    st.integers(min_value=-50_000, max_value=50_000).filter(bool).map(lambda c: Decimal(c) / 100)
)
ACCOUNTS = DepositAccounts(bank="35", fees="91", refunds="92")


@st.composite
def payouts(draw: Any) -> dict[str, Any]:
    payments = draw(st.lists(st.tuples(CENTS, FEES), min_size=1, max_size=40))
    adjustments = draw(st.lists(ADJUSTMENTS, max_size=3))
    items: list[dict[str, Any]] = [
        {"type": "payment", "payment_id": f"pay_{i}", "amount": str(a), "fee": str(f)}
        for i, (a, f) in enumerate(payments)
    ]
    items += [{"type": "adjustment", "description": "Adj", "amount": str(a)} for a in adjustments]
    net = sum(a - f for a, f in payments) + sum(adjustments, Decimal("0"))
    return {
        "schema_version": 1,
        "payout_id": "po_1",
        "contractor_id": "ctr_1",
        "amount": str(net),
        "arrival_date": "2026-12-04",
        "items": items,
    }


def _fields(payout: PayoutPaid) -> dict[str, Any]:
    qbo_payments = {f"pay_{i}": str(1000 + i) for i in range(len(payout.items))}
    return deposit_fields(payout, ACCOUNTS, qbo_payments, {})


@settings(max_examples=40, deadline=None, database=None)
@given(detail=payouts())
def test_a_payout_that_adds_up_deposits_its_amount_to_the_cent(detail: dict[str, Any]) -> None:
    if Decimal(detail["amount"]) <= 0:
        with pytest.raises(ValidationError):
            PayoutPaid.model_validate(detail)
        return
    payout = PayoutPaid.model_validate(detail)
    fields = _fields(payout)
    assert lines_total(fields) == payout.amount
    linked = [line for line in fields["Line"] if "LinkedTxn" in line]
    assert len(linked) == sum(1 for item in payout.items if item.type == "payment")
    assert all(
        line["Amount"] < 0
        for line in fields["Line"]
        if "LinkedTxn" not in line and line["Description"].startswith("Processing fee")
    )


@settings(max_examples=25, deadline=None, database=None)
@given(detail=payouts(), cents=st.integers(min_value=1, max_value=100))
def test_a_payout_a_cent_off_is_refused_naming_its_items(
    detail: dict[str, Any], cents: int
) -> None:
    detail["amount"] = str(Decimal(detail["amount"]) + Decimal(cents) / 100)
    if Decimal(detail["amount"]) <= 0:
        return
    with pytest.raises(ValidationError) as refused:
        PayoutPaid.model_validate(detail)
    assert [error["loc"] for error in refused.value.errors()] == [("items",)]


def test_the_contract_example_adds_up() -> None:
    items = [
        {"type": "payment", "payment_id": "pay_55", "amount": "1234.56", "fee": "36.10"},
        {"type": "payment", "payment_id": "pay_56", "amount": "1000.00", "fee": "29.30"},
        {"type": "refund", "refund_id": "rfd_31", "amount": "200.00"},
        {"type": "adjustment", "description": "Dispute fee", "amount": "-7.76"},
    ]
    payout = PayoutPaid.model_validate(
        {
            "schema_version": 1,
            "payout_id": "po_88",
            "contractor_id": "c",
            "amount": "1961.40",
            "arrival_date": "2026-12-04",
            "items": items,
        }
    )
    fields = deposit_fields(payout, ACCOUNTS, {"pay_55": "1", "pay_56": "2"}, {"rfd_31": "9"})
    assert lines_total(fields) == Decimal("1961.40")
    refund = next(
        line for line in fields["Line"] if line.get("Description", "").startswith("Refund")
    )
    assert refund["Amount"] == Decimal("-200.00")
    assert refund["DepositLineDetail"]["AccountRef"] == {"value": "92"}
