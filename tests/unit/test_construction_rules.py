"""The pure rules of construction invoices (docs/interface.md §17): what a job's other invoices
still hold, the QBO lines of fee and retainage, and which lines are taxed."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from qbo_sync.events import validation_problems
from qbo_sync.events.invoices import parse_invoice_sent
from qbo_sync.invoices.retainage import available
from qbo_sync.qbo.fields import invoice_lines

D = Decimal


def _body(**invoice: Any) -> str:
    base = {
        "id": "inv_1",
        "number": "1",
        "revision": 1,
        "issue_date": "2026-11-24",
        "total": "2829.00",
        "job": {"id": "job_12", "name": "Kitchen remodel"},
        "retainage": {"amount": "300.00", "percent": "10"},
        "lines": [
            {"description": "Phase 2 of 3", "amount": "3000.00", "taxable": True},
            {"kind": "fee", "description": "Card fee", "amount": "29.00"},
            {"kind": "retainage_release", "description": "Released", "amount": "100.00"},
        ],
    }
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": "e",
            "contractor_id": "c",
            "sent_at": "2026-11-24T15:04:05Z",
            "client": {"id": "cli_1", "display_name": "Jane"},
            "invoice": {**base, **invoice},
        }
    )


def test_the_contract_example_parses_and_its_lines_keep_the_total() -> None:
    invoice = parse_invoice_sent(_body()).invoice
    lines = invoice_lines(invoice, "10", {"fee": "20", "retainage": "30"})

    assert [
        (line["SalesItemLineDetail"]["ItemRef"]["value"], line["Amount"]) for line in lines
    ] == [
        ("10", D("3000.00")),
        ("20", D("29.00")),
        ("30", D("100.00")),
        ("30", D("-300.00")),
    ]
    assert sum(line["Amount"] for line in lines) == invoice.total
    assert invoice.taxable_flags() == [True, False, False, False]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total": "2830.00"}, "invoice.total"),
        ({"retainage": {"amount": "3000.01"}, "total": "-0.01"}, "invoice.retainage"),
    ],
)
def test_refusals_name_their_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_invoice_sent(_body(**change))
    assert field in {p.split(":")[0] for p in validation_problems(refused.value)}


ROWS = st.lists(
    st.tuples(
        st.sampled_from(["inv_a", "inv_b", "inv_c", "inv_d"]),
        st.sampled_from(["cli_1", "cli_2"]),
        st.sampled_from(["", "job_1", "job_2"]),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
    ),
    max_size=8,
)


@given(ROWS)
def test_a_job_holds_what_its_other_invoices_held_minus_released(rows: list[Any]) -> None:
    items = [
        {"invoice_id": i, "client_id": c, "job_id": j, "held": D(h) / 100, "released": D(r) / 100}
        for i, c, j, h, r in rows
    ]
    job = available(items, "inv_a", "cli_1", "job_1")
    client = available(items, "inv_a", "cli_1", "")

    mine = [x for x in items if x["invoice_id"] != "inv_a" and x["client_id"] == "cli_1"]
    assert job == sum((x["held"] - x["released"] for x in mine if x["job_id"] == "job_1"), D(0))
    assert client == sum((x["held"] - x["released"] for x in mine), D(0))
