"""Construction invoices (docs/interface.md §17) through the handlers, asserted on the emulated
company: jobs on sub-customers, fees passed on, retainage held then released, the held-balance
check, the settings, and what each costs in QuickBooks requests."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from construction_support import (
    balance,
    construction,
    customers,
    export_item,
    get_settings,
    invoice_of,
    put_settings,
    retry,
    send,
)
from export_support import CONSUMER, connect, posts, record_retry_sleeps
from payments_support import pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture
from tests.flows.exports.test_invoice_sent_fuzz import REFUSED, _record
from tests.flows.refunds.test_refunds import refund

WORK = [("Phase 2 of 3", "3000.00", False)]
JOB = ("job_12", "Kitchen remodel")
D = Decimal


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_retry_sleeps(monkeypatch)


# -- the edge ---------------------------------------------------------------------------------


def _broken(kind: str) -> dict[str, object]:
    message = construction("ctr_edge", "1", WORK, fees=["29.00"], retainage="300.00")
    invoice = message["invoice"]
    assert isinstance(invoice, dict)
    if kind == "taxable_fee":
        invoice["lines"][1]["taxable"] = True
    elif kind == "release_not_positive":
        invoice["lines"].append({"kind": "retainage_release", "description": "r", "amount": "0.00"})
    elif kind == "retainage_without_work":
        invoice["lines"] = [invoice["lines"][1]]
        invoice["total"] = "1.00"
    elif kind == "total":
        invoice["total"] = "3029.00"  # the retainage not taken off
    return message


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("taxable_fee", "invoice.lines.1.taxable"),
        ("release_not_positive", "invoice.lines.2.amount"),
        ("retainage_without_work", "invoice.retainage"),
        ("total", "invoice.total"),
    ],
)
def test_a_malformed_construction_invoice_is_refused_naming_its_field(
    env: LocalEnvironment, logs: LogCapture, kind: str, field: str
) -> None:
    valid = construction("ctr_edge", "1", WORK, fees=["29.00"], retainage="300.00")
    response = env.runtime.invoke(
        CONSUMER,
        {"Records": [_record(env, json.dumps(valid)), _record(env, json.dumps(_broken(kind)))]},
    )

    assert response == {"batchItemFailures": []}
    [refused] = logs.records(REFUSED)
    assert [problem.split(":")[0] for problem in refused["problems"]] == [field]


# -- settings ---------------------------------------------------------------------------------


def test_settings_answer_and_change_job_tracking_and_the_construction_accounts(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = connect(env, "ctr_set", "Settings Co")
    shown = get_settings(env, "ctr_set")
    assert shown["job_tracking"] == "off"
    assert shown["fee_income_account_id"] is None and shown["retainage_account_id"] is None

    status, body = put_settings(env, "ctr_set", {"job_tracking": "projects"})
    assert status == 400 and body["error"] == "invalid_settings"
    assert "job_tracking" in body["message"]

    income = qbo.add_account(realm, "Pass-through fees", "Income")
    asset = qbo.add_account(realm, "Retention held", "Other Current Asset")
    status, body = put_settings(env, "ctr_set", {"retainage_account_id": income})
    assert status == 400 and body["error"] == "invalid_account"
    assert "retainage_account_id" in body["message"]

    status, body = put_settings(
        env,
        "ctr_set",
        {
            "job_tracking": "sub_customers",
            "fee_income_account_id": income,
            "retainage_account_id": asset,
        },
    )
    assert status == 200, body
    assert body["job_tracking"] == "sub_customers"
    assert get_settings(env, "ctr_set")["retainage_account_id"] == asset

    send(env, construction("ctr_set", "5", WORK, fees=["10.00"], retainage="100.00"))
    assert balance(qbo, realm, "Pass-through fees") == D("10.00")
    assert balance(qbo, realm, "Retention held") == D("100.00")

    status, body = put_settings(env, "ctr_set", {"job_tracking": None})
    assert status == 200 and body["job_tracking"] == "off"


# -- jobs -------------------------------------------------------------------------------------


def test_a_job_goes_to_its_sub_customer_and_its_payment_follows(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = connect(env, "ctr_job", "Job Co")
    assert put_settings(env, "ctr_job", {"job_tracking": "sub_customers"})[0] == 200

    send(env, construction("ctr_job", "10", WORK, job=JOB))
    send(env, construction("ctr_job", "11", [("Phase 3", "500.00", False)], job=JOB))
    send(
        env,
        construction(
            "ctr_job", "10", [("Phase 2, revised", "2900.00", False)], job=JOB, revision=2
        ),
    )

    people = customers(qbo, realm)
    parent, job = people["Jane O'Neil"], people["Kitchen remodel"]
    assert job["Job"] is True and job["BillWithParent"] is True
    assert job["ParentRef"]["value"] == parent["Id"]
    assert job["FullyQualifiedName"] == "Jane O'Neil:Kitchen remodel"
    assert len(people) == 2  # one sub-customer for the job, whatever number of invoices
    for number in ("10", "11"):
        assert invoice_of(qbo, realm, number)["CustomerRef"]["value"] == job["Id"]

    detail = samples.payment_completed("ctr_job", "inv_10", "10", "900.00", payment_id="p_10")
    assert pay(env, detail).failed == 0
    [payment] = qbo.entities(realm, "Payment")
    assert payment["CustomerRef"]["value"] == job["Id"]
    people = customers(qbo, realm)
    assert D(str(people["Kitchen remodel"]["Balance"])) == D("2500.00")
    assert D(str(people["Jane O'Neil"]["BalanceWithJobs"])) == D("2500.00")

    refund(env, samples.payment_refunded("ctr_job", "inv_10", "10", "p_10", "100.00"))
    [receipt] = qbo.entities(realm, "RefundReceipt")
    assert receipt["CustomerRef"]["value"] == job["Id"]
    env.platform.send_invoice(samples.invoice_voided("ctr_job", "inv_11", "11"))
    env.runtime.poll_sqs(CONSUMER)
    assert D(str(customers(qbo, realm)["Kitchen remodel"]["Balance"])) == D("2000.00")


def test_with_job_tracking_off_the_job_is_named_in_the_memo(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = connect(env, "ctr_off", "Off Co")
    send(env, construction("ctr_off", "20", WORK, job=JOB))

    invoice = invoice_of(qbo, realm, "20")
    assert invoice["CustomerMemo"]["value"].startswith("Job: Kitchen remodel")
    assert list(customers(qbo, realm)) == ["Jane O'Neil"]


def test_a_job_name_held_by_another_customer_gets_a_name_of_its_own(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = connect(env, "ctr_taken", "Taken Co")
    put_settings(env, "ctr_taken", {"job_tracking": "sub_customers"})
    qbo.add_customer(realm, "Kitchen remodel")

    send(env, construction("ctr_taken", "30", WORK, job=JOB))

    job = customers(qbo, realm)["Kitchen remodel (Jane O'Neil)"]
    assert job["FullyQualifiedName"] == "Jane O'Neil:Kitchen remodel (Jane O'Neil)"
    assert invoice_of(qbo, realm, "30")["CustomerRef"]["value"] == job["Id"]


# -- fees and retainage -----------------------------------------------------------------------


def test_fee_and_retainage_held_then_released_keep_the_books(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = connect(env, "ctr_ret", "Retainage Co")

    send(env, construction("ctr_ret", "40", WORK, fees=["29.00"], retainage="300.00", job=JOB))
    held = invoice_of(qbo, realm, "40")
    assert D(str(held["TotalAmt"])) == D("2729.00")
    assert balance(qbo, realm, "Services") == D("3000.00")
    assert balance(qbo, realm, "Processing fees collected") == D("29.00")
    assert balance(qbo, realm, "Retainage receivable") == D("300.00")
    assert balance(qbo, realm, "Accounts Receivable (A/R)") == D("2729.00")

    send(
        env,
        construction(
            "ctr_ret", "41", [("Phase 3", "1000.00", False)], releases=["100.00"], job=JOB
        ),
    )
    assert D(str(invoice_of(qbo, realm, "41")["TotalAmt"])) == D("1100.00")
    assert balance(qbo, realm, "Retainage receivable") == D("200.00")
    assert balance(qbo, realm, "Services") == D("4000.00")

    items = {i["Name"]: i for i in qbo.entities(realm, "Item")}
    accounts = {a["Id"]: a for a in qbo.entities(realm, "Account")}
    retainage_account = accounts[items["Retainage"]["IncomeAccountRef"]["value"]]
    assert retainage_account["AccountType"] == "Other Current Asset"
    fee_account = accounts[items["Processing fees collected"]["IncomeAccountRef"]["value"]]
    assert fee_account["AccountType"] == "Income"


def test_a_release_beyond_what_is_held_fails_writes_nothing_and_a_retry_checks_again(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = connect(env, "ctr_over", "Over Co")
    send(env, construction("ctr_over", "50", WORK, retainage="300.00", job=JOB))
    before = len(qbo.entities(realm, "Invoice"))

    send(
        env,
        construction("ctr_over", "51", [("Final", "100.00", False)], releases=["450.00"], job=JOB),
    )

    item = export_item(env, "ctr_over", "inv_51")
    assert item["status"] == "failed"
    assert item["reason"]["code"] == "retainage_release_exceeds_held"
    assert "450.00" in item["reason"]["message"] and "300.00" in item["reason"]["message"]
    assert len(qbo.entities(realm, "Invoice")) == before

    # The earlier invoice that held the rest is exported; the retry checks again.
    send(env, construction("ctr_over", "49", WORK, retainage="150.00", job=JOB))
    retry(env, "ctr_over", "inv_51")
    assert export_item(env, "ctr_over", "inv_51")["status"] == "exported"
    assert balance(qbo, realm, "Retainage receivable") == D("0.00")


def test_a_voided_invoice_stops_holding_retainage(env: LocalEnvironment, qbo: QboEmulator) -> None:
    realm = connect(env, "ctr_void", "Void Co")
    send(env, construction("ctr_void", "60", WORK, retainage="300.00", job=JOB))
    env.platform.send_invoice(samples.invoice_voided("ctr_void", "inv_60", "60"))
    env.runtime.poll_sqs(CONSUMER)
    assert balance(qbo, realm, "Retainage receivable") == D("0.00")

    send(
        env,
        construction("ctr_void", "61", [("Final", "100.00", False)], releases=["100.00"], job=JOB),
    )
    item = export_item(env, "ctr_void", "inv_61")
    assert item["reason"]["code"] == "retainage_release_exceeds_held"


def test_retainage_of_another_job_is_not_released(env: LocalEnvironment) -> None:
    connect(env, "ctr_jobs", "Jobs Co")
    send(env, construction("ctr_jobs", "70", WORK, retainage="300.00", job=("job_a", "A")))
    send(
        env,
        construction(
            "ctr_jobs", "71", [("X", "10.00", False)], releases=["50.00"], job=("job_b", "B")
        ),
    )
    assert export_item(env, "ctr_jobs", "inv_71")["status"] == "failed"
    # Without a job the scope is the client: job A's retainage counts.
    send(env, construction("ctr_jobs", "72", [("X", "10.00", False)], releases=["50.00"]))
    assert export_item(env, "ctr_jobs", "inv_72")["status"] == "exported"


# -- what it costs ------------------------------------------------------------------------------


def _reads(qbo: QboEmulator, realm: str) -> int:
    return qbo.count_requests(realm, method="GET")


def test_first_and_steady_state_construction_invoice_costs(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = connect(env, "ctr_cost", "Cost Co")
    put_settings(env, "ctr_cost", {"job_tracking": "sub_customers"})
    start_all, start_reads = qbo.count_requests(realm), _reads(qbo, realm)

    send(env, construction("ctr_cost", "80", WORK, fees=["29.00"], retainage="300.00", job=JOB))
    first_all = qbo.count_requests(realm) - start_all
    first_reads = _reads(qbo, realm) - start_reads

    mark_all, mark_reads = qbo.count_requests(realm), _reads(qbo, realm)
    send(
        env,
        construction(
            "ctr_cost", "81", WORK, fees=["5.00"], retainage="300.00", releases=["100.00"], job=JOB
        ),
    )
    steady_all = qbo.count_requests(realm) - mark_all
    steady_reads = _reads(qbo, realm) - mark_reads

    # First: free writes: customer, sub-customer, invoice item, 2 accounts, 2 items, the
    # invoice; metered reads: the setup (Preferences, CompanyInfo), the income account, and the
    # two default accounts looked up by name before they are created.
    assert (first_all - first_reads, first_reads) == (8, 5)
    # Steady state: the invoice's item and the invoice, no read at all.
    assert (steady_all, steady_reads) == (2, 0)
    assert posts(qbo, realm, "Customer") == 2


def test_a_lost_answer_to_each_new_create_makes_one_of_each(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = connect(env, "ctr_lost", "Lost Co")
    put_settings(env, "ctr_lost", {"job_tracking": "sub_customers"})
    # Customer, sub-customer, item, 2 accounts, 2 items, invoice: each stored, answer lost.
    qbo.crash_after_commit_next(8)

    result = send(
        env, construction("ctr_lost", "90", WORK, fees=["29.00"], retainage="300.00", job=JOB)
    )

    assert result.failed == 0
    assert len(qbo.entities(realm, "Invoice")) == 1
    assert sorted(customers(qbo, realm)) == ["Jane O'Neil", "Kitchen remodel"]
    names = sorted(i["Name"] for i in qbo.entities(realm, "Item"))
    assert names == ["Invoice 90", "Processing fees collected", "Retainage"]
    accounts = [a["Name"] for a in qbo.entities(realm, "Account")]
    assert accounts.count("Retainage receivable") == 1
    assert accounts.count("Processing fees collected") == 1


def test_a_redelivered_construction_invoice_is_written_once(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    realm = connect(env, "ctr_dup", "Dup Co")
    put_settings(env, "ctr_dup", {"job_tracking": "sub_customers"})
    message = construction("ctr_dup", "95", WORK, fees=["29.00"], retainage="300.00", job=JOB)
    for attempt in range(3):
        again = copy.deepcopy(message)
        again["event_id"] = f"{message['event_id']}-{attempt}"
        env.platform.send_invoice(again)
    env.runtime.poll_sqs(CONSUMER)

    assert len(qbo.entities(realm, "Invoice")) == 1
    assert len(qbo.entities(realm, "Customer")) == 2
    assert balance(qbo, realm, "Retainage receivable") == D("300.00")
