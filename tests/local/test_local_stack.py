"""local/stack.py deploys template.yaml's resources into moto and wires the functions to them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from local_support import EXTRA_ENVIRONMENT, PARAMETERS, STACK_NAME, TEMPLATE, aws_pointed_at

from local.stack import LocalStack, TemplateError, deploy_local_stack, load_template, reset_data


def _template_resources(resource_type: str) -> list[str]:
    resources = load_template(TEMPLATE)["Resources"]
    return [lid for lid, resource in resources.items() if resource["Type"] == resource_type]


def test_every_table_in_the_template_exists_with_its_keys_and_ttl(stack: LocalStack) -> None:
    dynamodb = boto3.client("dynamodb")
    template = load_template(TEMPLATE)["Resources"]
    tables = _template_resources("AWS::DynamoDB::Table")
    assert set(tables) == {
        "ConnectionsTable",
        "OAuthStatesTable",
        "MappingsTable",
        "IdempotencyTable",
        "OperationsTable",
    }
    for logical_id in tables:
        name = stack.resources[logical_id]
        assert name == f"{STACK_NAME}-{logical_id}"
        described = dynamodb.describe_table(TableName=name)["Table"]
        assert described["KeySchema"] == template[logical_id]["Properties"]["KeySchema"]
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        wanted = template[logical_id]["Properties"].get("TimeToLiveSpecification")
        if wanted:
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": wanted["AttributeName"]}
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_invoice_sent_queue_is_fifo_and_redrives_to_its_fifo_dead_letter_queue(
    stack: LocalStack, sqs: Any
) -> None:
    assert set(_template_resources("AWS::SQS::Queue")) <= set(stack.queues)
    url = stack.resources["InvoiceSentQueue"]
    assert url.endswith(f"/{STACK_NAME}-InvoiceSentQueue.fifo")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    dlq_arn = stack.attributes["InvoiceSentDeadLetterQueue"]["Arn"]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    assert attributes["VisibilityTimeout"] == str(
        6 * stack.functions["InvoiceSentFunction"].timeout
    )
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": 5,
    }
    dlq = sqs.get_queue_attributes(
        QueueUrl=stack.resources["InvoiceSentDeadLetterQueue"], AttributeNames=["All"]
    )["Attributes"]
    assert dlq["FifoQueue"] == "true"
    assert dlq["QueueArn"] == dlq_arn
    payments_dlq = stack.resources["PaymentEventsDeadLetterQueue"]
    assert (
        "FifoQueue"
        not in sqs.get_queue_attributes(QueueUrl=payments_dlq, AttributeNames=["All"])["Attributes"]
    )


def test_token_key_rotates_and_its_alias_points_at_it(stack: LocalStack) -> None:
    kms = boto3.client("kms")
    key_id = stack.resources["TokenKey"]
    assert (
        kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"] == stack.attributes["TokenKey"]["Arn"]
    )
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    alias = stack.resources["TokenKeyAlias"]
    assert alias == f"alias/{STACK_NAME}/oauth-tokens"
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases[alias] == key_id
    ciphertext = kms.encrypt(KeyId=alias, Plaintext=b"token")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"token"


def test_credentials_secret_holds_a_placeholder_client_id_and_secret(stack: LocalStack) -> None:
    value = boto3.client("secretsmanager").get_secret_value(
        SecretId=stack.resources["IntuitCredentialsSecret"]
    )
    assert set(json.loads(value["SecretString"])) == {"client_id", "client_secret"}


def test_event_bus_exists(stack: LocalStack) -> None:
    described = boto3.client("events").describe_event_bus(Name=stack.resources["EventBus"])
    assert described["Name"] == f"{STACK_NAME}-EventBus"
    assert stack.outputs["EventBusName"] == described["Name"]


def test_every_function_environment_names_resources_that_exist(stack: LocalStack) -> None:
    env = stack.environment
    assert set(stack.functions) == {
        "OAuthFunction",
        "InvoiceSentFunction",
        "PaymentCompletedFunction",
        "ConnectionKeeperFunction",
        "OutboxFunction",
        "MigrateFunction",
    }
    for function in stack.functions.values():
        assert function.environment == env
    dynamodb = boto3.client("dynamodb")
    for variable in (
        "CONNECTIONS_TABLE",
        "OAUTH_STATES_TABLE",
        "MAPPINGS_TABLE",
        "IDEMPOTENCY_TABLE",
        "OPERATIONS_TABLE",
    ):
        assert dynamodb.describe_table(TableName=env[variable])["Table"]["TableStatus"] == "ACTIVE"
    assert boto3.client("kms").describe_key(KeyId=env["TOKEN_KEY_ID"])["KeyMetadata"]["Enabled"]
    boto3.client("secretsmanager").describe_secret(SecretId=env["INTUIT_CREDENTIALS_SECRET"])
    boto3.client("events").describe_event_bus(Name=env["EVENT_BUS_NAME"])
    boto3.client("sqs").get_queue_attributes(QueueUrl=env["INVOICE_SENT_QUEUE_URL"])
    assert env["TOKEN_KEY_ID"].startswith("arn:aws:kms:us-east-1:")
    assert env["SETTINGS_PAGE_URL"] == PARAMETERS["SettingsPageUrl"]
    assert env["CONTRACTOR_ID_CLAIM"] == "contractor_id"
    assert env["PAYMENTS_ENABLED_CLAIM"] == "payments_enabled"
    assert env["OAUTH_REDIRECT_URI"] == ""
    assert env["DEPOSIT_ACCOUNT_ID"] == ""
    assert env["POWERTOOLS_SERVICE_NAME"] == "qbo-sync"
    for name, value in EXTRA_ENVIRONMENT.items():
        assert env[name] == value


def test_functions_carry_their_event_sources_and_routes(stack: LocalStack) -> None:
    consumer = stack.functions["InvoiceSentFunction"]
    # Live invoices and the history replays (docs/interface.md §15): two queues, two sources.
    sources = {source.event_name: source for source in consumer.sqs_sources}
    assert {name: s.queue_url for name, s in sources.items()} == {
        "InvoiceSent": stack.resources["InvoiceSentQueue"],
        "History": stack.resources["HistoryQueue"],
    }
    for source in sources.values():
        assert source.batch_size == 10
        assert source.reports_batch_item_failures
    payments = stack.functions["PaymentCompletedFunction"]
    (queued,) = payments.sqs_sources  # the bus rule's target
    assert queued.queue_url == stack.resources["PaymentEventsQueue"]
    assert queued.reports_batch_item_failures
    assert payments.eventbridge_sources == []
    routes = {
        route.route_key: route.authorizer for route in stack.functions["OAuthFunction"].http_routes
    }
    assert routes == {
        "GET /quickbooks/connect": "PlatformJwt",
        "GET /quickbooks/callback": None,
        "GET /quickbooks/connection": "PlatformJwt",
        "DELETE /quickbooks/connection": "PlatformJwt",
        "GET /quickbooks/exports": "PlatformJwt",
        "POST /quickbooks/exports/{invoice_id}/retry": "PlatformJwt",
        "POST /quickbooks/exports/{invoice_id}/dismiss": "PlatformJwt",
        "GET /quickbooks/accounts": "PlatformJwt",
        "GET /quickbooks/settings": "PlatformJwt",
        "PUT /quickbooks/settings": "PlatformJwt",
        "GET /quickbooks/payouts": "PlatformJwt",
        "POST /quickbooks/payouts/{payout_id}/retry": "PlatformJwt",
        "GET /quickbooks/launch": None,
        "GET /quickbooks/disconnected": None,
        "GET /quickbooks/support/contractors": "PlatformJwt",
        "GET /quickbooks/support/contractors/{contractor_id}/exports": "PlatformJwt",
        "POST /quickbooks/history": "PlatformJwt",
        "GET /quickbooks/history": "PlatformJwt",
        "GET /quickbooks/customers": "PlatformJwt",
        "GET /quickbooks/clients": "PlatformJwt",
        "PUT /quickbooks/clients/{client_id}/customer": "PlatformJwt",
        "DELETE /quickbooks/clients/{client_id}/customer": "PlatformJwt",
    }
    keeper = stack.functions["ConnectionKeeperFunction"]
    [schedule] = keeper.schedule_sources
    assert (schedule.event_name, schedule.schedule) == ("Daily", "rate(1 day)")
    assert (keeper.sqs_sources, keeper.eventbridge_sources, keeper.http_routes) == ([], [], [])
    assert stack.functions["OAuthFunction"].code_uri == "functions/oauth/"
    assert stack.functions["OAuthFunction"].handler == "app.lambda_handler"
    assert stack.outputs["CallbackUrl"] == f"https://{stack.api_domain}/quickbooks/callback"


def test_redeploying_the_same_stack_reuses_its_resources(stack: LocalStack, sqs: Any) -> None:
    sqs.send_message(
        QueueUrl=stack.resources["InvoiceSentQueue"],
        MessageBody="{}",
        MessageGroupId="g",
        MessageDeduplicationId="d",
    )
    again = deploy_local_stack(TEMPLATE, PARAMETERS, STACK_NAME, EXTRA_ENVIRONMENT)
    assert again.resources == stack.resources
    assert again.environment == stack.environment
    assert (
        sqs.get_queue_attributes(
            QueueUrl=stack.resources["InvoiceSentQueue"],
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "1"
    )


def test_reset_data_empties_tables_and_queues(stack: LocalStack, sqs: Any) -> None:
    dynamodb = boto3.client("dynamodb")
    table = stack.resources["MappingsTable"]
    for i in range(30):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"p{i}"}, "sk": {"S": "s"}})
    queue = stack.resources["InvoiceSentQueue"]
    for i in range(2):
        sqs.send_message(
            QueueUrl=queue, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId=f"d{i}"
        )
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)  # one in flight
    reset_data(stack)
    reset_data(stack)  # twice within a minute: PurgeQueue would refuse
    assert dynamodb.scan(TableName=table)["Count"] == 0
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 5
    # the deduplication id of a message sent before the reset is accepted again
    sqs.send_message(
        QueueUrl=queue, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId="d0"
    )
    assert sqs.receive_message(QueueUrl=queue).get("Messages")


def test_production_parameter_selects_the_production_api(moto_endpoint: str) -> None:
    with aws_pointed_at(moto_endpoint):
        production = deploy_local_stack(
            TEMPLATE, {**PARAMETERS, "IntuitEnvironment": "production"}, "qbo-sync-prodtest"
        )
    assert production.environment["INTUIT_ENVIRONMENT"] == "production"
    assert production.environment["QBO_API_BASE_URL"] == "https://quickbooks.api.intuit.com"
    assert production.resources["ConnectionsTable"] == "qbo-sync-prodtest-ConnectionsTable"


def test_wrong_parameters_fail_before_anything_is_created(moto_endpoint: str) -> None:
    with aws_pointed_at(moto_endpoint):
        with pytest.raises(TemplateError, match="IntuitEnvironment"):
            deploy_local_stack(TEMPLATE, {**PARAMETERS, "IntuitEnvironment": "staging"}, "bad")
        with pytest.raises(TemplateError, match="unknown parameters: Typo"):
            deploy_local_stack(TEMPLATE, {**PARAMETERS, "Typo": "x"}, "bad")
        with pytest.raises(TemplateError, match="SettingsPageUrl has no default"):
            deploy_local_stack(TEMPLATE, {}, "bad-missing")


def test_intrinsic_functions_and_conditions_resolve(moto_endpoint: str, tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
Mappings:
  Sizes: {dev: {Memory: 128}}
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
  IsProd: !Not [!Condition IsDev]
  Both: !And [!Condition IsDev, !Or [!Condition IsProd, !Equals [a, a]]]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  ProdOnly:
    Type: AWS::SQS::Queue
    Condition: IsProd
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: !If [IsDev, 0, 5]
      MaximumMessageSize: !If [IsProd, 1024, !Ref AWS::NoValue]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/x/
      Handler: app.handler
      MemorySize: !FindInMap [Sizes, !Ref Stage, Memory]
      Environment:
        Variables:
          SUB_LIST: !Sub ["${Name}@${AWS::Region}/${Table}", {Name: !Select [1, !Ref Names]}]
          SUB_ATTR: !Sub "${Queue.Arn} ${!Literal} ${AWS::StackName}"
          JOINED: !Join ["-", !Split [",", "x,y,z"]]
          LONG_FORM: {"Fn::GetAtt": [Table, Arn]}
          BOTH: !If [Both, "yes", "no"]
          SKIPPED: !If [IsProd, "prod", !Ref AWS::NoValue]
""",
        encoding="utf-8",
    )
    with aws_pointed_at(moto_endpoint):
        stack = deploy_local_stack(template, stack_name="intrinsics")
    env = stack.functions["Fn"].environment
    assert env == {
        "SUB_LIST": "b@us-east-1/intrinsics-Table",
        "SUB_ATTR": f"{stack.attributes['Queue']['Arn']} ${{Literal}} intrinsics",
        "JOINED": "x-y-z",
        "LONG_FORM": stack.attributes["Table"]["Arn"],
        "BOTH": "yes",
    }
    assert "ProdOnly" not in stack.resources
    assert stack.functions["Fn"].memory_size == 128
