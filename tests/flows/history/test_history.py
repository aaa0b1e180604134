"""History (docs/interface.md §15) through the HTTP routes, the outbox, the platform's replay on
the history queue and the consumer, asserting on what the emulated QBO company shows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from history_support import (
    api,
    hand_key,
    metered_reads,
    progress,
    request_history,
    run_history,
)

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

CONTRACTOR = "ctr_hist"
CONSUMER = "InvoiceSentFunction"


def sent(number: str, client: str, amount: str, issued: str = "2026-10-01") -> dict[str, Any]:
    message = samples.invoice_sent(CONTRACTOR, number, client, [("Work", "1", amount)])
    message["invoice"]["issue_date"] = issued
    return message


@pytest.fixture
def realm(qbo: QboEmulator) -> str:
    return qbo.create_company("Birch Remodeling")


def connect(env: LocalEnvironment) -> None:
    landed = env.platform.connect_quickbooks(CONTRACTOR)
    assert landed.endswith("quickbooks=connected"), landed


def test_history_exports_skipped_and_earlier_invoices_adopting_what_was_keyed_by_hand(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    # Sent while nothing was connected: skipped.
    env.platform.send_invoice(sent("H-1", "Ann Alder", "100.00"))
    env.runtime.drain()
    # Sent before this system ran: only the platform knows them.
    env.platform.invoicing.remember(sent("H-2", "Ben Birch", "200.00"))
    env.platform.invoicing.remember(sent("H-3", "Cy Cedar", "300.00"))
    env.platform.invoicing.remember(sent("H-4", "Cy Cedar", "400.00"))
    env.platform.invoicing.remember(sent("H-0", "Old Client", "9.00", issued="2025-12-31"))
    connect(env)
    # Keyed in by hand: H-3 as the platform has it (adopted), H-4 for another amount (taken).
    cedar = qbo.add_customer(realm, "Cy Cedar")
    adopted = hand_key(qbo, realm, "H-3", cedar, "300.00")
    taken = hand_key(qbo, realm, "H-4", cedar, "399.00")
    reads_before = metered_reads(qbo, realm, "Invoice")

    answer = request_history(env, CONTRACTOR, "2026-01-01")
    assert answer["status"] == "requested" and answer["since"] == "2026-01-01"
    assert metered_reads(qbo, realm, "Invoice") - reads_before == 1  # the numbers' one query
    assert run_history(env) == 4  # H-1..H-4: H-0 was issued before `since`

    invoices = by_doc_number(qbo, realm)
    assert set(invoices) == {"H-1", "H-2", "H-3", "H-4"}
    assert Decimal(str(invoices["H-1"]["TotalAmt"])) == Decimal("100.00")
    assert Decimal(str(invoices["H-2"]["TotalAmt"])) == Decimal("200.00")
    # Adopted and taken ones are exactly as the contractor keyed them.
    assert invoices["H-3"]["SyncToken"] == adopted["SyncToken"]
    assert invoices["H-4"]["SyncToken"] == taken["SyncToken"]
    assert len([i for i in qbo.entities(realm, "Invoice") if i["DocNumber"] == "H-3"]) == 1
    shown = progress(env, CONTRACTOR)
    assert {k: shown[k] for k in ("status", "expected", "exported", "adopted", "failed")} == {
        "status": "done",
        "expected": 4,
        "exported": 2,
        "adopted": 1,
        "failed": 1,
    }
    assert shown["pending"] == 0
    # No invoice read per history invoice: the request's one query was all.
    assert metered_reads(qbo, realm, "Invoice") - reads_before == 1
    items = _exports(env)
    assert items["inv_H-3"]["status"] == "exported" and items["inv_H-3"]["adopted"] is True
    assert items["inv_H-3"]["qbo_invoice_id"] == adopted["Id"]
    assert items["inv_H-4"]["reason"]["code"] == "invoice_number_taken"
    assert items["inv_H-4"]["reason"]["qbo_invoice_id"] == taken["Id"]
    assert "skipped" not in {item["status"] for item in items.values()}


def test_redelivered_history_changes_nothing_and_counts_once(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    connect(env)
    for number in ("R-1", "R-2"):
        env.platform.invoicing.remember(sent(number, "Dee Dogwood", "50.00"))
    request_history(env, CONTRACTOR, "2026-01-01")
    run_history(env)
    before = {row["Id"]: row["SyncToken"] for row in qbo.entities(realm, "Invoice")}

    # The service answers the same request again (a redelivered event).
    request = progress(env, CONTRACTOR)
    env.platform.invoicing._replay(
        {"contractor_id": CONTRACTOR, "since": "2026-01-01", "request_id": request["request_id"]}
    )
    env.runtime.drain()

    assert {row["Id"]: row["SyncToken"] for row in qbo.entities(realm, "Invoice")} == before
    again = progress(env, CONTRACTOR)
    assert (again["exported"], again["expected"], again["status"]) == (2, 2, "done")


def test_an_invoice_on_both_queues_is_exported_once_latest_revision_winning(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    connect(env)
    first = sent("B-1", "Eve Elm", "70.00")
    env.platform.invoicing.remember(first)
    request_history(env, CONTRACTOR, "2026-01-01")
    env.runtime.drain()
    env.platform.invoicing.answer()  # the replay waits on the history queue
    revised = sent("B-1", "Eve Elm", "75.00")
    revised["invoice"]["revision"] = 2
    env.platform.send_invoice(revised)  # live, revision 2
    env.runtime.drain()

    [invoice] = [i for i in qbo.entities(realm, "Invoice") if i["DocNumber"] == "B-1"]
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("75.00")


def test_a_live_invoice_is_exported_while_history_waits(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    connect(env)
    for n in range(500):
        env.platform.invoicing.remember(sent(f"W-{n}", "Fay Fir", "1.00"))
    request_history(env, CONTRACTOR, "2026-01-01")
    env.runtime.drain()
    assert env.platform.invoicing.answer() == 500

    env.platform.send_invoice(sent("LIVE-1", "Gus Gum", "12.34"))
    env.runtime.poll_sqs(CONSUMER, max_batches=1)

    assert set(by_doc_number(qbo, realm)) == {"LIVE-1"}
    waiting = progress(env, CONTRACTOR)
    # The closing message waits behind the 500: the count is not known yet.
    assert (waiting["status"], waiting["expected"], waiting["exported"]) == ("requested", None, 0)


def test_an_invoice_voided_on_the_platform_is_replayed_as_its_void_and_never_exported(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    message = sent("V-1", "Hal Holly", "80.00")
    env.platform.invoicing.remember(message)
    env.platform.invoicing.remember(
        {
            "schema_version": 1,
            "message_type": "invoice_voided",
            "event_id": "evt_void",
            "contractor_id": CONTRACTOR,
            "voided_at": "2026-10-03T10:00:00Z",
            "invoice": {"id": "inv_V-1", "number": "V-1", "revision": 1},
        }
    )
    connect(env)

    request_history(env, CONTRACTOR, "2026-01-01")
    run_history(env)

    assert "V-1" not in by_doc_number(qbo, realm)
    shown = progress(env, CONTRACTOR)
    assert (shown["failed"], shown["exported"], shown["status"]) == (1, 0, "done")


def test_a_request_whose_closing_message_never_comes_is_done_a_day_later(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    connect(env)
    request_history(env, CONTRACTOR, "2026-01-01")
    env.runtime.drain()  # the service never answers

    assert progress(env, CONTRACTOR)["status"] == "requested"
    status, body = api(env, "POST", CONTRACTOR, {"since": "2026-02-01"})
    assert (status, body["error"]) == (409, "history_in_progress")

    env.clock.advance(25 * 3600)
    assert progress(env, CONTRACTOR)["status"] == "done"
    assert request_history(env, CONTRACTOR, "2026-02-01")["since"] == "2026-02-01"


@pytest.mark.parametrize(
    "since, why",
    [
        ("", "YYYY-MM-DD"),
        ("01/02/2026", "YYYY-MM-DD"),
        ("2026-02-30", "YYYY-MM-DD"),
        ("2099-01-01", "future"),
        ("2019-01-01", "five years"),
        (None, "YYYY-MM-DD"),
    ],
)
def test_a_bad_since_is_refused_naming_the_field_and_nothing_is_requested(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, since: Any, why: str
) -> None:
    connect(env)
    status, body = api(env, "POST", CONTRACTOR, {"since": since})
    assert (status, body["error"]) == (400, "invalid_since")
    assert body["message"].startswith("since:") and why in body["message"]
    assert api(env, "GET", CONTRACTOR)[0] == 404


def test_history_needs_a_connection(env: LocalEnvironment, qbo: QboEmulator, realm: str) -> None:
    status, body = api(env, "POST", CONTRACTOR, {"since": "2026-01-01"})
    assert (status, body["error"]) == (409, "not_connected")
    assert api(env, "GET", CONTRACTOR)[0] == 404


def _exports(env: LocalEnvironment) -> dict[str, dict[str, Any]]:
    import json

    response = env.platform.api("GET", "/quickbooks/exports", CONTRACTOR)
    assert response["statusCode"] == 200, response
    return {item["invoice_id"]: item for item in json.loads(response["body"])["items"]}


def test_a_crash_between_quickbooks_and_the_record_exports_a_history_invoice_once(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    connect(env)
    env.platform.invoicing.remember(sent("C-1", "Ivy Ironwood", "64.00"))
    request_history(env, CONTRACTOR, "2026-01-01")
    env.runtime.drain()
    env.platform.invoicing.answer()
    # Customer, item and invoice: each stored by QuickBooks, each answer lost.
    qbo.crash_after_commit_next(3)
    env.runtime.drain()

    [invoice] = [i for i in qbo.entities(realm, "Invoice") if i["DocNumber"] == "C-1"]
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("64.00")
    assert (
        len([c for c in qbo.entities(realm, "Customer") if c["DisplayName"] == "Ivy Ironwood"]) == 1
    )
    shown = progress(env, CONTRACTOR)
    assert (shown["exported"], shown["adopted"], shown["status"]) == (1, 0, "done")
