"""The settings page's export list and retry (docs/interface.md §5), driven through the HTTP
handler, with the export and payment flows driven through their consumers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from export_support import CONSUMER, connect, dead_letters, posts
from payments_support import balance, pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

PERIOD_CLOSED_THROUGH = "2026-11-30"  # the samples' invoices are dated 2026-11-24


def exports(env: LocalEnvironment, contractor: str, **query: str) -> dict[str, Any]:
    response = env.platform.api("GET", "/quickbooks/exports", contractor, query=query)
    assert response["statusCode"] == 200, response
    return dict(json.loads(response["body"]))


def retry(env: LocalEnvironment, contractor: str, invoice_id: str) -> dict[str, Any]:
    return env.platform.api("POST", f"/quickbooks/exports/{invoice_id}/retry", contractor)


def by_invoice(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["invoice_id"]: item for item in page["items"]}


def failed_count(env: LocalEnvironment, contractor: str) -> int:
    view = json.loads(env.platform.api("GET", "/quickbooks/connection", contractor)["body"])
    return int(view["failed_exports"])


def send(env: LocalEnvironment, message: dict[str, Any]) -> None:
    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)


def invoice(contractor: str, number: str, amount: str = "100.00", **extra: Any) -> dict[str, Any]:
    return samples.invoice_sent(
        contractor, number, "Status Client", [("Job", "1", amount)], **extra
    )


def assert_contractor_readable(reason: dict[str, Any]) -> None:
    text = reason["message"]
    for raw in ("{", "Fault", "Traceback", "ValidationFault", "Bearer"):
        assert raw not in text, text
    assert text.endswith("."), text


def test_closed_period_failure_shows_its_reason_and_clears_after_a_retry(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    send(env, invoice(contractor, "501"))
    qbo.close_books(realm, PERIOD_CLOSED_THROUGH)
    send(env, invoice(contractor, "502"))

    items = by_invoice(exports(env, contractor))
    assert items["inv_501"]["status"] == "exported"
    assert items["inv_501"]["reason"] is None
    failed = items["inv_502"]
    assert (failed["status"], failed["invoice_number"], failed["revision"]) == ("failed", "502", 1)
    assert failed["qbo_invoice_id"] is None
    assert failed["reason"]["code"] == "accounting_period_closed"
    assert_contractor_readable(failed["reason"])
    assert failed_count(env, contractor) == 1
    assert [i["invoice_id"] for i in exports(env, contractor, status="failed")["items"]] == [
        "inv_502"
    ]
    assert len(dead_letters(env)) == 1  # the refused message is parked for operators too

    qbo.close_books(realm, None)  # the bookkeeper reopens the period
    accepted = retry(env, contractor, "inv_502")
    assert (accepted["statusCode"], json.loads(accepted["body"])) == (202, {"status": "pending"})
    assert by_invoice(exports(env, contractor))["inv_502"]["status"] == "pending"
    assert failed_count(env, contractor) == 0
    env.runtime.poll_sqs(CONSUMER)

    after = by_invoice(exports(env, contractor))["inv_502"]
    assert (after["status"], after["reason"]) == ("exported", None)
    assert after["qbo_invoice_id"] == by_doc_number(qbo, realm)["502"]["Id"]
    assert exports(env, contractor, status="failed")["items"] == []


def test_retrying_an_exported_invoice_creates_nothing_in_quickbooks(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    send(env, invoice(contractor, "510"))

    assert retry(env, contractor, "inv_510")["statusCode"] == 202
    assert by_invoice(exports(env, contractor))["inv_510"]["status"] == "exported"
    env.runtime.poll_sqs(CONSUMER)

    assert posts(qbo, realm, "Invoice") == 1
    assert list(by_doc_number(qbo, realm)) == ["510"]
    assert by_invoice(exports(env, contractor))["inv_510"]["status"] == "exported"


def test_a_refused_payment_shows_its_reason_and_a_retry_records_it(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    send(env, invoice(contractor, "520", "300.00"))
    qbo.close_books(realm, "2026-11-25")  # the payment's date, 2026-11-25, is now closed
    pay(env, samples.payment_completed(contractor, "inv_520", "520", "300.00", payment_id="p520"))

    [payment] = by_invoice(exports(env, contractor))["inv_520"]["payments"]
    assert (payment["payment_id"], payment["amount"], payment["status"]) == (
        "p520",
        "300.00",
        "failed",
    )
    assert payment["qbo_payment_id"] is None
    assert payment["reason"]["code"] == "accounting_period_closed"
    assert_contractor_readable(payment["reason"])

    qbo.close_books(realm, None)
    assert retry(env, contractor, "inv_520")["statusCode"] == 202
    env.runtime.poll_sqs(CONSUMER)

    item = by_invoice(exports(env, contractor))["inv_520"]
    [payment] = item["payments"]
    assert (item["status"], payment["status"], payment["reason"]) == ("exported", "recorded", None)
    assert payment["qbo_payment_id"] == qbo.entities(realm, "Payment")[0]["Id"]
    assert balance(qbo, realm, "520") == 0
    assert posts(qbo, realm, "Invoice") == 1


def test_pagination_walks_60_records_newest_first_without_duplicates_or_gaps(
    env: LocalEnvironment, contractor: str
) -> None:
    for n in range(60):
        message = invoice(contractor, f"6{n:02d}", invoice_id=f"inv_p{n:02d}")
        # Sent a minute apart, in order: the newest is the last one.
        message["sent_at"] = f"2026-11-24T{10 + n // 60:02d}:{n % 60:02d}:00Z"
        env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        page = exports(env, contractor, **query)
        assert len(page["items"]) <= 7
        seen.extend(item["invoice_id"] for item in page["items"])
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break

    assert seen == [f"inv_p{n:02d}" for n in reversed(range(60))]
    assert pages >= 9
    assert {item["status"] for item in exports(env, contractor, limit="100")["items"]} == {
        "exported"
    }
    assert len(exports(env, contractor)["items"]) == 25  # the default page


def test_another_contractors_records_are_never_visible(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    connect(env, "ctr_other", "Other Co")
    for n in range(3):
        send(env, invoice(contractor, f"70{n}"))
        send(env, invoice("ctr_other", f"80{n}", invoice_id=f"inv_other_{n}"))
    env.platform.send_invoice(invoice("ctr_never_connected", "900", invoice_id="inv_nc"))
    env.runtime.poll_sqs(CONSUMER)

    mine = exports(env, contractor, limit="2")
    theirs = exports(env, "ctr_other", limit="100")

    assert {i["invoice_id"] for i in exports(env, contractor, limit="100")["items"]} == {
        "inv_700",
        "inv_701",
        "inv_702",
    }
    assert {i["invoice_id"] for i in theirs["items"]} == {f"inv_other_{n}" for n in range(3)}
    # A cursor is no key to someone else's list, and a retry finds nothing of theirs.
    stolen = env.platform.api(
        "GET", "/quickbooks/exports", "ctr_other", query={"limit": "2", "cursor": mine["cursor"]}
    )
    assert stolen["statusCode"] == 400
    assert json.loads(stolen["body"])["error"] == "invalid_cursor"
    assert retry(env, "ctr_other", "inv_700")["statusCode"] == 404
    assert exports(env, "ctr_nobody")["items"] == []


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"status": "done"}, "invalid_status"),
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "101"}, "invalid_limit"),
        ({"limit": "ten"}, "invalid_limit"),
        ({"cursor": "not a cursor"}, "invalid_cursor"),
        ({"cursor": "eyJ2IjoxfQ"}, "invalid_cursor"),  # {"v":1}
    ],
)
def test_bad_parameters_get_a_json_400(
    env: LocalEnvironment, contractor: str, query: dict[str, str], error: str
) -> None:
    response = env.platform.api("GET", "/quickbooks/exports", contractor, query=query)

    assert response["statusCode"] == 400
    body = json.loads(response["body"])
    assert body["error"] == error
    assert body["message"]


def test_a_cursor_belongs_to_its_status_filter(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    for n in range(3):
        env.platform.send_invoice(invoice(contractor, f"31{n}"))
    env.runtime.poll_sqs(CONSUMER)
    cursor = exports(env, contractor, status="exported", limit="1")["cursor"]
    assert cursor

    response = env.platform.api("GET", "/quickbooks/exports", contractor, query={"cursor": cursor})

    assert response["statusCode"] == 400
    assert [
        i["invoice_number"]
        for i in exports(env, contractor, status="exported", limit="1", cursor=cursor)["items"]
    ] == ["311"]


def test_retry_answers_404_for_an_unknown_invoice_and_409_without_a_usable_connection(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    send(env, invoice(contractor, "530"))
    unknown = retry(env, contractor, "inv_nope")
    assert (unknown["statusCode"], json.loads(unknown["body"])["error"]) == (404, "not_found")

    no_connection = retry(env, "ctr_without_quickbooks", "inv_530")
    assert no_connection["statusCode"] == 409
    assert json.loads(no_connection["body"])["error"] == "not_connected"

    qbo.revoke_refresh_tokens(realm)
    qbo.expire_access_tokens(realm)
    send(env, invoice(contractor, "531"))  # finds out that QuickBooks needs reauthorization
    needs_reauthorization = retry(env, contractor, "inv_530")
    assert needs_reauthorization["statusCode"] == 409
    assert json.loads(needs_reauthorization["body"])["error"] == "not_connected"
    assert env.platform.api("POST", "/quickbooks/exports/inv_530/retry", None)["statusCode"] == 401


def test_reconnect_after_reauthorization_exports_kept_work_without_a_retry_click(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.revoke_refresh_tokens(realm)  # the company disconnected the app inside QuickBooks
    qbo.expire_access_tokens(realm)
    send(env, invoice(contractor, "540", "250.00"))
    pay(env, samples.payment_completed(contractor, "inv_540", "540", "250.00", payment_id="p540"))

    kept = by_invoice(exports(env, contractor))["inv_540"]
    assert (kept["status"], kept["reason"]["code"]) == ("pending", "reauthorization_required")
    assert_contractor_readable(kept["reason"])
    assert [(p["payment_id"], p["status"]) for p in kept["payments"]] == [("p540", "parked")]
    assert kept["payments"][0]["reason"]["code"] == "reauthorization_required"

    assert env.platform.connect_quickbooks(contractor).endswith("quickbooks=connected")
    env.runtime.drain()

    item = by_invoice(exports(env, contractor))["inv_540"]
    assert (item["status"], item["reason"]) == ("exported", None)
    assert item["qbo_invoice_id"] == by_doc_number(qbo, realm)["540"]["Id"]
    assert [(p["payment_id"], p["status"]) for p in item["payments"]] == [("p540", "recorded")]
    assert balance(qbo, realm, "540") == 0


def test_an_invoice_sent_before_connecting_is_skipped_and_exports_on_retry(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    env.platform.send_invoice(invoice("ctr_late", "550"))
    env.runtime.poll_sqs(CONSUMER)
    skipped = by_invoice(exports(env, "ctr_late"))["inv_550"]
    assert (skipped["status"], skipped["reason"]["code"]) == ("skipped", "not_connected")
    assert retry(env, "ctr_late", "inv_550")["statusCode"] == 409

    realm = connect(env, "ctr_late", "Late Co")
    assert retry(env, "ctr_late", "inv_550")["statusCode"] == 202
    env.runtime.poll_sqs(CONSUMER)

    page = exports(env, "ctr_late")
    assert [(i["invoice_id"], i["status"]) for i in page["items"]] == [("inv_550", "exported")]
    assert list(by_doc_number(qbo, realm)) == ["550"]


def test_a_skipped_invoice_sent_again_after_connecting_is_listed_once(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    env.platform.send_invoice(invoice("ctr_late", "551"))
    env.runtime.poll_sqs(CONSUMER)
    connect(env, "ctr_late", "Late Co")

    send(env, invoice("ctr_late", "551", "110.00", revision=2))

    page = exports(env, "ctr_late")
    assert [(i["invoice_id"], i["status"], i["revision"]) for i in page["items"]] == [
        ("inv_551", "exported", 2)
    ]
    assert exports(env, "ctr_late", status="skipped")["items"] == []


def test_reasons_for_an_ended_subscription_a_refused_field_and_a_deleted_invoice(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    # A paid invoice cannot change client in QuickBooks: the revision's client is refused.
    send(env, invoice(contractor, "560", "80.00"))
    pay(env, samples.payment_completed(contractor, "inv_560", "560", "30.00"))
    moved = samples.invoice_sent(
        contractor, "560", "Someone Else", [("Job", "1", "80.00")], revision=2
    )
    send(env, moved)
    # Deleted in QuickBooks, then edited and sent again on the platform.
    send(env, invoice(contractor, "561"))
    qbo.delete_in_quickbooks(realm, "Invoice", by_doc_number(qbo, realm)["561"]["Id"])
    send(env, invoice(contractor, "561", "120.00", revision=2))
    qbo.end_subscription(realm)
    send(env, invoice(contractor, "562"))

    items = by_invoice(exports(env, contractor))
    reasons = {invoice_id: items[invoice_id]["reason"] for invoice_id in items}
    assert reasons["inv_560"]["code"] == "field_refused"
    assert "client" in reasons["inv_560"]["message"]
    assert reasons["inv_561"]["code"] == "invoice_deleted_in_quickbooks"
    assert reasons["inv_562"]["code"] == "subscription_ended"
    assert {items[i]["status"] for i in reasons} == {"failed"}
    assert items["inv_560"]["revision"] == 2
    for reason in reasons.values():
        assert_contractor_readable(reason)
    assert failed_count(env, contractor) == 3


def test_a_temporary_quickbooks_problem_shows_pending_while_sqs_retries(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    from export_support import record_retry_sleeps

    with pytest.MonkeyPatch.context() as monkeypatch:
        record_retry_sleeps(monkeypatch)
        qbo.fail_next(5, 503, realm_id=realm)  # more than one delivery's retries
        env.platform.send_invoice(invoice(contractor, "570"))
        first = env.runtime.poll_sqs(CONSUMER, max_batches=1)
        assert first.failed == 1

        waiting = by_invoice(exports(env, contractor))["inv_570"]
        assert (waiting["status"], waiting["reason"]["code"]) == ("pending", "qbo_unavailable")
        assert_contractor_readable(waiting["reason"])
        env.runtime.poll_sqs(CONSUMER)

    item = by_invoice(exports(env, contractor))["inv_570"]
    assert (item["status"], item["reason"]) == ("exported", None)


def test_an_outage_longer_than_the_deliveries_shows_failed_and_a_retry_exports_it(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    from export_support import record_retry_sleeps

    with pytest.MonkeyPatch.context() as monkeypatch:
        record_retry_sleeps(monkeypatch)
        qbo.fault_rate(1.0, (503,))  # down for longer than the export keeps trying (12 hours)
        env.platform.send_invoice(invoice(contractor, "580"))
        env.runtime.poll_sqs(CONSUMER)

    assert dead_letters(env) == []  # the export gave up by itself; the message is done
    item = by_invoice(exports(env, contractor))["inv_580"]
    assert (item["status"], item["reason"]["code"]) == ("failed", "qbo_unavailable_gave_up")
    assert_contractor_readable(item["reason"])

    qbo.fault_rate(0.0)  # QuickBooks is back
    assert retry(env, contractor, "inv_580")["statusCode"] == 202
    env.runtime.poll_sqs(CONSUMER)

    assert by_invoice(exports(env, contractor))["inv_580"]["status"] == "exported"
    assert list(by_doc_number(qbo, realm)) == ["580"]
