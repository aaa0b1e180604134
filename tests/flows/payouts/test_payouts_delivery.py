"""payout-paid as EventBridge and Lambda deliver it: more than once, concurrently, into a crash,
or killed between QuickBooks' answer and our own write. Each payout is still one Deposit; and
what a payout costs in QBO requests."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from payments_support import CONSUMER
from payouts_support import (
    accounts,
    choose_bank,
    paid,
    pay_out,
    payment,
    payout_event,
    payouts_list,
    undeposited,
)

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture


@pytest.fixture
def ready(env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str) -> dict[str, Any]:
    """Two recorded payments, the bank account chosen, and their payout's detail."""
    paid(env, contractor, "70", "700.00", "pay_70")
    paid(env, contractor, "71", "71.00", "pay_71")
    choose_bank(env, qbo, realm, contractor)
    return samples.payout_paid(
        contractor,
        "po_7",
        [payment("pay_70", "700.00", "20.60"), payment("pay_71", "71.00", "2.36")],
    )


def _one_deposit(env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str) -> None:
    [deposit] = qbo.entities(realm, "Deposit")
    assert str(deposit["TotalAmt"]) == "748.04"
    assert undeposited(qbo, realm) == 0
    [item] = payouts_list(env, contractor)["items"]
    assert (item["status"], item["qbo_deposit_id"]) == ("deposited", deposit["Id"])


def test_duplicate_payout_events_make_one_deposit(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, ready: dict[str, Any]
) -> None:
    for _ in range(3):
        env.platform.pay_out(ready)
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.succeeded, result.failed) == (3, 0)
    assert qbo.count_requests(realm, method="POST", path_suffix="/deposit") == 1
    _one_deposit(env, qbo, realm, contractor)


def test_two_invocations_racing_on_one_payout_make_one_deposit(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    ready: dict[str, Any],
    logs: LogCapture,
) -> None:
    qbo.latency = 0.3  # the first invocation is still inside QBO when the second arrives
    start = threading.Barrier(2)
    answers: list[Any] = []

    def invoke(lag: float) -> None:
        event = payout_event(env, ready)
        start.wait()
        # The second a moment later: moto's server does not serialise two conditional writes
        # that land in the same instant (DynamoDB does), and that instant is not what this tests.
        time.sleep(lag)
        answers.append(env.runtime.invoke(CONSUMER, event))

    threads = [threading.Thread(target=invoke, args=(lag,)) for lag in (0.0, 0.1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [{"batchItemFailures": []}] * 2
    outcomes = sorted(record["outcome"] for record in logs.records("Payout handled"))
    assert outcomes == ["already_deposited", "deposited"]
    assert qbo.count_requests(realm, method="POST", path_suffix="/deposit") == 1
    _one_deposit(env, qbo, realm, contractor)


def test_response_lost_after_qbo_created_the_deposit_makes_one_deposit(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, ready: dict[str, Any]
) -> None:
    qbo.crash_after_commit_next(1)

    result = pay_out(env, ready)

    assert (result.succeeded, result.failed) == (1, 0)  # the retry's requestid got QBO's answer
    _one_deposit(env, qbo, realm, contractor)


def test_function_killed_between_qbo_and_our_write_makes_one_deposit_when_retried(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    ready: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    logs: LogCapture,
) -> None:
    from qbo_sync.ledger.payment_index import PaymentIndex
    from qbo_sync.workflows import payout as payouts

    class Killed(BaseException):
        """Lambda's timeout or an out-of-memory: nothing after it runs, not even `finally`."""

    def killed(*args: object, **kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(PaymentIndex, "deposited", killed)
        with pytest.raises(Killed):
            env.runtime.invoke(CONSUMER, payout_event(env, ready))
    assert len(qbo.entities(realm, "Deposit")) == 1
    # Lambda retries after the dead attempt's lease has run out, and after QBO forgot it.
    env.clock.advance(payouts.LEASE_SECONDS + 1)
    qbo.forget_request_ids(realm)
    queries = qbo.count_requests(realm, path_suffix="/query")

    answer = env.runtime.invoke(CONSUMER, payout_event(env, ready))

    assert answer == {"batchItemFailures": []}
    assert [r["outcome"] for r in logs.records("Payout handled")] == ["deposited"]
    assert qbo.count_requests(realm, path_suffix="/query") == queries + 1  # the lookup
    _one_deposit(env, qbo, realm, contractor)


def test_a_payout_costs_one_qbo_request_and_the_fees_account_is_made_once_per_company(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, ready: dict[str, Any]
) -> None:
    before = qbo.count_requests(realm)
    pay_out(env, ready)
    first = qbo.count_requests(realm) - before  # the fees account: looked for, created
    paid(env, contractor, "72", "72.00", "pay_72")
    before = qbo.count_requests(realm)

    pay_out(env, samples.payout_paid(contractor, "po_8", [payment("pay_72", "72.00", "2.39")]))

    assert qbo.count_requests(realm) - before == 1
    assert first == 3
    assert qbo.count_requests(realm, method="POST", path_suffix="/account") == 1
    assert len([a for a in accounts(qbo, realm) if a == "Payment processing fees"]) == 1
    assert len(qbo.entities(realm, "Deposit")) == 2
    assert undeposited(qbo, realm) == 0


def test_an_existing_fees_account_is_found_by_name_and_none_is_created(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str, ready: dict[str, Any]
) -> None:
    fees = qbo.add_account(realm, "Payment Processing Fees", "Expense")

    pay_out(env, ready)

    assert qbo.count_requests(realm, method="POST", path_suffix="/account") == 0
    [deposit] = qbo.entities(realm, "Deposit")
    fee_accounts = {
        line["DepositLineDetail"]["AccountRef"]["value"]
        for line in deposit["Line"]
        if "DepositLineDetail" in line
    }
    assert fee_accounts == {fees}
