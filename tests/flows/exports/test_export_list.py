"""The export list a contractor reads (docs/interface.md §14), through the HTTP handler: what
each item says about the invoice, the filters, Dismiss and its undo by Retry, the history, and
that the list is the connected company's (plus the skipped invoices)."""

from __future__ import annotations

import json
from typing import Any

from export_support import CONSUMER, connect, dynamodb_calls

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

PERIOD_CLOSED_THROUGH = "2026-11-30"  # the samples' invoices are dated 2026-11-24


def exports(env: LocalEnvironment, contractor: str, **query: str) -> dict[str, Any]:
    response = env.platform.api("GET", "/quickbooks/exports", contractor, query=query)
    assert response["statusCode"] == 200, response
    return dict(json.loads(response["body"]))


def post(env: LocalEnvironment, contractor: str, invoice_id: str, action: str) -> Any:
    response = env.platform.api("POST", f"/quickbooks/exports/{invoice_id}/{action}", contractor)
    return response["statusCode"], json.loads(response["body"])


def item(env: LocalEnvironment, contractor: str, invoice_id: str) -> dict[str, Any]:
    items = exports(env, contractor, limit="100")["items"]
    return next(found for found in items if found["invoice_id"] == invoice_id)


def send(env: LocalEnvironment, message: dict[str, Any]) -> None:
    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)


def invoice(contractor: str, number: str, client: str = "Jane O'Neil", **extra: Any) -> Any:
    return samples.invoice_sent(contractor, number, client, [("Job", "2", "62.50")], **extra)


def test_an_item_names_the_client_amount_date_and_customer_with_its_history(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    send(env, invoice(contractor, "801", client_id="cli_jane"))

    shown = item(env, contractor, "inv_801")

    (customer,) = qbo.entities(realm, "Customer")
    assert {k: shown[k] for k in ("client_id", "client_name", "total", "currency")} == {
        "client_id": "cli_jane",
        "client_name": "Jane O'Neil",
        "total": "125.00",
        "currency": "USD",
    }
    assert shown["issue_date"] == "2026-11-24"
    assert shown["customer"] == {"qbo_customer_id": customer["Id"], "display_name": "Jane O'Neil"}
    (entry,) = shown["history"]
    assert {k: entry[k] for k in ("outcome", "by", "reason", "intuit_tid")} == {
        "outcome": "exported",
        "by": "system",
        "reason": None,
        "intuit_tid": None,
    }
    assert entry["at"]


def test_filters_by_client_and_by_number_read_an_index_each(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    send(env, invoice(contractor, "811", client_id="cli_a"))
    send(env, invoice(contractor, "812", "Riverside Dental", client_id="cli_b"))
    send(env, invoice(contractor, "813", client_id="cli_a"))

    by_client = exports(env, contractor, client_id="cli_a")["items"]
    with dynamodb_calls() as calls:
        by_number = exports(env, contractor, number="812")["items"]

    assert [i["invoice_number"] for i in by_client] == ["813", "811"]
    assert [i["invoice_number"] for i in by_number] == ["812"]
    assert "Scan" not in calls and calls.count("Query") == 2  # the company's and the skipped
    assert exports(env, contractor, number="812", status="failed")["items"] == []
    assert exports(env, contractor, number="999")["items"] == []
    page = exports(env, contractor, client_id="cli_a", limit="1")
    rest = exports(env, contractor, client_id="cli_a", limit="1", cursor=page["cursor"])
    assert [i["invoice_number"] for i in page["items"] + rest["items"]] == ["813", "811"]
    both = env.platform.api(
        "GET", "/quickbooks/exports", contractor, query={"client_id": "cli_a", "status": "failed"}
    )
    assert (both["statusCode"], json.loads(both["body"])["error"]) == (400, "invalid_filter")


def test_dismiss_keeps_an_invoice_out_of_quickbooks_until_a_retry(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.close_books(realm, PERIOD_CLOSED_THROUGH)
    send(env, invoice(contractor, "821"))
    assert item(env, contractor, "inv_821")["status"] == "failed"

    assert post(env, contractor, "inv_821", "dismiss") == (200, {"status": "dismissed"})

    dismissed = item(env, contractor, "inv_821")
    assert dismissed["status"] == "dismissed"
    assert dismissed["reason"]["code"] == "invoice_dismissed"
    assert [(h["outcome"], h["by"]) for h in dismissed["history"]] == [
        ("dismissed", "contractor"),
        ("failed", "system"),
    ]
    assert dismissed["history"][1]["reason"]["code"] == "accounting_period_closed"
    assert [i["invoice_id"] for i in exports(env, contractor, status="dismissed")["items"]] == [
        "inv_821"
    ]
    view = json.loads(env.platform.api("GET", "/quickbooks/connection", contractor)["body"])
    assert view["failed_exports"] == 0

    qbo.close_books(realm, None)
    assert post(env, contractor, "inv_821", "retry")[0] == 202
    env.runtime.poll_sqs(CONSUMER)

    retried = item(env, contractor, "inv_821")
    assert retried["status"] == "exported"
    assert [h["outcome"] for h in retried["history"]][:2] == ["exported", "retried"]
    assert [i["DocNumber"] for i in qbo.entities(realm, "Invoice")] == ["821"]
    status, body = post(env, contractor, "inv_821", "dismiss")
    assert (status, body["error"]) == (409, "already_exported")
    assert body["message"]
    assert item(env, contractor, "inv_821")["status"] == "exported"
    status, body = post(env, contractor, "inv_nothing", "dismiss")
    assert (status, body["error"]) == (404, "not_found")


def test_a_skipped_invoice_can_be_dismissed_before_connecting(env: LocalEnvironment) -> None:
    env.platform.send_invoice(invoice("ctr_later", "831"))
    env.runtime.poll_sqs(CONSUMER)
    assert item(env, "ctr_later", "inv_831")["status"] == "skipped"

    assert post(env, "ctr_later", "inv_831", "dismiss") == (200, {"status": "dismissed"})

    assert item(env, "ctr_later", "inv_831")["status"] == "dismissed"


def test_history_keeps_the_last_ten_attempts(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.close_books(realm, PERIOD_CLOSED_THROUGH)
    send(env, invoice(contractor, "841"))
    for _ in range(12):  # each: retried (contractor), failed (system)
        assert post(env, contractor, "inv_841", "retry")[0] == 202
        env.runtime.poll_sqs(CONSUMER)

    history = item(env, contractor, "inv_841")["history"]

    assert len(history) == 10
    assert [h["outcome"] for h in history[:2]] == ["failed", "retried"]
    assert [h["at"] for h in history] == sorted((h["at"] for h in history), reverse=True)


def test_the_list_is_the_connected_companys_and_the_skipped_invoices(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    env.platform.send_invoice(invoice("ctr_two", "851"))  # before any company: skipped
    env.runtime.poll_sqs(CONSUMER)
    first = connect(env, "ctr_two", "First Books LLC")
    send(env, invoice("ctr_two", "852"))
    assert {i["invoice_number"] for i in exports(env, "ctr_two")["items"]} == {"851", "852"}

    connect(env, "ctr_two", "Second Books LLC")

    listed = exports(env, "ctr_two")["items"]
    assert [(i["invoice_number"], i["status"]) for i in listed] == [("851", "skipped")]
    assert exports(env, "ctr_two", status="exported")["items"] == []
    assert exports(env, "ctr_two", number="852")["items"] == []
    assert [i["DocNumber"] for i in qbo.entities(first, "Invoice")] == ["852"]


def test_pages_merge_the_skipped_and_the_companys_records_newest_first(
    env: LocalEnvironment,
) -> None:
    for n in range(3):  # before any company: skipped
        message = invoice("ctr_pager", f"86{n}")
        message["sent_at"] = f"2026-11-2{2 * n}T10:00:00Z"
        env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)
    connect(env, "ctr_pager", "Pager Books LLC")
    for n in range(3):
        message = invoice("ctr_pager", f"87{n}")
        message["sent_at"] = f"2026-11-2{2 * n + 1}T10:00:00Z"
        send(env, message)

    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = exports(env, "ctr_pager", limit="2", **({"cursor": cursor} if cursor else {}))
        seen += [i["invoice_number"] for i in page["items"]]
        cursor = page["cursor"]
        if cursor is None:
            break

    assert seen == ["872", "862", "871", "861", "870", "860"]
    stolen = env.platform.api(
        "GET",
        "/quickbooks/exports",
        "ctr_123",
        query={"cursor": exports(env, "ctr_pager", limit="1")["cursor"]},
    )
    assert json.loads(stolen["body"])["error"] == "invalid_cursor"


def test_the_export_peeks_a_dismissal_on_the_record_or_the_skipped_record() -> None:
    """What the export reads before it writes QBO (ledger/records.py's ExportPeek): a dismissed
    record, in the company or skipped, is acknowledged without a QBO request."""
    from qbo_sync.ledger.keys import ledger_sk, skipped_sk
    from qbo_sync.ledger.records import ExportPeek

    in_realm = {ledger_sk("9130", "inv_1"): {"export_status": "dismissed"}}
    skipped = {skipped_sk("inv_1"): {"export_status": "dismissed"}}
    retried = {ledger_sk("9130", "inv_1"): {"export_status": "pending", "export_retry": "r1"}}

    assert ExportPeek.of("9130", "inv_1", in_realm).dismissed
    assert ExportPeek.of("9130", "inv_1", skipped).dismissed
    assert not ExportPeek.of("9130", "inv_1", retried).dismissed
    assert not ExportPeek.of("9130", "inv_1", in_realm).voided
