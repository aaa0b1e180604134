"""Migration 1 also brings the export records stored before the list was scoped to the
connected company (their index keys were the bare contractor id) to today's keys, so the
contractor's list shows them again after the upgrade."""

from __future__ import annotations

import json

import boto3
from export_support import CONSUMER

from local import samples
from local.environment import LocalEnvironment, run_migrations


def test_a_record_stored_with_the_old_index_keys_is_listed_after_the_upgrade(
    env: LocalEnvironment, contractor: str, realm: str
) -> None:
    env.platform.send_invoice(samples.invoice_sent(contractor, "OLD-1", "Ola", [("A", "1", "9")]))
    env.runtime.poll_sqs(CONSUMER)
    dynamodb = boto3.client("dynamodb")
    table = env.stack.tables["MappingsTable"]
    key = {"pk": {"S": contractor}, "sk": {"S": f"{realm}#payments#inv_OLD-1"}}
    dynamodb.update_item(  # as the release before the scoped list stored it
        TableName=table,
        Key=key,
        UpdateExpression="SET exports_pk = :c, exports_status_pk = :s "
        "REMOVE exports_client_pk, exports_number_pk, client_id",
        ExpressionAttributeValues={
            ":c": {"S": contractor},
            ":s": {"S": f"{contractor}#exported"},
        },
    )
    dynamodb.delete_item(
        TableName=env.stack.tables["OperationsTable"],
        Key={"pk": {"S": "migration"}, "sk": {"S": "000001"}},
    )

    def listed() -> list[str]:
        answer = env.platform.api("GET", "/quickbooks/exports", contractor)
        return [item["invoice_id"] for item in json.loads(answer["body"])["items"]]

    assert listed() == []
    run_migrations(env.runtime)

    assert listed() == ["inv_OLD-1"]
    number = env.platform.api("GET", "/quickbooks/exports", contractor, query={"number": "OLD-1"})
    assert [item["invoice_id"] for item in json.loads(number["body"])["items"]] == ["inv_OLD-1"]
