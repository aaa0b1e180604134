"""Tokens at rest and in use, observed through the consumers and the emulated Intuit."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import boto3

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number


def _view(env: LocalEnvironment, contractor_id: str) -> dict[str, Any]:
    response = env.platform.api("GET", "/quickbooks/connection", contractor_id)
    return dict(json.loads(response["body"]))


def _export(env: LocalEnvironment, contractor_id: str, numbers: list[str]) -> None:
    for number in numbers:
        env.platform.send_invoice(
            samples.invoice_sent(contractor_id, number, "Token Client", [("Job", "1", "10.00")])
        )
    env.runtime.poll_sqs("InvoiceSentFunction")


def test_concurrent_refreshes_never_lose_the_rotated_refresh_token(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    numbers = [str(n) for n in range(1, 7)]
    _export(env, contractor, numbers)
    qbo.expire_access_tokens(realm)
    refreshes_before = qbo.count_requests(kind="oauth", path_suffix="/tokens/bearer")
    events = [
        samples.payment_event(
            env.stack, samples.payment_completed(contractor, f"inv_{n}", n, "10.00")
        )
        for n in numbers
    ]
    barrier = threading.Barrier(len(events))
    failures: list[BaseException] = []

    def pay(event: dict[str, Any]) -> None:
        barrier.wait()  # several "Lambdas" meet the expired token at once
        try:
            env.runtime.invoke("PaymentCompletedFunction", event)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=pay, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert all(Decimal(str(i["Balance"])) == 0 for i in by_doc_number(qbo, realm).values())
    assert qbo.count_requests(kind="oauth", path_suffix="/tokens/bearer") - refreshes_before == 1
    assert _view(env, contractor)["status"] == "connected"
    # The stored refresh token is the newest: a later refresh still works.
    qbo.expire_access_tokens(realm)
    _export(env, contractor, ["7"])
    assert "7" in by_doc_number(qbo, realm)


def test_refresh_refused_by_intuit_marks_the_connection_for_reauthorization(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.revoke_refresh_tokens(realm)  # the company disconnected the app in QuickBooks

    _export(env, contractor, ["1"])

    assert _view(env, contractor)["status"] == "reauthorization_required"
    assert qbo.entities(realm, "Invoice") == []


def test_one_contractors_token_ciphertext_cannot_be_replayed_as_anothers(
    env: LocalEnvironment, qbo: QboEmulator, realm: str
) -> None:
    env.platform.connect_quickbooks("ctr_victim")
    qbo.consent(qbo.create_company("Attacker Books"))
    env.platform.connect_quickbooks("ctr_attacker")
    table = env.stack.resources["ConnectionsTable"]
    dynamodb = boto3.client("dynamodb")
    victim = dynamodb.get_item(TableName=table, Key={"contractor_id": {"S": "ctr_victim"}})["Item"]
    # Someone with write access to the table copies the victim's sealed tokens to another row.
    dynamodb.put_item(TableName=table, Item={**victim, "contractor_id": {"S": "ctr_attacker"}})

    env.platform.send_invoice(
        samples.invoice_sent("ctr_attacker", "666", "Mallory", [("X", "1", "1.00")])
    )
    result = env.runtime.poll_sqs("InvoiceSentFunction", max_batches=1)

    assert result.failed == 1
    assert qbo.entities(realm, "Invoice") == []


def test_discovery_document_is_fetched_once_per_container(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.expire_access_tokens(realm)
    _export(env, contractor, ["1"])
    env.platform.connect_quickbooks(contractor)
    env.platform.api("DELETE", "/quickbooks/connection", contractor)

    # At most the first use in this test process fetched it; not once per call.
    assert qbo.count_requests(kind="oauth", path_suffix="openid_configuration") <= 1
