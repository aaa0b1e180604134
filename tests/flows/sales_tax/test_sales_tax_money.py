"""Taxed, discounted invoices to the cent in every kind of company (a hypothesis property over
random invoices), paid to a zero balance, edited in place, exported exactly once whatever
fails, and the company's setup read from QuickBooks once per company."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from export_support import CONSUMER, posts, race_the_queued_batch, record_retry_sleeps
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from payments_support import pay
from tax_support import (
    CENT,
    company,
    discount_lines,
    money,
    qbo_invoice,
    send,
    taxed,
)

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

# The platform's rate in each kind of company (the emulator's seeded codes match them).
KINDS = {"us_ast": ("8.25", "USD"), "us_manual": ("8.25", "USD"), "canada": ("13", "CAD")}
LINES = [("Cabinets", "1000.00", True), ("Install", "150.00", False)]
TAX = ("90.70", "8.25", "Austin, TX")


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_retry_sleeps(monkeypatch)


@pytest.fixture
def companies(env: LocalEnvironment) -> dict[str, tuple[str, str]]:
    """kind -> (contractor, realm), one company of each kind."""
    return {kind: (f"ctr_{kind}", company(env, f"ctr_{kind}", kind)) for kind in KINDS}


def _platform_tax(
    lines: list[tuple[str, str, bool]], discount: Decimal, rate: Decimal, per_line: bool
) -> Decimal:
    """Tax on the discounted taxable amount, rounded per line or once: either is the truth."""
    subtotal = sum((Decimal(a) for _, a, _ in lines), Decimal(0))
    share = (subtotal - discount) / subtotal
    taxable = [Decimal(a) * share for _, a, t in lines if t]
    if per_line:
        parts = [(amount * rate / 100).quantize(CENT, ROUND_HALF_UP) for amount in taxable]
        return sum(parts, Decimal(0))
    return (sum(taxable, Decimal(0)) * rate / 100).quantize(CENT, ROUND_HALF_UP)


CENTS = st.integers(min_value=1, max_value=200_000).map(lambda c: Decimal(c) / 100)
LINE = st.tuples(st.just("Work"), CENTS.map(str), st.booleans())


@settings(
    max_examples=6,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(LINE, min_size=1, max_size=4),
    discount_share=st.sampled_from([0, 0, 5, 37, 100]),
    per_line=st.booleans(),
)
# Rounding per line and on the subtotal differ here (3 × 2.75 against 8.25 on 99.99).
@example(lines=[("Work", "33.33", True)] * 3, discount_share=0, per_line=True)
def test_total_and_tax_are_the_platforms_to_the_cent_in_every_kind_of_company(
    env: LocalEnvironment,
    qbo: QboEmulator,
    companies: dict[str, tuple[str, str]],
    lines: list[tuple[str, str, bool]],
    discount_share: int,
    per_line: bool,
) -> None:
    assume(any(taxable for _, _, taxable in lines))
    subtotal = sum((Decimal(a) for _, a, _ in lines), Decimal(0))
    discount = (subtotal * discount_share / 100 / 2).quantize(CENT)  # up to half the lines
    number = uuid.uuid4().hex[:10]
    for kind, (rate, currency) in KINDS.items():
        contractor, realm = companies[kind]
        tax = _platform_tax(lines, discount, Decimal(rate), per_line)
        message = taxed(
            contractor,
            number,
            lines,
            tax=(str(tax), rate, None),
            discount=str(discount) if discount else None,
            currency=currency,
        )
        assume(Decimal(message["invoice"]["total"]) > 0)

        assert send(env, message).failed == 0

        invoice = qbo_invoice(qbo, realm, number)
        assert money(invoice["TotalAmt"]) == Decimal(message["invoice"]["total"]), kind
        assert money(invoice["TxnTaxDetail"]["TotalTax"]) == tax, kind
        assert discount_lines(invoice) == ([discount] if discount else []), kind


def test_partial_and_full_payments_of_a_taxed_invoice_bring_its_balance_to_zero(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_pay", "us_ast")
    send(env, taxed("ctr_pay", "20", LINES, tax=TAX, discount="50.00"))
    balances = []

    for n, amount in enumerate(("400.00", "700.00", "90.70")):
        detail = samples.payment_completed("ctr_pay", "inv_20", "20", amount, payment_id=f"p{n}")
        assert pay(env, detail).failed == 0
        balances.append(money(qbo_invoice(qbo, realm, "20")["Balance"]))

    assert balances == [money("790.70"), money("90.70"), money("0")]


def test_a_foreign_currency_invoice_is_paid_in_its_currency(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_eur", "us_ast", multicurrency=True)
    send(env, taxed("ctr_eur", "21", [("Work", "250.00", False)], currency="EUR"))

    detail = samples.payment_completed("ctr_eur", "inv_21", "21", "250.00", payment_id="p_eur")
    detail["currency"] = "EUR"
    assert pay(env, detail).failed == 0

    [payment] = qbo.entities(realm, "Payment")
    assert payment["CurrencyRef"]["value"] == "EUR"
    assert money(qbo_invoice(qbo, realm, "21")["Balance"]) == 0


def test_an_edited_invoice_updates_tax_discount_and_lines_in_place_after_a_payment(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_edit", "us_manual")
    send(env, taxed("ctr_edit", "22", LINES, tax=TAX, discount="50.00"))
    pay(env, samples.payment_completed("ctr_edit", "inv_22", "22", "100.00", payment_id="p1"))
    first = qbo_invoice(qbo, realm, "22")  # the payment moved its SyncToken

    edited = [("Cabinets", "1200.00", True), ("Install", "150.00", True)]
    send(
        env,
        taxed("ctr_edit", "22", edited, tax=("107.25", "8.25", None), discount="50.00", revision=2),
    )
    second = qbo_invoice(qbo, realm, "22")
    send(env, taxed("ctr_edit", "22", [("Install", "150.00", False)], revision=3))
    third = qbo_invoice(qbo, realm, "22")

    assert second["Id"] == third["Id"] == first["Id"]
    assert money(second["TotalAmt"]) == money("1407.25")
    assert money(second["TxnTaxDetail"]["TotalTax"]) == money("107.25")
    assert money(second["Balance"]) == money("1307.25")
    assert money(third["TotalAmt"]) == money("150.00")
    assert money(third["TxnTaxDetail"]["TotalTax"]) == 0
    assert discount_lines(third) == []
    assert len(qbo.entities(realm, "Invoice")) == 1


def test_a_taxed_invoice_delivered_again_and_again_is_exported_once(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_again", "canada")
    message = taxed("ctr_again", "23", LINES, tax=("130.00", "13", None), currency="CAD")

    for _ in range(3):
        env.platform.send_invoice({**message, "event_id": f"evt_{uuid.uuid4().hex[:8]}"})
        env.runtime.poll_sqs(CONSUMER)

    assert posts(qbo, realm, "Invoice") == 1
    assert money(qbo_invoice(qbo, realm, "23")["TotalAmt"]) == money("1280.00")


def test_a_crash_after_quickbooks_took_the_taxed_invoice_creates_no_second_one(
    env: LocalEnvironment, qbo: QboEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qbo_sync.invoices.mappings import MappingStore

    realm = company(env, "ctr_crash", "us_ast")
    real, deaths = MappingStore.record_export, []

    def dies_once(self: MappingStore, *args: Any, **kwargs: Any) -> None:
        if not deaths:
            deaths.append(1)
            raise RuntimeError("killed after QBO accepted the invoice")
        real(self, *args, **kwargs)

    monkeypatch.setattr(MappingStore, "record_export", dies_once)

    result = send(env, taxed("ctr_crash", "24", LINES, tax=TAX, discount="50.00"))

    assert deaths == [1] and (result.failed, result.succeeded) == (1, 1)
    [invoice] = qbo.entities(realm, "Invoice")
    assert money(invoice["TotalAmt"]) == money("1190.70")
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == money("90.70")


def test_two_invocations_racing_on_a_taxed_invoice_create_one(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_race", "us_manual")
    env.platform.send_invoice(taxed("ctr_race", "25", LINES, tax=TAX, discount="50.00"))
    race_the_queued_batch(env, qbo)

    [invoice] = qbo.entities(realm, "Invoice")
    assert len(qbo.entities(realm, "Customer")) == 1
    assert money(invoice["TotalAmt"]) == money("1190.70")
    assert qbo.peak_concurrency(realm) == 2


def test_the_company_setup_is_read_once_per_company_and_steady_state_costs_stay(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = company(env, "ctr_count", "us_manual")
    costs, start = [], len(qbo.requests)  # after the connect's own company info read

    for number in ("30", "31", "32"):
        before = qbo.count_requests(realm)
        send(
            env,
            taxed(
                "ctr_count",
                number,
                LINES,
                tax=TAX,
                discount="50.00",
                client="Known Client" if number != "30" else "First Client",
            ),
        )
        costs.append(qbo.count_requests(realm) - before)

    setup_reads = [r for r in qbo.requests[start:] if r.realm_id == realm and r.entity in SETUP]
    assert len(setup_reads) == 4  # Preferences, CompanyInfo, TaxCode, TaxRate: once
    # first: setup (4), customer, income account, item, invoice; new customer: customer,
    # item, invoice; known customer: item, invoice.
    assert costs == [8, 3, 2]


SETUP = {"Preferences", "CompanyInfo", "TaxCode", "TaxRate"}
