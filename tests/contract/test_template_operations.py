"""template.yaml's operations settings, each named by its resource's logical id (issue 25).

A merge once dropped a template setting silently: every property this issue added is asserted
here on the resource that must carry it, so losing one fails a test that says which.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.contract.test_template import (
    FUNCTIONS,
    PARAMETERS,
    RESOURCES,
    ROOT,
    TEMPLATE,
    environment,
    of_type,
    references,
    target,
)


def props(logical_id: str) -> dict[str, Any]:
    return dict(RESOURCES[logical_id]["Properties"])


# --- queues ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["InvoiceSentQueue", "HistoryQueue"])
def test_the_invoice_sent_and_history_queues_have_fifo_high_throughput(name: str) -> None:
    queue = props(name)
    assert queue["FifoQueue"] is True
    # Per message group (contractor): a month-end burst across thousands of contractors is not
    # capped at the FIFO queue's default throughput.
    assert queue["DeduplicationScope"] == "messageGroup"
    assert queue["FifoThroughputLimit"] == "perMessageGroupId"
    assert queue["VisibilityTimeout"] == props("InvoiceSentQueue")["VisibilityTimeout"]


def test_history_has_its_own_event_source_beside_the_live_queue() -> None:
    """docs/interface.md §15: a live invoice never waits behind history; history drains at
    most two batches at a time. The producers' queues, not the dead-letter queue, are read."""
    sources = {
        target(event["Properties"]["Queue"]): event["Properties"]
        for event in FUNCTIONS["InvoiceSentFunction"]["Events"].values()
        if event["Type"] == "SQS"
    }
    assert set(sources) == {"InvoiceSentQueue", "HistoryQueue"}
    assert sources["HistoryQueue"]["ScalingConfig"]["MaximumConcurrency"] == 2
    assert sources["InvoiceSentQueue"]["ScalingConfig"]["MaximumConcurrency"] > 2
    assert "HistoryQueueUrl" in TEMPLATE["Outputs"]


# --- the API --------------------------------------------------------------------------------


def test_the_http_api_throttles_every_route() -> None:
    routes = props("HttpApi")["DefaultRouteSettings"]
    assert 0 < int(routes["ThrottlingRateLimit"]) <= 100
    assert int(routes["ThrottlingRateLimit"]) <= int(routes["ThrottlingBurstLimit"]) <= 500


def test_the_settings_page_may_call_every_method_its_routes_use() -> None:
    """A browser on the settings page's origin sends PUT and DELETE (settings, customer links):
    the CORS configuration allowed neither PUT once, and no test said so."""
    allowed = set(props("HttpApi")["CorsConfiguration"]["AllowMethods"])
    used = {
        str(event["Properties"]["Method"]).upper()
        for function in FUNCTIONS.values()
        for event in function.get("Events", {}).values()
        if event["Type"] == "HttpApi"
    }
    assert used - allowed == set()


def test_the_support_routes_are_behind_the_jwt_authorizer() -> None:
    events = FUNCTIONS["OAuthFunction"]["Events"]
    paths = {
        event["Properties"]["Path"]: event["Properties"]
        for event in events.values()
        if event["Type"] == "HttpApi"
    }
    for path in (
        "/quickbooks/support/contractors",
        "/quickbooks/support/contractors/{contractor_id}/exports",
    ):
        assert paths[path]["Method"] == "GET"
        assert "Auth" not in paths[path]  # the API's default: the platform's JWT authorizer
    assert environment(FUNCTIONS["OAuthFunction"])["SUPPORT_CLAIM"] == {"Ref": "SupportClaim"}
    assert PARAMETERS["SupportClaim"]["Default"] == "qbo_support"


# --- tables ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "logical_id",
    [
        "ConnectionsTable",
        "OAuthStatesTable",
        "MappingsTable",
        "IdempotencyTable",
        "OperationsTable",
    ],
)
def test_tables_have_deletion_protection(logical_id: str) -> None:
    assert props(logical_id)["DeletionProtectionEnabled"] is True


def test_every_table_is_in_the_deletion_protection_list() -> None:
    assert set(of_type("AWS::DynamoDB::Table")) == {
        "ConnectionsTable",
        "OAuthStatesTable",
        "MappingsTable",
        "IdempotencyTable",
        "OperationsTable",
    }


def test_the_operations_table_expires_counters_by_the_attribute_the_code_writes() -> None:
    table = props("OperationsTable")
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    source = (ROOT / "shared" / "qbo_sync" / "core" / "metering.py").read_text()
    assert "expires_at = if_not_exists(expires_at" in source
    for function in FUNCTIONS.values():
        assert environment(function)["OPERATIONS_TABLE"] == {"Ref": "OperationsTable"}


def test_the_support_index_never_projects_a_token() -> None:
    [index] = [
        index
        for index in props("ConnectionsTable")["GlobalSecondaryIndexes"]
        if index["IndexName"] == "ConnectionsByStatus"
    ]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["status", "contractor_id"]
    projection = index["Projection"]
    assert projection["ProjectionType"] == "INCLUDE"
    assert not [name for name in projection["NonKeyAttributes"] if "token" in name]


# --- metered reads --------------------------------------------------------------------------


def test_the_metered_reads_budget_alarm_fires_at_80_percent_of_the_parameter() -> None:
    assert PARAMETERS["MeteredReadsMonthlyBudget"]["Default"] == 500000
    alarm = props("MeteredReadsBudgetAlarm")
    metrics = {metric["Id"]: metric for metric in alarm["Metrics"]}
    month_to_date = metrics["monthToDate"]["MetricStat"]
    assert month_to_date["Metric"]["Namespace"] == "QboSync"
    assert month_to_date["Metric"]["MetricName"] == "MeteredReadsMonthToDate"
    assert month_to_date["Stat"] == "Maximum"
    share = metrics["budgetShare"]
    assert share["ReturnData"] is True
    assert share["Expression"] == {"Fn::Sub": "100 * monthToDate / ${MeteredReadsMonthlyBudget}"}
    assert alarm["Threshold"] == 80
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "ignore"  # no figure in a quiet hour: stays in alarm
    actions = alarm["AlarmActions"]["Fn::If"]
    assert actions[0] == "HasAlarmTopic" and actions[1] == [{"Ref": "AlarmTopicArn"}]


def test_the_functions_that_read_quickbooks_may_count_their_reads() -> None:
    for role in ("OAuthFunctionRole", "InvoiceSentFunctionRole", "PaymentCompletedFunctionRole"):
        statements = [
            statement
            for policy in props(role)["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
            if statement.get("Sid") == "MeteredReads"
        ]
        assert statements, role
        [statement] = statements
        assert "dynamodb:UpdateItem" in statement["Action"]
        assert target(statement["Resource"]) == "OperationsTable"


# --- migrations -----------------------------------------------------------------------------


def test_the_migrations_custom_resource_carries_the_latest_migration() -> None:
    from qbo_sync.migrations import LATEST, MIGRATIONS

    resource = props("Migrations")
    assert RESOURCES["Migrations"]["Type"] == "Custom::Migrations"
    assert target(resource["ServiceToken"]) == "MigrateFunction"
    # A new migration must change this, or CloudFormation never calls the function for it.
    assert resource["LatestMigration"] == LATEST
    assert [m.number for m in MIGRATIONS] == list(range(1, LATEST + 1))
    function = FUNCTIONS["MigrateFunction"]
    assert function["Timeout"] == 900
    schedules = [e for e in function["Events"].values() if e["Type"] == "Schedule"]
    assert schedules and schedules[0]["Properties"]["Schedule"] == "rate(1 hour)"


# --- dashboard ------------------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    body = props("OperationsDashboard")["DashboardBody"]["Fn::Sub"]
    # Substituted values are numbers or names: a placeholder keeps the JSON parseable.
    return dict(json.loads(re.sub(r"\$\{[^}]+\}", "0", body)))


def test_the_dashboard_body_names_only_what_the_template_declares() -> None:
    body = props("OperationsDashboard")["DashboardBody"]
    known = set(RESOURCES) | set(PARAMETERS)
    for _, name in references(body):
        assert name in known or name.startswith("AWS::"), name


def test_the_dashboard_has_the_operations_widgets() -> None:
    titles = [widget["properties"]["title"] for widget in dashboard()["widgets"]]
    metrics = {
        line[1]
        for widget in dashboard()["widgets"]
        for line in widget["properties"].get("metrics", [])
    }
    assert {
        "InvoicesExported",
        "PaymentsRecorded",
        "ExportFailures",
        "PaymentFailures",
        "PayoutFailures",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "MeteredReads",
        "MeteredReadsMonthToDate",
        "QboThrottled",
        "SecondsFromSentToExported",
    } <= metrics
    assert any("by reason" in title for title in titles)


def test_the_runbook_lists_every_dashboard_widget() -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text()
    for widget in dashboard()["widgets"]:
        assert widget["properties"]["title"] in runbook, widget["properties"]["title"]


def statements(role: str) -> dict[str, dict[str, Any]]:
    return {
        statement["Sid"]: statement
        for policy in props(role)["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    }


def test_the_support_view_may_query_its_index_and_nothing_wider() -> None:
    oauth = statements("OAuthFunctionRole")
    resources = oauth["ConnectionsByRealm"]["Resource"]
    assert {"Fn::Sub": "${ConnectionsTable.Arn}/index/ConnectionsByStatus"} in resources
    assert oauth["ConnectionsByRealm"]["Action"] == "dynamodb:Query"
    assert "dynamodb:Scan" not in json.dumps(oauth)
    # The connection view reads the company's counter.
    assert "dynamodb:GetItem" in oauth["MeteredReads"]["Action"]


def test_the_migrate_function_may_do_what_migration_1_does_and_no_more() -> None:
    role = statements("MigrateFunctionRole")
    assert target(role["MigrationsRecord"]["Resource"]) == "OperationsTable"
    assert set(role["Mappings"]["Action"]) == {
        "dynamodb:Scan",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    }
    assert target(role["Mappings"]["Resource"]) == "MappingsTable"
    assert target(role["ResendPayouts"]["Resource"]) == "PaymentEventsQueue"
    assert target(role["Logs"]["Resource"]) == "MigrateFunctionLogGroup"
    assert target(FUNCTIONS["MigrateFunction"]["Role"]) == "MigrateFunctionRole"


def test_the_outputs_name_the_operations_resources() -> None:
    from tests.contract.test_template import TEMPLATE

    outputs = TEMPLATE["Outputs"]
    assert target(outputs["MigrateFunctionName"]["Value"]) == "MigrateFunction"
    assert target(outputs["OperationsTableName"]["Value"]) == "OperationsTable"
    assert target(outputs["DashboardName"]["Value"]) == "OperationsDashboard"
