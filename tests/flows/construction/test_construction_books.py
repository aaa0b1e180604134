"""The books rules for construction invoices (docs/books.md), asserted on the emulated company
after random sequences of construction invoices, revisions, payments, voids and releases, in
each kind of company (US with Automated Sales Tax, US with manual sales tax, Canada), with and
without sub-customers; and two invocations racing on one construction invoice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from construction_support import (
    balance,
    construction,
    customers,
    export_item,
    invoice_of,
    put_settings,
    send,
)
from export_support import CONSUMER, race_the_queued_batch, record_retry_sleeps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payments_support import pay
from tax_support import company

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

D = Decimal
CENT = D("0.01")
RATES = {
    "us_ast": ("8.25", "Austin, TX"),
    "us_manual": ("8.25", "Austin, TX"),
    "canada": ("13", None),
}
JOBS = [None, ("job_a", "Deck"), ("job_b", "Kitchen")]
CENTS = st.integers(min_value=100, max_value=500_000).map(lambda c: D(c) / 100)


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_retry_sleeps(monkeypatch)


@dataclass
class Sent:
    """What the platform sent for one invoice, as the model of the books keeps it."""

    number: str
    job: int
    work: list[Decimal]
    fee: Decimal
    held: Decimal
    released: Decimal
    discount: Decimal
    tax: Decimal
    revision: int = 1
    exported: bool = False
    voided: bool = False
    paid: Decimal = field(default=D("0"))

    @property
    def total(self) -> Decimal:
        return (
            sum(self.work, D(0)) + self.fee + self.released - self.discount + self.tax - self.held
        )


@st.composite
def invoices(draw: st.DrawFn) -> dict[str, Any]:
    work = draw(st.lists(CENTS, min_size=1, max_size=2))
    whole = sum(work, D(0))
    share = lambda top: draw(st.integers(0, top)) * whole / 100  # noqa: E731
    return {
        "job": draw(st.integers(0, len(JOBS) - 1)),
        "work": work,
        "fee": draw(st.sampled_from([D(0), D("29.00"), D("3.15")])),
        "held": share(10).quantize(CENT),
        "discount": share(5).quantize(CENT),
        "taxed": draw(st.booleans()),
        "release": draw(st.integers(0, 100)),  # percent of what the scope holds
    }


OPS = st.one_of(
    st.tuples(st.just("invoice"), invoices()),
    st.tuples(st.just("revise"), st.integers(0, 5), invoices()),
    st.tuples(st.just("pay"), st.integers(0, 5), st.integers(1, 100)),
    st.tuples(st.just("void"), st.integers(0, 5)),
)


class Books:
    def __init__(self, env: LocalEnvironment, kind: str, sub_customers: bool) -> None:
        self.env, self.kind = env, kind
        self.contractor = f"ctr_{uuid.uuid4().hex[:10]}"
        self.realm = company(env, self.contractor, kind)
        if sub_customers:
            put_settings(env, self.contractor, {"job_tracking": "sub_customers"})
        self.sent: list[Sent] = []

    def held_for(self, job: int, excluding: str) -> Decimal:
        """What the scope's exported, non-voided invoices hold (the rule §17 states)."""
        return sum(
            (
                s.held - s.released
                for s in self.sent
                if s.exported
                and not s.voided
                and s.number != excluding
                and (JOBS[job] is None or s.job == job)
            ),
            D(0),
        )

    def message(self, sent: Sent) -> dict[str, Any]:
        rate, name = RATES[self.kind]
        work = [(f"Work {n}", str(a), sent.tax > 0) for n, a in enumerate(sent.work)]
        return construction(
            self.contractor,
            sent.number,
            work,
            fees=[str(sent.fee)] if sent.fee else [],
            releases=[str(sent.released)] if sent.released else [],
            retainage=str(sent.held) if sent.held else None,
            job=JOBS[sent.job],
            tax=(str(sent.tax), rate, name) if sent.tax else None,
            discount=str(sent.discount) if sent.discount else None,
            revision=sent.revision,
            currency="CAD" if self.kind == "canada" else "USD",
        )

    def sent_from(self, number: str, drawn: dict[str, Any], revision: int) -> Sent:
        work = drawn["work"]
        rate = D(RATES[self.kind][0])
        tax = D(0)
        if drawn["taxed"]:
            tax = ((sum(work, D(0)) - drawn["discount"]) * rate / 100).quantize(CENT, ROUND_HALF_UP)
        available = max(self.held_for(drawn["job"], number), D(0))
        released = (available * drawn["release"] / 100).quantize(CENT)
        return Sent(
            number,
            drawn["job"],
            work,
            drawn["fee"],
            drawn["held"],
            released,
            drawn["discount"],
            tax,
            revision,
        )

    def run(self, op: tuple[Any, ...]) -> None:
        if op[0] == "invoice":
            sent = self.sent_from(str(100 + len(self.sent)), op[1], 1)
            self._export(sent)
            self.sent.append(sent)
        elif op[0] == "revise" and self.sent:
            old = self.sent[op[1] % len(self.sent)]
            if old.voided or not old.exported or old.paid:
                return
            new = self.sent_from(old.number, {**op[2], "job": old.job}, old.revision + 1)
            self._export(new)
            self.sent[self.sent.index(old)] = new
        elif op[0] == "pay" and self.sent:
            sent = self.sent[op[1] % len(self.sent)]
            if sent.voided or not sent.exported:
                return
            amount = (sent.total * op[2] / 100).quantize(CENT)
            if amount <= 0 or sent.paid + amount > sent.total:
                return
            detail = samples.payment_completed(
                self.contractor,
                f"inv_{sent.number}",
                sent.number,
                str(amount),
                payment_id=f"pay_{uuid.uuid4().hex[:10]}",
            )
            assert pay(self.env, detail).failed == 0
            sent.paid += amount
        elif op[0] == "void" and self.sent:
            sent = self.sent[op[1] % len(self.sent)]
            if sent.voided:
                return
            self.env.platform.send_invoice(
                samples.invoice_voided(
                    self.contractor, f"inv_{sent.number}", sent.number, revision=sent.revision
                )
            )
            self.env.runtime.poll_sqs(CONSUMER)
            sent.voided = True

    def _export(self, sent: Sent) -> None:
        send(self.env, self.message(sent))
        status = export_item(self.env, self.contractor, f"inv_{sent.number}")["status"]
        assert status == "exported", export_item(self.env, self.contractor, f"inv_{sent.number}")
        sent.exported = True

    def check(self, qbo: QboEmulator) -> None:
        live = [s for s in self.sent if s.exported and not s.voided]
        work = sum((sum(s.work, D(0)) for s in live), D(0))
        discounts = sum((s.discount for s in live), D(0))
        realm = self.realm
        assert balance(qbo, realm, "Services") == work
        assert balance(qbo, realm, "Services") + balance(qbo, realm, "Discounts given") == (
            work - discounts
        )
        assert balance(qbo, realm, "Processing fees collected") == sum((s.fee for s in live), D(0))
        assert balance(qbo, realm, "Retainage receivable") == sum(
            (s.held - s.released for s in live), D(0)
        )
        assert balance(qbo, realm, "Sales tax payable") == sum((s.tax for s in live), D(0))
        paid = sum((s.paid for s in self.sent), D(0))
        assert balance(qbo, realm, "Accounts Receivable (A/R)") == (
            sum((s.total for s in live), D(0)) - paid
        )
        for sent in live:
            invoice = invoice_of(qbo, realm, sent.number)
            assert D(str(invoice["TotalAmt"])) == sent.total
        self._per_customer(qbo, live)

    def _per_customer(self, qbo: QboEmulator, live: list[Sent]) -> None:
        """Retainage receivable per customer: the Retainage item's lines of its invoices."""
        items = {i["Name"]: i["Id"] for i in qbo.entities(self.realm, "Item")}
        by_customer: dict[str, Decimal] = {}
        for sent in live:
            invoice = invoice_of(qbo, self.realm, sent.number)
            on_item = sum(
                (
                    D(str(line["Amount"]))
                    for line in invoice["Line"]
                    if line["DetailType"] == "SalesItemLineDetail"
                    and line["SalesItemLineDetail"]["ItemRef"]["value"] == items.get("Retainage")
                ),
                D(0),
            )
            assert -on_item == sent.held - sent.released
            customer = invoice["CustomerRef"]["value"]
            by_customer[customer] = by_customer.get(customer, D(0)) - on_item
        names = {c["Id"]: c for c in customers(qbo, self.realm).values()}
        for customer_id in by_customer:
            assert customer_id in names


@pytest.mark.parametrize("kind", sorted(RATES))
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=2, max_size=6), sub_customers=st.booleans())
def test_the_books_hold_after_any_sequence_of_construction_invoices(
    env: LocalEnvironment,
    qbo: QboEmulator,
    kind: str,
    ops: list[tuple[Any, ...]],
    sub_customers: bool,
) -> None:
    books = Books(env, kind, sub_customers)
    books.run(
        (
            "invoice",
            {
                "job": 1,
                "work": [D("1000.00")],
                "fee": D("29.00"),
                "held": D("100.00"),
                "discount": D("10.00"),
                "taxed": True,
                "release": 0,
            },
        )
    )
    for op in ops:
        books.run(op)
    books.check(qbo)


def test_two_invocations_racing_on_one_construction_invoice_make_one_of_each(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    contractor = "ctr_race"
    realm = company(env, contractor, "us_ast")
    put_settings(env, contractor, {"job_tracking": "sub_customers"})
    env.platform.send_invoice(
        construction(
            contractor,
            "7",
            [("Work", "500.00", False)],
            fees=["5.00"],
            retainage="50.00",
            job=("job_r", "Roof"),
        )
    )

    race_the_queued_batch(env, qbo)

    assert len(qbo.entities(realm, "Invoice")) == 1
    assert sorted(customers(qbo, realm)) == ["Jane O'Neil", "Roof"]
    assert sorted(i["Name"] for i in qbo.entities(realm, "Item")) == [
        "Invoice 7",
        "Processing fees collected",
        "Retainage",
    ]
    names = [a["Name"] for a in qbo.entities(realm, "Account")]
    assert names.count("Retainage receivable") == 1
    assert balance(qbo, realm, "Retainage receivable") == D("50.00")
    assert qbo.peak_concurrency(realm) == 2
