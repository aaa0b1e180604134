"""The settings page's payouts (docs/interface.md §12): GET /quickbooks/payouts, newest arrival
first, by status and page by page with an opaque cursor; and POST /quickbooks/payouts/{id}/retry."""

from __future__ import annotations

import base64
import json

from payments_support import CONSUMER
from payouts_support import api, choose_bank, paid, pay_out, payment, payouts_list

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator


def test_payouts_are_listed_newest_first_by_status_and_page_by_page(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    for day in ("01", "03", "02"):
        paid(env, contractor, f"4{day}", "40.00", f"pay_{day}")
        detail = samples.payout_paid(
            contractor, f"po_{day}", [payment(f"pay_{day}", "40.00")], arrival_date=f"2026-12-{day}"
        )
        pay_out(env, detail)
    pay_out(env, samples.payout_paid(contractor, "po_w", [payment("pay_none", "5.00")]))

    first = payouts_list(env, contractor, limit="2")
    second = payouts_list(env, contractor, limit="2", cursor=first["cursor"])

    ids = [item["payout_id"] for item in first["items"] + second["items"]]
    assert ids == ["po_w", "po_03", "po_02", "po_01"]  # po_w arrives 2026-12-04
    assert (
        second["cursor"] is None
        or payouts_list(env, contractor, limit="2", cursor=second["cursor"])["items"] == []
    )
    deposited = payouts_list(env, contractor, status="deposited")["items"]
    assert [item["payout_id"] for item in deposited] == ["po_03", "po_02", "po_01"]
    [waiting] = payouts_list(env, contractor, status="waiting")["items"]
    assert (waiting["payout_id"], waiting["reason"]["code"]) == ("po_w", "payment_not_recorded")
    assert waiting["qbo_deposit_id"] is None and waiting["qbo_url"] is None


def test_a_bad_status_limit_or_cursor_is_a_400_and_a_cursor_is_bound_to_its_contractor(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    for n in range(2):
        paid(env, contractor, f"5{n}", "50.00", f"pay_5{n}")
        pay_out(env, samples.payout_paid(contractor, f"po_5{n}", [payment(f"pay_5{n}", "50.00")]))
    cursor = payouts_list(env, contractor, limit="1")["cursor"]
    document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    document["k"]["pk"]["S"] = document["k"]["payouts_pk"]["S"] = "ctr_other"
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).decode()

    for query, code in (
        ({"status": "pending"}, "invalid_status"),
        ({"limit": "0"}, "invalid_limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": forged}, "invalid_cursor"),
        ({"cursor": cursor, "status": "deposited"}, "invalid_cursor"),
    ):
        status, body = api(env, "GET", "/quickbooks/payouts", contractor, query=query)
        assert (status, body["error"]) == (400, code), query


def test_retry_deposits_a_payout_that_failed_once_its_cause_is_fixed(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    paid(env, contractor, "60", "60.00", "pay_60")
    qbo.close_books(realm, "2026-12-31")
    pay_out(env, samples.payout_paid(contractor, "po_60", [payment("pay_60", "60.00", "2.04")]))
    [failed] = payouts_list(env, contractor)["items"]
    assert (failed["status"], failed["reason"]["code"]) == ("failed", "accounting_period_closed")
    qbo.close_books(realm, None)

    status, body = api(env, "POST", "/quickbooks/payouts/po_60/retry", contractor)
    result = env.runtime.poll_sqs(CONSUMER)

    assert (status, body) == (202, {"status": "waiting"})
    assert result.failed == 0, result.errors
    [deposit] = qbo.entities(realm, "Deposit")
    assert str(deposit["TotalAmt"]) == "57.96"
    [item] = payouts_list(env, contractor)["items"]
    assert (item["status"], item["qbo_deposit_id"]) == ("deposited", deposit["Id"])
    # Retrying a deposited payout creates nothing.
    api(env, "POST", "/quickbooks/payouts/po_60/retry", contractor)
    env.runtime.poll_sqs(CONSUMER)
    assert len(qbo.entities(realm, "Deposit")) == 1


def test_retry_of_an_unknown_payout_is_404_and_without_a_connection_409(
    env: LocalEnvironment, contractor: str
) -> None:
    status, body = api(env, "POST", "/quickbooks/payouts/po_nope/retry", contractor)
    assert (status, body["error"]) == (404, "not_found")
    status, body = api(env, "POST", "/quickbooks/payouts/po_nope/retry", "ctr_nobody")
    assert (status, body["error"]) == (409, "not_connected")
