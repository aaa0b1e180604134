"""The export side of the page's controls (docs/interface.md §11, §14), through the handlers: a
dismissed invoice's later messages are acknowledged without a QuickBooks request and kept for
the Retry that undoes the dismissal; the income account the contractor chose is the next new
invoice's item's."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from export_support import CONSUMER

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

CLOSED_THROUGH = "2026-11-30"  # the samples' invoices are dated 2026-11-24


def _item(env: LocalEnvironment, contractor: str, invoice_id: str) -> dict[str, Any]:
    body = json.loads(env.platform.api("GET", "/quickbooks/exports", contractor)["body"])
    return next(item for item in body["items"] if item["invoice_id"] == invoice_id)


def _post(env: LocalEnvironment, contractor: str, invoice_id: str, action: str) -> int:
    path = f"/quickbooks/exports/{invoice_id}/{action}"
    return int(env.platform.api("POST", path, contractor)["statusCode"])


def _send(env: LocalEnvironment, contractor: str, number: str, revision: int = 1) -> None:
    lines = [("Job", "1", str(100 * revision))]
    message = samples.invoice_sent(contractor, number, "Dee", lines, revision=revision)
    env.platform.send_invoice(message)
    env.runtime.poll_sqs(CONSUMER)


def test_a_dismissed_invoice_sent_again_costs_no_quickbooks_request_until_the_retry(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.close_books(realm, CLOSED_THROUGH)
    _send(env, contractor, "DM-1")
    assert _post(env, contractor, "inv_DM-1", "dismiss") == 200
    qbo.close_books(realm, None)
    before = qbo.count_requests(realm)

    _send(env, contractor, "DM-1", revision=2)  # edited and sent again on the platform

    assert qbo.count_requests(realm) == before
    kept = _item(env, contractor, "inv_DM-1")
    assert (kept["status"], kept["revision"]) == ("dismissed", 2)
    assert _post(env, contractor, "inv_DM-1", "retry") == 202
    env.runtime.poll_sqs(CONSUMER)
    [invoice] = qbo.entities(realm, "Invoice")
    assert (invoice["DocNumber"], Decimal(str(invoice["TotalAmt"]))) == ("DM-1", Decimal("200"))
    assert _item(env, contractor, "inv_DM-1")["status"] == "exported"


def test_a_skipped_dismissed_invoice_sent_again_stays_dismissed(env: LocalEnvironment) -> None:
    _send(env, "ctr_nobody", "DM-2")
    assert _post(env, "ctr_nobody", "inv_DM-2", "dismiss") == 200

    _send(env, "ctr_nobody", "DM-2", revision=2)

    kept = _item(env, "ctr_nobody", "inv_DM-2")
    assert (kept["status"], kept["revision"]) == ("dismissed", 2)


def test_the_chosen_income_account_is_the_next_new_invoices_items(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    chosen = qbo.add_account(realm, "Contract income", "Income")
    body = json.dumps({"income_account_id": chosen})
    answer = env.platform.api("PUT", "/quickbooks/settings", contractor, body=body)
    assert answer["statusCode"] == 200, answer

    _send(env, contractor, "IN-1")

    [invoice] = qbo.entities(realm, "Invoice")
    item_id = invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"]
    [item] = [row for row in qbo.entities(realm, "Item") if row["Id"] == item_id]
    assert item["IncomeAccountRef"]["value"] == chosen
