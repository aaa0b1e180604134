"""The two ways the export once made a second invoice (issue 21), through the handlers: an
answer lost just before a long outage, then the contractor's Retry; and an invoice kept while
QuickBooks needed reconnecting, resumed after QuickBooks forgot the requestid. In both, an
earlier attempt may have reached QuickBooks, and the slot remembers it (not the delivery
count), so the export looks before it creates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from export_support import CONSUMER, dead_letters, record_retry_sleeps

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number

THIRTEEN_HOURS = 13 * 3600  # longer than the 12 hours the export keeps trying


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    record_retry_sleeps(monkeypatch)


def _loses_the_invoice_answer(monkeypatch: pytest.MonkeyPatch, then: Any) -> list[str]:
    """QuickBooks commits the first invoice create; its answer never arrives, and `then`
    happens (an outage, a revoked grant) before any retry can read the replay."""
    from qbo_sync.qbo.client import QboClient
    from qbo_sync.qbo.faults import QboUnavailable

    lost: list[str] = []
    real = QboClient.create

    def create(self: QboClient, entity: str, fields: Any, requestid: str) -> Any:
        answer = real(self, entity, fields, requestid)
        if entity == "Invoice" and not lost:
            lost.append(str(answer["Id"]))
            then()
            raise QboUnavailable(0, "", "the connection dropped before the answer")
        return answer

    monkeypatch.setattr(QboClient, "create", create)
    return lost


def _sales_lines(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """Another invoice's sales lines, as a bookkeeper would key them again."""
    return [
        {key: line[key] for key in ("Amount", "DetailType", "SalesItemLineDetail", "Description")}
        for line in invoice["Line"]
        if line.get("DetailType") == "SalesItemLineDetail"
    ]


def _status(env: LocalEnvironment, contractor: str, invoice_id: str) -> dict[str, Any]:
    body = json.loads(env.platform.api("GET", "/quickbooks/exports", contractor)["body"])
    return next(item for item in body["items"] if item["invoice_id"] == invoice_id)


def test_a_lost_answer_then_a_long_outage_then_retry_leaves_one_invoice(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lost = _loses_the_invoice_answer(
        monkeypatch, lambda: qbo.outage(realm, THIRTEEN_HOURS, statuses=(503,))
    )
    env.platform.send_invoice(samples.invoice_sent(contractor, "LA-1", "Ann", [("A", "1", "10")]))

    env.runtime.poll_sqs(CONSUMER)  # tries for 12 hours, then gives up

    assert lost and len(qbo.entities(realm, "Invoice")) == 1
    gave_up = _status(env, contractor, "inv_LA-1")
    assert (gave_up["status"], gave_up["reason"]["code"]) == ("failed", "qbo_unavailable_gave_up")
    env.clock.advance(3 * 3600)  # QuickBooks is back; the contractor presses Retry
    retried = env.platform.api("POST", "/quickbooks/exports/inv_LA-1/retry", contractor)
    assert retried["statusCode"] == 202
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.failed, result.succeeded) == (0, 1)
    [invoice] = qbo.entities(realm, "Invoice")
    assert invoice["Id"] == lost[0]  # the one the lost answer made, found, not made again
    exported = _status(env, contractor, "inv_LA-1")
    assert (exported["status"], exported["qbo_invoice_id"]) == ("exported", lost[0])
    assert dead_letters(env) == []


def test_an_invoice_kept_for_a_reconnect_and_resumed_after_quickbooks_forgot_is_one_invoice(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def the_grant_is_revoked() -> None:
        qbo.revoke_refresh_tokens(realm)
        qbo.expire_access_tokens(realm)

    lost = _loses_the_invoice_answer(monkeypatch, the_grant_is_revoked)
    env.platform.send_invoice(samples.invoice_sent(contractor, "KR-1", "Kim", [("A", "2", "5")]))
    env.runtime.poll_sqs(CONSUMER)
    kept = _status(env, contractor, "inv_KR-1")
    assert (kept["status"], kept["reason"]["code"]) == ("pending", "reauthorization_required")

    qbo.forget_request_ids(realm)  # the reconnect comes later than QuickBooks remembers
    assert env.platform.connect_quickbooks(contractor).endswith("quickbooks=connected")
    env.runtime.drain()

    assert [invoice["Id"] for invoice in qbo.entities(realm, "Invoice")] == lost
    assert set(by_doc_number(qbo, realm)) == {"KR-1"}
    assert _status(env, contractor, "inv_KR-1")["status"] == "exported"


def test_a_hand_keyed_invoice_with_the_number_is_never_changed(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    """A company that refuses duplicate numbers, and an invoice keyed in by hand with the
    platform's number for another client: the export fails naming it, and writes nothing."""
    qbo.company_settings(realm, warn_duplicate_doc_number=True)
    env.platform.send_invoice(samples.invoice_sent(contractor, "HK-0", "Other", [("A", "1", "7")]))
    env.runtime.poll_sqs(CONSUMER)
    [other] = qbo.entities(realm, "Invoice")
    hand_keyed = qbo.add_invoice(
        realm,
        {
            "DocNumber": "HK-1",
            "CustomerRef": other["CustomerRef"],
            "Line": _sales_lines(other),
            "PrivateNote": "keyed in by hand",
        },
    )
    before = {row["Id"]: row["SyncToken"] for row in qbo.entities(realm, "Invoice")}

    env.platform.send_invoice(samples.invoice_sent(contractor, "HK-1", "Hal", [("A", "3", "9")]))
    env.runtime.poll_sqs(CONSUMER)

    assert {row["Id"]: row["SyncToken"] for row in qbo.entities(realm, "Invoice")} == before
    failed = _status(env, contractor, "inv_HK-1")
    assert (failed["status"], failed["reason"]["code"]) == ("failed", "invoice_number_taken")
    assert failed["reason"]["qbo_invoice_id"] == hand_keyed["Id"]
    assert hand_keyed["Id"] in failed["reason"]["message"]


def test_a_hand_keyed_invoice_of_the_same_client_and_total_is_adopted_as_it_is(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.company_settings(realm, warn_duplicate_doc_number=True)
    env.platform.send_invoice(samples.invoice_sent(contractor, "HK-2", "Hal", [("A", "1", "27")]))
    env.runtime.poll_sqs(CONSUMER)
    [first] = qbo.entities(realm, "Invoice")
    hand_keyed = qbo.add_invoice(
        realm,
        {
            "DocNumber": "HK-3",
            "CustomerRef": first["CustomerRef"],
            "Line": _sales_lines(first),
            "PrivateNote": "keyed in by hand",
        },
    )

    env.platform.send_invoice(samples.invoice_sent(contractor, "HK-3", "Hal", [("A", "1", "27")]))
    env.runtime.poll_sqs(CONSUMER)

    adopted = _status(env, contractor, "inv_HK-3")
    assert (adopted["status"], adopted["qbo_invoice_id"]) == ("exported", hand_keyed["Id"])
    [row] = [r for r in qbo.entities(realm, "Invoice") if r["DocNumber"] == "HK-3"]
    assert (row["SyncToken"], row["PrivateNote"]) == (hand_keyed["SyncToken"], "keyed in by hand")
