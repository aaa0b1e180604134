"""Upgrades (issue 25): the stored items of an older release brought to today's shape by the
migrations MigrateFunction runs on deploy (the Migrations custom resource) and when the local
stack starts.

Migration 1 backfills the recorded-payment index: payments recorded by the release before it
have their ledger entry but no index item, so a payout listing them waited for ever.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import boto3
import pytest
from payouts_support import choose_bank, paid, pay_out, payment, payouts_list

from local import samples
from local.environment import LocalEnvironment, run_migrations
from local.qbo_emulator import QboEmulator

MIGRATE = "MigrateFunction"


def as_before_the_index(env: LocalEnvironment, contractor: str, realm: str, *ids: str) -> None:
    """What the release before the index left: the payments' ledger entries, no index item
    (and no record that migration 1 ran)."""
    from qbo_sync.ledger.keys import recorded_payment_key

    dynamodb = boto3.client("dynamodb")
    mappings = env.stack.tables["MappingsTable"]
    for payment_id in ids:
        key = recorded_payment_key(contractor, realm, payment_id)
        assert "Item" in dynamodb.get_item(TableName=mappings, Key=key)  # today's recorder
        dynamodb.delete_item(TableName=mappings, Key=key)
    operations = env.stack.tables["OperationsTable"]
    dynamodb.delete_item(
        TableName=operations, Key={"pk": {"S": "migration"}, "sk": {"S": "000001"}}
    )


def migration_record(env: LocalEnvironment) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(
        TableName=env.stack.tables["OperationsTable"],
        Key={"pk": {"S": "migration"}, "sk": {"S": "000001"}},
    )
    return dict(item.get("Item", {}))


def test_payments_recorded_before_the_index_are_deposited_by_a_payout_after_the_upgrade(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    paid(env, contractor, "10", "100.00", "pay_old_1")
    paid(env, contractor, "11", "50.00", "pay_old_2")
    as_before_the_index(env, contractor, realm, "pay_old_1", "pay_old_2")
    detail = samples.payout_paid(
        contractor,
        "po_old",
        [payment("pay_old_1", "100.00", "2.90"), payment("pay_old_2", "50.00", "1.45")],
    )

    # Before the upgrade the payout cannot find them: it waits (for ever, without one).
    pay_out(env, detail)
    [waiting] = payouts_list(env, contractor)["items"]
    assert (waiting["status"], waiting["reason"]["code"]) == ("waiting", "payment_not_recorded")
    assert qbo.entities(realm, "Deposit") == []

    # The upgrade: the migrations run (as a deploy's custom resource, or the local stack's
    # start, calls them); the payout that waited is sent again and deposits.
    outcome = run_migrations(env.runtime)
    result = env.runtime.poll_sqs("PaymentCompletedFunction")

    assert outcome["Done"] == "1" and outcome["Complete"] == "true"
    assert result.failed == 0, result.errors
    [deposit] = qbo.entities(realm, "Deposit")
    assert deposit["TotalAmt"] == Decimal("145.65")
    assert payouts_list(env, contractor)["items"][0]["status"] == "deposited"
    record = migration_record(env)
    assert record["status"]["S"] == "done" and int(record["items"]["N"]) == 2


def test_a_payout_after_the_upgrade_deposits_payments_recorded_before_it(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    choose_bank(env, qbo, realm, contractor)
    paid(env, contractor, "12", "80.00", "pay_old_3")
    as_before_the_index(env, contractor, realm, "pay_old_3")

    run_migrations(env.runtime)
    pay_out(env, samples.payout_paid(contractor, "po_new", [payment("pay_old_3", "80.00")]))

    [deposit] = qbo.entities(realm, "Deposit")
    assert deposit["TotalAmt"] == Decimal("80.00")


def test_migrations_run_once_and_a_second_run_finds_nothing_to_do(
    env: LocalEnvironment, contractor: str, realm: str
) -> None:
    paid(env, contractor, "13", "10.00", "pay_once")
    as_before_the_index(env, contractor, realm, "pay_once")

    first = run_migrations(env.runtime)
    second = run_migrations(env.runtime)

    assert (first["Done"], first["Items"]) == ("1", 1)
    assert (second["Done"], second["Items"], second["Complete"]) == ("", 0, "true")


def test_a_migration_out_of_time_stops_and_the_next_run_goes_on_from_where_it_stopped(
    env: LocalEnvironment, contractor: str, realm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qbo_sync.migrations import m0001_recorded_payment_index as m0001
    from qbo_sync.migrations.runner import run_pending

    for number in ("20", "21", "22"):
        paid(env, contractor, number, "10.00", f"pay_{number}")
    as_before_the_index(env, contractor, realm, "pay_20", "pay_21", "pay_22")
    monkeypatch.setattr(m0001, "PAGE_SIZE", 1)  # a page per ledger item
    pages = iter([1000.0, 1000.0, 0.0])  # time for two pages, then none

    stopped = run_pending(lambda: next(pages))
    assert (stopped.done, stopped.pending) == ([], [1])
    assert migration_record(env)["status"]["S"] == "running"
    assert "progress" in migration_record(env)

    finished = run_pending(lambda: 1000.0)
    assert finished.done == [1]
    assert int(migration_record(env)["items"]["N"]) == 3


class _CloudFormation(BaseHTTPRequestHandler):
    answers: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        _CloudFormation.answers.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cloudformation() -> Iterator[str]:
    """CloudFormation's pre-signed response URL, answered locally."""
    _CloudFormation.answers = []
    server = HTTPServer(("127.0.0.1", 0), _CloudFormation)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/response"
    finally:
        server.shutdown()


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_the_custom_resource_runs_the_migrations_and_answers_cloudformation(
    env: LocalEnvironment, contractor: str, realm: str, cloudformation: str, request_type: str
) -> None:
    paid(env, contractor, "30", "10.00", "pay_cfn")
    as_before_the_index(env, contractor, realm, "pay_cfn")
    event = {
        "RequestType": request_type,
        "ResponseURL": cloudformation,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/qbo-sync/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Migrations",
        "ResourceType": "Custom::Migrations",
        "ResourceProperties": {"ServiceToken": "arn", "LatestMigration": "1"},
    }

    env.runtime.invoke(MIGRATE, event)

    [answer] = _CloudFormation.answers
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["Done"] == "1"
    assert answer["LogicalResourceId"] == "Migrations"
    assert migration_record(env)["status"]["S"] == "done"
